#!/usr/bin/env bash
# Import benchmark: a masscan list of about 25 MB (≈700,000 open ports on 131,072 addresses of
# 198.18.0.0/15) imported through the API into a fresh SQLite dashboard; prints the import's wall
# time and the server's peak resident memory (VmHWM) before and after.
#
#   bench/import-bench.sh                     about 25 MB
#   LINES=200000 bench/import-bench.sh        smaller
#   AGAIN=1 bench/import-bench.sh             then import the same file once more (every port already known)
#   EXTRA_ENV=DOTNET_gcServer=1 bench/...      extra environment for the server (here: Server GC)
#
# Target: under 20 s and under 400 MB peak RSS for 25 MB. Talks only to 127.0.0.1; sends no packets anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
LINES=${LINES:-700000}
PORT=${PORT:-5098}
DATA=${DATA:-/tmp/portwatch-import-bench}
PASSWORD=Bench-Password-1
BASE=http://127.0.0.1:$PORT
JAR=$(mktemp)
trap 'kill ${SERVER:-} 2>/dev/null || true; rm -f "$JAR"' EXIT
rm -rf "$DATA" && mkdir -p "$DATA"

dotnet build -c Release -v q -nologo src/PortWatch.Web >/dev/null
# Deterministic file: address i of the /15, ports from a fixed list; the timestamp column as masscan writes it.
awk -v n="$LINES" 'BEGIN {
  split("21 22 23 25 53 80 110 143 443 445 993 995 1433 1521 2375 3306 3389 5432 5900 6379 8080 8443 9200 11211 27017", ports, " ");
  print "#masscan"
  for (i = 0; i < n; i++) {
    a = i % 131072; p = ports[int(i / 131072) % 25 + 1] + int(i / (131072 * 25));
    printf "open tcp %d 198.%d.%d.%d 1700000000\n", p, 18 + int(a / 65536), int(a / 256) % 256, a % 256
  }
  print "# end"
}' > "$DATA/masscan.txt"
size=$(stat -c %s "$DATA/masscan.txt")

start_server ${EXTRA_ENV:-} "Logging__LogLevel__PortWatch.Web.Imports=Information" Imports__MaxFileMegabytes=100

sign_in

rss() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER/status"; }
before=$(rss)
out=$(curl -s -o "$DATA/answer.json" -w '%{http_code} %{time_total}' -b "$JAR" -H "X-PortWatch-Request: 1" -H "Origin: $BASE" \
  -H "Content-Type: application/octet-stream" --data-binary "@$DATA/masscan.txt" "$BASE/api/v1/imports?format=masscan-list")
code=${out%% *}
[ "$code" = 201 ] || { echo "import answered $code: $(head -c 500 "$DATA/answer.json")" >&2; exit 1; }
after=$(rss)
printf 'masscan list: %s bytes, %s open ports\n' "$size" "$LINES"
printf 'import: %s s (HTTP %s)\n' "${out#* }" "$code"
printf 'server peak RSS: %s MB before the import, %s MB after\n' "$before" "$after"
printf 'answer: %s\n' "$(cat "$DATA/answer.json")"
grep -o 'open port(s) in .*' "$DATA/server.log" | tail -1 | sed 's/^/server: /' || true
if [ "${AGAIN:-0}" = 1 ]; then
  out=$(curl -s -o "$DATA/answer.json" -w '%{http_code} %{time_total}' -b "$JAR" -H "X-PortWatch-Request: 1" -H "Origin: $BASE" \
    -H "Content-Type: application/octet-stream" --data-binary "@$DATA/masscan.txt" "$BASE/api/v1/imports?format=masscan-list")
  printf 'the same file again: %s s (HTTP %s), server peak RSS %s MB\n' "${out#* }" "${out%% *}" "$(rss)"
fi
