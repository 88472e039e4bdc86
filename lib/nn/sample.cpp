#include <dagrad/core/error.hpp>
#include <dagrad/nn/sample.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dagrad::nn {

std::int32_t pick(std::span<const double> logits, const SampleOptions& options, NumpyRandom& rng) {
  if (logits.empty()) throw Error("nn::pick: no logits to draw from");
  if (!(options.temperature > 0 && std::isfinite(options.temperature))) {
    throw Error("nn::pick: temperature " + std::to_string(options.temperature) + " must be positive and finite");
  }
  const std::size_t n = logits.size();
  std::vector<bool> allowed(n, true);
  if (options.top_k > 0 && options.top_k < n) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Largest first; ties by id, so the k kept are the same on every machine.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return logits[a] > logits[b]; });
    std::fill(allowed.begin(), allowed.end(), false);
    for (std::size_t i = 0; i < options.top_k; ++i) allowed[order[i]] = true;
  }
  double top = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    if (allowed[i]) top = std::max(top, logits[i]);
  }
  // softmax(z / T) = exp((z - max) / T) / sum: the largest term is 1.
  std::vector<double> weight(n, 0.0);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (allowed[i]) total += weight[i] = std::exp((logits[i] - top) / options.temperature);
  }
  const double u = rng.random_sample() * total;
  double below = 0;
  std::int32_t last = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!allowed[i]) continue;
    last = std::int32_t(i);
    below += weight[i];
    if (u < below) return last;
  }
  return last;  // u rounded up to the total
}

template <class T>
std::vector<std::int32_t> sample(Executor<T>& ex, const LanguageModel<T>& model, std::span<const std::int32_t> prompt,
                                 std::size_t count, SampleOptions options) {
  if (prompt.empty()) throw Error("nn::sample: the prompt is empty; it needs at least one id");
  if (model.context == 0) throw ShapeError("nn::sample: the model's context is 0");
  const Dim vocabulary = model.logits.shape().cols;
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || (vocabulary > 0 && prompt[i] >= vocabulary)) {
      throw DataError("nn::sample: prompt id " + std::to_string(prompt[i]) + " at position " + std::to_string(i) +
                      " is not below the model's " + std::to_string(vocabulary) + " logits");
    }
  }
  NumpyRandom rng(options.seed);
  std::vector<std::int32_t> text(prompt.begin(), prompt.end());
  std::vector<Feed<T>> feeds = model.feeds;
  Matrix<T> window = Matrix<T>::Zero(static_cast<Eigen::Index>(model.context), 1);
  feeds.emplace_back(model.ids, window);  // read in place: refilled before each run
  std::vector<double> row;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t length = std::min(text.size(), model.context);
    window.setZero();
    for (std::size_t t = 0; t < length; ++t) {
      window(Eigen::Index(t), 0) = static_cast<T>(text[text.size() - length + t]);
    }
    const Matrix<T> logits = ex.run(feeds, {model.logits})[0];
    const auto last = static_cast<Eigen::Index>(length - 1);
    row.assign(std::size_t(logits.cols()), 0.0);
    for (Eigen::Index c = 0; c < logits.cols(); ++c) row[std::size_t(c)] = double(logits(last, c));
    text.push_back(pick(row, options, rng));
  }
  return {text.begin() + std::ptrdiff_t(prompt.size()), text.end()};
}

template std::vector<std::int32_t> sample<float>(Executor<float>&, const LanguageModel<float>&,
                                                 std::span<const std::int32_t>, std::size_t, SampleOptions);
template std::vector<std::int32_t> sample<double>(Executor<double>&, const LanguageModel<double>&,
                                                  std::span<const std::int32_t>, std::size_t, SampleOptions);

}  // namespace dagrad::nn
