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
read -r wall fit _ < <(row "dagrad float32")
if [[ -n $wall ]]; then
  read -r portable_wall portable_fit _ < <(row "dagrad portable f32")
  if [[ -n $portable_wall ]]; then
    echo "dagrad portable / native, float32: whole process $(ratio "$portable_wall" "$wall" %.3f)," \
      "fit $(ratio "$portable_fit" "$fit" %.3f)"
  fi
  for ref in "scikit-learn" "libtorch 1 thread"; do
    read -r ref_wall ref_fit _ < <(row "$ref")
    if [[ -n $ref_wall ]]; then
      echo "dagrad float32 whole process / $ref: $(ratio "$wall" "$ref_wall" %.3f)" \
        "(fit alone: $(ratio "$fit" "$ref_fit" %.3f))"
    fi
  done
  gflop="$(mlp_gflop "$sizes" 10)"
  cores="$(nproc)"
  floor="$(calc %.17g 'a / (80 * b)' "$gflop" "$cores")"
  echo "dense FLOP: $(calc %.1f a "$gflop") GFLOP; floor at 80 GFLOP/s x $cores cores: $(calc %.2f a "$floor") s;" \
    "dagrad float32 fit $(calc %.2f a "$fit") s = $(ratio "$floor" "$fit") of the floor's speed" \
    "($(ratio "$gflop" "$fit" %.0f) dense-equivalent GFLOP/s)"
fi
