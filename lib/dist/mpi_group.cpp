#include <dagrad/core/error.hpp>
#include <dagrad/dist/mpi_group.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

namespace dagrad::dist {

namespace {

// MPI's default error handler ends the job on a failed call; this covers a
// handler someone else installed that returns instead.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("dist: ") + call + " failed: " + std::string(text, std::size_t(length)));
}

// The point-to-point tag of a rank's error sent to rank 0. MPI keeps
// collectives apart from point-to-point messages on one communicator, and
// dagrad sends no other point-to-point message.
constexpr int kErrorTag = 0x6461;

[[noreturn]] void print_and_abort(const std::string& text, int code) {
  std::cout << std::flush;  // what this rank printed before the error
  std::fflush(stdout);
  std::cerr << text << std::flush;
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; should it, this rank still ends
}

// Rank 0: if another rank has sent its error, prints it (once, for every
// rank) and ends the job with that rank's code.
void take_error_of_another_rank() {
  int arrived = 0;
  MPI_Status status;
  if (MPI_Iprobe(MPI_ANY_SOURCE, kErrorTag, MPI_COMM_WORLD, &arrived, &status) != MPI_SUCCESS || !arrived) return;
  int length = 0;
  MPI_Get_count(&status, MPI_CHAR, &length);
  std::string packet(std::size_t(std::max(length, 0)), '\0');
  MPI_Recv(packet.data(), length, MPI_CHAR, status.MPI_SOURCE, kErrorTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  std::int32_t code = 1;
  if (packet.size() >= sizeof code) std::memcpy(&code, packet.data(), sizeof code);
  const std::string message = packet.size() >= sizeof code ? packet.substr(sizeof code) : std::string();
  print_and_abort("rank " + std::to_string(status.MPI_SOURCE) + ": " + message, code);
}

// Waits for a nonblocking collective. Rank 0 meanwhile looks for another
// rank's error: a rank that has failed never joins the collective, and rank 0
// would otherwise wait for it until that rank's own abort. The first 200 us
// it polls without a pause (a gather between ranks at the same step takes
// microseconds); then it naps between polls, leaving the cores to the ranks
// that are still computing.
int wait(MPI_Request& request, bool rank_zero) {
  const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  for (;;) {
    int done = 0;
    if (const int code = MPI_Test(&request, &done, MPI_STATUS_IGNORE); code != MPI_SUCCESS || done) return code;
    if (rank_zero) take_error_of_another_rank();
    if (std::chrono::steady_clock::now() < spin_until) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

}  // namespace

bool launched_by_mpirun() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE in each rank; PMIx launchers
  // (prterun, srun --mpi=pmix) set PMIX_RANK.
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

MpiGroup::MpiGroup() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw Error("dist::MpiGroup: MPI is already initialized (one MpiGroup a process)");
  // Only the thread that made the group calls MPI; the executor's TBB
  // threads never do.
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiGroup::~MpiGroup() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // Every rank that ends well ends here. Rank 0 waits for the others, so
  // that an error one of them meets after rank 0's last gather still reaches
  // rank 0, which prints it and ends the job.
  MPI_Request request;
  if (MPI_Ibarrier(MPI_COMM_WORLD, &request) == MPI_SUCCESS) wait(request, rank_ == 0);
  MPI_Finalize();
}

std::vector<std::uint64_t> MpiGroup::gather_lengths(std::uint64_t length) {
  std::vector<std::uint64_t> lengths(static_cast<std::size_t>(size_));
  MPI_Request request;
  check(MPI_Iallgather(&length, 1, MPI_UINT64_T, lengths.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD, &request),
        "MPI_Iallgather");
  check(wait(request, rank_ == 0), "MPI_Iallgather");
  return lengths;
}

std::vector<std::span<const std::byte>> MpiGroup::all_gather(std::span<const std::byte> mine) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t length = mine.size();
  const std::vector<std::uint64_t> lengths = gather_lengths(length);
  MPI_Request request;
  std::uint64_t total = 0;
  bool equal = true;
  for (std::uint64_t l : lengths) {
    total += l;
    equal = equal && l == length;
  }
  if (total > std::uint64_t(INT_MAX)) {
    throw Error("dist: all_gather of " + std::to_string(total) + " bytes is more than MPI's int count (" +
                std::to_string(INT_MAX) + ") in one call");
  }
  if (buffer_.size() < total) buffer_.resize(total);
  std::byte* all = buffer_.data();
  const char* const call = equal ? "MPI_Iallgather" : "MPI_Iallgatherv";
  if (equal) {
    check(MPI_Iallgather(mine.data(), int(length), MPI_BYTE, all, int(length), MPI_BYTE, MPI_COMM_WORLD, &request),
          call);
  } else {
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    int offset = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      counts[r] = int(lengths[r]);
      offsets[r] = offset;
      offset += counts[r];
    }
    check(MPI_Iallgatherv(mine.data(), int(length), MPI_BYTE, all, counts.data(), offsets.data(), MPI_BYTE,
                          MPI_COMM_WORLD, &request),
          call);
  }
  check(wait(request, rank_ == 0), call);
  std::vector<std::span<const std::byte>> out;
  std::size_t at = 0;
  for (std::uint64_t l : lengths) {
    out.emplace_back(all + at, l);
    at += l;
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bytes_sent_ += std::uint64_t(size_ - 1) * length;
  bytes_received_ += total - length;
  ++gathers_;
  return out;
}

namespace {

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}

// Up to this many values (a loss) travel with the counts and weights, and
// every rank accumulates all N ranks' itself: one exchange instead of three.
constexpr std::size_t kInlineValues = 4;

// A rank's part of reduce_sum's first exchange: its count and weight, and
// its values when they are few, as doubles (exact for floats).
struct Header {
  std::uint64_t count;
  double weight;
  double values[kInlineValues];
};

// Every rank's header, in rank order; throws on every rank, alike, when the
// counts differ.
template <class T>
std::vector<Header> gather_headers(std::span<const T> values, T weight, int me, int ranks, bool rank_zero) {
  Header mine{values.size(), double(weight), {}};
  if (values.size() <= kInlineValues) std::copy(values.begin(), values.end(), mine.values);
  std::vector<Header> all(static_cast<std::size_t>(ranks));
  MPI_Request request;
  check(MPI_Iallgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, MPI_COMM_WORLD, &request),
        "MPI_Iallgather");
  check(wait(request, rank_zero), "MPI_Iallgather");
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].count != values.size()) {
      throw Error("dist: reduce_sum of " + std::to_string(values.size()) + " values on rank " + std::to_string(me) +
                  " but " + std::to_string(all[r].count) + " on rank " + std::to_string(r) +
                  "; every rank passes as many");
    }
  }
  return all;
}

