// lib/nn/sample.cpp's cached generator, with the layers it is built from
// (nn::transformer_block_cached over nn::Init::reuse()): a small GPT whose
// cached logits are the whole window's, whose context shift is a whole
// window run again from the kept ids, the same ids at 1 and 2 threads, and
// bad input refused by name. The exact sampler: test_nn_sequence.cpp.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <random>
#include <set>
#include <span>

using namespace dagrad;

namespace {

constexpr Dim vocabulary = 7, width = 8, heads = 2, layers = 2, context = 8;

// A GPT of two blocks over one graph: the training model over whole
// windows (ids, positions -> logits) and, over its parameters, the
// generator's prefill and step passes.
template <class T>
struct TinyGpt {
  Graph g;
  Node ids = g.input("ids", {batch, 1}), positions = g.input("positions", {batch, 1});
  nn::Init init{3};
  Node logits = layers_of(ids, positions, init, [&](Node x, Dim l) {
    return nn::transformer_block(x, {.heads = heads, .context = context, .layers = layers}, init, block(l));
  });
  nn::Init shared = nn::Init::reuse();
  nn::CachedLanguageModel<T> cached{.prefill = pass("prefill", false, shared), .step = pass("step", true, shared),
                                    .context = std::size_t(context)};

  static std::string block(Dim l) { return "block" + std::to_string(l); }

  template <class Block>
  Node layers_of(Node tokens, Node at, nn::Init& with, const Block& add_block) {
    Node x;
    {
      auto scope = g.scope("embed");
      x = nn::embedding(tokens, vocabulary, width, with, "tok") + nn::embedding(at, context, width, with, "pos");
    }
    for (Dim l = 1; l <= layers; ++l) x = add_block(x, l);
    return nn::dense(nn::layer_norm(x, with, "ln_f"), vocabulary, with, "head", {.bias = false});
  }

  nn::CachedPass pass(const std::string& name, bool after_cache, nn::Init& shared) {
    nn::CachedPass p;
    {
      auto scope = g.scope(name);
      p.ids = g.input("ids", {batch, 1});
      p.positions = g.input("positions", {batch, 1});
      for (Dim l = 1; after_cache && l <= layers; ++l) p.past.push_back(g.input(block(l), {batch, 2 * width}));
    }
    p.logits = layers_of(p.ids, p.positions, shared, [&](Node x, Dim l) {
      const nn::CachedBlock b = nn::transformer_block_cached(
          x, after_cache ? p.past[std::size_t(l - 1)] : Node(), {.heads = heads, .layers = layers}, shared, block(l));
      p.qkv.push_back(b.qkv);
      return b.out;
    });
    return p;
  }

  // Parameters far from GPT-2's small start, so that the logits, and the
  // ids drawn from them, depend strongly on every position seen.
  void randomize(Executor<T>& ex) const {
    std::mt19937 bits(11);
    for (const Node& p : init.parameters()) {
      Matrix<double> v(p.shape().rows, p.shape().cols);
      for (Eigen::Index i = 0; i < v.size(); ++i) v.data()[i] = double(bits()) / 4294967296.0 * 4 - 2;  // U(-2, 2)
      ex.set(p, v.cast<T>());
    }
  }

  // The training model's logits for `window` (at most context ids) at
  // positions 0.., padded to a whole window: its rows for those ids.
  Matrix<T> whole(Executor<T>& ex, std::span<const std::int32_t> window) const {
    Matrix<T> padded = Matrix<T>::Zero(context, 1);
    for (std::size_t t = 0; t < window.size(); ++t) padded(Eigen::Index(t), 0) = T(window[t]);
    const Matrix<T> out = ex.run({{ids, padded}, {positions, nn::position_ids<T>(1, std::size_t(context))}}, {logits})[0];
    return out.topRows(Eigen::Index(window.size()));
  }

