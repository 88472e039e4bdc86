#include <doctest/doctest.h>

#include "../../../examples/tiny_network.hpp"

#include <dagrad/dagrad.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace dagrad;

namespace {

// The numbers in a printed value: "0.5", "[1 2; 3 4]".
std::vector<double> numbers(std::string text) {
  for (char& c : text) {
    if (c == '[' || c == ']' || c == ';') c = ' ';
  }
  std::istringstream in(text);
  std::vector<double> out;
  for (double x; in >> x;) out.push_back(x);
  return out;
}

// What a trace printed: the text before the first " = " (the node, or
// "dL/d(node)") mapped to the whole line.
struct Trace {
  std::vector<std::string> lines;
  std::map<std::string, std::string> by_name;

  explicit Trace(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
      const auto eq = line.find(" = ");
      if (eq != std::string::npos) by_name[line.substr(0, eq)] = line;
    }
  }
  const std::string& line(const std::string& name) const {
    auto it = by_name.find(name);
    REQUIRE_MESSAGE(it != by_name.end(), "no line for " << name);
    return it->second;
  }
  std::vector<double> value(const std::string& name) const {
    const std::string& l = line(name);
    return numbers(l.substr(l.rfind(" = ") + 3));
  }
  std::size_t position(const std::string& name) const {
    const std::string& l = line(name);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == l) return i;
    }
    return lines.size();
  }
};

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Six significant digits, as printed.
void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
  }
}

// The tiny network (examples/tiny_network.hpp) with its weights, run once on
// its feeds at `threads` threads with every value kept, and the trace it
// prints.
struct TinyRun {
  Graph g;
  const examples::TinyNetwork net = examples::build_tiny_network(g);
  Executor<double> ex;
  std::string printed;

  explicit TinyRun(int threads) : ex(g, {.threads = threads, .plan_memory = false}) {
    examples::set_tiny_weights(ex, net);
    ex.compute(examples::tiny_feeds(net), net.fetches());
    std::ostringstream out;
    trace(out, ex, net.loss, net.grads);
    printed = out.str();
  }
};

}  // namespace

TEST_CASE("format_value prints scalars, small tensors and summaries") {
  CHECK(format_value(Matrix<double>::Constant(1, 1, 0.593269992)) == "0.59327");
  Matrix<double> m(2, 2);
  m << 1, 2.5, -3, 4;
  CHECK(format_value(m) == "[1 2.5; -3 4]");
  Matrix<double> big(3, 3);
  big << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  CHECK(format_value(big) == "3x3 min 1 mean 5 max 9");
}

TEST_CASE("the tiny network's trace matches backpropagation done by hand") {
  // By hand, with x = [0.05 0.10], w1 = [[0.15 0.25] [0.20 0.30]], b1 = 0.35,
  // w2 = [0.40 0.45]ᵀ, b2 = 0.60, target 0.01 and L = ½ (y_hat - y)².
  const double x[2] = {0.05, 0.10};
  const double w1[2][2] = {{0.15, 0.25}, {0.20, 0.30}};
  const double b1[2] = {0.35, 0.35};
  const double w2[2] = {0.40, 0.45};
  const double b2 = 0.60, target = 0.01;
  double z1[2], h[2];
  for (int j = 0; j < 2; ++j) {
    z1[j] = x[0] * w1[0][j] + x[1] * w1[1][j] + b1[j];
    h[j] = sigmoid(z1[j]);
  }
  const double z2 = h[0] * w2[0] + h[1] * w2[1] + b2;
  const double y_hat = sigmoid(z2);
  const double loss = 0.5 * (y_hat - target) * (y_hat - target);
  const double d_y_hat = y_hat - target;
  const double d_z2 = d_y_hat * y_hat * (1 - y_hat);
  const double d_w2[2] = {d_z2 * h[0], d_z2 * h[1]};
  const double d_h[2] = {d_z2 * w2[0], d_z2 * w2[1]};
  const double d_z1[2] = {d_h[0] * h[0] * (1 - h[0]), d_h[1] * h[1] * (1 - h[1])};
  const double d_w1[4] = {x[0] * d_z1[0], x[0] * d_z1[1], x[1] * d_z1[0], x[1] * d_z1[1]};

  const TinyRun run(2);
  const Trace t(run.printed);
  CAPTURE(run.printed);

  // Forward.
  check_close(t.value("hidden/z"), {z1[0], z1[1]});
  check_close(t.value("hidden/h"), {h[0], h[1]});
  check_close(t.value("output/z"), {z2});
  check_close(t.value("output/y_hat"), {y_hat});
  check_close(t.value("loss/half_sse"), {loss});
  CHECK(t.line("hidden/h") == "hidden/h = sigmoid(hidden/z) = " + format_value(
                                  (Matrix<double>(1, 2) << h[0], h[1]).finished()));
  CHECK(t.line("x (input)") == "x (input) = [0.05 0.1]");

  // Backward: each node with its rule, and each parameter's gradient.
  check_close(t.value("grad(loss/error)"), {d_y_hat});
  check_close(t.value("grad(output/z)"), {d_z2});
  check_close(t.value("grad(hidden/h)"), {d_h[0], d_h[1]});
  CHECK(t.line("grad(hidden/h)").rfind("grad(hidden/h) = grad(output/z) @ output/wᵀ = ", 0) == 0);
  check_close(t.value("grad(hidden/z)"), {d_z1[0], d_z1[1]});
  check_close(t.value("dL/d(output/w)"), {d_w2[0], d_w2[1]});
  check_close(t.value("dL/d(output/b)"), {d_z2});
  check_close(t.value("dL/d(hidden/w)"), {d_w1[0], d_w1[1], d_w1[2], d_w1[3]});
  check_close(t.value("dL/d(hidden/b)"), {d_z1[0], d_z1[1]});
  CHECK(t.line("dL/d(hidden/b)").rfind("dL/d(hidden/b) = grad(hidden/z) = ", 0) == 0);

  // Forward first, then backward in the order the pass computes it.
  CHECK(t.position("loss/half_sse") < t.position("grad(output/z)"));
  CHECK(t.position("hidden/z") < t.position("hidden/h"));
  CHECK(t.position("grad(output/z)") < t.position("grad(hidden/h)"));
  CHECK(t.position("grad(hidden/h)") < t.position("grad(hidden/z)"));
  CHECK(t.position("grad(hidden/z)") < t.position("grad(hidden/w)"));
}

