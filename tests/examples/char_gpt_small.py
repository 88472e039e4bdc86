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
import os
import random
import re
import subprocess
import sys
import tempfile

exe = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="char_gpt_test_")
path = lambda name: os.path.join(tmp, name)

# About 30,000 characters of sentences from a few words: learnable quickly.
rng = random.Random(7)
words = "the lord said unto moses and aaron in land of egypt go forth".split()
with open(path("text.txt"), "w") as f:
    f.write("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "." for _ in range(1000)))

small = ["--text", path("text.txt"), "--layers", "2", "--heads", "2", "--embd", "16", "--context", "16",
         "--batch-size", "4", "--eval-every", "20", "--eval-iters", "3", "--learning-rate", "0.01"]


def run(*flags, ok=True):
    r = subprocess.run([exe] + small + list(flags), capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, r
    return r


def steps(out):
    return [l for l in out.splitlines() if l.startswith("step ")]


# The output's form, and the losses falling.
one = run("--iters", "60", "--threads", "1", "--checkpoint", path("one.dagradm"))
lines = one.stdout.splitlines()
assert re.fullmatch(r"parameters: \d+, vocab \d+, train chars \d+", lines[0]), lines[0]
assert [l.split(":")[0] for l in steps(one.stdout)] == ["step 0", "step 20", "step 40", "step 60"], one.stdout
for l in steps(one.stdout):
    assert re.fullmatch(r"step \d+: train loss \d+\.\d{4}, val loss \d+\.\d{4}", l), l
assert re.search(r"^ms_per_iter: \d+\.\d\d$", one.stdout, re.M), one.stdout
loss = lambda l: float(l.split("train loss ")[1].split(",")[0])
assert loss(steps(one.stdout)[-1]) < loss(steps(one.stdout)[0]) - 0.5, one.stdout

# The same bits at 2 threads: the printed losses and the whole checkpoint.
two = run("--iters", "60", "--threads", "2", "--checkpoint", path("two.dagradm"))
assert steps(two.stdout) == steps(one.stdout), (one.stdout, two.stdout)
assert open(path("one.dagradm"), "rb").read() == open(path("two.dagradm"), "rb").read()

# Stopped at step 20 and resumed: the lines from step 20 on and the final
# checkpoint are those of the run that went straight through.
run("--iters", "20", "--threads", "2", "--checkpoint", path("half.dagradm"))
resumed = run("--iters", "60", "--threads", "1", "--resume", path("half.dagradm"), "--checkpoint",
              path("resumed.dagradm"))
assert steps(resumed.stdout) == steps(one.stdout)[1:], (one.stdout, resumed.stdout)
assert open(path("resumed.dagradm"), "rb").read() == open(path("one.dagradm"), "rb").read()
# A checkpoint of another model shape is refused, naming the file.
other = run("--iters", "60", "--resume", path("half.dagradm"), "--embd", "32", ok=False)
assert other.returncode == 1 and "half.dagradm: a checkpoint of another model" in other.stderr, other

# A seeded sample continues its prompt with characters of the text, the
# same at 1 and 2 threads; --svg has a box a block, --dot the backward graph.
samples = []
for threads in ("1", "2"):
    r = run("--iters", "20", "--threads", threads, "--sample", "80", "--prompt", "the lord", "--top-k", "5",
            "--svg", path("gpt.svg"), "--dot", path("gpt.dot"))
    out = r.stdout.splitlines()
    at = [i for i, l in enumerate(out) if l.startswith("sample: 80 characters in ")]
    assert len(at) == 1, r.stdout
    samples.append("\n".join(out[at[0] + 1:]))
assert samples[0] == samples[1], samples
assert samples[0].startswith("the lord") and len(samples[0]) == len("the lord") + 80, samples
assert set(samples[0]) <= set(open(path("text.txt")).read()), samples
# The sample is drawn over a key/value cache (80 characters after 8 cross
# the 16-character window: context shifts); --exact-sample runs the whole
# window for each character instead, from the same model and seed: the
# first characters, whose window has not filled, are the same.
r = run("--iters", "20", "--threads", "2", "--sample", "80", "--prompt", "the lord", "--top-k", "5", "--exact-sample")
out = r.stdout.splitlines()
at = [i for i, l in enumerate(out) if l.startswith("sample: 80 characters in ")]
assert len(at) == 1, r.stdout
exact = "\n".join(out[at[0] + 1:])
assert len(exact) == len("the lord") + 80 and set(exact) <= set(open(path("text.txt")).read()), exact
assert exact[:16] == samples[0][:16], (exact, samples[0])
picture = open(path("gpt.svg")).read()
for box in ("embed", "block1", "block2", "ln_f", "head"):
    assert ">" + box + "<" in picture, box
assert "attention" in picture
assert "grad(" in open(path("gpt.dot")).read()

# --memory: a training step's plan in a line, and --dot coloured by it.
r = run("--iters", "5", "--threads", "2", "--memory", "--dot", path("plan.dot"))
m = re.search(r"^A training step's memory plan: (\d+) op values; the (\d+) not fetched share a ([\d.]+) MiB block "
              r"\(one buffer each: ([\d.]+) MiB, ratio ([\d.]+)\), (\d+) written in place over their input; "
              r"(\d+) computed inside (\d+) fused groups, never stored; "
              r"the (\d+) fetched hold [\d.]+ MiB of their own$", r.stdout, re.M)
assert m, r.stdout
assert int(m[2]) + int(m[7]) + int(m[9]) == int(m[1]) and int(m[6]) > 0, m.groups()
# Each block's projection biases fuse into the residual adds after them.
assert int(m[8]) >= 2 and int(m[7]) >= int(m[8]), m.groups()
assert float(m[5]) < 1 and float(m[3]) < float(m[4]), m.groups()
plan = open(path("plan.dot")).read()
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
for flags, code, message in cases:
    r = run("--iters", "5", "--checkpoint", path("bad.dagradm"), *flags, ok=False)
    assert r.returncode == code, (flags, r)
    assert message in r.stderr and r.stderr.count("\n") == 1, (flags, r.stderr)
    assert not os.path.exists(path("bad.dagradm")), flags
print("char_gpt: all checks passed")
