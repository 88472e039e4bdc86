// The 2-2-1 sigmoid network of the classic worked backpropagation example,
// shared by examples/backprop_trace.cpp and tests/lib/viz/test_trace.cpp so the
// test checks exactly what the example prints.
//   Graph g; TinyNetwork net = build_tiny_network(g); Executor<double> ex(g);
//   set_tiny_weights(ex, net); ex.compute(tiny_feeds(net), net.fetches());
#pragma once

#include <dagrad/dagrad.hpp>

#include <string>
#include <vector>

namespace examples {

using namespace dagrad;

// Renames n to `name` under its own scope ("hidden/z" for "z" in "hidden"),
// since op functions name nodes after their op.
inline Node named(Node n, const std::string& name) {
  const std::string scope = n.graph().info(n.id()).scope;
  n.graph().rename(n, scope.empty() ? name : scope + "/" + name);
  return n;
}

struct TinyNetwork {
  Node x, y;                  // the input row (1x2) and the target (1x1)
  Node w1, b1, z1, h;         // hidden: z1 = x @ w1 + b1, h = sigmoid(z1)
  Node w2, b2, z2, y_hat;     // output: z2 = h @ w2 + b2, y_hat = sigmoid(z2)
  Node loss;                  // 0.5 * sum((y_hat - y)^2), so dL/dy_hat = y_hat - y
  std::vector<Node> grads;    // dL/dw1, dL/db1, dL/dw2, dL/db2

  std::vector<Node> fetches() const {
    std::vector<Node> f{loss};
    f.insert(f.end(), grads.begin(), grads.end());
    return f;
  }
};

inline TinyNetwork build_tiny_network(Graph& g) {
  TinyNetwork n;
  n.x = g.input("x", {1, 2});
  n.y = g.input("y", {1, 1});
  {
    auto s = g.scope("hidden");
    n.w1 = g.parameter("w", {2, 2});
    n.b1 = g.parameter("b", {1, 2});
    n.z1 = named(add(named(matmul(n.x, n.w1), "xw"), n.b1), "z");
    n.h = named(sigmoid(n.z1), "h");
  }
  {
    auto s = g.scope("output");
    n.w2 = g.parameter("w", {2, 1});
    n.b2 = g.parameter("b", {1, 1});
    n.z2 = named(add(named(matmul(n.h, n.w2), "hw"), n.b2), "z");
    n.y_hat = named(sigmoid(n.z2), "y_hat");
  }
  {
    auto s = g.scope("loss");
    Node error = named(sub(n.y_hat, n.y), "error");
    Node sse = named(sum(named(square(error), "squared")), "sse");
    // The ½ makes the gradient at the output plain y_hat - y.
    n.loss = named(scale(sse, 0.5), "half_sse");
  }
  n.grads = gradients(n.loss, {n.w1, n.b1, n.w2, n.b2});
  return n;
}

// The classic values: inputs along w1's rows, hidden units along its columns.
inline void set_tiny_weights(Executor<double>& ex, const TinyNetwork& n) {
  Matrix<double> w1(2, 2), b1(1, 2), w2(2, 1), b2(1, 1);
  w1 << 0.15, 0.25,
        0.20, 0.30;
  b1 << 0.35, 0.35;
  w2 << 0.40,
        0.45;
  b2 << 0.60;
  ex.set(n.w1, w1);
  ex.set(n.b1, b1);
  ex.set(n.w2, w2);
  ex.set(n.b2, b2);
}

// The one training point: x = [0.05 0.10], target y = 0.01.
inline std::vector<Feed<double>> tiny_feeds(const TinyNetwork& n) {
  static const Matrix<double> x = (Matrix<double>(1, 2) << 0.05, 0.10).finished();
  static const Matrix<double> y = (Matrix<double>(1, 1) << 0.01).finished();
  return {{n.x, x}, {n.y, y}};
}

}  // namespace examples
