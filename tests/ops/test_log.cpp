// ops/log.cpp: y = ln x; values over batch rows against std::log, and its
// gradient 1/x. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("log takes the natural log of each element") {
  const M X{{0.5, 1.0, 2.0}, {3.0, 4.0, 5.0}};
  op_checks::check_rowwise(log, "log", X, X.array().log().matrix());
}

TEST_CASE("log's gradient is one over its input") {
  check_near(op_checks::gradient(log, M{{0.5, 2.0, 4.0}}), M{{2.0, 0.5, 0.25}});
}
