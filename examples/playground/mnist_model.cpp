#include "mnist_model.hpp"

#include "encode.hpp"

#include <dagrad/io/features.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ostream>

namespace playground {

using namespace dagrad;

namespace {

// Output nobody reads: the classifier's verbose lines and warnings.
std::ostream& discard() {
  static std::ostream null_stream(nullptr);
  return null_stream;
}

// One image per hidden unit, 128 at 0, 0 and 255 at minus and plus the
// unit's largest weight magnitude.
std::vector<std::uint8_t> weight_images(const Matrix<double>& w) {
  std::vector<std::uint8_t> out(std::size_t(w.size()));
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const double top = w.col(j).cwiseAbs().maxCoeff();
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const double v = top > 0 ? w(i, j) / top : 0.0;
      out[std::size_t(j * w.rows() + i)] = static_cast<std::uint8_t>(128 + std::lround(127 * v));
    }
  }
  return out;
}

}  // namespace

MnistModel::MnistModel(std::shared_ptr<const Mnist> data, int threads, std::function<void()> changed)
    : data_(std::move(data)), threads_(threads), changed_(std::move(changed)), mlp_(fresh()) {
  train_labels_.assign(data_->train.labels.begin(), data_->train.labels.end());
  test_labels_.assign(data_->test.labels.begin(), data_->test.labels.end());
}

MnistModel::~MnistModel() { stop(); }

MLPClassifier MnistModel::fresh() const {
  MLPClassifier mlp({.hidden_layer_sizes = {50}, .random_state = 1, .threads = threads_});
  mlp.set_output(&discard(), &discard());
  return mlp;
}

void MnistModel::changed() {
  ++version_;
  if (changed_) changed_();
}

void MnistModel::play() {
  std::lock_guard control(control_);
  {
    std::lock_guard lock(mutex_);
    if (playing_) return;
    playing_ = true;
    // A thread still in its last epoch sees playing_ again and goes on.
    if (!running_) {
      if (thread_.joinable()) thread_.join();  // it has left the loop: no lock wanted
      running_ = true;
      thread_ = std::thread([this] { train(); });
    }
  }
  changed();
}

void MnistModel::pause() {
  std::lock_guard control(control_);
  {
    std::lock_guard lock(mutex_);
    playing_ = false;
  }
  changed();
}

void MnistModel::stop() {
  std::thread t;
  {
    std::lock_guard lock(mutex_);
    playing_ = false;
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

void MnistModel::reset() {
  std::lock_guard control(control_);
  stop();
  {
    std::lock_guard lock(mutex_);
    mlp_ = fresh();
    trained_.reset();
    loss_curve_.clear();
    test_accuracy_.reset();
    weight_images_.clear();
    progress_ = 0;
  }
  changed();
}

void MnistModel::train() {
  static const std::vector<int> classes{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  // The classifier is this thread's alone while it runs: play() starts a
  // thread only once this one has left its loop, and reset() and the
  // destructor join it first.
  mlp_.set_progress([this](const Progress& p) {
    progress_ = double(p.samples_done) / double(p.samples_total);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report_ > std::chrono::milliseconds(100)) {
      last_report_ = now;
      changed();
    }
  });
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!playing_) {
        running_ = false;
        return;
      }
    }
    progress_ = 0;
    mlp_.partial_fit(Features(data_->train.images), train_labels_, classes);
    const double accuracy = mlp_.score(Features(data_->test.images), test_labels_);
    MLPClassifier snapshot = fresh();
    snapshot.set_weights(mlp_.classes(), mlp_.coefs(), mlp_.intercepts(), mlp_.n_iter());
    std::vector<std::uint8_t> images = weight_images(mlp_.coefs()[0]);
    {
      std::lock_guard lock(mutex_);
      loss_curve_ = mlp_.loss_curve();
      test_accuracy_ = accuracy;
      weight_images_ = std::move(images);
      trained_ = std::move(snapshot);
      progress_ = 1;
    }
    changed();
  }
}

json MnistModel::state() const {
  std::lock_guard lock(mutex_);
  return {{"epoch", loss_curve_.size()},
          {"playing", playing_},
          {"progress", progress_.load()},
          {"loss_curve", loss_curve_},
          {"test_accuracy", test_accuracy_ ? json(*test_accuracy_) : json(nullptr)},
          {"train_rows", data_->train.images.count},
          {"test_rows", data_->test.images.count},
          {"weights", base64(weight_images_)}};
}

json MnistModel::predict(const json& request) const {
  const std::size_t n = data_->train.images.features();
  const auto it = request.find("pixels");
  if (it == request.end() || !it->is_array() || it->size() != n) {
    throw RequestError(400, "pixels", "pixels: must be a list of " + std::to_string(n) +
                                          " numbers from 0 to 1 (28 x 28, row by row)");
  }
  Matrix<double> x(1, Eigen::Index(n));
  for (std::size_t i = 0; i < n; ++i) {
    const json& v = (*it)[i];
    if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1)) {
      throw RequestError(400, "pixels", "pixels: entry " + std::to_string(i) + " must be a number from 0 to 1, not " +
                                            shown(v.dump(), 40));
    }
    x(0, Eigen::Index(i)) = v.get<double>();
  }
  std::lock_guard lock(mutex_);
  if (!trained_) throw RequestError(409, "", "the MNIST network has not finished an epoch yet: press play");
  const Matrix<double> p = trained_->predict_proba(Features(x));
  Eigen::Index best = 0;
  p.row(0).maxCoeff(&best);
  return {{"digit", trained_->classes()[std::size_t(best)]},
          {"probabilities", std::vector<double>(p.data(), p.data() + p.size())}};
}

}  // namespace playground
