#!/usr/bin/env bash
# Text generation on one thread: examples/char_gpt's default model (4 layers,
# 4 heads, 128 wide, context 64) drawing --sample characters with its
# key/value cache (the default, a context shift to the latest 32 characters
# whenever the 64 are full) and with --exact-sample (the whole window of the
# last 64 run for each character). The model is trained --iters steps first;
# the speed does not depend on how well it has learned.
#   bench/generation_speed.sh [--sample 5000] [--iters 1] [--text FILE]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
text="$kjv_text"
sample=5000
iters=1
bench_flags --sample=sample --iters=iters --text=text -- "$@"
exe="$build/examples/char_gpt"
require_built examples/char_gpt
require_text "$text"

echo "char_gpt generation on one thread, $sample characters; $(nproc) cores; $(date -u +%F)"
for mode in cached exact; do
  flag=()
  [[ $mode == exact ]] && flag=(--exact-sample)
  printf "%-7s " "$mode"
  "$exe" --text "$text" --iters "$iters" --eval-iters 1 --threads 1 --sample "$sample" --top-k 10 "${flag[@]}" |
    grep '^sample:'
done
