#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "blobs.hpp"
#include "contains.hpp"

#include <numeric>
#include <random>
#include <sstream>

using namespace dagrad;
using dagrad::testing::Blobs;
using dagrad::testing::blobs;
using dagrad::testing::quiet;

namespace {

// On the blobs, a 20-unit layer at learning rate 0.01 wins the grid; one
// ReLU unit cannot separate them, nor can any layer when the learning rate
// is 1e-6 and training stops after 60 epochs.
const MLPParams base = [] {
  MLPParams p;
  p.max_iter = 60;
  p.random_state = 1;
  return p;
}();
const Grid grid{{"learning_rate_init", {"0.000001", "0.01"}}, {"hidden_layer_sizes", {"1", "20"}}};

std::vector<std::size_t> range(std::size_t first, std::size_t last) {
  std::vector<std::size_t> r(last - first);
  std::iota(r.begin(), r.end(), first);
  return r;
}

// A classifier trained by hand on `train` rows of b, as GridSearch should.
MLPClassifier by_hand(MLPParams p, const Blobs& b, const std::vector<std::size_t>& train) {
  p.threads = 1;
  MLPClassifier m = quiet(p);
  std::vector<int> y;
  for (std::size_t i : train) y.push_back(b.y[i]);
  m.fit(Features(take_rows(b.X, train)), y);
  return m;
}

double score_on(const MLPClassifier& m, const Blobs& b, const std::vector<std::size_t>& rows) {
  std::vector<int> y;
  for (std::size_t i : rows) y.push_back(b.y[i]);
  return m.score(Features(take_rows(b.X, rows)), y);
}

// Runs the search and counts the configurations reported.
GridResult search(const Grid& g, GridSearchOptions options, const Blobs& b, int& reported) {
  GridSearch gs(base, g, options);
  gs.on_result([&](const GridRow&) { ++reported; });
  return gs.fit(b.X, b.y);
}

std::string error_of(const Grid& g, const Blobs& b, int& reported) {
  try {
    search(g, {.validation = Holdout{.rows = 100}}, b, reported);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the configuration built to win is found, and rows come in grid order, first parameter slowest") {
  const Blobs b = blobs(600, 1);
  int reported = 0;
  const GridResult r = search(grid, {.validation = Holdout{.rows = 150}, .threads = 2}, b, reported);
  CHECK(reported == 4);
  REQUIRE(r.rows.size() == 4);
  const char* order[4][2] = {{"0.000001", "1"}, {"0.000001", "20"}, {"0.01", "1"}, {"0.01", "20"}};
  for (std::size_t c = 0; c < 4; ++c) {
    CAPTURE(c);
    CHECK(r.rows[c].index == c);
    REQUIRE(r.rows[c].params.size() == 2);
    CHECK(r.rows[c].params[0] == std::pair<std::string, std::string>{"learning_rate_init", order[c][0]});
    CHECK(r.rows[c].params[1] == std::pair<std::string, std::string>{"hidden_layer_sizes", order[c][1]});
    CHECK(r.rows[c].n_iter >= 1);
    CHECK(r.rows[c].fold_scores.size() == 1);
  }
  CHECK(r.rows[3].describe() == "learning_rate_init=0.01 hidden_layer_sizes=(20,)");
  CHECK(r.best_index == 3);
  CHECK(r.best().validation_score > 0.97);
  for (std::size_t c = 0; c < 3; ++c) CHECK(r.rows[c].validation_score < 0.9);
  // The test set is the caller's: GridSearch never had it.
  const Blobs test = blobs(300, 99);
  REQUIRE(r.best_estimator.has_value());
  CHECK(r.best_estimator->score(Features(test.X), test.y) > 0.97);
}

TEST_CASE("without shuffle the validation rows are exactly the last N, and each score is that split's") {
  const Blobs b = blobs(600, 2);
  int reported = 0;
  const GridResult r = search(grid, {.validation = Holdout{.rows = 150}, .threads = 2}, b, reported);
  REQUIRE(r.splits.size() == 1);
  CHECK(r.splits[0].train == range(0, 450));
  CHECK(r.splits[0].validation == range(450, 600));
  // Bit-identical to training on rows 0..449 and scoring on rows 450..599 by hand.
  for (std::size_t c = 0; c < r.rows.size(); ++c) {
    CAPTURE(c);
    const MLPClassifier m = by_hand(r.rows[c].full_params, b, range(0, 450));
    CHECK(r.rows[c].validation_score == score_on(m, b, range(450, 600)));
    CHECK(r.rows[c].loss == m.loss());
    CHECK(r.rows[c].n_iter == m.n_iter());
  }
  // Without refit, the best estimator is the one trained on the training part.
  const MLPClassifier best = by_hand(r.best().full_params, b, range(0, 450));
  CHECK(r.best_estimator->loss_curve() == best.loss_curve());
}

TEST_CASE("poisoned last rows show they were scored on and never trained on") {
  // The last 150 rows carry wrong labels (3 -> 5 -> 7 -> 3). Scored on them, a
  // model that learned the blobs gets almost nothing right; had they been
  // trained on, or had other rows been scored, it would get far more.
  Blobs b = blobs(600, 3);
  for (int i = 450; i < 600; ++i) b.y[i] = b.y[i] == 3 ? 5 : b.y[i] == 5 ? 7 : 3;
  int reported = 0;
  const GridResult r = search(grid, {.validation = Holdout{.rows = 150}, .threads = 2}, b, reported);
  CHECK(r.rows[3].validation_score < 0.05);
  // Trained on clean rows only: a low final loss (contradicting labels would keep it above 0.5).
  CHECK(r.rows[3].loss < 0.1);
  // The winner is whatever does best on the poisoned rows: not the blob learner.
  CHECK(r.best_index != 3);
}

TEST_CASE("holdouts and folds split rows as scikit-learn's train_test_split and KFold do") {
  // train_test_split(range(10), test_size=3, random_state=0): test [2, 8, 4].
  std::vector<Split> s = make_splits(10, Holdout{.rows = 3, .shuffle = true, .seed = 0});
  REQUIRE(s.size() == 1);
  CHECK(s[0].validation == std::vector<std::size_t>{2, 4, 8});
  CHECK(s[0].train == std::vector<std::size_t>{0, 1, 3, 5, 6, 7, 9});
  // fraction 0.25 of 10 rounds up to 3; unshuffled, the last 3.
  s = make_splits(10, Holdout{.fraction = 0.25});
  CHECK(s[0].validation == std::vector<std::size_t>{7, 8, 9});
  // KFold(3, shuffle=True, random_state=7) over 12 rows.
  s = make_splits(12, KFold{.folds = 3, .shuffle = true, .seed = 7});
  REQUIRE(s.size() == 3);
  CHECK(s[0].validation == std::vector<std::size_t>{2, 5, 7, 10});
  CHECK(s[1].validation == std::vector<std::size_t>{0, 1, 8, 11});
  CHECK(s[2].validation == std::vector<std::size_t>{3, 4, 6, 9});
  // Unshuffled folds are contiguous, the first n % k one row larger.
  s = make_splits(10, KFold{.folds = 3});
  CHECK(s[0].validation == range(0, 4));
  CHECK(s[1].validation == range(4, 7));
  CHECK(s[2].validation == range(7, 10));
  CHECK(s[1].train == std::vector<std::size_t>{0, 1, 2, 3, 7, 8, 9});
  CHECK_THROWS_AS(make_splits(10, Holdout{.rows = 10}), Error);
  CHECK_THROWS_AS(make_splits(10, Holdout{.rows = 3, .fraction = 0.5}), Error);
  CHECK_THROWS_AS(make_splits(10, Holdout{}), Error);
  CHECK_THROWS_AS(make_splits(2, KFold{.folds = 3}), Error);
  CHECK_THROWS_AS(make_splits(10, KFold{.folds = 1}), Error);
}

TEST_CASE("configurations trained in parallel give the same table as one after another") {
  const Blobs b = blobs(600, 4);
  const Grid g{{"learning_rate_init", {"0.001", "0.01", "0.1"}}, {"hidden_layer_sizes", {"3", "20", "5,5"}}};
  int reported = 0;
  const GridResult one = search(g, {.validation = Holdout{.fraction = 0.2}, .threads = 1}, b, reported);
  CHECK(reported == 9);
  for (int threads : {2, 4}) {
    CAPTURE(threads);
    reported = 0;
    const GridResult many = search(g, {.validation = Holdout{.fraction = 0.2}, .threads = threads}, b, reported);
    CHECK(reported == 9);
    REQUIRE(many.rows.size() == one.rows.size());
    for (std::size_t c = 0; c < one.rows.size(); ++c) {
      CAPTURE(c);
      CHECK(many.rows[c].validation_score == one.rows[c].validation_score);
      CHECK(many.rows[c].loss == one.rows[c].loss);
      CHECK(many.rows[c].n_iter == one.rows[c].n_iter);
    }
    CHECK(many.best_index == one.best_index);
    CHECK(many.best_estimator->loss_curve() == one.best_estimator->loss_curve());
  }
}

TEST_CASE("an unknown parameter or a bad value is an error before anything trains") {
  const Blobs b = blobs(300, 5);
  int reported = 0;
  std::string msg = error_of({{"learning_rate_int", {"0.01"}}}, b, reported);
  check_contains(msg, {"'learning_rate_int'", "did you mean 'learning_rate_init'?"});
  // The bad value comes last, so a search that checked lazily would have
  // trained (and reported) the good configurations first.
  msg = error_of({{"hidden_layer_sizes", {"5", "10"}}, {"learning_rate_init", {"0.01", "0"}}}, b, reported);
  check_contains(msg, {"'learning_rate_init'", "learning_rate_init=0"});
  msg = error_of({{"alpha", {"0.1", "lots"}}}, b, reported);
  CHECK(contains(msg, "'alpha' cannot be 'lots'"));
  msg = error_of({{"alpha", {}}}, b, reported);
  CHECK(contains(msg, "'alpha' has no values"));
  msg = error_of({{"threads", {"1", "2"}}}, b, reported);
  CHECK(contains(msg, "'threads' cannot be searched"));
  msg = error_of({{"alpha", {"0.1"}}, {"alpha", {"0.2"}}}, b, reported);
  CHECK(contains(msg, "appears twice"));
  // A holdout larger than the data is found before training too.
  try {
    search({{"alpha", {"0.1"}}}, {.validation = Holdout{.rows = 300}}, b, reported);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "no rows to train on"));
  }
  CHECK(reported == 0);
}

