#!/usr/bin/env bash
# The cost curve as the work grows: a large network, 784-1024-1024-10, three
# epochs of the lesson's training (Adam, batch 200, L2), dagrad beside
# PyTorch (../shared/anchors/torch_mlp.py, float32) in one run. Reports each
# fit's GFLOP/s: the multiply-adds of forward, weight gradients and the
# hidden layers' input gradients, counted from the layer sizes, over the
# fit time, and the fraction of the machine's floor that is (80 GFLOP/s per
# core in float GEMM, the figure the floor of the lesson's run is based on).
#   bench/scale.sh [--sizes 1024,1024] [--epochs 3] [--threads N] [--data DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="$mnist_data"
sizes="1024,1024"
epochs=3
threads="$(nproc)"
bench_flags --sizes=sizes --epochs=epochs --threads=threads --data=data -- "$@"
require_built examples/mnist_mlp

gflop="$(mlp_gflop "$sizes" "$epochs")"
floor=$(python3 -c "print(80 * $threads)")

make_work
# run NAME COMMAND...: one row: the fit's GFLOP/s and its fraction of the floor.
run() {
  time_command "$@" || return 1
  fit_and_accuracy
  python3 - "$1" "$wall" "$mib" "$fit" "$acc" "$gflop" "$floor" <<'PY'
import sys
name, wall, mib, fit, acc, gflop, floor = sys.argv[1:]
rate = float(gflop) / float(fit)
print(f"{name:<24} {float(wall):8.2f} {int(mib):9d} {float(fit):8.2f} {rate:9.1f} {100 * rate / float(floor):8.1f}% {acc:>9}")
PY
}

echo "MNIST 784-${sizes//,/-}-10, $epochs epochs, $gflop GFLOP; $threads threads, floor $floor GFLOP/s; $(date -u +%F)"
printf "%-24s %8s %9s %8s %9s %9s %9s\n" program wall_s peak_MiB fit_s GFLOP/s of_floor test_acc
run "dagrad float32" "$build/examples/mnist_mlp" --hidden-layer-sizes "$sizes" --max-iter "$epochs" \
  --random-state 1 --timing --threads "$threads" --data "$data"
if python_has torch; then
  (cd "$anchors" && run "pytorch (torch_mlp.py)" /usr/bin/python3 torch_mlp.py "$data" "$sizes" "$epochs" "$threads")
else
  echo "pytorch: python3-torch not installed, skipped"
fi
