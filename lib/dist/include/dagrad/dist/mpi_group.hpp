// dagrad across processes: an nn::ShardGroup over MPI (Open MPI), so that
// `mpirun -np N` trains with N ranks what `shards = N` computes in one process.
//   if (dist::launched_by_mpirun()) { dist::MpiGroup group;  options.group = &group;  ... }
#pragma once

#include <dagrad/nn/shard_group.hpp>

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

  // Ends every rank with `code` (MPI_Abort), `message` printed once on
  // standard error. Rank 0 prints its own. Another rank sends its message to
  // rank 0, which prints it as "rank N: message" when it next waits on the
  // group (in all_gather, or at the end of the run in the destructor) and
  // ends the job; so an error every rank meets is printed once, rank 0's. If
  // rank 0 has not ended the job within 10 s (it is computing alone), the
  // rank prints its message itself.
  [[noreturn]] void abort(const std::string& message, int code);

  // Time spent in all_gather and the bytes it sent, since construction: the
  // communication of a run, for benchmarks.
  double seconds_communicating() const { return seconds_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t gathers() const { return gathers_; }

 private:
  int rank_ = 0, size_ = 1;
  // Received bytes, kept between calls: a fresh buffer each step would be
  // fresh pages for the kernel to map, which cost more than the transfer.
  std::vector<std::byte> buffer_;
  double seconds_ = 0;
  std::uint64_t bytes_sent_ = 0, gathers_ = 0;
};

}  // namespace dagrad::dist
