#!/usr/bin/env bash
# The character GPT side by side in one run: dagrad's examples/char_gpt
# against PyTorch (../shared/anchors/torch_char_gpt.py under Debian's
# /usr/bin/python3 and python3-torch, whose BLAS is the system's: OpenBLAS
# with libopenblas0-pthread, else the reference BLAS, 10x slower) on the
# same text and configuration:
# 4 layers, 4 heads, 128 wide, context 64, batch 12, AdamW 1e-3 (betas
# 0.9/0.99, weight decay 0.1), and the same initial values (PyTorch's
# module defaults: char_gpt --init pytorch; a last row shows char_gpt's
# own GPT-2 start), each at its best thread count (PyTorch's is
# 1 on a 2-core machine; dagrad at 1 and at 2). Prints ms an iteration
# (training steps only), peak memory of the whole process (/usr/bin/time)
# and the last validation loss; then dagrad's generation speed on one thread.
#   bench/char_gpt_vs_torch.sh [--iters 2000] [--eval-every 250] [--text FILE]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
text="$kjv_text"
iters=2000
eval_every=250
bench_flags --iters=iters --eval-every=eval_every --text=text -- "$@"
exe="$build/examples/char_gpt"
require_built examples/char_gpt
require_text "$text"
require_python torch
make_work

# run NAME COMMAND...: one row: ms/iter and the last "val loss" as the
# program printed them, peak RSS from /usr/bin/time.
run() {
  time_command "$@" || return 1
  local ms val
  ms="$(printed 'ms_per_iter: [0-9.]+' 2)"
  val="$(printed 'val loss [0-9.]+' 3)"
  printf "%-20s %9s %9s %9.1f %9s\n" "$1" "$ms" "$mib" "$wall" "$val"
  echo "$1|$ms|$mib|$val" >>"$work/rows"
  grep '^step ' "$work/out" >"$work/steps-${1// /_}"
}

echo "char GPT on $(basename "$text"), $iters iterations; $(nproc) cores; $(date -u +%F)"
printf "%-20s %9s %9s %9s %9s\n" program ms/iter peak_MiB wall_s val_loss
run "dagrad 1 thread" "$exe" --text "$text" --iters "$iters" --eval-every "$eval_every" --threads 1 --init pytorch
run "dagrad 2 threads" "$exe" --text "$text" --iters "$iters" --eval-every "$eval_every" --threads 2 --init pytorch
run "pytorch 1 thread" /usr/bin/python3 "$anchors/torch_char_gpt.py" "$text" "$iters" 1 "$eval_every"
run "dagrad gpt2 start" "$exe" --text "$text" --iters "$iters" --eval-every "$eval_every" --threads 2
# The bits beyond the printed four decimals: 20 steps' checkpoints at 1 and
# 2 threads (apart from the timed runs, whose peak memory a checkpoint's
# writing would raise).
for t in 1 2; do
  "$exe" --text "$text" --iters 20 --eval-every 1000 --threads "$t" --init pytorch \
    --checkpoint "$work/threads$t.dagradm" >/dev/null
done
same_files "dagrad at 1 and 2 threads: the same printed losses, and the same checkpoint after 20 steps, byte for byte" \
  "dagrad at 1 and 2 threads: the losses or the checkpoints DIFFER" \
  "$work/steps-dagrad_1_thread" "$work/steps-dagrad_2_threads" "$work/threads1.dagradm" "$work/threads2.dagradm"
read -r ms_t mib_t val_t < <(row "pytorch 1 thread")
for name in "dagrad 1 thread" "dagrad 2 threads"; do
  read -r ms mib val < <(row "$name")
  echo "$name / pytorch: ms/iter $(ratio "$ms" "$ms_t") (target <= 0.6), peak memory $(ratio "$mib" "$mib_t")" \
    "(target <= 0.33), val loss $(calc %+.3f 'a - b' "$val" "$val_t") (target within 0.05 after 2000 iterations)"
done
# Generation on one thread, after a short training (its speed does not
# depend on how well the model has learned): with the key/value cache, then
# the whole window a character (bench/generation_speed.sh does both alone).
"$exe" --text "$text" --iters 1 --threads 1 --sample 2000 --top-k 10 | grep '^sample:'
"$exe" --text "$text" --iters 1 --threads 1 --sample 2000 --top-k 10 --exact-sample | grep '^sample:'
