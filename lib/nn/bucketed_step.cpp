#include "bucketed_step.hpp"

#include <dagrad/core/error.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace dagrad::nn::detail {

template <class T>
BucketedStep<T>::BucketedStep(Executor<T>& ex, const Optimizer& optimizer, std::size_t bucket_bytes)
    : ex_(ex), optimizer_(optimizer) {
  const std::vector<Node>& parameters = optimizer.parameters();
  const std::vector<Node>& gradients = optimizer.gradients();
  const std::size_t count = parameters.size();
  // Backward builds a later layer's gradient before an earlier one's, and
  // runs them roughly in that order: the gradient nodes' order in the graph
  // is the order to send them in, the same on every rank.
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return gradients[a].id() < gradients[b].id(); });
  offset_.resize(count);
  bucket_of_.resize(count);
  std::size_t at = 0;
  for (std::size_t k : order) {
    const std::size_t values = std::size_t(parameters[k].shape().rows) * std::size_t(parameters[k].shape().cols);
    if (buckets_.empty() || (buckets_.back().end - buckets_.back().begin) * sizeof(T) >= bucket_bytes) {
      buckets_.push_back({at, at, {}});
    }
    Bucket& b = buckets_.back();
    b.members.push_back(k);
    b.end += values;
    offset_[k] = at;
    bucket_of_[k] = buckets_.size() - 1;
    at += values;
  }
  flat_.resize(at);
  missing_.resize(buckets_.size());
  gradient_.resize(count);
  on_ready_ = [this](std::size_t fetch, const ConstView<T>& value) { announced(fetch, value); };
  thread_ = std::thread([this] { compute_loop(); });
}

template <class T>
BucketedStep<T>::~BucketedStep() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

// Optimizer::fetches(): the loss, then the gradients in parameters()
// order, then what else a step fetches.
template <class T>
void BucketedStep<T>::announced(std::size_t fetch, const ConstView<T>& value) {
  // Woken under the lock: once the caller sees the change, this task has
  // done with the condition variable.
  std::lock_guard lock(mutex_);
  if (fetch == 0) {
    loss_ = static_cast<double>(value(0, 0));
    loss_ready_ = true;
    changed_.notify_all();
  } else if (fetch <= gradient_.size()) {
    const std::size_t k = fetch - 1;
    gradient_[k] = value.data();
    if (--missing_[bucket_of_[k]] == 0) changed_.notify_all();
  }
}

template <class T>
void BucketedStep<T>::compute_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return asked_ || stop_; });
    if (stop_) return;
    asked_ = false;
    lock.unlock();
    std::exception_ptr error;
    try {
      ex_.compute({}, optimizer_.fetches(), on_ready_);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    running_ = false;
    changed_.notify_all();
  }
}

template <class T>
template <class Ready>
bool BucketedStep<T>::wait_for(Ready ready) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ready() || !running_; });
  return ready();
}

template <class T>
void BucketedStep<T>::wait_until_done() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !running_; });
}

template <class T>
double BucketedStep<T>::run(ShardGroup& group, bool has_rows, double share, std::vector<Matrix<T>>& sums) {
  {
    std::lock_guard lock(mutex_);
    loss_ready_ = !has_rows;  // an empty shard weighs 0: nothing of it is read
    loss_ = 0;
    error_ = nullptr;
    for (std::size_t b = 0; b < buckets_.size(); ++b) missing_[b] = has_rows ? buckets_[b].members.size() : 0;
    asked_ = running_ = has_rows;
  }
  if (has_rows) changed_.notify_all();
  // However this ends, the graph's run ends first: the executor and the
  // values it announced are not left to a run still going.
  struct Join {
    BucketedStep& step;
    ~Join() { step.wait_until_done(); }
  } join{*this};

  double loss = 0;
  if (wait_for([&] { return loss_ready_; })) {
    loss = loss_;
    group.reduce_sum(std::span(&loss, 1), share);
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      const Bucket& bucket = buckets_[b];
      if (!wait_for([&] { return missing_[b] == 0; })) break;
      if (has_rows) {
        for (std::size_t k : bucket.members) {
          const Node& p = optimizer_.parameters()[k];
          const std::size_t n = std::size_t(p.shape().rows) * std::size_t(p.shape().cols);
          std::memcpy(flat_.data() + offset_[k], gradient_[k], n * sizeof(T));
        }
      }
      group.reduce_sum(std::span<T>(flat_.data() + bucket.begin, bucket.end - bucket.begin), static_cast<T>(share));
    }
  }
  wait_until_done();
  if (error_) std::rethrow_exception(error_);
  const std::vector<Node>& parameters = optimizer_.parameters();
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    Matrix<T>& g = sums[k];
    g.resize(parameters[k].shape().rows, parameters[k].shape().cols);
    std::memcpy(g.data(), flat_.data() + offset_[k], std::size_t(g.size()) * sizeof(T));
  }
  return loss;
}

template class BucketedStep<float>;
template class BucketedStep<double>;

}  // namespace dagrad::nn::detail
