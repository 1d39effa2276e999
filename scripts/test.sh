#!/usr/bin/env bash
# Runs PortWatch's whole test suite, installing first what the tests need on a Debian machine:
#   chromium   - the browser tests drive Debian's Chromium through Playwright (no browser download)
#   iproute2, iptables - the scan engine's tests build their own network namespaces (root)
# Usage: scripts/test.sh [extra 'dotnet test' arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium iproute2 iptables)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "test.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dotnet tool restore >/dev/null
dotnet build Dashboard.sln -c Release -nologo -v q
log=$(mktemp)
set +e
dotnet test Dashboard.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line for people and CI: the sum over all test assemblies.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1));
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
