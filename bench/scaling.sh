#!/usr/bin/env bash
# Data-parallel training on this machine, measured for docs/scaling.md:
#  1. The all-gather (dist::MpiGroup::all_gather) between 2 ranks, 8 B to 32 MB
#     a rank, over shared memory (Open MPI's default on one machine) and over
#     TCP on the loopback interface: the latency and bandwidth of the cost model.
#  2. A training step of the 784-1024-1024-10 network (float32, Adam, batch
#     200, relu), 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks x 1 thread
#     (mpirun), with the time spent in all_gather per step and the bytes sent.
#   bench/scaling.sh [--data DIR] [--rows N] [--batch B] [--repeats R]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DAGRAD_DATA:-$HOME/.cache/dagrad/mnist}"
rows=12000
batch=200
repeats=50
while (($#)); do
  case "$1" in
    --data) data="$2"; shift ;;
    --rows) rows="$2"; shift ;;
    --batch) batch="$2"; shift ;;
    --repeats) repeats="$2"; shift ;;
    *) echo "scaling.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
bench="$root/build/bench"
[[ -x "$bench/bench_dist_step" ]] || { echo "scaling.sh: build with MPI first (ninja -C build)" >&2; exit 1; }
# Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One rank a core, each pinned to its own.
mpi=(mpirun -np 2 --bind-to core)

echo "== all_gather, 2 ranks, shared memory (Open MPI's vader BTL)"
"${mpi[@]}" "$bench/bench_allgather" "$repeats"
echo
echo "== all_gather, 2 ranks, TCP over the loopback interface"
"${mpi[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo "$bench/bench_allgather" "$repeats"
echo
echo "== a step of 784-1024-1024-10, batch $batch, $rows rows ($((rows / batch)) steps)"
"$bench/bench_dist_step" "$data" 1 "$batch" "$rows"
"$bench/bench_dist_step" "$data" 2 "$batch" "$rows"
"${mpi[@]}" "$bench/bench_dist_step" "$data" 1 "$batch" "$rows"
"${mpi[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo "$bench/bench_dist_step" "$data" 1 "$batch" "$rows"
