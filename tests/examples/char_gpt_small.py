#!/usr/bin/env python3
"""char_gpt on a small generated text, with a small model and a few steps.

Writes a text of seeded random sentences, trains at 1 and 2 threads and
checks: the output's lines (parameters, each estimate's "step k: train loss
X, val loss Y", ms_per_iter), the same printed losses and the same
checkpoint bytes at both thread counts, a run stopped and resumed from its
checkpoint ending with the lines and bytes of one that was not, the loss
falling, a seeded sample that continues its prompt (over a key/value
cache, and with --exact-sample over whole windows), --svg with a box a
block, --dot with the backward graph, --memory's plan in a line and on
--dot; and each bad input (empty, binary or
too short text, heads that do not divide the width, a misspelled flag, a
prompt character the text lacks) refused in one line naming the file or
flag, exit code non-zero, nothing written.

    python3 tests/examples/char_gpt_small.py build/examples/char_gpt
"""
import sys

from char_model_test import CharModelTest

# About 30,000 characters of sentences from a few words: learnable quickly.
t = CharModelTest(sys.argv[1], "char_gpt", seed=7, words="the lord said unto moses and aaron in land of egypt go forth",
                  sentences=1000)
path, run, steps = t.path, t.run, t.steps
t.small = ["--text", path("text.txt"), "--layers", "2", "--heads", "2", "--embd", "16", "--context", "16",
           "--batch-size", "4", "--eval-every", "20", "--eval-iters", "3", "--learning-rate", "0.01"]

# The output's form, and the losses falling.
one = run("--iters", "60", "--threads", "1", "--checkpoint", path("one.dagradm"))
t.check_form(one.stdout, r"parameters: \d+, vocab \d+, train chars \d+", (0, 20, 40, 60))
assert t.loss(steps(one.stdout)[-1]) < t.loss(steps(one.stdout)[0]) - 0.5, one.stdout

# The same bits at 2 threads, and after a resume from step 20; another
# model's checkpoint refused.
t.check_checkpoints(one, 60, 20, ["--embd", "32"], "a checkpoint of another model")

# A seeded sample continues its prompt with characters of the text, the
# same at 1 and 2 threads; --svg has a box a block, --dot the backward graph.
sample, picture = t.check_sample(80, "the lord", ["--top-k", "5"], path("gpt.svg"), path("gpt.dot"),
                                 ("embed", "block1", "block2", "ln_f", "head"))
# The sample is drawn over a key/value cache (80 characters after 8 cross
# the 16-character window: context shifts); --exact-sample runs the whole
# window for each character instead, from the same model and seed: the
# first characters, whose window has not filled, are the same.
r = run("--iters", "20", "--threads", "2", "--sample", "80", "--prompt", "the lord", "--top-k", "5", "--exact-sample")
exact = t.sample(r, 80)
assert len(exact) == len("the lord") + 80, exact
assert exact[:16] == sample[:16], (exact, sample)
assert "attention" in picture
assert "grad(" in open(path("gpt.dot")).read()

# --memory: a training step's plan in a line, and --dot coloured by it.
m, plan = t.memory_plan(r"(\d+) computed inside (\d+) fused groups, never stored; "
                        r"the (\d+) fetched hold [\d.]+ MiB of their own$")
assert int(m[2]) + int(m[7]) + int(m[9]) == int(m[1]), m.groups()
# Each block's projection biases fuse into the residual adds after them.
assert int(m[8]) >= 2 and int(m[7]) >= int(m[8]) and float(m[5]) < 1, m.groups()
assert "block @ " in plan and "in place over " in plan and "memory plan: " in plan
assert "fused: " in plan and ", never stored" in plan

# Bad input: one line naming the file or flag, a non-zero exit, nothing written.
open(path("empty.txt"), "w").close()
open(path("binary.bin"), "wb").write(b"abc\x00\x01\x02" * 100)
open(path("short.txt"), "w").write("the lord said unto moses\n" * 4)
cases = [
    (["--text", path("empty.txt")], 1, path("empty.txt") + ": the file is empty"),
    (["--text", path("binary.bin")], 1, path("binary.bin") + ": not a text file: a NUL byte at offset 3"),
    (["--text", path("short.txt")], 1, path("short.txt") + ": too short: 100 characters"),
    (["--text", path("missing.txt")], 1, path("missing.txt") + ": cannot open"),
    (["--heads", "3"], 2, "char_gpt: --heads 3 does not divide --embd 16"),
    (["--lyers", "2"], 2, "did you mean --layers?"),
    (["--sample", "5", "--prompt", "Zion"], 2, "char_gpt: --prompt: the character 'Z' at position 0"),
]
t.check_refused(cases, "--checkpoint", path("bad.dagradm"), written=path("bad.dagradm"))
print("char_gpt: all checks passed")
