"""lenet, the autoencoder and grid_search under a real mpirun against one process.

    mpi_examples.py CHECK MPIRUN PROGRAM [PROGRAM...]

CHECK is one of:
  lenet FILE        mpirun -np N gives the Epoch lines of --shards N in one process,
                    bit for bit (the printed digits, and the checkpoints byte for byte),
                    for N = 2 and 3, at 1 and 2 threads; printed once; the same with
                    the gradients summed after backward (2 ranks) and in many small
                    buckets while it runs (4 and 5 ranks).
  autoencoder FILE  the same for the autoencoder's Epoch lines.
  char_gpt FILE     the same for char_gpt's step lines and checkpoints, on a generated text
                    (batches of 6 windows: uneven shards at 4 and 5 ranks).
  char_lstm FILE    the same for char_lstm.
  mnist_mlp FILE    the same for mnist_mlp's Iteration (and Validation score) lines and
                    its --save'd model file, on generated digits; its scores and
                    warnings printed once; a bad --shards refused; lbfgs on ranks as --shards.
  mnist_mlp_5 FILE  mpirun -np 5 mnist_mlp gives the output and model file of --shards 5,
                    float32 and float64, with empty shards, and lbfgs; -np 4 those of
                    --shards 4, float32 and float64.
  mlp_regressor FILE  the same for mlp_regressor on the diabetes data (adam with early
                    stopping, and lbfgs): its verbose lines, scores and --save'd file.
  grid FILE         mpirun -np 2 and 3 grid_search: the table (less its timing
                    column) and the best pick are those of one process, printed once.
  overlap LENET     mpirun -np 2 lenet at 2 threads, the gradients summed in one bucket and in
                    many while backward runs: the checkpoint of --shards 2 (for the
                    ThreadSanitizer build, which runs no other MPI test).
  fault LENET       a rank SIGKILLed mid-run stops the others within seconds with an
                    error; --resume from rank 0's last checkpoint ends with the loss
                    lines of an uninterrupted run. An error on every rank is printed once.
In a sanitized build (DAGRAD_TEST_SANITIZED set) the comparisons run at 1 thread only.
The data: MNIST's files where the other example tests find them (DAGRAD_DATA or
~/.cache/dagrad/mnist), cut with --train-rows; mnist_mlp's, seven-segment digits
the test writes (seven_segment.py).
"""
import atexit
import os
import random
import signal
import shutil
import subprocess
import sys
import tempfile
import time

from seven_segment import write_set

check, mpirun, programs = sys.argv[1], sys.argv[2], sys.argv[3:]
# Open MPI refuses root without these; --oversubscribe: 3 ranks on 2 cores;
# --bind-to none: each rank may use both cores, so that --threads 2 is 2
# threads (bound to a core, oneTBB would run one).
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
scratch = tempfile.mkdtemp(prefix="dagrad_mpi_")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)


# Thread counts each comparison runs at: 1 and 2; one in a sanitized build
# (memory errors do not depend on it, and the regular build checks the bits at both).
thread_counts = (1,) if os.environ.get("DAGRAD_TEST_SANITIZED") else (1, 2)


def mpi(ranks, *args):
    return [mpirun, "--oversubscribe", "--bind-to", "none", "-np", str(ranks)] + [str(a) for a in args]


def run(command, expect=0, timeout=240):
    command = [str(a) for a in command]
    r = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == expect, (command, r.returncode, r.stdout, r.stderr)
    return r


def epoch_lines(out):
    return [line for line in out.splitlines() if line.startswith("Epoch ")]


def checkpoint_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def step_lines(out):
    return [line for line in out.splitlines() if line.startswith("step ")]


