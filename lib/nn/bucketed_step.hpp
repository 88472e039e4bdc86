// One data-parallel step whose gradients are summed across the group while
// backward still runs (nn's own; not installed). The gradients are grouped
// in buckets, in the order backward finishes them; a bucket is summed by the
// group (ShardGroup::reduce_sum) as soon as its last gradient is final,
// while the executor computes the rest.
//
// Threads: the graph runs on a thread of this object's own (the executor's
// arena, entered from there), and the calling thread does every group call,
// as MPI_THREAD_FUNNELED asks of an MpiGroup. The executor announces each
// gradient from the oneTBB task that finished it (Executor::compute's
// `ready`); that task only marks it, under a mutex, and wakes the caller.
//
// Bits: every rank cuts the buckets alike (from the parameters' shapes and
// the gradient nodes' order in the graph) and sums them in bucket order;
// reduce_sum adds each element in rank order with the same weights whatever
// slice it lies in, so the sums are those of one reduce_sum over all the
// gradients, and of `shards` in one process.
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/nn/optim.hpp>
#include <dagrad/nn/shard_group.hpp>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dagrad::nn::detail {

template <class T>
class BucketedStep {
 public:
  // Buckets of gradients of about `bucket_bytes` each (a gradient larger
  // than that is a bucket of its own), for the optimizer's parameters.
  BucketedStep(Executor<T>& ex, const Optimizer& optimizer, std::size_t bucket_bytes);
  ~BucketedStep();
  BucketedStep(const BucketedStep&) = delete;
  BucketedStep& operator=(const BucketedStep&) = delete;

  // This rank's shard, already fed (none when !has_rows, weighing 0), run
  // while its loss and then each bucket are summed across the group as they
  // become final. Returns the batch's loss; `sums` holds the summed
  // gradients in parameters() order. A failure of the graph is thrown here
  // once the buckets already under way are summed.
  double run(ShardGroup& group, bool has_rows, double share, std::vector<Matrix<T>>& sums);

  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::size_t begin, end;           // its values in flat_
    std::vector<std::size_t> members;  // its gradients (parameters() order)
  };
  void announced(std::size_t fetch, const ConstView<T>& value);
  void compute_loop();
  // Waits until `ready` holds or the run has ended; false when it ended
  // without (it failed).
  template <class Ready>
  bool wait_for(Ready ready);
  void wait_until_done();

  Executor<T>& ex_;
  const Optimizer& optimizer_;
  typename Executor<T>::Ready on_ready_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> offset_, bucket_of_;  // per gradient: its place in flat_, its bucket
  std::vector<T> flat_;

  std::mutex mutex_;
  std::condition_variable changed_;
  // This step's: per bucket its gradients still being computed, each
  // gradient's value once final, the loss once final.
  std::vector<std::size_t> missing_;
  std::vector<const T*> gradient_;
  bool loss_ready_ = false;
  double loss_ = 0;
  // The compute thread: a run asked for, one running, ended (with error_
  // when it failed), the thread to end.
  bool asked_ = false, running_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

extern template class BucketedStep<float>;
extern template class BucketedStep<double>;

}  // namespace dagrad::nn::detail
