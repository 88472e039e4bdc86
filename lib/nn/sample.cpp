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

namespace {

// The prompt and the model's context, checked before anything runs.
void check_prompt(std::span<const std::int32_t> prompt, std::size_t context, Dim vocabulary) {
  if (prompt.empty()) throw Error("nn::sample: the prompt is empty; it needs at least one id");
  if (context == 0) throw ShapeError("nn::sample: the model's context is 0");
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || (vocabulary > 0 && prompt[i] >= vocabulary)) {
      throw DataError("nn::sample: prompt id " + std::to_string(prompt[i]) + " at position " + std::to_string(i) +
                      " is not below the model's " + std::to_string(vocabulary) + " logits");
    }
  }
}

template <class T>
void read_row(const Matrix<T>& logits, Eigen::Index r, std::vector<double>& row) {
  row.resize(std::size_t(logits.cols()));
  for (Eigen::Index c = 0; c < logits.cols(); ++c) row[std::size_t(c)] = double(logits(r, c));
}

}  // namespace

template <class T>
std::vector<std::int32_t> sample(Executor<T>& ex, const LanguageModel<T>& model, std::span<const std::int32_t> prompt,
                                 std::size_t count, SampleOptions options) {
  check_prompt(prompt, model.context, model.logits.shape().cols);
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
    read_row(logits, static_cast<Eigen::Index>(length - 1), row);
    text.push_back(pick(row, options, rng));
  }
  return {text.begin() + std::ptrdiff_t(prompt.size()), text.end()};
}

namespace {

// The cached generator's state: each block's cache (context x 2 width,
// rows [0, length) filled: the keys and values of the last `length` ids)
// and the columns of ids and positions its passes are fed: every feed of a
// run is read in place from here.
template <class T>
class Generator {
 public:
  Generator(Executor<T>& ex, const CachedLanguageModel<T>& model) : ex_(ex), model_(model) {
    check(model);
    const Dim context = Dim(model.context);
    for (const Node& qkv : model.step.qkv) cache_.push_back(Matrix<T>::Zero(context, qkv.shape().cols / 3 * 2));
    ids_ = Matrix<T>::Zero(context, 1);
    positions_ = Matrix<T>::Zero(context, 1);
    for (Eigen::Index t = 0; t < positions_.rows(); ++t) positions_(t, 0) = T(t);
    prefill_fetches_ = fetches(model.prefill);
    step_fetches_ = fetches(model.step);
  }

  // Runs `ids` from position 0, refilling the cache; the logits of the last
  // into row.
  void prefill(std::span<const std::int32_t> ids, std::vector<double>& row) {
    const Dim n = Dim(ids.size());
    for (Dim t = 0; t < n; ++t) ids_(t, 0) = T(ids[std::size_t(t)]);
    std::vector<Feed<T>> feeds = model_.feeds;
    feeds.emplace_back(model_.prefill.ids, ids_.topRows(n));
    feeds.emplace_back(model_.prefill.positions, positions_.topRows(n));
    run(model_.prefill, prefill_fetches_, feeds, 0, n, row);
  }

  // Runs one id at position length() over the cache, adding its keys and
  // values; its logits into row.
  void step(std::int32_t id, std::vector<double>& row) {
    const Dim p = length_;
    ids_(p, 0) = T(id);
    std::vector<Feed<T>> feeds = model_.feeds;
    feeds.emplace_back(model_.step.ids, ids_.middleRows(p, 1));
    feeds.emplace_back(model_.step.positions, positions_.middleRows(p, 1));
    for (std::size_t b = 0; b < cache_.size(); ++b) feeds.emplace_back(model_.step.past[b], cache_[b].topRows(p));
    run(model_.step, step_fetches_, feeds, p, 1, row);
  }

  Dim length() const { return length_; }

