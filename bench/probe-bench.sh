#!/usr/bin/env bash
# Service-detection benchmark: portwatch probe beside nmap -sV (and nmap -sU -sV) on open ports.
# Prints per tool and scenario: wall seconds, ports named (any service), ports with a product,
# ports with a product and version.
#
#   bench/probe-bench.sh                  all scenarios:
#     daemons      17 TCP ports of real Debian daemons (bench/daemons.sh: vsftpd, sshd, dnsmasq, rpcbind, nginx
#                  with and without TLS, rsync, mosquitto, Squid, PostgreSQL, redis, ngIRCd, lighttpd, tinyproxy,
#                  git daemon, memcached, rpc.statd)
#     daemons-udp  their 6 UDP ports (dnsmasq, rpcbind, chronyd, snmpd, rpc.statd, memcached), against nmap -sU -sV
#     1, 16        the reference testbed: 1 host (real services) and 16 hosts (--light) x their open ports
#   TOOLS="portwatch portwatch-builtin" bench/probe-bench.sh
#   SCENARIOS="daemons daemons-udp" bench/probe-bench.sh
# Needs root; the testbed scenarios need ../shared/testbed (TESTBED=path to override). Packets go only
# between namespaces these scripts create.
set -euo pipefail
cd "$(dirname "$0")/.."
TESTBED=${TESTBED:-../shared/testbed/testbed.sh}
TOOLS=${TOOLS:-"portwatch portwatch-builtin nmap"}
SCENARIOS=${SCENARIOS:-"daemons daemons-udp 1 16"}
OUT=${OUT:-/tmp/portwatch-probe-bench}
TRUTH=${TB_DIR:-/tmp/testbed}/run/truth.csv
mkdir -p "$OUT"
DAEMONS=bench/daemons.sh
case " $SCENARIOS " in *" 1 "*|*" 16 "*) bash "$TESTBED" deps ;; esac
case " $SCENARIOS " in *daemons*) bash "$DAEMONS" deps ;; esac
command -v nmap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap >/dev/null
dotnet build src/PortWatch.Cli -c Release -v q -nologo >/dev/null
PW="dotnet $(pwd)/src/PortWatch.Cli/bin/Release/net10.0/portwatch.dll"

printf '%-18s %-11s %8s %6s %6s %8s %9s\n' tool scenario seconds ports named product +version
for hosts in $SCENARIOS; do
  case $hosts in
    daemons|daemons-udp)
      bed=$DAEMONS
      bash "$DAEMONS" up >"$OUT/daemons.txt"
      ip=$(awk '/^host/ {print $2}' "$OUT/daemons.txt")
      tcp=$(awk '/^tcp/ {print $2}' "$OUT/daemons.txt"); udp=$(awk '/^udp/ {print $2}' "$OUT/daemons.txt")
      if [ "$hosts" = daemons ]; then list=$tcp; proto=tcp; spec=$tcp; else list=$udp; proto=udp; spec=$(echo "$udp" | sed 's/\([0-9]\+\)/U:\1/g'); fi
      echo "ip,port,proto,state" >"$OUT/truth.csv"
      for p in ${list//,/ }; do echo "$ip,$p,$proto,open" >>"$OUT/truth.csv"; done
      truth="$OUT/truth.csv"; endpoints="$ip:$spec"; targets=$ip
      nmap_args=$([ "$proto" = udp ] && echo "-sU -sV -p U:$list" || echo "-sV -p $list")
      ;;
    *)
      bed=$TESTBED
      if [ "$hosts" = 1 ]; then bash "$TESTBED" up --hosts 1 >/dev/null 2>&1; else bash "$TESTBED" up --hosts "$hosts" --light >/dev/null 2>&1; fi
      truth=$TRUTH
      # host:port list of every open port in the ground truth
      endpoints=$(awk -F, 'NR > 1 && $4 == "open" { print $1 ":" $2 }' "$TRUTH")
      ports=$(awk -F, 'NR > 1 && $4 == "open" { print $2 }' "$TRUTH" | sort -un | paste -sd,)
      targets="10.99.1.11-$((10 + hosts))"; nmap_args="-sV -p $ports"
      ;;
  esac
  for tool in $TOOLS; do
    start=$(date +%s.%N)
    case $tool in
      portwatch) bash "$bed" scan $PW probe $endpoints --format json -o "$OUT/pw.json" 2>/dev/null ;;
      portwatch-builtin) bash "$bed" scan $PW probe $endpoints --builtin-probes --format json -o "$OUT/pw.json" 2>/dev/null ;;
      nmap) bash "$bed" scan nmap $nmap_args -n -Pn -oX "$OUT/nmap.xml" $targets >/dev/null 2>&1 ;;
    esac
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$tool" "$hosts" "$secs" "$OUT" "$truth" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET
tool, hosts, secs, out, truth = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
want = {(r["ip"], int(r["port"]), r["proto"]) for r in csv.DictReader(open(truth)) if r["state"] == "open"}
got = {}
if tool.startswith("portwatch"):
    for line in open(f"{out}/pw.json"):
        j = json.loads(line)
        got[(j["ip"], j["port"], j["proto"])] = (j["service"], j["product"], j["version"])
else:
    for h in ET.parse(f"{out}/nmap.xml").getroot().iter("host"):
        ip = h.find("address").get("addr")
        for p in h.iter("port"):
            s = p.find("service")
            # Only what nmap detected: names from its port table (method="table") or from an unrecognised fingerprint are guesses.
            probed = s is not None and s.get("method") == "probed" and s.get("servicefp") is None
            got[(ip, int(p.get("portid")), p.get("protocol"))] = (s.get("name"), s.get("product"), s.get("version")) if probed else (None, None, None)
ports = [got.get(k, (None, None, None)) for k in want]
named = sum(1 for s, _, _ in ports if s and s not in ("unknown", "tcpwrapped"))
product = sum(1 for _, p, _ in ports if p)
version = sum(1 for _, p, v in ports if p and v)
print(f"{tool:<18} {hosts:<11} {secs:8.1f} {len(want):6} {named:6} {product:8} {version:9}")
PY
  done
done
case " $SCENARIOS " in *" 1 "*|*" 16 "*) bash "$TESTBED" down >/dev/null 2>&1 || true ;; esac
case " $SCENARIOS " in *daemons*) bash "$DAEMONS" down >/dev/null 2>&1 || true ;; esac
