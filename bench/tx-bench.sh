#!/usr/bin/env bash
# Transmit benchmark: how fast PortWatch's SYN engine (and masscan, when installed) put probes on
# the wire, and what that costs in CPU and memory. The probes go into a sink: a veth pair between
# two network namespaces this script creates, the far end of which has no address and drops
# everything; the targets (198.18.0.0/16, RFC 2544's benchmarking block) are routed into it via a
# static neighbour, so nothing leaves the two namespaces and no ARP is needed.
#
#   bench/tx-bench.sh                  1,048,576 probes (65,536 hosts x 16 ports), as fast as allowed
#   PORTS=1-64 bench/tx-bench.sh       4 times as many
#
# Prints, per tool: probes, seconds, probes per second, CPU seconds per million probes, peak RSS.
# Each tool's rate is its own: PortWatch's from its summary line (the scan, without the .NET
# runtime's start-up), masscan's from its status line (it is stopped once it has sent everything).
# CPU seconds and peak memory are the whole process's, start-up included.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
PORTS=${PORTS:-1-16}
SCAN=pwtx-scan
SINK=pwtx-sink
cleanup() { ip netns del "$SCAN" 2>/dev/null || true; ip netns del "$SINK" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$SCAN"
ip netns add "$SINK"
ip link add pwtx0 netns "$SCAN" type veth peer name pwtx1 netns "$SINK"
ip -n "$SCAN" link set lo up
ip -n "$SCAN" link set pwtx0 up
ip -n "$SINK" link set pwtx1 up
ip -n "$SCAN" addr add 198.19.0.1/24 dev pwtx0
ip -n "$SCAN" neigh add 198.19.0.2 lladdr 02:00:00:00:00:02 dev pwtx0 nud permanent
ip -n "$SCAN" route add 198.18.0.0/16 via 198.19.0.2 dev pwtx0

dotnet build src/PortWatch.Cli -c Release -v q -nologo >/dev/null
first=${PORTS%-*}; last=${PORTS#*-}
probes=$((65536 * (last - first + 1)))
printf '%-10s %10s %8s %10s %14s %9s\n' tool probes seconds probes/s cpu-s/million peak-MB

# Retries off and a short timeout: this measures the transmit path, not the waits after it.
log=$(mktemp)
ip netns exec "$SCAN" /usr/bin/time -f 'TIME %e %U %S %M' dotnet src/PortWatch.Cli/bin/Release/net10.0/portwatch.dll \
  scan 198.18.0.0/16 -p "$PORTS" --engine syn --rate 10000000 --retries 0 --max-retries 0 --timeout 10 --format json 2>"$log" >/dev/null
read -r _ wall user sys rss < <(grep -o 'TIME .*' "$log" | tail -1)
# The scan's own seconds (from its summary line): like masscan's own rate, without the runtime's start-up. CPU and memory are the whole process's.
scan=$(sed -n 's/.* probes in \([0-9.]*\) s .*/\1/p' "$log" | tail -1)
awk -v n="$probes" -v w="${scan:-$wall}" -v u="$user" -v s="$sys" -v m="$rss" \
  'BEGIN { printf "%-10s %10d %8.1f %10.0f %14.2f %9d\n", "portwatch", n, w, n / w, (u + s) / (n / 1e6), m / 1024 }'
rm -f "$log"

if command -v masscan >/dev/null; then
  log=$(mktemp)
  # masscan 1.3.2 may not exit after its wait here; it is interrupted, and its own status line gives its rate.
  ip netns exec "$SCAN" timeout -s INT -k 5 $((probes / 100000 + 30)) /usr/bin/time -f 'TIME %e %U %S %M' \
    masscan 198.18.0.0/16 -p"$PORTS" --rate 10000000 --adapter pwtx0 --router-mac 02:00:00:00:00:02 --wait 0 >/dev/null 2>"$log" || true
  rate=$(tr '\r' '\n' <"$log" | sed -n 's/.*rate: *\([0-9.]*\)-kpps.*/\1/p' | sort -n | tail -1)
  read -r _ wall user sys rss < <(tr '\r' '\n' <"$log" | grep -o 'TIME .*' | tail -1 || echo "TIME 0 0 0 0")
  awk -v n="$probes" -v r="${rate:-0}" -v u="$user" -v s="$sys" -v m="$rss" \
    'BEGIN { printf "%-10s %10d %8.1f %10.0f %14.2f %9d\n", "masscan", n, (r > 0 ? n / (r * 1000) : 0), r * 1000, (u + s) / (n / 1e6), m / 1024 }'
  rm -f "$log"
fi
