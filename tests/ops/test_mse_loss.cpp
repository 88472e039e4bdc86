// ops/mse_loss.cpp: mean of squared differences over all elements; values by
// hand. Gradients and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("mse_loss is the mean over all elements of the squared differences") {
  op_checks::Applied<> loss(mse_loss, {{"p", {batch, 2}}, {"t", {batch, 2}}});
  CHECK(loss.out.shape() == Shape{1, 1});
  // Differences 1, -2, 0, 3: squares 1 + 4 + 0 + 9 = 14 over 4 elements.
  check_near(loss.run({M{{2, 0}, {5, 4}}, M{{1, 2}, {5, 1}}}), M{{3.5}});
  check_near(loss.run({M{{2, 0}}, M{{2, 0}}}), M{{0}});
}

TEST_CASE("mse_loss's gradient is 2 (p - t) / N for the predictions and its negative for the targets") {
  Graph g;
  Node p = g.parameter("p", {1, 2});
  Node t = g.parameter("t", {1, 2});
  auto d = gradients(mse_loss(p, t), {p, t});
  Executor<double> ex(g);
  ex.set(p, M{{3, 1}});
  ex.set(t, M{{1, 2}});
  auto out = ex.run({}, {d[0], d[1]});
  check_near(out[0], M{{2, -1}});
  check_near(out[1], M{{-2, 1}});
}
