#!/usr/bin/env bash
# Node-RED beside vitals, in one run on this machine: the shared Node-RED harness (shared/bench/nodered/run.sh:
# a Node-RED 4.1 flow, then `vitals run`, same mosquitto, same publisher) when Node.js is present, and this repo's
# load command (`mqtt-ingest`) on the same published gateway, with the load average around both.
# usage: tests/Vitals.Load/compare-nodered.sh [MESSAGES=200000]
#   NODERED_BENCH: the harness folder (default: shared/bench/nodered beside the repository)
set -eu
N=${1:-200000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRATCH=${SCRATCH:-/tmp/vitals-compare-nodered}
mkdir -p "$SCRATCH"
echo "load before: $(cat /proc/loadavg)"

# One published gateway (Native AOT, as users deploy it) for both measurements.
dotnet publish "$ROOT/src/Vitals.Gateway" -c Release -o "$SCRATCH/gw" -nologo -v q >/dev/null
dotnet build "$ROOT/tests/Vitals.Load" -c Release -nologo -v q >/dev/null

BENCH=${NODERED_BENCH:-}
for d in "$ROOT/../shared/bench/nodered" "$ROOT/../../shared/bench/nodered"; do
  [ -z "$BENCH" ] && [ -f "$d/run.sh" ] && BENCH=$(cd "$d" && pwd)
done
if command -v node >/dev/null && command -v npm >/dev/null && [ -n "$BENCH" ]; then
  echo "== shared harness ($BENCH): Node-RED, then vitals"
  (cd "$ROOT" && SCRATCH="$SCRATCH" bash "$BENCH/run.sh" "$N" 10 "$SCRATCH/gw/vitals")
else
  echo "== shared harness skipped: needs node, npm and shared/bench/nodered (NODERED_BENCH)"
fi

echo "== tests/Vitals.Load mqtt-ingest (same published gateway)"
dotnet "$ROOT/tests/Vitals.Load/bin/Release/net10.0/Vitals.Load.dll" mqtt-ingest --messages "$N" --gateway "$SCRATCH/gw/vitals"
echo "load after: $(cat /proc/loadavg)"
