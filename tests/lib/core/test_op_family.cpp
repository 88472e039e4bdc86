// lib/core/include/dagrad/core/op_family.hpp: the elementwise families share a large input among
// threads in blocks. Their bits must not depend on the thread count, nor
// differ from the same function written as one whole-matrix Eigen expression.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace dagrad;

TEST_CASE_TEMPLATE("elementwise ops on 50,000 elements give the same bits at 1, 2 and 4 threads as one Eigen expression",
                   T, float, double) {
  using Mat = Matrix<T>;
  const Eigen::Index rows = 250, cols = 200;  // above the 32,768 elements one block takes
  Mat X(rows, cols), Y(rows, cols), S(1, 1);
  for (Eigen::Index k = 0; k < X.size(); ++k) {
    X(k / cols, k % cols) = static_cast<T>(std::sin(0.37 * double(k)) * 3.0);
    Y(k / cols, k % cols) = static_cast<T>(0.5 + std::fmod(0.61 * double(k), 2.0));  // > 0
  }
  S(0, 0) = static_cast<T>(1.7);

  Graph g;
  Node x = g.input("x", {rows, cols});
  Node y = g.input("y", {rows, cols});
  Node s = g.input("s", {1, 1});
  const auto a = X.array(), b = Y.array();
  const T c = S(0, 0);
  struct Case {
    std::string what;
    Node node;
    Mat want;
  };
  const std::vector<Case> cases = {
      {"tanh", tanh(x), a.tanh().matrix()},
      {"exp", exp(x), a.exp().matrix()},
      {"log", log(y), b.log().matrix()},
      {"square", square(x), a.square().matrix()},
      {"relu", relu(x), a.max(T(0)).matrix()},
      {"scale", scale(x, 0.25), (a * T(0.25)).matrix()},
      {"add", add(x, y), (a + b).matrix()},
      {"sub", sub(x, y), (a - b).matrix()},
      {"mul", mul(x, y), (a * b).matrix()},
      {"div", div(x, y), (a / b).matrix()},
      {"mul by a 1x1", mul(x, s), (a * c).matrix()},
      {"a 1x1 divided", div(s, y), (c / b).matrix()},
      {"tanh_grad", tanh_grad(x, y), (b * (T(1) - a.square())).matrix()},
  };
  std::vector<Node> nodes;
  for (const Case& k : cases) nodes.push_back(k.node);
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    Executor<T> ex(g, {.threads = threads});
    const std::vector<Mat> out = ex.run({{x, X}, {y, Y}, {s, S}}, nodes);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].what);
      CHECK((out[i].array() == cases[i].want.array()).all());
    }
  }
}
