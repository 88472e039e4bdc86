// The lesson's network live: scikit-learn's MLPClassifier(hidden_layer_sizes=(50,),
// random_state=1) on MNIST, trained an epoch at a time (partial_fit) on a
// thread of its own while playing, with what the page shows: the loss curve,
// the test accuracy, the first layer's weights as images, and predictions
// for a drawn digit.
//   MnistModel m(data, 0, [] { /* wake the event streams */ });  m.play();
#pragma once

#include "config.hpp"

#include <dagrad/io/idx.hpp>
#include <dagrad/ml/mlp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace playground {

class MnistModel {
 public:
  // `changed` runs (on the training thread) after each epoch and as an
  // epoch progresses.
  MnistModel(std::shared_ptr<const dagrad::Mnist> data, int threads, std::function<void()> changed);
  ~MnistModel();  // stops training (at the end of the running epoch)
  MnistModel(const MnistModel&) = delete;
  MnistModel& operator=(const MnistModel&) = delete;

  void play();
  void pause();  // takes effect when the running epoch ends
  void reset();  // waits for the running epoch, then starts again untrained

  // The `mnist` event of docs/playground_api.md.
  json state() const;
  // {"digit", "probabilities"} for {"pixels": [784 numbers in 0..1]}; throws
  // RequestError 400 naming the field, 409 before the first epoch.
  json predict(const json& request) const;
  // Counts the changes state() shows, for a stream to tell what is new.
  std::uint64_t version() const { return version_.load(); }

 private:
  void train();  // the training thread's loop
  void stop();
  void changed();
  dagrad::MLPClassifier fresh() const;

  std::shared_ptr<const dagrad::Mnist> data_;
  std::vector<int> train_labels_, test_labels_;
  int threads_;
  std::function<void()> changed_;

  std::mutex control_;        // one play, pause or reset at a time
  mutable std::mutex mutex_;  // guards everything below but the atomics
  dagrad::MLPClassifier mlp_;                     // trained on the thread
  std::optional<dagrad::MLPClassifier> trained_;  // a copy of the last epoch's weights, for predict
  std::vector<double> loss_curve_;
  std::optional<double> test_accuracy_;
  std::vector<std::uint8_t> weight_images_;
  bool playing_ = false;
  bool running_ = false;  // the thread is in its loop
  std::thread thread_;
  std::chrono::steady_clock::time_point last_report_;  // the thread's own
  std::atomic<double> progress_{0};
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace playground