  // The cached passes' logits for `sequence`: its first `first` ids as one
  // prefill from position 0, then one step an id over the growing cache.
  Matrix<T> stepped(Executor<T>& ex, std::span<const std::int32_t> sequence, std::size_t first) const {
    const auto column = [](std::span<const std::int32_t> ids, bool positions, Dim from) {
      Matrix<T> m(Eigen::Index(ids.size()), 1);
      for (Eigen::Index t = 0; t < m.rows(); ++t) m(t, 0) = positions ? T(from + t) : T(ids[std::size_t(t)]);
      return m;
    };
    Matrix<T> out(Eigen::Index(sequence.size()), vocabulary);
    std::vector<Matrix<T>> cache(std::size_t(layers), Matrix<T>(0, 2 * width));
    const auto keep = [&](const std::vector<Matrix<T>>& values, Dim from) {
      for (std::size_t b = 0; b < cache.size(); ++b) {
        const Eigen::Index rows = cache[b].rows(), more = values[b + 1].rows();
        cache[b].conservativeResize(rows + more, 2 * width);
        cache[b].bottomRows(more) = values[b + 1].rightCols(2 * width);
      }
      out.middleRows(from, values[0].rows()) = values[0];
    };
    const auto fetches = [](const nn::CachedPass& pass) {
      std::vector<Node> f{pass.logits};
      f.insert(f.end(), pass.qkv.begin(), pass.qkv.end());
      return f;
    };
    const std::span<const std::int32_t> head = sequence.first(first);
    keep(ex.run({{cached.prefill.ids, column(head, false, 0)}, {cached.prefill.positions, column(head, true, 0)}},
                fetches(cached.prefill)),
         0);
    for (std::size_t t = first; t < sequence.size(); ++t) {
      const std::span<const std::int32_t> one = sequence.subspan(t, 1);
      std::vector<Feed<T>> feeds = {{cached.step.ids, column(one, false, 0)},
                                    {cached.step.positions, column(one, true, Dim(t))}};
      for (std::size_t b = 0; b < cache.size(); ++b) feeds.push_back({cached.step.past[b], cache[b]});
      keep(ex.run(feeds, fetches(cached.step)), Dim(t));
    }
    return out;
  }
};

template <class T>
double relative_difference(const Matrix<T>& a, const Matrix<T>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  const double scale = 1 + double(b.cwiseAbs().maxCoeff());
  return double((a - b).cwiseAbs().maxCoeff()) / scale;
}

// What the cached sampler should draw, by whole windows: each id from the
// training model run on the ids since the window's start, which jumps to
// the latest `keep` ids whenever the window would pass the context.
std::vector<std::int32_t> shifted_by_whole_windows(TinyGpt<double>& m, Executor<double>& ex,
                                                   std::vector<std::int32_t> text, std::size_t count,
                                                   nn::SampleOptions options) {
  NumpyRandom rng(options.seed);
  const std::size_t prompt = text.size();
  std::size_t start = text.size() > std::size_t(context) ? text.size() - std::size_t(context) : 0;
  std::vector<double> row(vocabulary);
  for (std::size_t k = 0; k < count; ++k) {
    if (text.size() - start > std::size_t(context)) start = text.size() - options.keep;
    const Matrix<double> logits = m.whole(ex, std::span(text).subspan(start));
    for (Dim c = 0; c < vocabulary; ++c) row[std::size_t(c)] = logits(logits.rows() - 1, c);
    text.push_back(nn::pick(row, options, rng));
  }
  return {text.begin() + std::ptrdiff_t(prompt), text.end()};
}

}  // namespace

TEST_CASE("cached logits are the whole window's, one row a step, before the window fills") {
  const std::vector<std::int32_t> sequence{3, 1, 4, 1, 5, 6, 2, 6};
  {
    TinyGpt<double> m;
    Executor<double> ex(m.g, {.threads = 1});
    m.randomize(ex);
    const Matrix<double> whole = m.whole(ex, sequence);
    CHECK(whole.cwiseAbs().maxCoeff() > 1.0);  // logits far from uniform
    // 4: half the window, as the prefill of a context shift runs it.
    for (std::size_t first : {1, 3, 4, 8}) {
      CAPTURE(first);
      CHECK(relative_difference(m.stepped(ex, sequence, first), whole) < 1e-12);
    }
    // A different earlier id changes the later rows: the cache is read.
    std::vector<std::int32_t> other = sequence;
    other[1] = 0;
    const Matrix<double> changed = m.stepped(ex, other, 1).bottomRows(6), same = whole.bottomRows(6);
    CHECK(relative_difference(changed, same) > 1e-3);
  }
  TinyGpt<float> m;
  Executor<float> ex(m.g, {.threads = 2});
  m.randomize(ex);
  CHECK(relative_difference(m.stepped(ex, sequence, 2), m.whole(ex, sequence)) < 1e-5);
}

