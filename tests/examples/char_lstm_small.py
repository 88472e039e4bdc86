#!/usr/bin/env python3
"""char_lstm on a small generated text, with a small model and a few steps.

Writes a text of seeded random sentences, trains a stacked LSTM at 1 and 2
threads and checks: the output's lines (parameters, each estimate's "step
k: train loss X, val loss Y", ms_per_iter), the same printed losses and
checkpoint bytes at both thread counts, a run stopped and resumed from its
checkpoint ending with the lines and bytes of one that was not, the loss
falling, a seeded sample that continues its prompt
(the same at both), --svg with a box a step of each layer and --dot with
the backward graph, --memory's plan in a line and on --dot; and each bad
input (a misspelled flag, a zero layer count, a prompt character the text
lacks, too short a text) refused in one line naming the flag or file, exit
code non-zero.

    python3 tests/examples/char_lstm_small.py build/examples/char_lstm
"""
import sys

from char_model_test import CharModelTest

t = CharModelTest(sys.argv[1], "char_lstm", seed=11,
                  words="in the beginning god created heaven and earth light was good", sentences=600)
path, run, steps = t.path, t.run, t.steps
t.small = ["--text", path("text.txt"), "--layers", "2", "--hidden", "24", "--context", "8", "--batch-size", "8",
           "--eval-every", "20", "--eval-iters", "4", "--learning-rate", "0.01"]

one = run("--iters", "80", "--threads", "1", "--checkpoint", path("one.dagradm"))
t.check_form(one.stdout, r"parameters: \d+, vocab \d+, train chars \d+, graph nodes \d+", (0, 20, 40, 60, 80))
first, last = steps(one.stdout)[0], steps(one.stdout)[-1]
assert t.loss(last) < t.loss(first) - 0.5, one.stdout
assert t.loss(last, "val") < t.loss(first, "val") - 0.5, one.stdout

# The same bits at 2 threads, and after a resume from step 40; another
# model's checkpoint refused, naming the flags.
t.check_checkpoints(one, 80, 40, ["--hidden", "32"], "a checkpoint of another model; give the --layers and --hidden")

t.check_sample(60, "god created", ["--top-k", "4"], path("lstm.svg"), path("lstm.dot"),
               ("embed", "head", "lstm1/t0", "lstm1/t7", "lstm2/t0", "lstm2/t7"))
dot = open(path("lstm.dot")).read()
assert "grad(" in dot and "strided_rows" in dot and "interleave_rows" in dot

# --memory: a training step's plan in a line (the steps' gates written in
# place), and --dot coloured by it.
t.memory_plan()

open(path("short.txt"), "w").write("in the beginning\n")
cases = [
    (["--hiden", "8"], 2, "did you mean --hidden?"),
    (["--layers", "0"], 2, "char_lstm: --layers takes a whole number from 1 to 16, not '0'"),
    (["--sample", "5", "--prompt", "Zion"], 2, "char_lstm: --prompt: the character 'Z' at position 0"),
    (["--text", path("short.txt")], 1, path("short.txt") + ": too short: 17 characters"),
]
t.check_refused(cases)
print("char_lstm: all checks passed")
