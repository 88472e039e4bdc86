#!/usr/bin/env python3
"""char_lstm on a small generated text, with a small model and a few steps.

Writes a text of seeded random sentences, trains a stacked LSTM at 1 and 2
threads and checks: the output's lines (parameters, each estimate's "step
k: train loss X, val loss Y", ms_per_iter), the same printed losses at both
thread counts, the loss falling, a seeded sample that continues its prompt
(the same at both), --svg with a box a step of each layer and --dot with
the backward graph, --memory's plan in a line and on --dot; and each bad
input (a misspelled flag, a zero layer count, a prompt character the text
lacks, too short a text) refused in one line naming the flag or file, exit
code non-zero.

    python3 tests/examples/char_lstm_small.py build/examples/char_lstm
"""
import os
import random
import re
import subprocess
import sys
import tempfile

exe = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="char_lstm_test_")
path = lambda name: os.path.join(tmp, name)

rng = random.Random(11)
words = "in the beginning god created heaven and earth light was good".split()
with open(path("text.txt"), "w") as f:
    f.write("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "." for _ in range(600)))

small = ["--text", path("text.txt"), "--layers", "2", "--hidden", "24", "--context", "8", "--batch-size", "8",
         "--eval-every", "20", "--eval-iters", "4", "--learning-rate", "0.01"]


def run(*flags, ok=True):
    r = subprocess.run([exe] + small + list(flags), capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, r
    return r


def steps(out):
    return [l for l in out.splitlines() if l.startswith("step ")]


one = run("--iters", "80", "--threads", "1")
lines = one.stdout.splitlines()
assert re.fullmatch(r"parameters: \d+, vocab \d+, train chars \d+, graph nodes \d+", lines[0]), lines[0]
estimates = [l.split(":")[0] for l in steps(one.stdout)]
assert estimates == ["step 0", "step 20", "step 40", "step 60", "step 80"], one.stdout
for l in steps(one.stdout):
    assert re.fullmatch(r"step \d+: train loss \d+\.\d{4}, val loss \d+\.\d{4}", l), l
assert re.search(r"^ms_per_iter: \d+\.\d\d$", one.stdout, re.M), one.stdout
loss = lambda l, which="train": float(l.split(which + " loss ")[1].split(",")[0])
first, last = steps(one.stdout)[0], steps(one.stdout)[-1]
assert loss(last) < loss(first) - 0.5, one.stdout
assert loss(last, "val") < loss(first, "val") - 0.5, one.stdout

two = run("--iters", "80", "--threads", "2")
assert steps(two.stdout) == steps(one.stdout), (one.stdout, two.stdout)

samples = []
for threads in ("1", "2"):
    r = run("--iters", "20", "--threads", threads, "--sample", "60", "--prompt", "god created", "--top-k", "4",
            "--svg", path("lstm.svg"), "--dot", path("lstm.dot"))
    out = r.stdout.splitlines()
    at = [i for i, l in enumerate(out) if l.startswith("sample: 60 characters in ")]
    assert len(at) == 1, r.stdout
    samples.append("\n".join(out[at[0] + 1:]))
assert samples[0] == samples[1], samples
assert samples[0].startswith("god created") and len(samples[0]) == len("god created") + 60, samples
assert set(samples[0]) <= set(open(path("text.txt")).read()), samples
picture = open(path("lstm.svg")).read()
for box in ("embed", "head", "lstm1/t0", "lstm1/t7", "lstm2/t0", "lstm2/t7"):
    assert ">" + box + "<" in picture, box
dot = open(path("lstm.dot")).read()
assert "grad(" in dot and "strided_rows" in dot and "interleave_rows" in dot

# --memory: a training step's plan in a line (the steps' gates written in
# place), and --dot coloured by it.
r = run("--iters", "5", "--threads", "2", "--memory", "--dot", path("plan.dot"))
m = re.search(r"^A training step's memory plan: (\d+) op values; the (\d+) not fetched share a ([\d.]+) MiB block "
              r"\(one buffer each: ([\d.]+) MiB, ratio ([\d.]+)\), (\d+) written in place over their input; ",
              r.stdout, re.M)
assert m and int(m[6]) > 0 and float(m[3]) < float(m[4]), r.stdout
assert "memory plan: " in open(path("plan.dot")).read()

open(path("short.txt"), "w").write("in the beginning\n")
cases = [
    (["--hiden", "8"], 2, "did you mean --hidden?"),
    (["--layers", "0"], 2, "char_lstm: --layers takes a whole number from 1 to 16, not '0'"),
    (["--sample", "5", "--prompt", "Zion"], 2, "char_lstm: --prompt: the character 'Z' at position 0"),
    (["--text", path("short.txt")], 1, path("short.txt") + ": too short: 17 characters"),
]
for flags, code, message in cases:
    r = run("--iters", "5", *flags, ok=False)
    assert r.returncode == code, (flags, r)
    assert message in r.stderr and r.stderr.count("\n") == 1, (flags, r.stderr)
print("char_lstm: all checks passed")
