// Every registered op, by its examples: it builds a node of its key, runs in
// float as in double, passes the float64 central-difference gradient check,
// and where it is twice differentiable so does the gradient of its gradient.
// A new op is covered by being registered; the first test makes sure every
// file in ops/ is (DAGRAD_OPS_DIR comes from tests/ops/meson.build).
#include <doctest/doctest.h>
#include <dagrad/core/registry.hpp>
#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace dagrad;
using M = Matrix<double>;

namespace {

// One example of one op in a graph of its own. Inputs the op differentiates
// are parameters, which gradcheck perturbs; the others are fed.
struct Example {
  Graph graph;
  std::vector<Node> inputs;
  std::vector<M> values;
  std::vector<bool> differentiable;
  Node y;

  std::vector<Feed<double>> feeds(bool checked) const {
    std::vector<Feed<double>> f;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (differentiable[i] == checked) f.push_back({inputs[i], values[i]});
    }
    return f;
  }
  std::vector<Node> checked_nodes() const {
    std::vector<Node> n;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (differentiable[i]) n.push_back(inputs[i]);
    }
    return n;
  }
};

std::unique_ptr<Example> build(const OpExample& spec) {
  auto ex = std::make_unique<Example>();
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const ExampleInput& in = spec.inputs[i];
    std::string name = "x";
    name += std::to_string(i);
    ex->inputs.push_back(in.differentiable ? ex->graph.parameter(name, in.shape)
                                           : ex->graph.input(name, in.shape));
    ex->values.push_back(in.domain.sample(in.shape, static_cast<int>(i)));
    ex->differentiable.push_back(in.differentiable);
  }
  ex->y = spec.build(ex->inputs);
  return ex;
}

// Weights for sum(y * w) in [-1, 1], none near 0, so every element counts.
Node weights(Graph& g, Shape s, int salt) {
  return g.constant(Domain{.low = -1.0, .high = 1.0, .gap = 0.1}.sample(s, salt));
}

template <class T>
Matrix<T> forward(Example& ex) {
  Executor<T> run(ex.graph);
  std::vector<Feed<T>> feeds;
  std::vector<Matrix<T>> cast;
  cast.reserve(ex.inputs.size());
  for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
    cast.push_back(ex.values[i].template cast<T>());
    if (ex.inputs[i].kind() == NodeKind::parameter) {
      run.set(ex.inputs[i], cast.back());
    } else {
      feeds.push_back({ex.inputs[i], cast.back()});
    }
  }
  return run.run(feeds, {ex.y})[0];
}

// Calls f(op, example) on each example of each registered op, built afresh,
// with the op's key and the example's index in any failure's message.
template <class F>
void for_each_example(const F& f) {
  for (const OpEntry& op : op_registry()) {
    for (std::size_t k = 0; k < op.examples.size(); ++k) {
      const std::string key(op.key);
      CAPTURE(key);
      CAPTURE(k);
      auto ex = build(op.examples[k]);
      REQUIRE(ex->y.valid());
      f(op, *ex);
    }
  }
}

std::string names(const std::set<std::string>& s) {
  std::string out;
  for (const auto& n : s) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

TEST_CASE("every op file in ops/ is registered under its file's name, and no other op is") {
  std::set<std::string> files, keys, missing, extra;
  for (const auto& entry : std::filesystem::directory_iterator(DAGRAD_OPS_DIR)) {
    if (entry.path().extension() == ".cpp") files.insert(entry.path().stem().string());
  }
  REQUIRE(files.size() > 20);  // the folder was found
  std::vector<std::string> order;
  for (const OpEntry& op : op_registry()) {
    keys.insert(std::string(op.key));
    order.emplace_back(op.key);
  }
  CHECK_MESSAGE(keys.size() == order.size(), "a key is registered twice");
  CHECK_MESSAGE(std::is_sorted(order.begin(), order.end()), "the registry is not in key order");
  std::set_difference(files.begin(), files.end(), keys.begin(), keys.end(),
                      std::inserter(missing, missing.end()));
  std::set_difference(keys.begin(), keys.end(), files.begin(), files.end(),
                      std::inserter(extra, extra.end()));
  CHECK_MESSAGE(missing.empty(), "files in ops/ with no registry entry: ", names(missing));
  CHECK_MESSAGE(extra.empty(), "registered ops with no file in ops/: ", names(extra));
  CHECK(find_op("matmul") != nullptr);
  CHECK(find_op("no_such_op") == nullptr);
}

TEST_CASE("every registered op builds its examples into nodes of its key") {
  for (const OpEntry& op : op_registry()) {
    const std::string key(op.key);
    CAPTURE(key);
    CHECK(!op.examples.empty());
  }
  for_each_example([](const OpEntry& op, Example& ex) {
    CHECK(ex.y.op()->key() == op.key);
    CHECK(ex.y.shape().known());
    // An op with no gradient at all has no input it differentiates.
    if (op.order == Differentiable::no) CHECK(ex.checked_nodes().empty());
  });
}

TEST_CASE("every registered op computes in float what it computes in double") {
  for_each_example([](const OpEntry&, Example& ex) {
    const M d = forward<double>(ex);
    const M f = forward<float>(ex).cast<double>();
    REQUIRE(d.rows() == f.rows());
    REQUIRE(d.cols() == f.cols());
    CHECK(d.allFinite());
    CHECK(((d - f).array().abs() <= 1e-5 + 1e-4 * d.array().abs()).all());
  });
}

TEST_CASE("every registered op passes the float64 gradient check, and refuses inputs it declares no gradient for") {
  for_each_example([](const OpEntry&, Example& ex) {
    const Node loss = sum(mul(ex.y, weights(ex.graph, ex.y.shape(), 3)));
    for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
      if (!ex.differentiable[i]) CHECK_THROWS_AS(gradients(loss, {ex.inputs[i]}), GraphError);
    }
    if (ex.checked_nodes().empty()) return;
    const GradcheckResult r = gradcheck(ex.graph, loss, ex.feeds(true), ex.feeds(false));
    CHECK_MESSAGE(r.ok, r.report());
  });
}