def text_file(seed):
    """A text of seeded random sentences for the character models."""
    rng = random.Random(seed)
    words = "in the beginning god created the heaven and the earth and the earth was without form".split()
    path = os.path.join(scratch, "text.txt")
    with open(path, "w") as f:
        f.write("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "." for _ in range(1500)))
    return path


def same_as_shards(exe, flags, lines=epoch_lines):
    alone_file, together_file = os.path.join(scratch, "alone.ckpt"), os.path.join(scratch, "together.ckpt")
    # (ranks, threads, flags of the mpirun line alone): the gradients summed
    # in one bucket while backward runs (the default size holds them all);
    # then all at once after backward, and in buckets of 1,000 bytes (about
    # one a parameter) at 4 and 5 ranks, whose slices of each bucket are
    # uneven.
    runs = [(ranks, threads, []) for ranks in (2, 3) for threads in thread_counts]
    runs += [(2, 1, ["--bucket-bytes", 0]), (4, 1, ["--bucket-bytes", 1000]), (5, 1, ["--bucket-bytes", 1000])]
    for ranks, threads, buckets in runs:
        common = flags + ["--threads", threads]
        alone = run([exe, "--shards", ranks, "--checkpoint", alone_file] + common).stdout
        together = run(mpi(ranks, exe, "--checkpoint", together_file, *common, *buckets)).stdout
        assert lines(alone) and lines(together) == lines(alone), (ranks, threads, alone, together)
        # Every bit: the checkpoints hold the parameters, Adam's state and
        # each epoch's loss as doubles.
        assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file), (ranks, threads, buckets)
        # Printed once, by rank 0: every line of one process, once.
        assert len(lines(together)) == len(lines(alone)), together
        # The mpirun line --shards N itself: the same.
        if not buckets:
            assert lines(run(mpi(ranks, exe, "--shards", ranks, *common)).stdout) == lines(alone)
    r = run(mpi(2, exe, "--shards", 3, *flags), expect=1)
    assert r.stderr.count("shards is 3 but the group has 2 ranks") == 1, r.stderr


def grid_table(out):
    """The table's rows less the timing column, and the best lines."""
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("learning_rate_init"))
    table = []
    for line in lines[start:]:
        if not line.strip():
            break
        table.append(line.rsplit("  ", 1)[0].rstrip())
    best = [l for l in lines if l.startswith("best")]
    return table, best


if check == "lenet":
    same_as_shards(programs[0], ["--train-rows", 384, "--test-rows", 64, "--epochs", 2])
elif check == "autoencoder":
    same_as_shards(programs[0], ["--train-rows", 384, "--test-rows", 64, "--epochs", 2])
elif check in ("char_gpt", "char_lstm"):
    # Batches of 6 windows: 4 and 5 ranks take shards of 1 and 2 windows.
    # Estimates of 3 batches, shared among the ranks: 2 ranks take 1 and 2
    # batches, 4 and 5 ranks leave some ranks none.
    small = {"char_gpt": ["--layers", 1, "--heads", 2, "--embd", 16], "char_lstm": ["--hidden", 16]}[check]
    same_as_shards(programs[0], ["--text", text_file(3), "--context", 16, "--batch-size", 6, "--iters", 20,
                                 "--eval-every", 10, "--eval-iters", 3] + small, step_lines)
elif check == "mnist_mlp":
    exe = programs[0]
    data = os.path.join(scratch, "digits")
    os.mkdir(data)
    rng = random.Random(11)
    write_set(data, "train", 600, rng)
    write_set(data, "t10k", 100, rng)
    # Batches of 64 of 600 rows: a last batch of 24, and shards of unequal sizes.
    flags = ["--data", data, "--train-rows", 600, "--test-rows", 100, "--hidden-layer-sizes", 50,
             "--max-iter", 3, "--batch-size", 64, "--random-state", 1, "--verbose"]
    lines = lambda out: [l for l in out.splitlines() if l.startswith(("Iteration ", "Validation score"))]
    alone_file, together_file = os.path.join(scratch, "alone.model"), os.path.join(scratch, "together.model")
    for ranks in (2, 3):
        for threads in thread_counts:
            # Early stopping with 3: its validation scores come from every rank's whole copy.
            common = flags + ["--threads", threads] + (["--early-stopping"] if ranks == 3 else [])
            alone = run([exe, "--shards", ranks, "--save", alone_file] + common)
            together = run(mpi(ranks, exe, "--shards", ranks, "--save", together_file, *common))
            assert len(lines(alone.stdout)) == (6 if ranks == 3 else 3), alone.stdout
            assert lines(together.stdout) == lines(alone.stdout), (ranks, threads, alone.stdout, together.stdout)
            # The weights as trained, every bit (the files name the same shards).
            assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file), (ranks, threads)
            # Printed once, by rank 0, and the warning on standard error once.
            for text in ("(600, 784)", "Training score: ", "Testing score: ", "Saved the model"):
                assert together.stdout.count(text) == 1, (text, together.stdout)
            assert together.stderr.count("ConvergenceWarning") == 1, together.stderr
            # Without --shards the ranks are the shards: the same lines.
            assert lines(run(mpi(ranks, exe, *common)).stdout) == lines(alone.stdout)
    # One process's shards are not its whole batches: the last digits differ.
    assert lines(run([exe] + flags).stdout) != lines(run([exe, "--shards", 2] + flags).stdout)
    # An error every rank meets: printed once, by rank 0, whose abort ends the others.
    r = run(mpi(2, exe, "--shards", 3, *flags), expect=1)
    assert r.stderr.count("shards is 3 but the group has 2 ranks") == 1, r.stderr
    # lbfgs: each rank's rows of the full batch; L-BFGS-B's lines (on rank
    # 0's standard output), the scores and the model as in one process.
    lbfgs = flags[:flags.index("--max-iter")] + ["--max-iter", 8, "--random-state", 1, "--solver", "lbfgs",
                                                 "--verbose", "--shards", 2]
    alone = run([exe, "--save", alone_file] + lbfgs)
    together = run(mpi(2, exe, "--save", together_file, *lbfgs))
    assert "At iterate" in alone.stdout, alone.stdout
    assert together.stdout.replace(together_file, alone_file) == alone.stdout, (alone.stdout, together.stdout)
    assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file)
    r = run([exe, "--shards", 0] + flags, expect=1)
    assert "parameter 'shards' cannot be '0'" in r.stderr, r.stderr