TEST_CASE("k-fold scores each configuration by the mean of its k fold scores") {
  const Blobs b = blobs(300, 6);
  int reported = 0;
  const GridResult r = search(grid, {.validation = KFold{.folds = 3}, .threads = 2}, b, reported);
  CHECK(reported == 4);
  REQUIRE(r.splits.size() == 3);
  CHECK(r.splits[1].validation == range(100, 200));
  for (const GridRow& row : r.rows) {
    CAPTURE(row.index);
    REQUIRE(row.fold_scores.size() == 3);
    CHECK(row.validation_score == doctest::Approx((row.fold_scores[0] + row.fold_scores[1] + row.fold_scores[2]) / 3));
  }
  // The middle fold's score is a model trained on the other two folds.
  const MLPClassifier m = by_hand(r.rows[3].full_params, b, r.splits[1].train);
  CHECK(r.rows[3].fold_scores[1] == score_on(m, b, range(100, 200)));
  CHECK(r.best_index == 3);
  CHECK_FALSE(r.best_estimator.has_value());  // no refit asked: no single model to give
}

TEST_CASE("refit trains the best configuration again on all training rows") {
  const Blobs b = blobs(600, 7);
  for (GridSearchOptions o : {GridSearchOptions{.validation = Holdout{.rows = 150}, .refit = true, .threads = 2},
                              GridSearchOptions{.validation = KFold{.folds = 3}, .refit = true, .threads = 2}}) {
    int reported = 0;
    const GridResult r = search(grid, o, b, reported);
    REQUIRE(r.best_estimator.has_value());
    const MLPClassifier all = by_hand(r.best().full_params, b, range(0, 600));
    CHECK(r.best_estimator->loss_curve() == all.loss_curve());
    CHECK(r.best_estimator->loss_curve() != by_hand(r.best().full_params, b, r.splits[0].train).loss_curve());
  }
}

