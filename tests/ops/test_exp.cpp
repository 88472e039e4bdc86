// ops/exp.cpp: y = e^x; values over batch rows against std::exp, and exact
// values at 0 and -inf. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

#include <limits>

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("exp raises e to each element") {
  const M X{{-1.5, -0.5, 0.25}, {0.75, 1.2, 2.0}};
  op_checks::check_rowwise(exp, "exp", X, X.array().exp().matrix());
}

TEST_CASE("exp's gradient is its output") {
  const M P{{-1.3, 0.0, 0.8}};
  check_near(op_checks::gradient(exp, P, M{{2, -1, 0.5}}), M{{2 * std::exp(-1.3), -1, 0.5 * std::exp(0.8)}});
}

TEST_CASE("exp of 0 is exactly 1 and of -inf is 0") {
  const M out = op_checks::apply(exp, M{{0.0, -std::numeric_limits<double>::infinity()}});
  CHECK(out(0, 0) == 1.0);
  CHECK(out(0, 1) == 0.0);
}
