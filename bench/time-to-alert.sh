#!/usr/bin/env bash
# Time from "a new listener receives its first connection" to "alert delivered", three ways (#17):
#   flow      Debian's softflowd on a router namespace exports IPFIX to the dashboard, which checks at once
#   sentinel  no flows: the next sentinel pass over the risk catalogue's ports finds it (measured with
#             Sentinel:IntervalMinutes=1; the default 5 minutes is computed from it)
#   nightly   a full scan once a day, computed from the engine's rate and an estate's size
# The dashboard is the real build on a fresh SQLite directory; its webhook is a local receiver that
# notes when each alert arrives. Targets are 198.19.0.0/16 addresses in namespaces this script makes
# (RFC 2544 benchmarking block), joined only to this machine; everything is removed at the end. Root.
#
#   bench/time-to-alert.sh                 3 flow runs, 2 sentinel runs
#   FLOW_RUNS=5 SENTINEL_RUNS=3 bench/time-to-alert.sh
#   ESTATE_ADDRESSES=4096 SCAN_RATE=20000 bench/time-to-alert.sh   (the nightly computation's inputs)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FLOW_RUNS=${FLOW_RUNS:-3}
SENTINEL_RUNS=${SENTINEL_RUNS:-2}
ESTATE_ADDRESSES=${ESTATE_ADDRESSES:-1024}
SCAN_RATE=${SCAN_RATE:-10000}
PORT=${PORT:-5097}
HOOK_PORT=${HOOK_PORT:-5098}
COLLECTOR=${COLLECTOR:-20555}
DATA=${DATA:-/tmp/portwatch-tta-bench}
PASSWORD=Bench-Password-1
BASE=http://127.0.0.1:$PORT
JAR=$(mktemp)
R=pwttar T=pwttat C=pwttac H=pwttah
command -v softflowd >/dev/null || { echo "needs softflowd (apt-get install softflowd)" >&2; exit 1; }

cleanup() {
  kill ${SERVER:-} ${HOOK:-} ${EXPORTER:-} 2>/dev/null || true
  for ns in $R $T $C; do ip netns pids $ns 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del $ns 2>/dev/null || true; done
  ip link del $H 2>/dev/null || true
  rm -f "$JAR"
}
trap cleanup EXIT
cleanup
rm -rf "$DATA" && mkdir -p "$DATA"

# [this ns] 198.19.250.1 ── 198.19.250.2 [router, softflowd on tgt] 198.19.251.1 ── 198.19.251.2 [target]
#                                                                   198.19.252.1 ── 198.19.252.2 [client]
for ns in $R $T $C; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add $H type veth peer name up0 netns $R
ip addr add 198.19.250.1/24 dev $H && ip link set $H up
ip -n $R addr add 198.19.250.2/24 dev up0 && ip -n $R link set up0 up
ip -n $R link add tgt type veth peer name eth0 netns $T
ip -n $R addr add 198.19.251.1/24 dev tgt && ip -n $R link set tgt up
ip -n $T addr add 198.19.251.2/24 dev eth0 && ip -n $T link set eth0 up && ip -n $T route add default via 198.19.251.1
ip -n $R link add cli type veth peer name eth0 netns $C
ip -n $R addr add 198.19.252.1/24 dev cli && ip -n $R link set cli up
ip -n $C addr add 198.19.252.2/24 dev eth0 && ip -n $C link set eth0 up && ip -n $C route add default via 198.19.252.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip route add 198.19.251.0/24 via 198.19.250.2

