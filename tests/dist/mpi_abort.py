"""dist::MpiGroup::abort under a real mpirun: an error is printed once and ends every rank.

    mpi_abort.py MPIRUN PROBE

PROBE is tests/dist/mpi_abort.cpp's program. Checked, with 2 and 3 ranks:
  every      an error every rank meets: printed once (rank 0's, no prefix), exit code 3.
  one R      rank R's own error while rank 0 waits in a gather: printed once, by rank 0,
             as "rank R: ...", within seconds (rank R's own fallback comes after 10 s).
  after-end  rank R fails after the others ended well: rank 0, waiting at the end, prints it.
  busy 1     (2 ranks) rank 0 computes for 60 s: rank 1 prints its error itself after
             its grace (2 s, which the probe asks for), once, and the job ends long
             before rank 0 would have.
"""
import os
import subprocess
import sys
import time

mpirun, probe = sys.argv[1], sys.argv[2]
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(ranks, *args):
    command = [mpirun, "--oversubscribe", "--bind-to", "none", "-np", str(ranks), probe] + [str(a) for a in args]
    start = time.time()
    r = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    return r, time.time() - start


def printed_once(r, text):
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("mpi_abort:") == 1, r.stderr
    assert text in r.stderr, (text, r.stderr)


# The slowest whole run of an error every rank meets at once: what starting
# and ending the job costs on this machine under its present load (mpirun,
# and a sanitized build's start-up), which the timings below allow on top.
overhead = 0.0
for ranks in (2, 3):
    for _ in range(3):  # a race would show as a second copy now and then
        r, seconds = run(ranks, "every")
        overhead = max(overhead, seconds)
        printed_once(r, "mpi_abort: the error every rank meets")
        assert "rank 0:" not in r.stderr and "rank 1: mpi_abort" not in r.stderr, r.stderr
    for failing in range(1, ranks):
        for mode in ("one", "after-end"):
            r, seconds = run(ranks, mode, failing)
            printed_once(r, f"rank {failing}: mpi_abort: {mode} error of rank {failing}")
            # Rank 0 printed it: rank `failing` itself would wait 10 s first.
            assert seconds < overhead + 6, (ranks, mode, failing, seconds, overhead, r.stderr)
r, seconds = run(2, "busy", 1)  # 2 ranks are enough: the fallback is the failing rank's own
printed_once(r, "rank 1: mpi_abort: busy error of rank 1")
assert 2 < seconds < 40, (seconds, r.stderr)
print("every error printed once; another rank's by rank 0 within seconds, or by itself after its grace")
