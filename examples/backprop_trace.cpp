// Backpropagation, one step at a time: builds a small network, runs one point
// forward and backward, prints every value and gradient with the rule that
// produced it, and draws the graph with each node's data and grad.
//   backprop_trace                   the 2-2-1 sigmoid network of the classic
//                                    worked example (see tiny_network.hpp)
//   backprop_trace --graph mlp       the MNIST network 784-50(relu)-10 with
//                                    softmax cross-entropy, on one test digit
// Pictures: --dot FILE (default backprop_trace.dot), --svg FILE (default
// backprop_trace.svg), --png FILE (none by default); --forward-only leaves the
// backward nodes out of them (the forward nodes still show their gradients).
#include "tiny_network.hpp"

#include <dagrad/dagrad.hpp>

#include <cmath>
#include <iostream>
#include <random>
#include <string>
#include <vector>

using namespace dagrad;

namespace {

struct Args {
  std::string graph = "tiny";
  bool forward_only = false;
  std::string dot = "backprop_trace.dot";
  std::string svg = "backprop_trace.svg";
  std::string png;
};

ArgParser make_parser() {
  ArgParser p("backprop_trace",
              "Runs one point through a small network, prints every value and gradient with\n"
              "the rule that computed it, and draws the graph with each node's data and grad.");
  p.add("graph", "tiny|mlp", "tiny: the 2-2-1 sigmoid network (default); mlp: 784-50-10 on MNIST");
  p.add_switch("forward-only", "leave the backward nodes out of the pictures");
  p.add("dot", "FILE", "the DOT file (default backprop_trace.dot)");
  p.add("svg", "FILE", "the SVG picture (default backprop_trace.svg)");
  p.add("png", "FILE", "also a PNG picture");
  return p;
}

Args to_args(const ParsedArgs& parsed) {
  Args args;
  args.graph = parsed.get("graph", args.graph);
  if (args.graph != "tiny" && args.graph != "mlp") {
    throw UsageError("backprop_trace: --graph must be tiny or mlp, not '" + args.graph + "'");
  }
  args.forward_only = parsed.has("forward-only");
  args.dot = parsed.get("dot", args.dot);
  args.svg = parsed.get("svg", args.svg);
  args.png = parsed.get("png", args.png);
  return args;
}

// The DOT file, then the pictures, all drawn from the same text.
void draw(const Graph& g, const Executor<double>& ex, const Args& args, std::string title) {
  if (args.forward_only) title += " (forward nodes only)";
  const std::string dot = to_dot(g, {.backward = !args.forward_only, .values = &ex, .title = title});
  write_file_atomically(args.dot, dot);
  std::cout << "\nwrote " << args.dot;
  for (const std::string& path : {args.svg, args.png}) {
    if (path.empty()) continue;
    render(dot, path);
    std::cout << ", " << path;
  }
  std::cout << "\n";
}

void run_tiny(const Args& args) {
  Graph g;
  const examples::TinyNetwork net = examples::build_tiny_network(g);
  Executor<double> ex(g, {.threads = 1, .plan_memory = false});  // the trace reads every node
  examples::set_tiny_weights(ex, net);
  ex.compute(examples::tiny_feeds(net), net.fetches());

  trace(std::cout, ex, net.loss, net.grads);
  draw(g, ex, args, "2-2-1 sigmoid network, one point, L = ½·sum((y_hat − y)²)");
}

// An MNIST classifier, 784-50(relu)-10 with softmax cross-entropy, on one digit.
void run_mlp(const Args& args) {
  constexpr int pixels = 784, hidden = 50, classes = 10;
  Graph g;
  Node x = g.input("x", {batch, pixels});
  Node labels = g.input("labels", {batch, classes});
  using examples::named;
  Node w1, b1, h, w2, b2, logits, loss;
  {
    auto s = g.scope("hidden");
    w1 = g.parameter("w", {pixels, hidden});
    b1 = g.parameter("b", {1, hidden});
    h = named(relu(named(add(named(matmul(x, w1), "xw"), b1), "z")), "h");
  }
  {
    auto s = g.scope("output");
    w2 = g.parameter("w", {hidden, classes});
    b2 = g.parameter("b", {1, classes});
    logits = named(add(named(matmul(h, w2), "hw"), b2), "logits");
  }
  {
    auto s = g.scope("loss");
    loss = named(softmax_cross_entropy(logits, labels), "cross_entropy");
  }
  const std::vector<Node> grads = gradients(loss, {w1, b1, w2, b2});

  // Glorot-uniform weights, U(-r, r) with r = sqrt(6 / (fan_in + fan_out)),
  // from a fixed seed so every run draws the same pictures; zero biases.
  std::mt19937 rng(1);
  auto glorot = [&](int fan_in, int fan_out) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const double r = std::sqrt(6.0 / (fan_in + fan_out));
    Matrix<double> w(fan_in, fan_out);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = r * u(rng);
    return w;
  };
  Executor<double> ex(g, {.threads = 1, .plan_memory = false});  // the trace reads every node
  ex.set(w1, glorot(pixels, hidden));
  ex.set(b1, Matrix<double>::Zero(1, hidden));
  ex.set(w2, glorot(hidden, classes));
  ex.set(b2, Matrix<double>::Zero(1, classes));

  Matrix<double> image;
  int label = 0;
  std::string digit;
  try {
    const Mnist mnist = load_mnist(default_mnist_dir());
    scale_rows(mnist.test.images, 0, 1, image);
    label = mnist.test.labels[0];
    digit = "the first test digit, a " + std::to_string(label);
  } catch (const DataError& e) {
    // The picture's shape does not depend on the pixels, so it still teaches.
    std::cerr << "backprop_trace: " << e.what() << "; using a blank image labelled 0\n";
    image = Matrix<double>::Zero(1, pixels);
    digit = "a blank image labelled 0";
  }
  std::cout << "input: " << digit << "\n";
  Matrix<double> one_hot = Matrix<double>::Zero(1, classes);
  one_hot(0, label) = 1.0;

  std::vector<Node> fetches{loss};
  fetches.insert(fetches.end(), grads.begin(), grads.end());
  ex.compute({{x, image}, {labels, one_hot}}, fetches);

  trace(std::cout, ex, loss, grads);
  draw(g, ex, args, "MNIST network 784-50-10 on " + digit);
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("backprop_trace", [&] {
    const ArgParser parser = make_parser();
    const ParsedArgs parsed = parser.parse(argc, argv);
    if (parsed.help) {
      std::cout << parser.help();
      return 0;
    }
    const Args args = to_args(parsed);
    if (args.graph == "mlp") {
      run_mlp(args);
    } else {
      run_tiny(args);
    }
    return 0;
  });
}
