// dagrad across processes: an nn::ShardGroup over MPI (Open MPI), so that
// `mpirun -np N` trains with N ranks what `shards = N` computes in one process.
//   if (dist::launched_by_mpirun()) { dist::MpiGroup group;  options.group = &group;  ... }
#pragma once

#include <dagrad/nn/shard_group.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dagrad::dist {

// True when mpirun (or another PMIx launcher) started this process: a plain
// run never initializes MPI.
bool launched_by_mpirun();

// MPI_COMM_WORLD as a ShardGroup. Initializes MPI on construction and
// finalizes it on destruction; one at a time in a process. Only the thread
// that made it may call MPI through it.
class MpiGroup final : public nn::ShardGroup {
 public:
  MpiGroup();
  // Waits for every rank to end well (rank 0 meanwhile takes another rank's
  // error, as in all_gather), then finalizes MPI.
  ~MpiGroup() override;
  MpiGroup(const MpiGroup&) = delete;
  MpiGroup& operator=(const MpiGroup&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // MPI_Iallgather of the lengths, then of the bytes (MPI_Iallgatherv when
  // the lengths differ): rank order by MPI's definition, whatever the network.
  // While rank 0 waits for them it takes any other rank's error (see abort).
  std::vector<std::span<const std::byte>> all_gather(std::span<const std::byte> mine) override;
  // A reduce-scatter in rank order, then an all-gather: rank r receives
  // slice r (nn::slice_of) of every rank's values (MPI_Ialltoallv),
  // accumulates them in rank order with their ranks' weights
  // (nn::accumulate_shard), and the summed slices are all-gathered in place
  // (MPI_Iallgatherv). Each rank so sends and receives about 2 (N - 1) / N
  // of the values and accumulates one copy of them, where gathering whole
  // shards moves N - 1 copies in and accumulates N. The counts and weights
  // are gathered first (48 bytes a rank), with the values themselves when
  // there are at most 4 (a loss), which every rank then accumulates whole.
  // Rank 0 takes another rank's error while it waits, as in all_gather.
  void reduce_sum(std::span<float> values, float weight) override;
  void reduce_sum(std::span<double> values, double weight) override;

  // Ends every rank with `code` (MPI_Abort), `message` printed once on
  // standard error. Rank 0 prints its own. Another rank sends its message to
  // rank 0, which prints it as "rank N: message" when it next waits on the
  // group (in all_gather, or at the end of the run in the destructor) and
  // ends the job; so an error every rank meets is printed once, rank 0's. If
  // rank 0 has not ended the job within `grace` (it is computing alone), the
  // rank prints its message itself.
  [[noreturn]] void abort(const std::string& message, int code,
                          std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Time spent in all_gather and reduce_sum since construction, and the
  // bytes this rank sent to and received from the others as the collectives
  // define them (an all-gather of m bytes a rank: (N - 1) m each way; the
  // counts' exchange left out): the communication of a run, for benchmarks.
  double seconds_communicating() const { return seconds_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t bytes_received() const { return bytes_received_; }
  std::uint64_t gathers() const { return gathers_; }
  std::uint64_t reductions() const { return reductions_; }

 private:
  // Every rank's length (MPI_Iallgather of one integer), in rank order.
  std::vector<std::uint64_t> gather_lengths(std::uint64_t length);
  template <class T>
  void reduce(std::span<T> values, T weight, std::vector<T>& slices);

  int rank_ = 0, size_ = 1;
  // Received bytes and slices, kept between calls: a fresh buffer each step
  // would be fresh pages for the kernel to map, which cost more than the transfer.
  std::vector<std::byte> buffer_;
  std::vector<float> float_slices_;
  std::vector<double> double_slices_;
  double seconds_ = 0;
  std::uint64_t bytes_sent_ = 0, bytes_received_ = 0, gathers_ = 0, reductions_ = 0;
};

}  // namespace dagrad::dist