// sum = w_0 v_0, then += w_r v_r in rank order, v_r = values_of(r), leaving
// out ranks of weight 0 (and 0 if all are): what one process adding its
// shards computes.
template <class T, class ValuesOf>
void accumulate_in_rank_order(std::span<T> sum, const std::vector<Header>& headers, ValuesOf values_of) {
  bool first = true;
  for (std::size_t r = 0; r < headers.size(); ++r) {
    if (headers[r].weight == 0) continue;
    nn::accumulate_shard<T>(sum, values_of(r), T(headers[r].weight), first);
    first = false;
  }
  if (first) std::fill(sum.begin(), sum.end(), T(0));
}

}  // namespace

template <class T>
void MpiGroup::reduce(std::span<T> values, T weight, std::vector<T>& slices) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = values.size(), ranks = std::size_t(size_), me = std::size_t(rank_);
  const std::vector<Header> headers = gather_headers<T>(values, weight, rank_, size_, rank_ == 0);
  auto count = [&](std::uint64_t moved) {
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes_sent_ += moved;
    bytes_received_ += moved;
    ++reductions_;
  };
  if (n <= kInlineValues) {
    T inlined[kInlineValues];
    accumulate_in_rank_order<T>(values, headers, [&](std::size_t r) {
      std::copy_n(headers[r].values, n, inlined);
      return std::span<const T>(inlined, n);
    });
    count((ranks - 1) * n * sizeof(T));  // each rank's values to every other
    return;
  }
  if (n > std::size_t(INT_MAX)) {
    throw Error("dist: reduce_sum of " + std::to_string(n) + " values is more than MPI's int count (" +
                std::to_string(INT_MAX) + ") in one call");
  }
  // counts/offsets: every rank's slice of `values`; rank r's copy of this
  // rank's slice lands in `slices` at r's place, `mine` values apart.
  std::vector<int> counts(ranks), offsets(ranks), slice_offsets(ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    const nn::Slice s = nn::slice_of(n, r, ranks);
    counts[r] = int(s.end - s.begin);
    offsets[r] = int(s.begin);
  }
  const int mine = counts[me];
  const std::vector<int> slice_counts(ranks, mine);
  for (std::size_t r = 0; r < ranks; ++r) slice_offsets[r] = int(r) * mine;
  slices.resize(ranks * std::size_t(mine));
  MPI_Request request;
  check(MPI_Ialltoallv(values.data(), counts.data(), offsets.data(), mpi_type<T>(), slices.data(),
                       slice_counts.data(), slice_offsets.data(), mpi_type<T>(), MPI_COMM_WORLD, &request),
        "MPI_Ialltoallv");
  check(wait(request, rank_ == 0), "MPI_Ialltoallv");
  accumulate_in_rank_order<T>(values.subspan(std::size_t(offsets[me]), std::size_t(mine)), headers,
                              [&](std::size_t r) {
                                return std::span<const T>(slices.data() + r * std::size_t(mine), std::size_t(mine));
                              });
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, values.data(), counts.data(), offsets.data(),
                        mpi_type<T>(), MPI_COMM_WORLD, &request),
        "MPI_Iallgatherv");
  check(wait(request, rank_ == 0), "MPI_Iallgatherv");
  // Out: the others' slices of this rank's values, then its summed slice to
  // each of them; in: the reverse, as many.
  count((n - std::size_t(mine) + (ranks - 1) * std::size_t(mine)) * sizeof(T));
}

