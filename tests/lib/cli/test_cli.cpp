#include <doctest/doctest.h>

#include <dagrad/cli/cli.hpp>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dagrad;

namespace {
ArgParser parser() {
  ArgParser p("prog", "a test program");
  p.add("hidden-layer-sizes", "SIZES", "layer sizes");
  p.add("max-iter", "N", "epochs");
  p.add_optional("verbose", "1", "N", "chatter");
  p.add_optional("shuffle", "true", "BOOL", "shuffle rows");
  p.add_switch("summary", "print a summary");
  return p;
}
}  // namespace

TEST_CASE("flags take values separately, after '=', or implicitly") {
  ParsedArgs a = parser().parse({"--max-iter", "10", "--hidden-layer-sizes=10,10", "--verbose",
                                 "--shuffle", "false", "--summary"});
  CHECK(a.get("max-iter") == "10");
  CHECK(a.get("hidden-layer-sizes") == "10,10");
  CHECK(a.get("verbose") == "1");
  CHECK(a.get("shuffle") == "false");
  CHECK(a.get("summary") == "true");
  CHECK_FALSE(a.has("nothing"));
  CHECK(a.get("nothing", "fallback") == "fallback");
  CHECK(parser().parse({"--verbose", "10"}).get("verbose") == "10");
  CHECK(parser().parse({"--max-iter", "1", "--max-iter", "2"}).get("max-iter") == "2");
}

TEST_CASE("underscores read as dashes, as scikit-learn users type them") {
  CHECK(parser().parse({"--max_iter", "3"}).get("max-iter") == "3");
}

TEST_CASE("a misspelled flag is an error that suggests the right one") {
  CHECK_THROWS_WITH_AS(parser().parse({"--hidden_layer_size", "10"}),
                       "prog: unknown flag --hidden-layer-size; did you mean --hidden-layer-sizes? (see --help)",
                       UsageError);
  CHECK_THROWS_WITH_AS(parser().parse({"--maxiter", "3"}), doctest::Contains("did you mean --max-iter?"), UsageError);
  CHECK_THROWS_WITH_AS(parser().parse({"--colour", "red"}), "prog: unknown flag --colour (see --help)", UsageError);
}

TEST_CASE("missing values, stray words and values on switches are errors naming the flag") {
  CHECK_THROWS_WITH_AS(parser().parse({"--max-iter"}), doctest::Contains("--max-iter needs a value (N)"), UsageError);
  CHECK_THROWS_WITH_AS(parser().parse({"stray"}), doctest::Contains("unexpected argument 'stray'"), UsageError);
  CHECK_THROWS_WITH_AS(parser().parse({"--summary=yes"}), doctest::Contains("--summary takes no value"), UsageError);
}

TEST_CASE("help lists every flag") {
  ParsedArgs a = parser().parse({"--help"});
  CHECK(a.help);
  const std::string h = parser().help();
  for (const char* f : {"--hidden-layer-sizes SIZES", "--max-iter N", "--verbose [N]", "--summary", "--help"}) {
    CHECK(h.find(f) != std::string::npos);
  }
}

TEST_CASE("closest finds likely typos only") {
  const std::vector<std::string> names{"alpha", "max-iter", "tol"};
  CHECK(closest("alpah", names) == std::optional<std::string>("alpha"));
  CHECK_FALSE(closest("learning", names).has_value());
}

namespace {
// closest as it was before its work was bounded: the full edit distance to
// every candidate.
std::optional<std::string> closest_unbounded(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::optional<std::string> best;
  std::size_t best_d = 0;
  for (const auto& c : candidates) {
    const std::size_t d = distance(word, c);
    if (!best || d < best_d) {
      best = c;
      best_d = d;
    }
  }
  if (best && (best_d <= std::max<std::size_t>(2, word.size() / 3) ||
               (word.size() >= 4 && best->compare(0, word.size(), word) == 0))) {
    return best;
  }
  return std::nullopt;
}
}  // namespace

