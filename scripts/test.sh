#!/usr/bin/env bash
# Installs what the whole suite needs (scripts/setup.sh: browser, MPI, ONNX,
# scikit-learn, ...; only what is missing), builds everything and runs the
# test suite (meson test, tests in parallel). Works from any directory and
# again (nothing reinstalled; ninja rebuilds only what changed).
#   scripts/test.sh                                    regular build in build/
#   scripts/test.sh --sanitize address,undefined       whole suite under ASan+UBSan
#   scripts/test.sh --sanitize thread --suite threads  the threaded tests under TSan
#   scripts/test.sh --no-install                       use the machine as it is: parts whose
#                                                      packages are missing are skipped by name
# Extra arguments after -- go to `meson test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

install=1
sanitize=""
suite=""
extra=()
while (($#)); do
  case "$1" in
    --sanitize) sanitize="${2:?--sanitize needs a value such as address,undefined or thread}"; shift ;;
    --suite) suite="${2:?--suite needs a suite name (lib, ops, threads, examples)}"; shift ;;
    --no-install) install=0 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

dir=build
# A new warning fails the build here (a user's own build only shows it).
opts=(-Dwerror=true)
if [[ -n "$sanitize" ]]; then
  dir="build-${sanitize//,/-}"
  # -O1 with line tables: quick to compile and run, readable reports.
  args="'-O1', '-g1', '-fno-omit-frame-pointer'"
  # oneTBB 2021.8's flow graph (Debian 12) casts each finished task to its
  # derived type after destroying it (graph_task::finalize, in TBB's header),
  # which UBSan's vptr check reports on every node run; the check's
  # suppressions cannot match a destroyed object's type, so it is off.
  [[ "$sanitize" == *undefined* ]] && args+=", '-fno-sanitize=vptr'"
  # Sanitized builds are portable ones (-Dnative=false): the suite then also
  # runs the kernels chosen at run time, and checks that they stay apart.
  opts+=(-Db_sanitize="$sanitize" -Dbuildtype=plain -Db_lundef=false -Dbench=false -Dnative=false
        "-Dcpp_args=[$args]")
  # AddressSanitizer + UBSan builds with clang where it is installed (the
  # suite's packages): it compiles this instrumented build in about 8
  # minutes where GCC took about 20 (docs/benchmarks.md), and every test
  # then also builds warning-free under clang. A directory configured
  # before keeps its compiler.
  if [[ "$sanitize" == *address* ]] && command -v clang++ >/dev/null && [[ ! -f "$dir/build.ninja" ]]; then
    export CC=clang CXX=clang++
  fi
fi
# Each stage says how long it took (the suite's own time is the last one).
start=$SECONDS
stage_start=$SECONDS
took() { echo "== test.sh: $1 took $((SECONDS - stage_start)) s"; stage_start=$SECONDS; }
if ((install)); then
  bash scripts/setup.sh
  took "set-up (packages, MNIST, the tests' npm modules)"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir" "${opts[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }
elif [[ "$(meson introspect "$dir" --buildoptions |
          python3 -c 'import json,sys; print(all(o["value"] for o in json.load(sys.stdin) if o["name"] in ("tests", "bench")))')" != True ]]; then
  # scripts/quickstart.sh configures build/ without the tests and benchmarks
  # (and with -Dwerror=true, as here): turning them on rebuilds nothing.
  meson configure "$dir" -Dtests=true -Dbench=true >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
# Parts whose packages this machine lacks run as tests that report SKIP by
# name (suite 'skipped', tests/meson.build).

export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"

suite_args=()
if [[ -n "$suite" ]]; then
  suite_args=(--suite "$suite")
  # Build only the programs of that suite, as the meson files now list
  # them: a changed meson file regenerates build.ninja (and the tests'
  # introspection) first.
  ninja -C "$dir" build.ninja >"$log" 2>&1 || { cat "$log"; exit 1; }
  mapfile -t targets < <(meson introspect "$dir" --tests | python3 -c '
import json, os, sys
suite, build = sys.argv[1], os.path.abspath(sys.argv[2])
for t in json.load(sys.stdin):
    if suite in t["suite"] or any(s.endswith(":" + suite) for s in t["suite"]):
        # The test program, and any program of this build it is given (a
        # script that starts a server, say).
        for arg in t["cmd"]:
            arg = os.path.normpath(arg)
            if arg.startswith(build + os.sep) and not os.path.isdir(arg):
                print(os.path.relpath(arg, build))' "$suite" "$dir" | sort -u)
  ninja -C "$dir" "${targets[@]}"
else
  ninja -C "$dir"
fi
took "configure and build ($dir)"
status=0
meson test -C "$dir" --no-rebuild --print-errorlogs "${suite_args[@]}" "${extra[@]}" || status=$?
took "the tests"
echo "== test.sh: done in $((SECONDS - start)) s"
exit "$status"