elif check == "overlap":
    # The graph on a thread of its own, oneTBB's tasks announcing each
    # gradient, MPI on the calling thread: under ThreadSanitizer, any race
    # between them fails the rank (halt_on_error).
    exe = programs[0]
    flags = ["--train-rows", 256, "--test-rows", 64, "--epochs", 1, "--threads", 2]
    alone_file, together_file = os.path.join(scratch, "alone.ckpt"), os.path.join(scratch, "together.ckpt")
    alone = run([exe, "--shards", 2, "--checkpoint", alone_file] + flags).stdout
    for buckets in ([], ["--bucket-bytes", 1000]):
        together = run(mpi(2, exe, "--checkpoint", together_file, *flags, *buckets), timeout=600).stdout
        assert epoch_lines(alone) and epoch_lines(together) == epoch_lines(alone), (buckets, alone, together)
        assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file), buckets
elif check == "mnist_mlp_5":
    # Five ranks (uneven slices of the gradients in reduce_sum, and with
    # batches of 3 two empty shards a batch): the model file of --shards 5 in
    # one process, every bit, float32 and float64 with adam, and lbfgs.
    exe = programs[0]
    data = os.path.join(scratch, "digits")
    os.mkdir(data)
    write_set(data, "train", 300, random.Random(5))
    write_set(data, "t10k", 50, random.Random(6))
    base = ["--data", data, "--train-rows", 300, "--test-rows", 50, "--hidden-layer-sizes", 20,
            "--random-state", 2, "--threads", 1]
    alone_file, together_file = os.path.join(scratch, "alone.model"), os.path.join(scratch, "together.model")
    for ranks, flags in ((5, ["--max-iter", 2, "--batch-size", 64, "--dtype", "float32"]),
                         (5, ["--max-iter", 2, "--batch-size", 64, "--dtype", "float64"]),
                         (5, ["--max-iter", 1, "--batch-size", 3]),
                         (5, ["--max-iter", 5, "--solver", "lbfgs"]),
                         (4, ["--max-iter", 2, "--batch-size", 64, "--dtype", "float32"]),
                         (4, ["--max-iter", 2, "--batch-size", 64, "--dtype", "float64"])):
        flags = flags + ["--shards", ranks]
        alone = run([exe, "--save", alone_file] + base + flags)
        together = run(mpi(ranks, exe, "--save", together_file, *base, *flags))
        assert together.stdout.replace(together_file, alone_file) == alone.stdout, (flags, alone.stdout,
                                                                                  together.stdout)
        assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file), flags