TEST_CASE("closest suggests what the full edit distance suggests, and prefixes still count") {
  const std::vector<std::string> names{"hidden-layer-sizes", "activation", "solver", "alpha", "batch-size",
                                       "learning-rate", "learning-rate-init", "power-t", "max-iter",
                                       "shuffle", "random-state", "tol", "verbose", "warm-start",
                                       "momentum", "nesterovs-momentum", "early-stopping",
                                       "validation-fraction", "beta-1", "beta-2", "epsilon",
                                       "n-iter-no-change", "max-fun", "dtype", "threads", "data",
                                       "train-rows", "test-rows", "show", "save", "load", "summary", "timing"};
  CHECK(closest("hidden-layer", names) == std::optional<std::string>("hidden-layer-sizes"));
  CHECK(closest("learning-rate-ini", names) == std::optional<std::string>("learning-rate-init"));
  CHECK_FALSE(closest(std::string(100000, 'a'), names).has_value());

  // Every name with each character dropped, doubled and changed, every
  // prefix, every name run into another, and words from nothing.
  std::vector<std::string> words{"", "a", "ab", "xyz", "nesterov", "momentu", "momentum-nesterovs"};
  for (const std::string& n : names) {
    for (std::size_t i = 0; i <= n.size(); ++i) {
      words.push_back(n.substr(0, i));
      if (i < n.size()) {
        words.push_back(n.substr(0, i) + n.substr(i + 1));
        words.push_back(n.substr(0, i + 1) + n.substr(i));
        words.push_back(n.substr(0, i) + 'q' + n.substr(i + 1));
      }
    }
    for (const std::string& m : names) words.push_back(n + m);
  }
  for (const std::string& w : words) {
    CAPTURE(w);
    CHECK(closest(w, names) == closest_unbounded(w, names));
  }
}

TEST_CASE("closest agrees with the full edit distance on random words over a small alphabet") {
  // Few letters make many near ties and equal distances, the cases where a
  // bounded search could pick another candidate than the full one.
  std::mt19937 rng(7);
  auto word = [&](std::size_t max_len) {
    std::string w(rng() % (max_len + 1), 'a');
    for (char& ch : w) ch = "abc-"[rng() % 4];
    return w;
  };
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::string> names(1 + rng() % 6);
    for (auto& n : names) n = word(14);
    const std::string w = trial % 3 == 0 ? names[rng() % names.size()].substr(0, rng() % 10) : word(16);
    CAPTURE(w);
    CHECK(closest(w, names) == closest_unbounded(w, names));
  }
}

TEST_CASE("run_program turns a program's errors into a message and an exit code") {
  std::ostringstream err;
  CHECK(run_program("prog", [] { return 3; }, err) == 3);
  CHECK(err.str().empty());
  CHECK(run_program("prog", []() -> int { throw UsageError("prog: unknown flag --x"); }, err) == 2);
  CHECK(err.str() == "prog: unknown flag --x\n");
  err.str("");
  CHECK(run_program("prog", []() -> int { throw std::runtime_error("no such file 'a'"); }, err) == 1);
  CHECK(err.str() == "prog: no such file 'a'\n");
  err.str("");
  // A message that already names the program, or starts with the given
  // prefix, is not prefixed again.
  CHECK(run_program("prog", []() -> int { throw Error("prog: bad"); }, err) == 1);
  CHECK(err.str() == "prog: bad\n");
  err.str("");
  CHECK(run_program("prog", []() -> int { throw Error("grid search: bad"); }, err, "grid search: ") == 1);
  CHECK(err.str() == "grid search: bad\n");
}

TEST_CASE("numbers from flags: a fallback when absent, a range, and errors naming the flag") {
  ArgParser p("lenet", "test");
  p.add("epochs", "N", "epochs");
  p.add("rate", "R", "rate");
  const ParsedArgs a = p.parse({"--epochs", "3", "--rate", "0.5"});
  CHECK(a.get_int("epochs", 2, 1, 1000) == 3);
  CHECK(a.get_double("rate", 0.1, 0, 1) == 0.5);
  const ParsedArgs none = p.parse(std::vector<std::string>{});
  CHECK(none.get_int("epochs", 2, 1, 1000) == 2);
  CHECK(none.get_double("rate", 0.1, 0, 1) == 0.1);
  for (const char* bad : {"0", "1001", "x", "3.5", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(p.parse({"--epochs", bad}).get_int("epochs", 2, 1, 1000),
                         doctest::Contains("lenet: --epochs takes a whole number from 1 to 1000"), UsageError);
  }
  CHECK_THROWS_WITH_AS(p.parse({"--rate", "2"}).get_double("rate", 0.1, 0, 1),
                       doctest::Contains("--rate takes a number from 0 to 1, not '2'"), UsageError);
}