# The webhook receiver: one line per alert, "<unix ms> <port> ..." for each finding in the digest.
python3 - "$HOOK_PORT" "$DATA/alerts.log" <<'PY' &
import http.server, json, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        at = int(time.time() * 1000)
        with open(log, 'a') as f:
            for item in json.loads(body).get('items', []):
                f.write(f"{at} {item.get('port')} {item.get('address')}\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', port), Hook).serve_forever()
PY
HOOK=$!
touch "$DATA/alerts.log"

dotnet build -c Release -v q -nologo src/PortWatch.Web >/dev/null
start_server Flows__Enabled=true Flows__Port=$COLLECTOR Flows__ListenAddress=198.19.250.1 Flows__AllowedExporters__0=198.19.250.2 \
  Sentinel__IntervalMinutes=1 Scanning__AllowedScope__0=198.19.251.0/24 Alerts__AllowedWebhookHosts__0=127.0.0.1 Alerts__RecheckTimeoutMs=2000 \
  Logging__LogLevel__PortWatch=Information Logging__Console__TimestampFormat='HH:mm:ss.fff '
sign_in
post() {
  local code
  code=$(curl -s -o "$DATA/answer.json" -w '%{http_code}' -b "$JAR" -H "X-PortWatch-Request: 1" -H "Origin: $BASE" -H "Content-Type: application/json" -X POST "$BASE$1" -d "$2")
  [[ $code == 2* ]] || { echo "POST $1 answered $code: $(cat "$DATA/answer.json")" >&2; exit 1; }
}
post /api/v1/assets/bulk '[{"target":"198.19.251.2","name":"bench target","owner":"ops"}]'
post /api/v1/alert-channels "{\"name\":\"bench\",\"kind\":\"webhook\",\"target\":\"http://127.0.0.1:$HOOK_PORT/hook\",\"minimumSeverity\":\"high\"}"

# listen PORT: a listener in the target that writes the unix ms of its first accepted connection to $DATA/first-PORT.
listen() {
  ip netns exec $T python3 - "$1" "$DATA/first-$1" <<'PY' &
import socket, sys, time, threading
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', port)); s.listen(512)
open(out + '.ready', 'w').close()
first = True
def drain(c):
    try:
        c.settimeout(5)
        while c.recv(65536): pass
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept()
    if first:
        open(out, 'w').write(str(int(time.time() * 1000))); first = False
    threading.Thread(target=drain, args=(c,), daemon=True).start()
PY
  for _ in $(seq 1 100); do [ -e "$DATA/first-$1.ready" ] && return; sleep 0.05; done
  echo "listener on $1 did not start" >&2; exit 1
}
# connect PORT: one client connection through the router, a megabyte sent (softflowd's capture hands packets over a block at a time).
connect() {
  ip netns exec $C python3 -c "
import socket
s = socket.create_connection(('198.19.251.2', $1), timeout=5)
s.sendall(b'x' * (1 << 20)); s.close()"
}
# wait_alert PORT LIMIT_S: seconds from the first connection to the alert naming PORT, or "none".
wait_alert() {
  local deadline=$((SECONDS + $2)) line
  while [ $SECONDS -lt $deadline ]; do
    line=$(awk -v p="$1" '$2 == p {print $1; exit}' "$DATA/alerts.log")
    if [ -n "$line" ] && [ -s "$DATA/first-$1" ]; then
      awk -v a="$line" -v f="$(cat "$DATA/first-$1")" 'BEGIN {printf "%.1f", (a - f) / 1000}'
      return
    fi
    sleep 0.2
  done
  echo none
}

ip netns exec $R softflowd -d -i tgt -v 10 -n 198.19.250.1:$COLLECTOR -t maxlife=1 -t expint=1 -t tcp=1 -t tcp.fin=1 -t tcp.rst=1 -t general=1 \
  -p "$DATA/softflowd.pid" -c "$DATA/softflowd.ctl" >"$DATA/softflowd.log" 2>&1 &
EXPORTER=$!
for _ in $(seq 1 50); do grep -q "Exporting flows" "$DATA/softflowd.log" && break; sleep 0.1; done

flow_ports=(2375 2379 10250 6379 27017 9200 5984 8500)
sentinel_ports=(3389 5900 1433 3306 5432 11211)
flow_times=() sentinel_times=()
for i in $(seq 0 $((FLOW_RUNS - 1))); do
  p=${flow_ports[$i]}; listen "$p"; connect "$p"
  flow_times+=("$(wait_alert "$p" 60)")
done
# No flows from here on: only the sentinel can find the next ones.
kill $EXPORTER 2>/dev/null || true; wait $EXPORTER 2>/dev/null || true
for i in $(seq 0 $((SENTINEL_RUNS - 1))); do
  p=${sentinel_ports[$i]}
  # A random moment within the pass interval, so the runs sample the wait for the next pass.
  sleep "$(awk -v s=$RANDOM 'BEGIN {printf "%.1f", (s % 600) / 10}')"
  listen "$p"; connect "$p"
  sentinel_times+=("$(wait_alert "$p" 150)")
done

stats() { printf '%s\n' "$@" | grep -v none | sort -n | awk '{a[NR]=$1; s+=$1} END {if (NR) printf "median %.1f s, max %.1f s", a[int((NR+1)/2)], a[NR]; else printf "no alert"}'; }
full_s=$(awk -v n="$ESTATE_ADDRESSES" -v r="$SCAN_RATE" 'BEGIN {printf "%.0f", n * 65535 / r}')
echo
echo "Time from a new listener's first connection to the alert delivered (webhook), target 198.19.251.2:"
printf '  %-44s %s   [%s]\n' "flow-triggered (softflowd IPFIX, 1 s timeouts)" "$(stats "${flow_times[@]}")" "${flow_times[*]}"
printf '  %-44s %s   [%s]\n' "sentinel, Sentinel:IntervalMinutes=1" "$(stats "${sentinel_times[@]}")" "${sentinel_times[*]}"
printf '  %-44s %s\n' "sentinel, default 5 min (computed)" "mean about 150 s plus a pass, at most 300 s plus a pass"
awk -v f="$full_s" -v n="$ESTATE_ADDRESSES" -v r="$SCAN_RATE" 'BEGIN {
  printf "  %-44s mean about %.1f h, at most %.1f h (a daily scan of %d addresses x 65535 ports at %d/s takes %.0f min)\n",
    "nightly full scan (computed)", 12 + f / 7200, 24 + f / 3600, n, r, f / 60 }'
echo "  (targets: under 15 s with flows, within one sentinel period without; alerts: $(wc -l < "$DATA/alerts.log") finding(s) in the receiver's log)"
