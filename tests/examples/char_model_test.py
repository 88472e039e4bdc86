"""What the character-model tests (char_gpt_small.py, char_lstm_small.py)
share: a scratch folder removed at exit, a text of seeded random sentences,
a run with the model's small flags, the "step k" lines, the sample printed
after "sample: N characters in ...", --memory's line, and bad input refused
in one line.

    t = CharModelTest(sys.argv[1], "char_gpt", seed=7, words="...", sentences=1000)
    one = t.run("--iters", "60")
"""
import atexit
import os
import random
import re
import shutil
import subprocess
import tempfile

# The start of --memory's line, up to the values written in place (group 6).
MEMORY_LINE = (r"^A training step's memory plan: (\d+) op values; the (\d+) not fetched share a ([\d.]+) MiB block "
               r"\(one buffer each: ([\d.]+) MiB, ratio ([\d.]+)\), (\d+) written in place over their input; ")
STEP_LINE = r"step \d+: train loss \d+\.\d{4}, val loss \d+\.\d{4}"


class CharModelTest:
    def __init__(self, exe, name, seed, words, sentences):
        self.exe, self.name = exe, name
        self.folder = tempfile.mkdtemp(prefix=name + "_test_")
        atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
        rng = random.Random(seed)
        words = words.split()
        with open(self.path("text.txt"), "w") as f:
            f.write("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "."
                              for _ in range(sentences)))
        self.text = open(self.path("text.txt")).read()
        self.small = []

    def path(self, name):
        return os.path.join(self.folder, name)

    # The program with the model's small flags (self.small) and these.
    def run(self, *flags, ok=True):
        r = subprocess.run([self.exe] + self.small + [str(f) for f in flags], capture_output=True, text=True)
        if ok:
            assert r.returncode == 0, r
        return r

    # The outputs' form: the first line matches `first_line`, the step lines
    # are those named and well formed, the time a step took is printed.
    @staticmethod
    def check_form(stdout, first_line, step_numbers):
        lines = stdout.splitlines()
        assert re.fullmatch(first_line, lines[0]), lines[0]
        steps = CharModelTest.steps(stdout)
        assert [l.split(":")[0] for l in steps] == ["step %d" % k for k in step_numbers], stdout
        for l in steps:
            assert re.fullmatch(STEP_LINE, l), l
        assert re.search(r"^ms_per_iter: \d+\.\d\d$", stdout, re.M), stdout

    # `one` ran `iters` steps at 1 thread with --checkpoint one.dagradm. The
    # same at 2 threads prints its lines and writes its bytes; stopped at
    # step `stop` and resumed, a run ends with the lines from `stop` on and
    # the bytes of `one`; a checkpoint resumed with `other_shape` (flags of
    # another model) is refused with `refusal`, naming the file.
    def check_checkpoints(self, one, iters, stop, other_shape, refusal):
        path, steps = self.path, self.steps
        two = self.run("--iters", iters, "--threads", "2", "--checkpoint", path("two.dagradm"))
        assert steps(two.stdout) == steps(one.stdout), (one.stdout, two.stdout)
        assert open(path("one.dagradm"), "rb").read() == open(path("two.dagradm"), "rb").read()
        self.run("--iters", stop, "--threads", "2", "--checkpoint", path("half.dagradm"))
        resumed = self.run("--iters", iters, "--threads", "1", "--resume", path("half.dagradm"), "--checkpoint",
                           path("resumed.dagradm"))
        after = [l for l in steps(one.stdout) if int(l.split(":")[0].split()[1]) >= stop]
        assert steps(resumed.stdout) == after, (one.stdout, resumed.stdout)
        assert open(path("resumed.dagradm"), "rb").read() == open(path("one.dagradm"), "rb").read()
        other = self.run("--iters", iters, "--resume", path("half.dagradm"), *other_shape, ok=False)
        assert other.returncode == 1 and "half.dagradm: " + refusal in other.stderr, other

    @staticmethod
    def steps(stdout):
        return [l for l in stdout.splitlines() if l.startswith("step ")]

    @staticmethod
    def loss(step_line, which="train"):
        return float(step_line.split(which + " loss ")[1].split(",")[0])

    # The text after the one line "sample: N characters in ...": the prompt
    # and the N characters drawn.
    def sample(self, r, count):
        out = r.stdout.splitlines()
        at = [i for i, l in enumerate(out) if l.startswith("sample: %d characters in " % count)]
        assert len(at) == 1, r.stdout
        text = "\n".join(out[at[0] + 1:])
        assert set(text) <= set(self.text), text
        return text

    # A seeded sample of `count` characters after `prompt`, drawn at 1 and 2
    # threads with these flags: the same at both, the prompt and `count`
    # characters of the text. Each run also writes a picture to `svg` and the
    # graph to `dot`; the picture must have a box named each of `boxes`.
    def check_sample(self, count, prompt, flags, svg, dot, boxes):
        samples = []
        for threads in ("1", "2"):
            r = self.run("--iters", "20", "--threads", threads, "--sample", count, "--prompt", prompt, *flags,
                         "--svg", svg, "--dot", dot)
            samples.append(self.sample(r, count))
        assert samples[0] == samples[1], samples
        assert samples[0].startswith(prompt) and len(samples[0]) == len(prompt) + count, samples
        picture = open(svg).read()
        for box in boxes:
            assert ">" + box + "<" in picture, box
        return samples[0], picture

    # --memory's line: its groups (MEMORY_LINE + tail), the plan drawn on --dot.
    def memory_plan(self, tail=""):
        r = self.run("--iters", "5", "--threads", "2", "--memory", "--dot", self.path("plan.dot"))
        m = re.search(MEMORY_LINE + tail, r.stdout, re.M)
        assert m, r.stdout
        assert int(m[6]) > 0 and float(m[3]) < float(m[4]), m.groups()
        assert "memory plan: " in open(self.path("plan.dot")).read()
        return m, open(self.path("plan.dot")).read()

    # Each case (flags, exit code, message): one line of stderr holding the
    # message, that exit code, and `written` (a file the run was asked for)
    # not left behind.
    def check_refused(self, cases, *extra, written=None):
        for flags, code, message in cases:
            r = self.run("--iters", "5", *extra, *flags, ok=False)
            assert r.returncode == code, (flags, r)
            assert message in r.stderr and r.stderr.count("\n") == 1, (flags, r.stderr)
            assert written is None or not os.path.exists(written), flags