TEST_CASE("the cached sampler draws what whole windows give, until the window fills and after each context shift") {
  TinyGpt<double> m;
  Executor<double> ex(m.g, {.threads = 1});
  m.randomize(ex);
  const std::vector<std::int32_t> prompt{2, 5};
  // Prompt and ids within one window: the exact sampler's ids.
  const nn::LanguageModel<double> exact{.ids = m.ids, .logits = m.logits, .context = std::size_t(context),
                                        .feeds = {{m.positions, nn::position_ids<double>(1, std::size_t(context))}}};
  CHECK(nn::sample(ex, m.cached, prompt, 6, {.seed = 9}) == nn::sample(ex, exact, prompt, 6, {.seed = 9}));
  // Many shifts, by half a window and by other amounts; prompts shorter and longer than a window.
  for (std::size_t keep : {4, 1, 5, 8}) {
    CAPTURE(keep);
    const std::vector<std::int32_t> cached = nn::sample(ex, m.cached, prompt, 40, {.seed = 9, .keep = keep});
    CHECK(cached == shifted_by_whole_windows(m, ex, prompt, 40, {.seed = 9, .keep = keep}));
    // Once past the first window, a sliding window draws other ids; a shift
    // that keeps the whole window is one.
    CHECK((cached == nn::sample(ex, exact, prompt, 40, {.seed = 9})) == (keep == 8));
  }
  const std::vector<std::int32_t> long_prompt{1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4};
  CHECK(nn::sample(ex, m.cached, long_prompt, 20, {.seed = 2}) ==
        shifted_by_whole_windows(m, ex, long_prompt, 20, {.seed = 2, .keep = 4}));
  // The default keeps half the window.
  CHECK(nn::sample(ex, m.cached, prompt, 30, {.seed = 4}) ==
        shifted_by_whole_windows(m, ex, prompt, 30, {.seed = 4, .keep = 4}));
  CHECK(nn::sample(ex, m.cached, prompt, 0).empty());
}

TEST_CASE("the cached sampler gives the same ids for the same seed at 1 and 2 threads, others for another seed") {
  TinyGpt<float> m;
  std::vector<std::vector<std::int32_t>> out;
  for (int threads : {1, 2}) {
    Executor<float> ex(m.g, {.threads = threads});
    m.randomize(ex);
    out.push_back(nn::sample(ex, m.cached, std::vector<std::int32_t>{1, 2}, 100, {.seed = 4}));
    out.push_back(nn::sample(ex, m.cached, std::vector<std::int32_t>{1, 2}, 100, {.seed = 5}));
  }
  CHECK(out[0] == out[2]);
  CHECK(out[1] == out[3]);
  CHECK(out[0] != out[1]);
  CHECK(std::set<std::int32_t>(out[0].begin(), out[0].end()).size() > 3);
}

TEST_CASE("the cached sampler refuses a bad prompt, a keep past the context and passes that do not fit, by name") {
  TinyGpt<float> m;
  Executor<float> ex(m.g, {.threads = 1});
  m.randomize(ex);
  CHECK_THROWS_AS(nn::sample(ex, m.cached, std::vector<std::int32_t>{}, 3), Error);
  CHECK_THROWS_WITH_AS(nn::sample(ex, m.cached, std::vector<std::int32_t>{1, 7}, 3),
                       doctest::Contains("prompt id 7 at position 1 is not below the model's 7 logits"), DataError);
  CHECK_THROWS_WITH_AS(nn::sample(ex, m.cached, std::vector<std::int32_t>{-1}, 3),
                       doctest::Contains("prompt id -1 at position 0"), DataError);
  CHECK_THROWS_WITH_AS(nn::sample(ex, m.cached, std::vector<std::int32_t>{1}, 3, {.keep = 9}),
                       doctest::Contains("keep 9 is past the model's context 8"), Error);
  nn::CachedLanguageModel<float> one_past_short = m.cached;
  one_past_short.step.past.pop_back();
  CHECK_THROWS_WITH_AS(nn::sample(ex, one_past_short, std::vector<std::int32_t>{1}, 3),
                       doctest::Contains("a past input and a qkv node per block"), GraphError);
  nn::CachedLanguageModel<float> past_of_ids = m.cached;
  past_of_ids.step.past[0] = m.cached.step.ids;
  CHECK_THROWS_WITH_AS(nn::sample(ex, past_of_ids, std::vector<std::int32_t>{1}, 3),
                       doctest::Contains("block 0's past 'step/ids' is not an input of 16 columns"), GraphError);
  nn::CachedLanguageModel<float> prefill_with_past = m.cached;
  prefill_with_past.prefill.past = m.cached.step.past;
  CHECK_THROWS_WITH_AS(nn::sample(ex, prefill_with_past, std::vector<std::int32_t>{1}, 3),
                       doctest::Contains("the prefill pass runs from position 0"), GraphError);
}