TEST_CASE("a trace summarizes big tensors and marks nodes not computed") {
  Graph g;
  Node x = g.input("x", {4, 4});
  Node y = sigmoid(x);
  Node loss = sum(y);
  std::vector<Node> grads = gradients(loss, {x});
  Executor<double> ex(g, {.threads = 1, .plan_memory = false});
  const Matrix<double> X = Matrix<double>::Zero(4, 4);
  ex.compute({{x, X}}, {loss});  // the gradient is not fetched
  std::ostringstream out;
  trace(out, ex, loss, grads);
  const Trace t(out.str());
  CAPTURE(out.str());
  CHECK(t.line(y.name()) == y.name() + " = sigmoid(x) = 4x4 min 0.5 mean 0.5 max 0.5");
  CHECK(out.str().find("(not computed)") != std::string::npos);
}

TEST_CASE("a trace of a planned run marks the nodes whose memory a later value took") {
  Graph g;
  Node x = g.input("x", {4, 4});
  Node a = exp(x), b = tanh(a), loss = sum(b);
  Executor<double> ex(g, {.threads = 1});  // plan_memory on: b is written over a
  ex.compute({{x, Matrix<double>::Zero(4, 4)}}, {loss});
  REQUIRE(ex.value_reused(a));
  std::ostringstream out;
  trace(out, ex, loss, {});
  const Trace t(out.str());
  CAPTURE(out.str());
  CHECK(t.line(a.name()) == a.name() + " = exp(x) (not fetched, its memory reused; fetch it or set "
                                       "ExecutorOptions::plan_memory = false)");
  check_close(t.value(loss.name()), {16 * std::tanh(1.0)});  // fetched
}

TEST_CASE("trace_lines are trace's node lines, forward then backward, each after its inputs") {
  TinyRun run(1);
  const std::vector<TraceLine> lines = trace_lines(run.ex, run.net.loss, run.net.grads);
  REQUIRE(!lines.empty());

  // The printed trace is the headings with these lines between them.
  std::string expected = "forward pass:\n";
  bool backward = false;
  for (const TraceLine& l : lines) {
    if (l.pass == Role::backward && !backward) {
      expected += "backward pass:\n";
      backward = true;
    }
    CHECK(l.pass == run.g.info(l.node.id()).role);
    CHECK(l.text.rfind(l.node.name() + " ", 0) == 0);
    expected += l.text + "\n";
  }
  REQUIRE(backward);
  CHECK(run.printed.rfind(expected, 0) == 0);

  // Within each pass the ids rise, so every node comes after its inputs; the
  // backward lines start at the loss's own gradient.
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].pass == lines[i - 1].pass) CHECK(lines[i].node.id() > lines[i - 1].node.id());
    for (NodeId in : run.g.info(lines[i].node.id()).inputs) CHECK(in < lines[i].node.id());
  }
  CHECK(lines.front().pass == Role::forward);
  CHECK(lines.back().pass == Role::backward);
}
