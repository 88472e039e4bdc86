#!/usr/bin/env bash
# LeNet on MNIST, side by side in one run: dagrad's examples/lenet against
# PyTorch's C++ API on the same network (../shared/anchors/libtorch_lenet.cpp,
# Debian's libtorch-dev; one thread is libtorch's fastest setting on a 2-core
# machine). Whole-process wall time and peak memory from /usr/bin/time; fit
# time, the Epoch lines and accuracy from each program.
#   bench/lenet_vs_libtorch.sh [--epochs 2] [--repeat N] [--data DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="$mnist_data"
epochs=2
repeat=1
bench_flags --epochs=epochs --repeat=repeat --data=data -- "$@"
require_built examples/lenet
has_libtorch || die "libtorch missing: apt-get install libtorch-dev"

make_work
libtorch_anchor libtorch_lenet

# run NAME COMMAND...: one row of the table (timed_run), and the program's
# Epoch lines kept to compare thread counts.
run() {
  timed_run "$@"
  grep '^Epoch' "$work/out" >"$work/epochs-${1// /_}"
}

echo "LeNet on MNIST, $epochs epochs, batch 64, Adam 1e-3; $(nproc) cores; $(date -u +%F)"
printf "%-22s %8s %9s %8s %10s\n" program wall_s peak_MiB fit_s test_acc
for ((i = 0; i < repeat; i++)); do
  run "dagrad 1 thread" "$build/examples/lenet" --epochs "$epochs" --threads 1 --data "$data"
  run "dagrad 2 threads" "$build/examples/lenet" --epochs "$epochs" --threads 2 --data "$data"
  run "libtorch 1 thread" "$work/libtorch_lenet" "$data" "$epochs" 1
done
same_files "dagrad's Epoch lines: the same bits at 1 and 2 threads" "dagrad's Epoch lines DIFFER between 1 and 2 threads" \
  "$work/epochs-dagrad_1_thread" "$work/epochs-dagrad_2_threads"
read -r ref_wall ref_fit _ < <(row "libtorch 1 thread")
for name in "dagrad 1 thread" "dagrad 2 threads"; do
  read -r wall fit mib < <(row "$name")
  echo "$name / libtorch: fit $(ratio "$fit" "$ref_fit") (target <= 0.4), whole process $(ratio "$wall" "$ref_wall")" \
    "(target <= 0.33), peak $mib MiB (target <= 150)"
done
