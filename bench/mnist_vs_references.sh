#!/usr/bin/env bash
# The lesson's MLP, side by side in one run: dagrad's mnist_mlp against
# scikit-learn (the lesson's own library) and, when Debian's libtorch-dev is
# installed, PyTorch's C++ API. Whole-process wall time and peak resident
# memory come from /usr/bin/time; fit time and accuracy from each program.
#   bench/mnist_vs_references.sh [--repeat N] [--sizes 50] [--data DIR]
# dagrad runs twice: the native build (build/) and a portable one
# (build-portable/, -Dnative=false, kernels chosen at run time).
# References: ../shared/anchors (scikit-learn and PyTorch scripts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="$mnist_data"
repeat=1
sizes="50"
bench_flags --repeat=repeat --sizes=sizes --data=data -- "$@"
require_file "$anchors/sklearn_seed.py" "reference script"
require_python sklearn
require_built examples/mnist_mlp

# The portable build (-Dnative=false: what a distribution ships) beside the
# native one; configured and built here the first time.
portable="$root/build-portable/examples/mnist_mlp"
if [[ ! -x "$portable" ]]; then
  echo "building the portable library in build-portable/ (once)..." >&2
  [[ -f "$root/build-portable/build.ninja" ]] ||
    meson setup "$root/build-portable" "$root" -Dnative=false -Dtests=false -Dbench=false >/dev/null
fi
ninja -C "$root/build-portable" examples/mnist_mlp >/dev/null

make_work
libtorch=""
if has_libtorch && libtorch_anchor libtorch_mlp 2>"$work/libtorch.log"; then
  libtorch="$work/libtorch_mlp"
fi

# run NAME COMMAND...: one row of the table (timed_run).
run() { timed_run "$@"; }

echo "MNIST, hidden_layer_sizes=($sizes), max_iter=10, random_state=1; $(nproc) cores; $(date -u +%F)"
printf "%-22s %8s %9s %8s %10s\n" program wall_s peak_MiB fit_s test_acc
for ((i = 0; i < repeat; i++)); do
  run "dagrad float32" "$build/examples/mnist_mlp" --hidden-layer-sizes "$sizes" --max-iter 10 \
    --random-state 1 --timing --data "$data"
  run "dagrad portable f32" "$portable" --hidden-layer-sizes "$sizes" --max-iter 10 \
    --random-state 1 --timing --data "$data"
  run "dagrad float64" "$build/examples/mnist_mlp" --hidden-layer-sizes "$sizes" --max-iter 10 \
    --random-state 1 --timing --dtype float64 --data "$data"
  (cd "$anchors" && run "scikit-learn" /usr/bin/python3 sklearn_seed.py "$data" "$sizes" 10)
  if [[ -n "$libtorch" && "$sizes" != *,* ]]; then
    run "libtorch 1 thread" "$libtorch" "$data" "$sizes" 10 1
  fi
done

# Ratios from this run (the last repeat of each program), and the lesson's
# FLOP floor: 95.9 GFLOP (forward, weight gradients and the hidden layer's
# input gradient, 60,000 samples x 10 epochs) at 80 GFLOP/s per core.
python3 - "$work/rows" "$sizes" "$(nproc)" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, fit, _ = line.strip().split("|")
    rows[name] = (float(wall), float(fit))
if "dagrad float32" not in rows:
    sys.exit(0)
wall, fit = rows["dagrad float32"]
if "dagrad portable f32" in rows:
    pw, pf = rows["dagrad portable f32"]
    print(f"dagrad portable / native, float32: whole process {pw / wall:.3f}, fit {pf / fit:.3f}")
for ref in ("scikit-learn", "libtorch 1 thread"):
    if ref in rows:
        print(f"dagrad float32 whole process / {ref}: {wall / rows[ref][0]:.3f} "
              f"(fit alone: {fit / rows[ref][1]:.3f})")
units = [784] + [int(s) for s in sys.argv[2].split(",")] + [10]
macs = sum(a * b for a, b in zip(units, units[1:]))
input_grads = sum(a * b for a, b in zip(units[1:], units[2:]))
gflop = 60000 * 2 * (2 * macs + input_grads) * 10 / 1e9
floor = gflop / (80 * int(sys.argv[3]))
print(f"dense FLOP: {gflop:.1f} GFLOP; floor at 80 GFLOP/s x {sys.argv[3]} cores: {floor:.2f} s; "
      f"dagrad float32 fit {fit:.2f} s = {floor / fit:.2f} of the floor's speed "
      f"({gflop / fit:.0f} dense-equivalent GFLOP/s)")
PY
