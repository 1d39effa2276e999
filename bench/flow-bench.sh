#!/usr/bin/env bash
# Flow decoder benchmark: NetFlow v5, v9 and IPFIX packets shaped like an edge router's export,
# decoded on one thread; prints flows per second and bytes allocated per flow.
# Target (#17): at least 200,000 flows a second on one core. No network traffic at all.
#
#   bench/flow-bench.sh            3 s per format
#   SECONDS_PER_FORMAT=10 bench/flow-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release -v q -nologo bench/FlowBench >/dev/null
taskset -c 0 dotnet bench/FlowBench/bin/Release/net10.0/FlowBench.dll "${SECONDS_PER_FORMAT:-3}"
