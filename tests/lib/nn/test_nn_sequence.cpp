// lib/nn/sequence.cpp and lib/nn/sample.cpp: the character vocabulary, the
// 90/10 split, the random windows addressed by draw, and sampling from a
// language model (a bigram table, whose row t sees only id t).
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <map>
#include <numeric>
#include <set>

using namespace dagrad;

TEST_CASE("a character vocabulary is the text's sorted distinct bytes; encode and decode invert each other") {
  const std::string text = "hello, world\n";
  const nn::CharVocabulary vocab(text);
  CHECK(vocab.characters() == "\n ,dehlorw");
  CHECK(vocab.size() == 10);
  const std::vector<std::int32_t> ids = vocab.encode(text);
  CHECK(ids == std::vector<std::int32_t>{5, 4, 6, 6, 7, 2, 1, 9, 7, 8, 6, 3, 0});
  CHECK(vocab.decode(ids) == text);
  const nn::CharVocabulary again = nn::CharVocabulary::from_characters(vocab.characters());
  CHECK(again.encode(text) == ids);
}

TEST_CASE("an unknown character, a bad id or an empty text is an error naming it and its position") {
  const nn::CharVocabulary vocab("abc");
  CHECK_THROWS_WITH_AS(vocab.encode("abZa"),
                       "the character 'Z' at position 2 is not in the vocabulary of 3 characters", DataError);
  CHECK_THROWS_WITH_AS(vocab.encode(std::string("ab\x01", 3)), doctest::Contains("\\x01 at position 2"), DataError);
  const std::vector<std::int32_t> bad{0, 3};
  CHECK_THROWS_WITH_AS(vocab.decode(bad), "id 3 at position 1 is not in the vocabulary of 3 characters", DataError);
  CHECK_THROWS_AS(nn::CharVocabulary(""), DataError);
  CHECK_THROWS_WITH_AS(nn::CharVocabulary::from_characters("acb"), doctest::Contains("position 2 ('b')"),
                       DataError);
}

TEST_CASE("split keeps the first floor(0.9 n) ids for training and the rest for validation") {
  std::vector<std::int32_t> ids(1005);
  std::iota(ids.begin(), ids.end(), 0);
  const nn::TextSplit s = nn::split(ids);
  CHECK(s.train.size() == 904);  // floor(904.5), as int(0.9 * 1005) in the reference
  CHECK(s.validation.size() == 101);
  CHECK(s.train.back() == 903);
  CHECK(s.validation.front() == 904);
  CHECK_THROWS_AS(nn::split(ids, 1.5), Error);
}

TEST_CASE("a batch of windows holds each window's ids and, as targets, the ids one position on") {
  std::vector<std::int32_t> ids(500);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int32_t((i * 7) % 61);
  const nn::WindowBatches batches(ids, {.context = 8, .batch_size = 5, .seed = 3});
  Matrix<float> x, y;
  batches.draw(4, x, y);
  REQUIRE(x.rows() == 40);
  REQUIRE(x.cols() == 1);
  REQUIRE(y.rows() == 40);
  const std::vector<std::size_t> starts = batches.starts(4);
  REQUIRE(starts.size() == 5);
  for (std::size_t s = 0; s < 5; ++s) {
    CHECK(starts[s] + 8 < ids.size());
    for (std::size_t t = 0; t < 8; ++t) {
      CHECK(x(Eigen::Index(s * 8 + t), 0) == float(ids[starts[s] + t]));
      CHECK(y(Eigen::Index(s * 8 + t), 0) == float(ids[starts[s] + t + 1]));
    }
  }
}

TEST_CASE("windows depend on the seed, the stream and the draw alone, and every start is reached") {
  std::vector<std::int32_t> ids(30, 1);
  const nn::WindowBatches a(ids, {.context = 4, .batch_size = 16, .seed = 9});
  const nn::WindowBatches b(ids, {.context = 4, .batch_size = 16, .seed = 9});
  // A fresh source asked for draw 7 first gives what one asked for 0..7 does.
  for (std::uint64_t d = 0; d < 7; ++d) (void)a.starts(d);
  CHECK(a.starts(7) == b.starts(7));
  CHECK(a.starts(7) != a.starts(8));
  CHECK(nn::WindowBatches(ids, {.context = 4, .batch_size = 16, .seed = 10}).starts(7) != a.starts(7));
  CHECK(nn::WindowBatches(ids, {.context = 4, .batch_size = 16, .seed = 9, .stream = 1}).starts(7) != a.starts(7));
  // 26 starts (0..25), each about 1/26 of 16 x 400 draws.
  std::map<std::size_t, int> count;
  for (std::uint64_t d = 0; d < 400; ++d) {
    for (std::size_t s : a.starts(d)) ++count[s];
  }
  REQUIRE(count.size() == 26);
  CHECK(count.begin()->first == 0);
  CHECK(count.rbegin()->first == 25);
  for (const auto& [start, n] : count) CHECK(std::abs(n - 6400 / 26) < 80);
}

