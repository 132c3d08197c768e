#!/usr/bin/env bash
# The one test command: installs what the tests need if missing, builds, runs every test project,
# and ends with a single "N passed, N failed[, N skipped]" line.
#   --under-load   run the tests while two CPU-bound processes (at normal priority) compete for the cores:
#                  the suite must pass on a busy machine, so no test may depend on how fast it runs.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

under_load=false
for arg in "$@"; do
  case "$arg" in
    --under-load) under_load=true ;;
    *) echo "usage: bash tests/run.sh [--under-load]" >&2; exit 2 ;;
  esac
done

need_apt=()
command -v mosquitto >/dev/null || need_apt+=(mosquitto mosquitto-clients)
command -v influxd >/dev/null || need_apt+=(influxdb influxdb-client)
# The RabbitMQ cluster tests start two nodes themselves (rabbitmq_mqtt plugin); the package's own service is never started.
compgen -G '/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server' >/dev/null || need_apt+=(rabbitmq-server)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v ss >/dev/null || need_apt+=(iproute2)
# The Native AOT publish links with the system C toolchain and zlib.
command -v clang >/dev/null || command -v gcc >/dev/null || need_apt+=(clang)
[ -e /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
if ((${#need_apt[@]})); then
  echo "Installing test peers: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${need_apt[@]}" >/dev/null || echo "warning: apt-get install failed; tests needing ${need_apt[*]} will fail"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! dotnet build Vitals.sln -c Release -nologo -v q; then
  echo "0 passed, 1 failed"
  echo "build failed"
  exit 1
fi

# The shipped gateway is a Native AOT binary: published once here and run by the tests in tests/Vitals.Gateway.Tests/Native
# (what trimming and AOT compilation drop shows only there). Before the burners: the load is meant for the tests.
AOT_DIR="$ROOT/artifacts/aot-gateway"
mkdir -p "$ROOT/artifacts"
if ! dotnet publish src/Vitals.Gateway -c Release -o "$AOT_DIR" -nologo -v q >"$ROOT/artifacts/aot-publish.log" 2>&1; then
  tail -n 40 "$ROOT/artifacts/aot-publish.log"
  echo "0 passed, 1 failed"
  echo "Native AOT publish of src/Vitals.Gateway failed (whole log: artifacts/aot-publish.log)"
  exit 1
fi
export VITALS_AOT_GATEWAY="$AOT_DIR/vitals"

burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
  burners=()
}
trap stop_burners EXIT
if $under_load; then
  # Started after the build: the load is meant for the tests, not the compiler.
  for _ in 1 2; do
    bash -c 'while :; do :; done' &
    burners+=($!)
  done
  echo "Under load: two CPU burners running (pids ${burners[*]})"
fi

RESULTS="$ROOT/TestResults"
rm -rf "$RESULTS"
status=0
for proj in tests/*/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$RESULTS" -- RunConfiguration.TestSessionTimeout=1800000 || status=1
done

stop_burners

# Sum the counters of every TRX file: dotnet test's own summary is per project.
passed=0 failed=0 skipped=0
for trx in "$RESULTS"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); f=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "a test project failed to run"; fi
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