TEST_CASE("every twice-differentiable op passes the gradient check of its gradient; the others refuse") {
  for_each_example([](const OpEntry& op, Example& ex) {
    if (op.order == Differentiable::no) return;
    Graph& g = ex.graph;
    // A loss quadratic in y, so the first gradient depends on the inputs
    // even where the op is linear; then a scalar function of that gradient.
    const Node loss = sum(mul(square(ex.y), weights(g, ex.y.shape(), 3)));
    const std::vector<Node> xs = ex.checked_nodes();
    const std::vector<Node> grads = gradients(loss, xs);
    std::vector<Node> terms;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      terms.push_back(sum(mul(grads[i], weights(g, xs[i].shape(), 5 + static_cast<int>(i)))));
    }
    const Node of_grad = add_n(terms);
    if (op.order == Differentiable::once) {
      CHECK_THROWS_AS(gradients(of_grad, xs), GraphError);
      return;
    }
    const GradcheckResult r = gradcheck(g, of_grad, ex.feeds(true), ex.feeds(false));
    CHECK_MESSAGE(r.ok, r.report());
  });
}

TEST_CASE("every registered op is rebuilt from its attributes into the same node, computing the same values") {
  for_each_example([](const OpEntry& op, Example& ex) {
    REQUIRE(op.rebuild);
    // The example's own function adds exactly the one node it returns, so
    // rebuilding node by node gives the same ids.
    CHECK(ex.y.id() + 1 == ex.graph.size());
    const Attributes attributes = ex.y.op()->attributes();
    AttributeReader reader(attributes);
    const Node again = op.rebuild(ex.inputs, reader);
    CHECK_NOTHROW(reader.finish());
    CHECK(again.id() + 1 == ex.graph.size());
    CHECK(again.op()->key() == op.key);
    CHECK(again.op()->label() == ex.y.op()->label());
    CHECK(again.shape() == ex.y.shape());
    const Attributes rebuilt = again.op()->attributes();
    REQUIRE(rebuilt.size() == attributes.size());
    for (std::size_t i = 0; i < rebuilt.size(); ++i) {
      CHECK(rebuilt[i].name == attributes[i].name);
      CHECK(rebuilt[i].value == attributes[i].value);
    }
    const Node y = ex.y;
    ex.y = again;
    const M twice = forward<double>(ex);
    ex.y = y;
    CHECK(twice == forward<double>(ex));
  });
}

TEST_CASE("a rebuild refuses the wrong number of inputs, and a missing, mistyped or unknown attribute, by name") {
  Graph g;
  const Node x = g.input("x", {2, 3});
  const Attributes none;
  AttributeReader empty(none);
  CHECK_THROWS_WITH_AS(find_op("sigmoid")->rebuild(std::vector<Node>{x, x}, empty), "takes 1 input, not 2", GraphError);
  CHECK_THROWS_WITH_AS(find_op("add_n")->rebuild(std::vector<Node>{}, empty), "takes at least 1 input, not 0",
                       GraphError);
  CHECK_THROWS_WITH_AS(find_op("scale")->rebuild(std::vector<Node>{x}, empty), "attribute 'factor' is missing",
                       GraphError);
  const Attributes whole{{"factor", std::int64_t{2}}};
  AttributeReader integer(whole);
  CHECK_THROWS_WITH_AS(find_op("scale")->rebuild(std::vector<Node>{x}, integer),
                       "attribute 'factor' must be a real number, not an integer", GraphError);
  const Attributes flags{{"transpose_a", std::int64_t{2}}, {"transpose_b", std::int64_t{0}}};
  AttributeReader out_of_range(flags);
  CHECK_THROWS_WITH_AS(find_op("matmul")->rebuild(std::vector<Node>{x, x}, out_of_range),
                       "attribute 'transpose_a' is 2, outside [0, 1]", GraphError);
  const Attributes extra{{"factor", 2.0}, {"bias", 1.0}};
  AttributeReader unknown(extra);
  find_op("scale")->rebuild(std::vector<Node>{x}, unknown);
  CHECK_THROWS_WITH_AS(unknown.finish(), "unknown attribute 'bias'", GraphError);
}
