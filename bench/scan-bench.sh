#!/usr/bin/env bash
# Scan-engine benchmark: PortWatch beside nmap -sS -T4 and masscan on the reference testbed.
# Prints, per tool and scenario: wall seconds, probes per second, open found/missed/false,
# closed and filtered right/wrong (nmap XML carries every state; masscan only open ports).
#
#   bench/scan-bench.sh                 all scenarios: 1 and 16 hosts x 65535 ports at 0% and 1% loss, 3 hosts at 3%
#   RUNS=3 bench/scan-bench.sh          median time of 3 runs per cell; the states of the worst run
#   TOOLS="portwatch nmap" bench/scan-bench.sh
#   SCENARIOS="1:0 16:1" bench/scan-bench.sh   (hosts:loss%)
#
# Needs root and ../shared/testbed (TESTBED=path to override). Packets stay inside the testbed's namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
TESTBED=${TESTBED:-../shared/testbed/testbed.sh}
RUNS=${RUNS:-1}
TOOLS=${TOOLS:-"portwatch nmap masscan"}
SCENARIOS=${SCENARIOS:-"1:0 16:0 16:1 3:3"}
RATE=${RATE:-100000}
OUT=${OUT:-/tmp/portwatch-bench}
SCORE=$(dirname "$TESTBED")/score.py
TRUTH=${TB_DIR:-/tmp/testbed}/run/truth.csv
[ -x "$TESTBED" ] || { echo "testbed not found at $TESTBED" >&2; exit 2; }
mkdir -p "$OUT"

bash "$TESTBED" deps
for t in nmap masscan; do
  if [[ " $TOOLS " == *" $t "* ]] && ! command -v "$t" >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$t" >/dev/null
  fi
done
dotnet build src/PortWatch.Cli -c Release -v q -nologo >/dev/null
PW="dotnet $(pwd)/src/PortWatch.Cli/bin/Release/net10.0/portwatch.dll"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# masscan 1.3.2 hangs here once its --wait is over (its countdown goes negative, and SIGINT only starts
# another wait), and it writes its -oL file only when it exits. It prints each open port to stdout at
# once, though: run it in the scanner namespace, stop the clock when its countdown reaches zero (when
# it should have exited), kill it, and score those lines. Its router's MAC is resolved first
# (--router-mac), so its own ARP is not part of the time.
run_masscan() {  # run_masscan HOSTS -> prints "seconds score-json"
  local hosts=$1 last=$((10 + $1)) out=$OUT/masscan.out err=$OUT/masscan.err mac pid start end
  ip netns exec tb-scan bash -c 'echo x > /dev/udp/10.99.0.254/9' 2>/dev/null || true
  sleep 0.3
  mac=$(ip netns exec tb-scan ip neigh show 10.99.0.254 | awk '{print $5}')
  : >"$err"
  start=$(date +%s.%N)
  ip netns exec tb-scan masscan "10.99.1.11-10.99.1.$last" -p0-65535 --rate "$RATE" --wait 2 ${mac:+--router-mac "$mac"} >"$out" 2>"$err" &
  pid=$!
  for ((i = 0; i < (60 + hosts * 30) * 10; i++)); do
    sleep 0.1
    if ! kill -0 "$pid" 2>/dev/null || tr '\r' '\n' <"$err" | grep -q 'done, waiting \(0\|-[0-9]*\)-secs'; then break; fi
  done
  end=$(date +%s.%N)
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sed -n 's|^Discovered open port \([0-9]*\)/tcp on \([0-9.]*\).*|\2 \1|p' "$out" >"$OUT/masscan.lst"
  echo "$(echo "$end - $start" | bc) $(python3 "$SCORE" "$TRUTH" openlist "$OUT/masscan.lst" 0-65535)"
}

run_tool() {  # run_tool TOOL HOSTS -> prints "seconds score-json"
  local tool=$1 hosts=$2 last ports="1-65535" fmt=nmapxml file
  if [ "$tool" = masscan ]; then run_masscan "$hosts"; return; fi
  last=$((10 + hosts))
  case $tool in
    portwatch) file=$OUT/pw.xml
      cmd="$PW scan 10.99.1.11-$last -p- --rate $RATE --format xml -o $file" ;;
    nmap) file=$OUT/nmap.xml
      cmd="nmap -sS -T4 -n -Pn -p- --reason -oX $file 10.99.1.11-$last" ;;
  esac
  local start end
  start=$(date +%s.%N)
  timeout -k 10 "$((60 + hosts * 30))" bash "$TESTBED" scan $cmd >"$OUT/$tool.log" 2>&1 \
    || { echo "$tool failed: $(tail -c 300 "$OUT/$tool.log")" >&2; echo "nan {}"; return; }
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(python3 "$SCORE" "$TRUTH" "$fmt" "$file" "$ports")"
}

printf '%-10s %-16s %8s %9s %6s %7s %6s %12s %12s\n' tool scenario seconds pps found missed false closed_ok/bad filt_ok/bad
for scenario in $SCENARIOS; do
  hosts=${scenario%%:*}; loss=${scenario##*:}
  bash "$TESTBED" up --hosts "$hosts" --light --no-offload >/dev/null 2>&1
  bash "$TESTBED" loss "$loss" >/dev/null 2>&1
  for tool in $TOOLS; do
    times=()
    worst="" worst_bad=-1
    for ((r = 1; r <= RUNS; r++)); do
      read -r secs json < <(run_tool "$tool" "$hosts")
      times+=("$secs")
      # Of the runs, the one with the most wrong states is shown: accuracy must hold on every run, not on the median.
      bad=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1] or "{}"); print(sum(s.get(k, 0) for k in ("open_missed","open_false","closed_bad","filtered_bad")))' "$json" 2>/dev/null || echo 0)
      if [ "$bad" -gt "$worst_bad" ]; then worst=$json worst_bad=$bad; fi
    done
    json=$worst
    secs=$(printf '%s\n' "${times[@]}" | median)
    python3 - "$tool" "$hosts x 65535 ${loss}%" "$secs" "$hosts" "$json" <<'PY'
import json, sys
tool, scen, secs, hosts, js = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
s = json.loads(js) if js.strip() not in ("", "{}") else {}
pps = hosts * 65535 / secs if secs == secs and secs > 0 else 0
c = f"{s.get('closed_ok','-')}/{s.get('closed_bad','-')}" if 'closed_ok' in s else "n/a"
f = f"{s.get('filtered_ok','-')}/{s.get('filtered_bad','-')}" if 'filtered_ok' in s else "n/a"
print(f"{tool:<10} {scen:<16} {secs:8.1f} {pps:9.0f} {s.get('open_found','-'):>6} {s.get('open_missed','-'):>7} {s.get('open_false','-'):>6} {c:>12} {f:>12}")
PY
  done
done
bash "$TESTBED" down >/dev/null 2>&1 || true
