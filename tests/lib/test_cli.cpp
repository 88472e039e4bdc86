#include <doctest/doctest.h>

#include <dagrad/cli.hpp>

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