 private:
  // The passes fit each other: a past input and a qkv node per block, of
  // the same widths in both.
  static void check(const CachedLanguageModel<T>& m) {
    const auto fail = [](const std::string& what) { throw GraphError("nn::sample: cached model: " + what); };
    if (!m.prefill.past.empty()) fail("the prefill pass runs from position 0 and reads no past");
    if (m.step.qkv.empty() || m.step.past.size() != m.step.qkv.size() || m.prefill.qkv.size() != m.step.qkv.size()) {
      fail("the step pass needs a past input and a qkv node per block, and the prefill pass the same qkv nodes (" +
           std::to_string(m.step.past.size()) + ", " + std::to_string(m.step.qkv.size()) + " and " +
           std::to_string(m.prefill.qkv.size()) + ")");
    }
    for (std::size_t b = 0; b < m.step.qkv.size(); ++b) {
      const Dim width = m.step.qkv[b].shape().cols / 3;
      if (m.step.past[b].kind() != NodeKind::input || m.step.past[b].shape().cols != 2 * width ||
          m.prefill.qkv[b].shape().cols != 3 * width) {
        fail("block " + std::to_string(b) + "'s past '" + m.step.past[b].name() + "' is not an input of " +
             std::to_string(2 * width) + " columns beside qkv nodes of " + std::to_string(3 * width));
      }
    }
    if (m.prefill.logits.shape().cols != m.step.logits.shape().cols) fail("the passes' logits differ in width");
  }

  static std::vector<Node> fetches(const CachedPass& pass) {
    std::vector<Node> f{pass.logits};
    f.insert(f.end(), pass.qkv.begin(), pass.qkv.end());
    return f;
  }

  // Runs a pass on rows [first, first + n); keeps their keys and values.
  void run(const CachedPass& pass, const std::vector<Node>& fetches, const std::vector<Feed<T>>& feeds, Dim first,
           Dim n, std::vector<double>& row) {
    ex_.compute(feeds, fetches);
    for (std::size_t b = 0; b < cache_.size(); ++b) {
      const Matrix<T>& qkv = ex_.value(pass.qkv[b]);
      cache_[b].middleRows(first, n) = qkv.rightCols(cache_[b].cols());
    }
    read_row(ex_.value(pass.logits), n - 1, row);
    length_ = first + n;
  }

  Executor<T>& ex_;
  const CachedLanguageModel<T>& model_;
  std::vector<Matrix<T>> cache_;
  Matrix<T> ids_, positions_;
  std::vector<Node> prefill_fetches_, step_fetches_;  // each pass's logits and qkv nodes
  Dim length_ = 0;
};

}  // namespace

template <class T>
std::vector<std::int32_t> sample(Executor<T>& ex, const CachedLanguageModel<T>& model,
                                 std::span<const std::int32_t> prompt, std::size_t count, SampleOptions options) {
  check_prompt(prompt, model.context, model.step.logits.shape().cols);
  const std::size_t keep = options.keep ? options.keep : (model.context + 1) / 2;
  if (keep > model.context) {
    throw Error("nn::sample: keep " + std::to_string(keep) + " is past the model's context " +
                std::to_string(model.context) + "; a context shift keeps at most a window");
  }
  NumpyRandom rng(options.seed);
  Generator<T> generator(ex, model);
  std::vector<std::int32_t> text(prompt.begin(), prompt.end());
  std::vector<double> row;
  const std::size_t first = std::min(text.size(), model.context);
  generator.prefill(std::span(text).last(first), row);
  for (std::size_t k = 0; k < count; ++k) {
    text.push_back(pick(row, options, rng));
    if (k + 1 == count) break;
    if (std::size_t(generator.length()) == model.context) {
      generator.prefill(std::span(text).last(keep), row);  // the context shift
    } else {
      generator.step(text.back(), row);
    }
  }
  return {text.begin() + std::ptrdiff_t(prompt.size()), text.end()};
}

template std::vector<std::int32_t> sample<float>(Executor<float>&, const LanguageModel<float>&,
                                                 std::span<const std::int32_t>, std::size_t, SampleOptions);
template std::vector<std::int32_t> sample<double>(Executor<double>&, const LanguageModel<double>&,
                                                  std::span<const std::int32_t>, std::size_t, SampleOptions);
template std::vector<std::int32_t> sample<float>(Executor<float>&, const CachedLanguageModel<float>&,
                                                 std::span<const std::int32_t>, std::size_t, SampleOptions);
template std::vector<std::int32_t> sample<double>(Executor<double>&, const CachedLanguageModel<double>&,
                                                  std::span<const std::int32_t>, std::size_t, SampleOptions);

}  // namespace dagrad::nn
