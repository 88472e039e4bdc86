#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer +
# UndefinedBehaviorSanitizer, the library instrumented for coverage) in
# build-fuzz/, then runs each for the given seconds and prints its executions.
#   scripts/fuzz.sh [seconds]      default 60 s per target
#   FUZZ_TARGETS="checkpoint" scripts/fuzz.sh 600    only these targets
# Inputs the fuzzer finds go to build-fuzz/corpus/<target>; the checked-in
# seeds in tests/fuzz/corpus/<target> are only read (the *_records targets
# start from the graph and model seeds, checkpoint from its own). A crash leaves its input
# as build-fuzz/crash-<target>-* and makes the script fail. Targets run a core
# each, as many at once as there are cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
dir=build-fuzz
if [[ ! -f "$dir/build.ninja" ]]; then
  CC=clang CXX=clang++ meson setup "$dir" -Dfuzz=true -Dtests=false -Dexamples=false -Dbench=false \
    -Db_lundef=false -Db_sanitize=address,undefined -Dbuildtype=debugoptimized -Dwerror=true \
    "-Dcpp_args=-fsanitize=fuzzer-no-link -fno-omit-frame-pointer" >/dev/null
fi
targets=(${FUZZ_TARGETS:-idx model graph cli http graph_records model_records checkpoint})
ninja -C "$dir" -j"${FUZZ_JOBS:-$(nproc)}" "${targets[@]/#/tests/fuzz/fuzz_}"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# One fuzzer a core at a time: each target still runs for the whole time
# given, on a core of its own (FUZZ_PARALLEL sets how many run at once).
parallel="${FUZZ_PARALLEL:-$(nproc)}"
fuzz_one() {  # fuzz_one TARGET: runs it; its result goes to build-fuzz/fuzz_TARGET.status
  local t="$1" log="$dir/fuzz_$1.log"
  mkdir -p "$dir/corpus/$t"
  if "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
       -artifact_prefix="$dir/crash-$t-" "$dir/corpus/$t" "tests/fuzz/corpus/${t%_records}" >"$log" 2>&1; then
    echo "no crash" >"$dir/fuzz_$t.status"
  else
    echo "FAILED (see $log)" >"$dir/fuzz_$t.status"
  fi
}
for ((i = 0; i < ${#targets[@]}; i += parallel)); do
  for t in "${targets[@]:i:parallel}"; do fuzz_one "$t" & done
  wait
done
status=0
for t in "${targets[@]}"; do
  log="$dir/fuzz_$t.log"
  result="$(cat "$dir/fuzz_$t.status")"
  if [[ "$result" != "no crash" ]]; then
    status=1
    tail -n 40 "$log" >&2
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz_$t: $runs executions in ${seconds} s ($rate/s), $result"
done
exit "$status"
