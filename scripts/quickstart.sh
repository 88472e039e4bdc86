#!/usr/bin/env bash
# From a fresh Debian 12 machine to the lesson's network trained on MNIST:
# installs what is missing, builds, fetches MNIST, runs the main job.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
[[ -f build/build.ninja ]] || meson setup build >/dev/null
ninja -C build
# The lesson: MLPClassifier(hidden_layer_sizes=(50,), max_iter=10, verbose=10, random_state=1)
./build/examples/mnist_mlp --hidden-layer-sizes 50 --max-iter 10 --verbose 10 --random-state 1
