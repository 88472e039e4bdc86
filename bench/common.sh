# shellcheck shell=bash
# What the bench scripts share; each sources it first:
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# It sets root (the checkout), build (root/build), anchors (the reference
# programs, ../shared/anchors beside the checkout), the default data of the
# MNIST and character benchmarks (mnist_data, kjv_text) and bench_script (the
# sourcing script's name, which starts its error messages), and defines the
# functions below. Errors go to stderr as one line, "SCRIPT: what to do":
# exit 2 for a bad argument, 1 for anything missing.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
anchors="$(cd "$root/.." && pwd)/shared/anchors"
# shellcheck disable=SC2034 # defaults the scripts take
mnist_data="${DAGRAD_DATA:-$HOME/.cache/dagrad/mnist}"
# shellcheck disable=SC2034
kjv_text="$HOME/.cache/dagrad/kjv.txt"
bench_script="$(basename "${BASH_SOURCE[1]:-$0}")"

die() {
  echo "$bench_script: $*" >&2
  exit 1
}

# bench_flags --FLAG=VARIABLE... -- "$@": sets each VARIABLE from a
# "--FLAG VALUE" pair of the script's arguments; any other argument, or a
# flag without its value, is an error (exit 2).
#   bench_flags --iters=iters --text=text -- "$@"
bench_flags() {
  local -A bench_flag_variable=()
  while (($#)) && [[ $1 != -- ]]; do
    bench_flag_variable[${1%%=*}]="${1#*=}"
    shift
  done
  shift
  while (($#)); do
    [[ -n $1 && -n ${bench_flag_variable[$1]+set} ]] ||
      { echo "$bench_script: unknown argument '$1'" >&2; exit 2; }
    (($# > 1)) || { echo "$bench_script: $1 needs a value" >&2; exit 2; }
    printf -v "${bench_flag_variable[$1]}" '%s' "$2"
    shift 2
  done
}

# require_built [--note TEXT] TARGET...: the programs build/TARGET, else
# "build first: ninja -C build TARGET..." naming the missing ones (and TEXT).
require_built() {
  local note="" target missing=()
  if [[ $1 == --note ]]; then note=" ($2)"; shift 2; fi
  for target; do [[ -x $build/$target ]] || missing+=("$target"); done
  ((${#missing[@]} == 0)) || die "build first: ninja -C build ${missing[*]}$note"
}

# require_file FILE WHAT: FILE exists, else "no WHAT FILE".
require_file() { [[ -f $1 ]] || die "no $2 $1"; }
# require_text FILE: the text a character model trains on.
require_text() { [[ -f $1 ]] || die "no text $1: scripts/setup.sh writes the King James Bible there"; }

# python_has MODULE: Debian's /usr/bin/python3, which runs the references,
# imports MODULE. require_python sklearn|torch: it does, else the packages.
python_has() { /usr/bin/python3 -c "import $1" 2>/dev/null; }
require_python() {
  case "$1" in
    sklearn) python_has sklearn || die "scikit-learn missing: apt-get install python3-sklearn libopenblas0-pthread" ;;
    torch) python_has torch || die "PyTorch missing: apt-get install python3-torch libopenblas0-pthread" ;;
    *) die "require_python: no packages known for $1" ;;
  esac
}

# has_libtorch: Debian's libtorch-dev is installed. libtorch_anchor NAME:
# compiles anchors/NAME.cpp against it into $work/NAME.
libtorch_include=/usr/include/torch/csrc/api/include
has_libtorch() { [[ -f $libtorch_include/torch/torch.h ]]; }
libtorch_anchor() {
  g++ -std=c++17 -O2 "$anchors/$1.cpp" -o "$work/$1" -I"$libtorch_include" -ltorch -ltorch_cpu -lc10
}

# make_work: a scratch folder $work, removed when the script exits.
make_work() {
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
}

# time_command NAME COMMAND...: runs COMMAND under /usr/bin/time, its output
# in $work/out and $work/err, and sets wall (seconds) and mib (the process's
# peak resident memory, MiB); if it fails, prints "NAME failed:" and its
# error output and returns 1.
time_command() {
  local name="$1" kb
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
    { echo "$name failed:"; cat "$work/err"; return 1; }
  read -r wall kb <"$work/time"
  mib=$((kb / 1024))
}

# printed REGEX FIELD: field FIELD of the last match of REGEX in $work/out, as
# the program printed it (nothing if it printed none).
printed() { { grep -Eo "$1" "$work/out" || true; } | tail -1 | awk -v field="$2" '{print $field}'; }

# fit_and_accuracy: fit (fit_seconds) and acc (the Testing score) as the
# program printed them, else nan and ?.
fit_and_accuracy() {
  fit="$(printed 'fit_seconds: [0-9.]+' 2)"
  acc="$(printed '^Testing score: [^ ]+' 3)"
  fit="${fit:-nan}" acc="${acc:-?}"
}

# timed_run NAME COMMAND...: time_command, then prints the row
# "NAME wall_s peak_MiB fit_s test_accuracy" and appends
# "NAME|wall_s|fit_s|peak_MiB" to $work/rows for the script's ratios.
timed_run() {
  time_command "$@" || return 1
  fit_and_accuracy
  printf "%-22s %8.2f %9.0f %8.3f %10s\n" "$1" "$wall" "$mib" "$fit" "$acc"
  echo "$1|$wall|$fit|$mib" >>"$work/rows"
}

# row NAME: the fields of the "NAME|..." lines of $work/rows, each field the
# median over those lines (a run the machine's host disturbed, with
# --repeat 3 or more, then moves no ratio), split by spaces (an empty line
# if there is none); a field that is not a number is the last line's:
#   read -r wall fit mib < <(row "dagrad 1 thread")
row() {
  [[ -f $work/rows ]] || { echo; return 0; }
  awk -F'|' -v name="$1" '
    function median(k,    i, j, t, m) {
      m = count
      for (i = 1; i <= m; i++) sorted[i] = value[i, k]
      for (i = 2; i <= m; i++) {  # insertion sort: a handful of runs
        t = sorted[i]
        for (j = i - 1; j >= 1 && sorted[j] > t; j--) sorted[j + 1] = sorted[j]
        sorted[j + 1] = t
      }
      return m % 2 ? sorted[(m + 1) / 2] : (sorted[m / 2] + sorted[m / 2 + 1]) / 2
    }
    $1 == name {
      count++
      fields = NF - 1
      for (k = 1; k <= fields; k++) {
        value[count, k] = $(k + 1)
        if ($(k + 1) !~ /^-?[0-9]+([.][0-9]*)?([eE][-+]?[0-9]+)?$/) text[k] = 1
        last[k] = $(k + 1)
      }
    }
    END {
      line = ""
      for (k = 1; k <= fields; k++) line = line (k > 1 ? " " : "") (text[k] ? last[k] : median(k))
      print line
    }' "$work/rows"
}

# calc FORMAT EXPRESSION A [B]: the awk EXPRESSION of a (and b), printed
# with the printf FORMAT (in double precision, as Python's f-strings print it).
#   calc %+.3f 'a - b' "$val" "$ref"
calc() { LC_ALL=C awk -v a="$3" -v b="${4-}" "BEGIN {printf \"$1\", $2}"; }
# ratio A B [FORMAT]: A / B, with %.2f unless told.
ratio() { calc "${3:-%.2f}" 'a / b' "$1" "$2"; }
# relative_difference A B: |A - B| / |B|, %.3e.
relative_difference() { calc %.3e '(a > b ? a - b : b - a) / (b < 0 ? -b : b)' "$1" "$2"; }

# same_files SAME DIFFER FILE FILE [FILE FILE]...: prints SAME if each pair
# is the same byte for byte, else DIFFER.
same_files() {
  local same="$1" differ="$2"
  shift 2
  while (($# > 1)); do
    cmp -s "$1" "$2" || { echo "$differ"; return 0; }
    shift 2
  done
  echo "$same"
}

# mlp_gflop SIZES EPOCHS: the dense GFLOP of training 784-SIZES-10 on MNIST's
# 60,000 rows for EPOCHS epochs: 2 x (forward multiply-adds + weight-gradient
# ones + the input-gradient ones of every layer but the first) a row.
mlp_gflop() {
  python3 - "$1" "$2" <<'PY'
import sys
units = [784] + [int(s) for s in sys.argv[1].split(',')] + [10]
macs = sum(a * b for a, b in zip(units, units[1:]))
input_grads = sum(a * b for a, b in zip(units[1:], units[2:]))
print(60000 * 2 * (2 * macs + input_grads) * int(sys.argv[2]) / 1e9)
PY
}