TEST_CASE("uint8 images are searched as images, their rows copied as bytes") {
  // 4x4 images: class 0 bright on the left half, class 1 on the right.
  Images im{.count = 200, .rows = 4, .cols = 4, .pixels = std::vector<std::uint8_t>(200 * 16)};
  std::vector<int> y(200);
  std::mt19937 rng(8);
  for (std::size_t k = 0; k < 200; ++k) {
    y[k] = static_cast<int>(k % 2);
    for (std::size_t p = 0; p < 16; ++p) {
      const bool left = p % 4 < 2;
      im.pixels[k * 16 + p] = static_cast<std::uint8_t>((left == (y[k] == 0) ? 150 : 0) + rng() % 100);
    }
  }
  const std::vector<std::size_t> rows{5, 0, 199};
  const Images some = take_rows(im, rows);
  CHECK(some.count == 3);
  CHECK(std::equal(some.pixels.begin(), some.pixels.begin() + 16, im.pixels.begin() + 5 * 16));
  CHECK(std::equal(some.pixels.begin() + 32, some.pixels.end(), im.pixels.begin() + 199 * 16));
  GridSearch gs(base, {{"learning_rate_init", {"0.000001", "0.01"}}}, {.validation = Holdout{.rows = 50}});
  const GridResult r = gs.fit(im, y);
  CHECK(r.best_index == 1);
  CHECK(r.best().validation_score > 0.95);
}