elif check == "mlp_regressor":
    exe = programs[0]
    alone_file, together_file = os.path.join(scratch, "alone.model"), os.path.join(scratch, "together.model")
    adam = ["--hidden-layer-sizes", 20, "--learning-rate-init", 0.1, "--early-stopping", "--max-iter", 30]
    lbfgs = ["--hidden-layer-sizes", 20, "--solver", "lbfgs", "--max-iter", 15]
    common = ["--random-state", 1, "--dtype", "float64", "--verbose", "--threads", 1]
    for flags, marker in ((adam, "Validation score: "), (lbfgs, "At iterate")):
        for ranks in (2, 3):
            alone = run([exe, "--shards", ranks, "--save", alone_file] + flags + common)
            # (--shards to both: the files record it.)
            together = run(mpi(ranks, exe, "--shards", ranks, "--save", together_file, *flags, *common))
            assert marker in alone.stdout and "Testing R^2: " in alone.stdout, alone.stdout
            # Every line as one process with --shards prints it, once; the model, every bit.
            assert together.stdout.replace(together_file, alone_file) == alone.stdout, (ranks, alone.stdout,
                                                                                      together.stdout)
            assert checkpoint_bytes(together_file) == checkpoint_bytes(alone_file), (ranks, flags)
            warnings = alone.stderr.count("ConvergenceWarning")
            assert together.stderr.count("ConvergenceWarning") == warnings <= 1, (alone.stderr, together.stderr)
            # Without --shards the ranks are the shards: the same lines.
            assert run(mpi(ranks, exe, *flags, *common)).stdout == alone.stdout.replace(
                "Saved the model to " + alone_file + "\n", "")
        # Shards change the last bits only, but change them: not the lines of whole batches.
        assert run([exe] + flags + common).stdout != run([exe, "--shards", 2] + flags + common).stdout
elif check == "grid":
    exe = programs[0]
    flags = ["--train-rows", 1200, "--validation-rows", 300, "--max-iter", 3,
             "--grid", "learning-rate-init=0.001,0.01", "--grid", "hidden-layer-sizes=10:20:10,10"]
    one = run([exe] + flags).stdout
    table, best = grid_table(one)
    assert len(table) == 7 and len(best) == 2, one
    for ranks in (2, 3):
        out = run(mpi(ranks, exe, *flags)).stdout
        assert grid_table(out) == (table, best), (ranks, one, out)
        assert out.count("best by validation score") == 1, out
    # --refit: the refit model on rank 0 scores the test set as one process's does.
    refit = grid_table(run([exe, "--refit"] + flags).stdout)
    assert grid_table(run(mpi(2, exe, "--refit", *flags)).stdout) == refit
elif check == "fault":
    exe = programs[0]
    flags = ["--train-rows", 640, "--test-rows", 64, "--epochs", 6, "--threads", 1]
    whole = epoch_lines(run(mpi(2, exe, *flags)).stdout)
    assert len(whole) == 6, whole

    checkpoint = os.path.join(scratch, "lenet.ckpt")
    killed = subprocess.Popen(mpi(2, exe, *flags, "--checkpoint", checkpoint), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not os.path.exists(checkpoint):
        assert killed.poll() is None and time.time() < deadline, "no checkpoint before the run ended"
        time.sleep(0.02)
    # Rank 1: the child of mpirun whose environment says so.
    victim = None
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == killed.pid and b"OMPI_COMM_WORLD_RANK=1" in environ:
            victim = int(pid)
    assert victim is not None, "rank 1 not found among mpirun's children"
    os.kill(victim, signal.SIGKILL)
    killed_at = time.time()
    out, err = killed.communicate(timeout=60)
    stopped = time.time() - killed_at
    assert killed.returncode != 0, (out, err)
    assert stopped < 10, f"the other rank took {stopped:.1f} s to stop"
    assert "signal 9" in err, err  # mpirun names the rank that died and how
    assert len(epoch_lines(out)) < 6, out

    resumed = run(mpi(2, exe, *flags, "--checkpoint", checkpoint, "--resume", checkpoint)).stdout
    tail = epoch_lines(resumed)
    assert tail and tail == whole[len(whole) - len(tail):], (whole, resumed)
    # An error every rank meets is printed once (rank 0's), and ends them all.
    r = run(mpi(2, exe, *flags, "--resume", os.path.join(scratch, "missing.ckpt")), expect=1)
    assert r.stderr.count("missing.ckpt") == 1, r.stderr
    print(f"killed rank 1 after the first checkpoint; mpirun stopped {stopped:.2f} s later; "
          f"resumed for {len(tail)} epochs")
else:
    sys.exit(f"mpi_examples.py: unknown check {check!r}")
