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
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
anchors="$(cd "$root/.." && pwd)/shared/anchors"
data="${DAGRAD_DATA:-$HOME/.cache/dagrad/mnist}"
sizes="1024,1024"
epochs=3
threads="$(nproc)"
while (($#)); do
  case "$1" in
    --sizes) sizes="$2"; shift ;;
    --epochs) epochs="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --data) data="$2"; shift ;;
    *) echo "scale.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -x "$root/build/examples/mnist_mlp" ]] || { echo "build first: ninja -C build" >&2; exit 1; }

# FLOP per epoch: 60,000 samples x 2 x (forward MACs + weight-gradient MACs
# + input-gradient MACs of every layer but the first).
gflop=$(python3 - "$sizes" "$epochs" <<'PY'
import sys
units = [784] + [int(s) for s in sys.argv[1].split(',')] + [10]
macs = sum(a * b for a, b in zip(units, units[1:]))
input_grads = sum(a * b for a, b in zip(units[1:], units[2:]))
print(60000 * 2 * (2 * macs + input_grads) * int(sys.argv[2]) / 1e9)
PY
)
floor=$(python3 -c "print(80 * $threads)")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run() {
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" ||
    { echo "$name failed:"; tail -5 "$work/err"; return 1; }
  read -r wall kb <"$work/time"
  fit=$(grep -Eo 'fit_seconds: [0-9.]+' "$work/out" | awk '{print $2}')
  acc=$(grep -E '^Testing score' "$work/out" | awk '{print $3}')
  python3 - "$name" "$wall" "$kb" "$fit" "$acc" "$gflop" "$floor" <<'PY'
import sys
name, wall, kb, fit, acc, gflop, floor = sys.argv[1:]
rate = float(gflop) / float(fit)
print(f"{name:<24} {float(wall):8.2f} {int(kb) // 1024:9d} {float(fit):8.2f} {rate:9.1f} {100 * rate / float(floor):8.1f}% {acc:>9}")
PY
}

echo "MNIST 784-${sizes//,/-}-10, $epochs epochs, $gflop GFLOP; $threads threads, floor $floor GFLOP/s; $(date -u +%F)"
printf "%-24s %8s %9s %8s %9s %9s %9s\n" program wall_s peak_MiB fit_s GFLOP/s of_floor test_acc
run "dagrad float32" "$root/build/examples/mnist_mlp" --hidden-layer-sizes "$sizes" --max-iter "$epochs" \
  --random-state 1 --timing --threads "$threads" --data "$data"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  (cd "$anchors" && run "pytorch (torch_mlp.py)" /usr/bin/python3 torch_mlp.py "$data" "$sizes" "$epochs" "$threads")
else
  echo "pytorch: python3-torch not installed, skipped"
fi
