// ops/relu_grad.cpp: dy where x > 0; values by hand over batch rows, its own
// gradient by hand. Gradient checks and shape errors: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include "op_checks.hpp"

using namespace dagrad;
using M = Matrix<double>;

TEST_CASE("relu_grad passes dy where x is positive and 0 elsewhere, 0 included") {
  op_checks::check_rowwise(relu_grad, "relu_grad", M{{-1, 2, 0.5, -0.3, 0}, {2, -2, 0.5, 1e-300, -1e-300}},
                           M{{5, 6, 7, 8, 9}, {1, 2, 3, 4, 5}}, M{{0, 6, 7, 0, 0}, {1, 0, 3, 4, 0}});
}

TEST_CASE("relu_grad's gradient in x is an explicit zero, in dy the same mask") {
  Graph g;
  Node x = g.parameter("x", {1, 3});
  Node dy = g.parameter("dy", {1, 3});
  Node loss = sum(mul(relu_grad(x, dy), g.constant(M{{2, 3, 4}})));
  std::vector<Node> d = gradients(loss, {x, dy});
  Executor<double> ex(g);
  ex.set(x, M{{-1, 1, 2}});
  ex.set(dy, M{{5, 6, 7}});
  auto out = ex.run({}, {d[0], d[1]});
  check_near(out[0], M{{0, 0, 0}});
  check_near(out[1], M{{0, 3, 4}});
}