TEST_CASE("too few ids for a window and its target is an error naming both numbers") {
  std::vector<std::int32_t> ids(8, 0);
  CHECK_THROWS_WITH_AS(nn::WindowBatches(ids, {.context = 8, .batch_size = 1}),
                       doctest::Contains("8 ids, fewer than context + 1 = 9"), DataError);
  CHECK_NOTHROW(nn::WindowBatches(std::span<const std::int32_t>(ids).first(8), {.context = 7, .batch_size = 1}));
  CHECK_THROWS_AS(nn::WindowBatches(ids, {.context = 0, .batch_size = 1}), ShapeError);
}

TEST_CASE("position ids count 0..context-1 once per sequence") {
  const Matrix<float> p = nn::position_ids<float>(3, 4);
  REQUIRE(p.rows() == 12);
  for (Eigen::Index r = 0; r < 12; ++r) CHECK(p(r, 0) == float(r % 4));
}

TEST_CASE("pick draws from softmax(logits / temperature) among the top k") {
  const std::vector<double> logits{0.0, std::log(2.0), std::log(3.0), -50.0};
  std::vector<int> seen(4, 0);
  NumpyRandom rng(5);
  for (int i = 0; i < 60000; ++i) ++seen[std::size_t(nn::pick(logits, {}, rng))];
  // Probabilities 1/6, 2/6, 3/6 and almost 0.
  CHECK(seen[0] == doctest::Approx(10000).epsilon(0.05));
  CHECK(seen[1] == doctest::Approx(20000).epsilon(0.05));
  CHECK(seen[2] == doctest::Approx(30000).epsilon(0.05));
  CHECK(seen[3] == 0);
  // Top 2 of 4: ids 1 and 2 only, in the ratio 2 : 3.
  std::fill(seen.begin(), seen.end(), 0);
  for (int i = 0; i < 50000; ++i) ++seen[std::size_t(nn::pick(logits, {.top_k = 2}, rng))];
  CHECK(seen[0] == 0);
  CHECK(seen[1] == doctest::Approx(20000).epsilon(0.05));
  CHECK(seen[2] == doctest::Approx(30000).epsilon(0.05));
  // A low temperature makes the largest all but certain; top_k 1 certain.
  std::fill(seen.begin(), seen.end(), 0);
  for (int i = 0; i < 1000; ++i) ++seen[std::size_t(nn::pick(logits, {.temperature = 0.01}, rng))];
  CHECK(seen[2] == 1000);
  for (int i = 0; i < 100; ++i) CHECK(nn::pick(logits, {.top_k = 1}, rng) == 2);
  CHECK_THROWS_AS(nn::pick(logits, {.temperature = 0}, rng), Error);
}

namespace {

// A bigram model: logits row t is table row ids(t), so it is causal (row t
// sees id t alone) and a table with one large entry a row is a chain.
struct Bigram {
  Graph g;
  Node ids = g.input("ids", {batch, 1});
  Node table = g.parameter("table", {5, 5});
  Node logits = embedding(ids, table);
};

}  // namespace

TEST_CASE("sample follows the model from the prompt, reading the last real position of a padded window") {
  Bigram m;
  Executor<float> ex(m.g, {.threads = 2});
  // id i is followed by (i + 1) mod 5, all but surely.
  Matrix<float> table = Matrix<float>::Constant(5, 5, -30);
  for (int i = 0; i < 5; ++i) table(i, (i + 1) % 5) = 30;
  ex.set(m.table, table);
  const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = 4};
  const std::vector<std::int32_t> prompt{2};
  // The prompt shorter than the window, then windows that slide.
  CHECK(nn::sample(ex, model, prompt, 7, {.seed = 1}) == std::vector<std::int32_t>{3, 4, 0, 1, 2, 3, 4});
  const std::vector<std::int32_t> long_prompt{0, 0, 0, 0, 0, 4};
  CHECK(nn::sample(ex, model, long_prompt, 2) == std::vector<std::int32_t>{0, 1});
  CHECK(nn::sample(ex, model, prompt, 0).empty());
}

TEST_CASE("sample gives the same ids for the same seed at 1 and 2 threads, others for another seed") {
  Bigram m;
  Matrix<float> table(5, 5);
  for (int i = 0; i < 25; ++i) table.data()[i] = float((i * 37) % 11) * 0.1f;
  std::vector<std::vector<std::int32_t>> out;
  for (int threads : {1, 2}) {
    Executor<float> ex(m.g, {.threads = threads});
    ex.set(m.table, table);
    const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = 3};
    out.push_back(nn::sample(ex, model, std::vector<std::int32_t>{1, 2}, 200, {.seed = 4}));
    out.push_back(nn::sample(ex, model, std::vector<std::int32_t>{1, 2}, 200, {.seed = 5}));
  }
  CHECK(out[0] == out[2]);
  CHECK(out[1] == out[3]);
  CHECK(out[0] != out[1]);
  CHECK(std::set<std::int32_t>(out[0].begin(), out[0].end()).size() == 5);
}

TEST_CASE("a prompt that is empty or holds an id the model does not score is an error naming it") {
  Bigram m;
  Executor<float> ex(m.g, {.threads = 1});
  ex.set(m.table, Matrix<float>::Zero(5, 5));
  const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = 3};
  CHECK_THROWS_AS(nn::sample(ex, model, std::vector<std::int32_t>{}, 3), Error);
  CHECK_THROWS_WITH_AS(nn::sample(ex, model, std::vector<std::int32_t>{1, 5}, 3),
                       doctest::Contains("prompt id 5 at position 1"), DataError);
}