void MpiGroup::reduce_sum(std::span<float> values, float weight) { reduce(values, weight, float_slices_); }
void MpiGroup::reduce_sum(std::span<double> values, double weight) { reduce(values, weight, double_slices_); }

void MpiGroup::abort(const std::string& message, int code, std::chrono::milliseconds grace) {
  if (rank_ == 0) print_and_abort(message, code);
  // Another rank sends its error to rank 0, which prints it when it next
  // waits on the group and ends every rank: an error that every rank meets is
  // so printed once, by rank 0, and one rank's own error as "rank N: ...".
  std::string packet(sizeof(std::int32_t), '\0');
  const std::int32_t code32 = code;
  std::memcpy(packet.data(), &code32, sizeof code32);
  packet += message;
  MPI_Request request;
  if (packet.size() <= std::size_t(INT_MAX) &&
      MPI_Isend(packet.data(), int(packet.size()), MPI_CHAR, 0, kErrorTag, MPI_COMM_WORLD, &request) == MPI_SUCCESS) {
    // Rank 0 takes the error only while it waits on the group, and may be
    // computing alone (scoring the test set): the sender waits `grace` for it.
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int sent = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!sent) MPI_Test(&request, &sent, MPI_STATUS_IGNORE);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Rank 0 is still busy (or gone): this rank prints its error itself.
  print_and_abort("rank " + std::to_string(rank_) + ": " + message, code);
}

}  // namespace dagrad::dist
