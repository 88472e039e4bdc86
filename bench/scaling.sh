#!/usr/bin/env bash
# Data-parallel training on this machine, measured for docs/scaling.md:
#  1. The all-gather (dist::MpiGroup::all_gather) between 2 ranks, 8 B to 32 MB
#     a rank, over shared memory (Open MPI's default on one machine) and over
#     TCP on the loopback interface: the latency and bandwidth of the cost model.
#  2. The gradient's sum across ranks for that network's 1,863,690 float32
#     parameters, two ways in one run, call by call: all_gather of whole
#     shards and each rank accumulating all N (training before reduce_sum),
#     and reduce_sum (reduce-scatter in rank order, all-gather of the sums),
#     on 2 ranks over shared memory and TCP, and on 3, 4 and 8 ranks
#     (oversubscribed on this machine: their times mean little, their bytes
#     are exact).
#  3. The bytes each rank sends and receives per training step at 2, 3, 4
#     and 8 ranks (oversubscribed, a few steps: the bytes do not depend on
#     the machine).
#  4. A training step of the 784-1024-1024-10 network (float32, Adam, batch
#     200, relu), 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks x 1 thread
#     (mpirun), with the time spent communicating per step and the bytes; the
#     2-rank step three times over, alternating the gradients summed after
#     backward (bucket 0) and in 1 MiB buckets while it runs, over shared
#     memory and over TCP.
#   bench/scaling.sh [--data DIR] [--rows N] [--batch B] [--repeats R]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="$mnist_data"
rows=12000
batch=200
repeats=50
bench_flags --data=data --rows=rows --batch=batch --repeats=repeats -- "$@"
bench="$build/bench"
require_built --note "meson builds them where it finds Open MPI" \
  bench/bench_allgather bench/bench_dist_step bench/bench_reduce_sum
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
echo
echo "== the gradient's sum: all_gather + accumulating N shards against reduce_sum, alternating"
"${mpi[@]}" "$bench/bench_reduce_sum" 1863690 "$repeats"
"${mpi[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo "$bench/bench_reduce_sum" 1863690 "$repeats"
for ranks in 3 4 8; do
  mpirun -np "$ranks" --oversubscribe --bind-to none "$bench/bench_reduce_sum" 1863690 10
done
echo
echo "== bytes per rank per step, batch $batch, $((batch * 5)) rows (5 steps), oversubscribed"
for ranks in 2 3 4 8; do
  mpirun -np "$ranks" --oversubscribe --bind-to none "$bench/bench_dist_step" "$data" 1 "$batch" $((batch * 5))
done
echo
echo "== a step of 784-1024-1024-10, batch $batch, $rows rows ($((rows / batch)) steps)"
"$bench/bench_dist_step" "$data" 1 "$batch" "$rows"
"$bench/bench_dist_step" "$data" 2 "$batch" "$rows"
for ((i = 0; i < 3; i++)); do
  for bucket in 0 1048576; do
    "${mpi[@]}" "$bench/bench_dist_step" "$data" 1 "$batch" "$rows" "$bucket"
  done
done
for bucket in 0 1048576; do
  "${mpi[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo "$bench/bench_dist_step" "$data" 1 "$batch" "$rows" "$bucket"
done
