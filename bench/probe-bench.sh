#!/usr/bin/env bash
# Service-detection benchmark: portwatch probe beside nmap -sV on the reference testbed's open ports.
# Prints per tool and scenario: wall seconds, ports named (any service), ports with a product,
# ports with a product and version.
#
#   bench/probe-bench.sh                  1 host (real services) and 16 hosts (--light) x their open ports
#   TOOLS="portwatch portwatch-builtin" bench/probe-bench.sh
#   SCENARIOS="1" bench/probe-bench.sh
# Needs root and ../shared/testbed (TESTBED=path to override).
set -euo pipefail
cd "$(dirname "$0")/.."
TESTBED=${TESTBED:-../shared/testbed/testbed.sh}
TOOLS=${TOOLS:-"portwatch portwatch-builtin nmap"}
SCENARIOS=${SCENARIOS:-"1 16"}
OUT=${OUT:-/tmp/portwatch-probe-bench}
TRUTH=${TB_DIR:-/tmp/testbed}/run/truth.csv
mkdir -p "$OUT"
bash "$TESTBED" deps
command -v nmap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap >/dev/null
dotnet build src/PortWatch.Cli -c Release -v q -nologo >/dev/null
PW="dotnet $(pwd)/src/PortWatch.Cli/bin/Release/net10.0/portwatch.dll"

printf '%-18s %-9s %8s %6s %6s %8s %9s\n' tool hosts seconds ports named product +version
for hosts in $SCENARIOS; do
  if [ "$hosts" = 1 ]; then bash "$TESTBED" up --hosts 1 >/dev/null 2>&1; else bash "$TESTBED" up --hosts "$hosts" --light >/dev/null 2>&1; fi
  # host:port list of every open port in the ground truth
  endpoints=$(awk -F, 'NR > 1 && $4 == "open" { print $1 ":" $2 }' "$TRUTH")
  ports=$(awk -F, 'NR > 1 && $4 == "open" { print $2 }' "$TRUTH" | sort -un | paste -sd,)
  last=$((10 + hosts))
  for tool in $TOOLS; do
    start=$(date +%s.%N)
    case $tool in
      portwatch) bash "$TESTBED" scan $PW probe $endpoints --format json -o "$OUT/pw.json" 2>/dev/null ;;
      portwatch-builtin) bash "$TESTBED" scan $PW probe $endpoints --builtin-probes --format json -o "$OUT/pw.json" 2>/dev/null ;;
      nmap) bash "$TESTBED" scan nmap -sV -n -Pn -p "$ports" -oX "$OUT/nmap.xml" "10.99.1.11-$last" >/dev/null 2>&1 ;;
    esac
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$tool" "$hosts" "$secs" "$OUT" "$TRUTH" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET
tool, hosts, secs, out, truth = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
want = {(r["ip"], int(r["port"])) for r in csv.DictReader(open(truth)) if r["state"] == "open"}
got = {}
if tool.startswith("portwatch"):
    for line in open(f"{out}/pw.json"):
        j = json.loads(line)
        got[(j["ip"], j["port"])] = (j["service"], j["product"], j["version"])
else:
    for h in ET.parse(f"{out}/nmap.xml").getroot().iter("host"):
        ip = h.find("address").get("addr")
        for p in h.iter("port"):
            s = p.find("service")
            # Only what nmap detected: names from its port table (method="table") or from an unrecognised fingerprint are guesses.
            probed = s is not None and s.get("method") == "probed" and s.get("servicefp") is None
            got[(ip, int(p.get("portid")))] = (s.get("name"), s.get("product"), s.get("version")) if probed else (None, None, None)
ports = [got.get(k, (None, None, None)) for k in want]
named = sum(1 for s, _, _ in ports if s and s not in ("unknown", "tcpwrapped"))
product = sum(1 for _, p, _ in ports if p)
version = sum(1 for _, p, v in ports if p and v)
print(f"{tool:<18} {hosts:<9} {secs:8.1f} {len(want):6} {named:6} {product:8} {version:9}")
PY
  done
done
bash "$TESTBED" down >/dev/null 2>&1 || true
