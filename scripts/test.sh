#!/usr/bin/env bash
# Runs PortWatch's whole test suite, installing first what the tests need on a Debian machine:
#   chromium            the browser tests drive Debian's Chromium through Playwright (no browser download)
#   iproute2, iptables  the engine's tests build their own network namespaces (root)
#   openssh-server nginx redis-server postgresql openssl dnsmasq-base memcached snmpd chrony mosquitto
#   vsftpd rsync git ngircd tinyproxy squid lighttpd rpcbind nfs-common mariadb-server
#                       real services that service detection is tested against (TCP and UDP), inside those namespaces
#   nmap-common         nmap's probe database, parsed whole by a test (data only, no nmap binary)
# As root it also starts a private PostgreSQL on 127.0.0.1 for the PostgreSQL tests, and stops it after.
# Usage: scripts/test.sh [extra 'dotnet test' arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium iproute2 iptables openssh-server nginx redis-server postgresql openssl nmap-common dnsmasq-base memcached snmpd chrony mosquitto
  vsftpd rsync git ngircd tinyproxy squid lighttpd rpcbind nfs-common mariadb-server softflowd ipset)
missing=()
# Installed means "ii": a package removed but not purged ("rc") still answers dpkg -s, without its programs.
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | cut -c1-2)" = "ii" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "test.sh: installing ${missing[*]}"
  # Keep the daemons from starting on this machine while they are installed: the tests run their own copies.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
fi

# A private PostgreSQL on 127.0.0.1 for the tests that run on PostgreSQL (PORTWATCH_TEST_POSTGRES).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "${PORTWATCH_TEST_POSTGRES:-}" ] && [ -n "$pg_bin" ] && [ "$(id -u)" = 0 ]; then
  pg_dir=$(mktemp -d /tmp/portwatch-pg.XXXXXX)
  chown postgres "$pg_dir" && chmod 700 "$pg_dir"
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)
  runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir" -U postgres --auth=trust >/dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir" -o "-h 127.0.0.1 -p $pg_port -k $pg_dir" -l "$pg_dir/log" -w start >/dev/null
  trap 'runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir" -m immediate stop >/dev/null 2>&1; rm -rf "$pg_dir"' EXIT
  export PORTWATCH_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres"
  echo "test.sh: PostgreSQL for the tests on 127.0.0.1:$pg_port"
fi

dotnet tool restore >/dev/null
dotnet build Dashboard.sln -c Release -nologo -v q
results=artifacts/test-results
rm -rf "$results"
set +e
# Our own TRX logger beside whatever loggers the caller adds: the closing line is counted from results, not from console wording.
dotnet test Dashboard.sln -c Release --no-build -nologo --results-directory "$results" --logger "trx;LogFilePrefix=portwatch" "$@"
status=$?
set -e

# One closing line for people and CI: the sum over all test assemblies.
# Each TRX file has one <Counters total= executed= passed= failed= error= timeout= aborted= .../> element.
{ cat "$results"/portwatch*.trx 2>/dev/null || true; } | { grep -o '<Counters [^>]*>' || true; } | awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); gsub(/[^0-9]/, "", kv[2]); v[kv[1]] = kv[2] + 0 }
    p += v["passed"]; f += v["failed"] + v["error"] + v["timeout"] + v["aborted"]; s += v["total"] - v["executed"] }
  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }'
exit "$status"
