#!/usr/bin/env bash
# Findings-page benchmark: a SQLite database with 1,000,000 findings, the dashboard started on it,
# and the server response time of the findings page (its first page is rendered on the server)
# for the default view, each quick filter and a few searches. Also the API's findings query.
#
#   bench/findings-bench.sh                 1,000,000 findings, 5 requests per URL (median printed)
#   COUNT=200000 RUNS=3 bench/findings-bench.sh
#
# Target: the first page of findings in under 0.5 s. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COUNT=${COUNT:-1000000}
RUNS=${RUNS:-5}
PORT=${PORT:-5099}
DATA=${DATA:-/tmp/portwatch-findings-bench}
PASSWORD=Bench-Password-1
BASE=http://127.0.0.1:$PORT
JAR=$(mktemp)
trap 'kill ${SERVER:-} 2>/dev/null || true; rm -f "$JAR"' EXIT

dotnet build -c Release -v q -nologo bench/FindingsSeeder >/dev/null
dotnet bench/FindingsSeeder/bin/Release/net10.0/FindingsSeeder.dll "$DATA" "$COUNT"

start_server

sign_in

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-52s %10s %10s\n' "request ($COUNT findings)" "median s" "max s"
for path in "/findings" "/findings?quick=New" "/findings?quick=Unreviewed" "/findings?quick=Abnormal" "/findings?quick=HighRisk" \
            "/findings?quick=ChangedService" "/findings?search=3389" "/findings?search=10.0.12.0/24" "/findings?search=nginx" \
            "/api/v1/findings?take=50" "/api/v1/findings?quick=HighRisk&take=50" "/" "/reports"; do
  times=()
  for _ in $(seq 1 "$RUNS"); do
    out=$(curl -s -o "$DATA/page.html" -w '%{http_code} %{time_total}' -b "$JAR" "$BASE$path")
    [ "${out%% *}" = 200 ] || { echo "$path answered ${out%% *}" >&2; exit 1; }
    times+=("${out#* }")
  done
  if [[ $path == /findings* ]] && ! grep -q 'data-testid="host-link-' "$DATA/page.html"; then
    echo "$path: the page has no findings rows" >&2; exit 1
  fi
  med=$(printf '%s\n' "${times[@]}" | median)
  max=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
  printf '%-52s %10s %10s\n' "$path" "$med" "$max"
done

# Exports stream every matching finding (keyset-paged): all of them as CSV, and the HighRisk quick filter.
# Target: 1,000,000 findings as CSV in under 15 s.
printf '\n%-52s %10s %10s\n' "export ($COUNT findings)" "seconds" "rows"
for path in "/api/v1/findings/export?format=csv" "/api/v1/findings/export?format=csv&quick=HighRisk" "/api/v1/findings/export?format=json&quick=Abnormal"; do
  out=$(curl -s -o "$DATA/export.out" -w '%{http_code} %{time_total}' -b "$JAR" "$BASE$path")
  [ "${out%% *}" = 200 ] || { echo "$path answered ${out%% *}" >&2; exit 1; }
  rows=$(wc -l < "$DATA/export.out")
  printf '%-52s %10s %10s\n' "$path" "${out#* }" "$rows"
done

