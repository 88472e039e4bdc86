// Every registered op, by its examples: it builds a node of its key, runs in
// float as in double, passes the float64 central-difference gradient check
// (with fixed rows and with batch rows), and where it is twice differentiable
// so does the gradient of its gradient; scaled up past the kernels' parallel
// cut, it computes the same bits on 1, 2 and 8 threads, and the same bits
// with the executor's passes (memory planning, in-place writes, fusion,
// merged repeats, folded constants) on as off. Each input one row or one
// column larger, whatever it refuses it refuses as a ShapeError naming the
// op, every input and its shape.
// A new op is covered by being registered; the first test makes sure every
// file in ops/ is (DAGRAD_OPS_DIR comes from tests/ops/meson.build).
#include <doctest/doctest.h>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/registry.hpp>
#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sanitizer.hpp"

using namespace dagrad;
using M = Matrix<double>;

namespace {

// Under ThreadSanitizer the threaded checks below look for races: they run
// in float only, and the passes at 2 and 8 threads only. The regular and
// AddressSanitizer builds run them in full (both types; 1, 2 and 8 threads).
constexpr bool race_check_only = sanitizer::thread;

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

// The example's graph. With open_rows, the inputs of that many rows are
// declared with batch rows, fixed only by what is fed: graph inputs, which
// gradcheck perturbs as it does parameters. nullptr where the op refuses
// batch rows there.
std::unique_ptr<Example> build(const OpExample& spec, Dim open_rows = 0) {
  auto ex = std::make_unique<Example>();
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    const ExampleInput& in = spec.inputs[i];
    std::string name = "x";
    name += std::to_string(i);
    const bool open = in.shape.rows == open_rows;
    const Shape shape = open ? Shape{batch, in.shape.cols} : in.shape;
    ex->inputs.push_back(in.differentiable && !open ? ex->graph.parameter(name, shape)
                                                    : ex->graph.input(name, shape));
    ex->values.push_back(in.domain.sample(in.shape, static_cast<int>(i)));
    ex->differentiable.push_back(in.differentiable);
  }
  if (open_rows == 0) {
    ex->y = spec.build(ex->inputs);
    return ex;
  }
  try {
    ex->y = spec.build(ex->inputs);
  } catch (const Error&) {
    return nullptr;
  }
  return ex;
}

// The example's inputs of `rows` rows given `factor` times as many.
OpExample with_rows(const OpExample& spec, Dim rows, Dim factor) {
  OpExample more = spec;
  for (ExampleInput& in : more.inputs) {
    if (in.shape.rows == rows) in.shape.rows *= factor;
  }
  return more;
}

// The example with batch rows: the first row count above 1 that the op
// takes as batch rows, and takes twice over at fixed shapes too (a batch
// row count passes any build-time check, so matmul's transposed operand
// would take batch rows as its inner dimension); nullptr where there is none.
std::unique_ptr<Example> build_open(const OpExample& spec) {
  for (const ExampleInput& in : spec.inputs) {
    if (in.shape.rows < 2) continue;
    try {
      build(with_rows(spec, in.shape.rows, 2));
    } catch (const Error&) {
      continue;
    }
    if (auto ex = build(spec, in.shape.rows)) return ex;
  }
  return nullptr;
}

// Weights for sum(y * w) in [-1, 1], none near 0, so every element counts.
Node weights(Graph& g, Shape s, int salt) {
  return g.constant(Domain{.low = -1.0, .high = 1.0, .gap = 0.1}.sample(s, salt));
}

// The fetches' values in T, on `threads` threads, with the example's values
// and `extra` feeds.
template <class T>
std::vector<Matrix<T>> run(Example& ex, const std::vector<Node>& fetches, const ExecutorOptions& options,
                           const std::vector<Feed<double>>& extra = {}, MemoryReport* report = nullptr) {
  Executor<T> run(ex.graph, options);
  std::vector<Feed<T>> feeds;
  for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
    if (ex.inputs[i].kind() == NodeKind::parameter) {
      run.set(ex.inputs[i], ex.values[i].template cast<T>());
    } else {
      feeds.push_back({ex.inputs[i], ex.values[i].template cast<T>()});
    }
  }
  for (const Feed<double>& f : extra) feeds.push_back({f.node, f.value.template cast<T>()});
  std::vector<Matrix<T>> values = run.run(feeds, fetches);
  if (report) *report = run.memory_plan();
  return values;
}

template <class T>
std::vector<Matrix<T>> run(Example& ex, const std::vector<Node>& fetches, int threads = 0,
                           const std::vector<Feed<double>>& extra = {}) {
  return run<T>(ex, fetches, ExecutorOptions{.threads = threads}, extra);
}

template <class T>
Matrix<T> forward(Example& ex) {
  return run<T>(ex, {ex.y})[0];
}

// Calls f(op, key, spec) on each example of each registered op, with the
// op's key and the example's index in any failure's message.
template <class F>
void for_each_spec(const F& f) {
  for (const OpEntry& op : op_registry()) {
    for (std::size_t k = 0; k < op.examples.size(); ++k) {
      const std::string key(op.key);
      CAPTURE(key);
      CAPTURE(k);
      f(op, key, op.examples[k]);
    }
  }
}

// Calls f(op, example) on each example of each registered op, built afresh.
template <class F>
void for_each_example(const F& f) {
  for_each_spec([&](const OpEntry& op, const std::string&, const OpExample& spec) {
    auto ex = build(spec);
    REQUIRE(ex->y.valid());
    f(op, *ex);
  });
}

// The loss sum(y * w) with w an input of y's shape, batch rows included,
// fed with weights of y's computed shape (rows x cols); where y's columns
// are batch columns (a transposed batch), sum(yᵀ * w) instead.
struct WeightedLoss {
  Node loss;
  Feed<double> w;
};

WeightedLoss weighted_loss(Example& ex, Eigen::Index rows, Eigen::Index cols) {
  const Domain weights{.low = -1.0, .high = 1.0, .gap = 0.1};
  std::string name = "w";
  name += std::to_string(ex.graph.size());
  const bool columns_open = ex.y.shape().cols == batch;
  const Node y = columns_open ? transpose(ex.y) : ex.y;
  const Node w = ex.graph.input(name, y.shape());
  const Shape s = columns_open ? Shape{cols, rows} : Shape{rows, cols};
  return {sum(mul(y, w)), {w, weights.sample(s, 3)}};
}

// Gives the example's open inputs (batch rows) enough rows that the largest
// of them, and y where it grows with them, hold twice detail::elements_alone
// values, so that every kernel that shares its work among threads does: the
// rows grow by a whole factor, keeping whole sequences and images.
void scale_rows(Example& ex, const OpExample& spec) {
  Eigen::Index least = 0;
  for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
    if (ex.inputs[i].shape().rows == batch) least = std::max(least, ex.values[i].size());
  }
  if (least == 0) return;
  const Shape y = ex.y.shape();
  if (y.rows == batch || y.cols == batch) least = std::min(least, forward<double>(ex).size());
  Eigen::Index factor = (2 * detail::elements_alone + least - 1) / least;
  for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
    const Shape s = spec.inputs[i].shape;
    if (spec.max_scaled_rows > 0 && ex.inputs[i].shape().rows == batch) {
      factor = std::max<Eigen::Index>(1, std::min(factor, spec.max_scaled_rows / std::max<Dim>(s.rows, 1)));
    }
  }
  for (std::size_t i = 0; i < ex.inputs.size(); ++i) {
    const Shape s = spec.inputs[i].shape;
    if (ex.inputs[i].shape().rows != batch) continue;
    ex.values[i] = spec.inputs[i].domain.sample({s.rows * factor, s.cols}, static_cast<int>(i));
  }
}

// y and dL/dx for each differentiable x of the example scaled past the
// parallel cut, on 1, 2 and 8 threads: every bit the same.
template <class T>
void check_thread_counts(Example& ex) {
  const Matrix<T> y = forward<T>(ex);
  const WeightedLoss l = weighted_loss(ex, y.rows(), y.cols());
  std::vector<Node> fetches = gradients(l.loss, ex.checked_nodes());
  fetches.insert(fetches.begin(), ex.y);
  const std::vector<Matrix<T>> one = run<T>(ex, fetches, 1, {l.w});
  for (int threads : {2, 8}) {
    CAPTURE(threads);
    const std::vector<Matrix<T>> many = run<T>(ex, fetches, threads, {l.w});
    for (std::size_t i = 0; i < fetches.size(); ++i) {
      CAPTURE(i);
      CHECK(many[i] == one[i]);
    }
  }
}

// The example in a graph that gives each of the executor's passes work: a
// repeat of y (merged), y's elementwise chain (fused, written in place), y
// built again on constants (folded) and the loss's gradients; two fetch
// sets. Every fetched value, with every pass on at 1, 2 and 8 threads, has
// the bits of the graph run node by node as built.
template <class T>
void check_passes(Example& ex, const OpExample& spec) {
  const Matrix<T> y = forward<T>(ex);
  const Node repeat = spec.build(ex.inputs);
  const Node chain = tanh(shift(scale(ex.y, 0.5), 0.25));
  std::vector<Node> constants;
  for (const M& v : ex.values) constants.push_back(ex.graph.constant(v));
  const Node folded = spec.build(constants);
  const WeightedLoss l = weighted_loss(ex, y.rows(), y.cols());
  std::vector<Node> all = gradients(l.loss, ex.checked_nodes());
  all.insert(all.end(), {ex.y, repeat, chain, folded, l.loss});
  for (const std::vector<Node>& fetches : {all, std::vector<Node>{chain, repeat}}) {
    const ExecutorOptions plain{.threads = 1, .plan_memory = false, .optimize = false, .fuse = false};
    MemoryReport node_by_node, planned;
    const std::vector<Matrix<T>> want = run<T>(ex, fetches, plain, {l.w}, &node_by_node);
    for (int threads : {1, 2, 8}) {
      if (race_check_only && threads == 1) continue;
      CAPTURE(threads);
      const std::vector<Matrix<T>> got = run<T>(ex, fetches, {.threads = threads}, {l.w}, &planned);
      for (std::size_t i = 0; i < fetches.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i] == want[i]);
      }
    }
    // The passes had work: the repeat was merged (fewer ops ran) and the
    // chain's scale and shift were fused into its tanh.
    CHECK(planned.values.size() < node_by_node.values.size());
    CHECK(std::count_if(planned.values.begin(), planned.values.end(),
                        [](const PlacedValue& v) { return v.fused_into.valid(); }) >= 2);
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

// The example with input i's rows (or columns) one more: a shape the op may
// take or refuse.
OpExample with_one_more(const OpExample& spec, std::size_t i, bool cols) {
  OpExample other = spec;
  Shape& s = other.inputs[i].shape;
  (cols ? s.cols : s.rows) += 1;
  return other;
}

TEST_CASE("every op refuses shapes that do not fit with a ShapeError naming it, each input and its shape") {
  // Each input of each example one row, then one column, larger. Whatever
  // the op refuses, it refuses when the node is built, as a ShapeError that
  // starts with its key and names every input with its shape, and leaves the
  // graph as it was. An example of several inputs (or of one input with a
  // geometry: a pool's image) refuses at least one such shape.
  for_each_spec([](const OpEntry& op, const std::string& key, const OpExample& spec) {
    int refused = 0, tried = 0;
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      for (const bool cols : {false, true}) {
        const OpExample other = with_one_more(spec, i, cols);
        CAPTURE(i);
        CAPTURE(cols);
        Graph g;
        std::vector<Node> inputs;
        std::vector<std::string> named;
        for (std::size_t j = 0; j < other.inputs.size(); ++j) {
          // (Appended one by one: GCC 12 warns falsely on a chain of string +.)
          std::string name = "x";
          name += std::to_string(j);
          inputs.push_back(g.input(name, other.inputs[j].shape));
          std::string quoted = "'";
          quoted += name;
          quoted += "' (";
          quoted += to_string(other.inputs[j].shape);
          quoted += ")";
          named.push_back(quoted);
        }
        const std::size_t nodes = g.size();
        ++tried;
        try {
          other.build(inputs);
        } catch (const ShapeError& e) {
          ++refused;
          const std::string what = e.what();
          CAPTURE(what);
          CHECK(what.rfind(key + ": ", 0) == 0);
          for (const std::string& n : named) CHECK(what.find(n) != std::string::npos);
          CHECK(g.size() == nodes);
        }
      }
    }
    const bool geometry = spec.inputs.size() == 1 && op.key.find("pool") != std::string_view::npos;
    if (spec.inputs.size() > 1 || geometry) {
      CHECK_MESSAGE(refused > 0, key, " took every shape it was given (", tried, ")");
    }
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

TEST_CASE("every op that takes batch rows passes the float64 gradient check with its rows left open") {
  std::set<std::string> closed;
  for_each_spec([&](const OpEntry&, const std::string& key, const OpExample& spec) {
    auto ex = build_open(spec);
    if (!ex) {
      closed.insert(key);
      return;
    }
    const M y = forward<double>(*ex);
    const WeightedLoss l = weighted_loss(*ex, y.rows(), y.cols());
    if (ex->checked_nodes().empty()) return;
    std::vector<Feed<double>> fixed = ex->feeds(false);
    fixed.push_back(l.w);
    const GradcheckResult r = gradcheck(ex->graph, l.loss, ex->feeds(true), fixed);
    CHECK_MESSAGE(r.ok, r.report());
  });
  // The thread-count test below scales these rows to reach the kernels'
  // parallel paths: an example without them would go unchecked there.
  CHECK_MESSAGE(closed.empty(), "examples with no batch rows: ", names(closed));
}

TEST_CASE("every registered op computes the same bits, values and gradients, on 1, 2 and 8 threads") {
  for_each_spec([](const OpEntry&, const std::string&, const OpExample& spec) {
    auto ex = build_open(spec);
    if (!ex) ex = build(spec);
    scale_rows(*ex, spec);
    if (!race_check_only) check_thread_counts<double>(*ex);
    check_thread_counts<float>(*ex);
  });
}

TEST_CASE("every registered op computes the same bits with the executor's passes on as run node by node") {
  for_each_spec([](const OpEntry&, const std::string&, const OpExample& spec) {
    auto ex = build_open(spec);
    if (!ex) ex = build(spec);
    scale_rows(*ex, spec);
    if (!race_check_only) check_passes<double>(*ex, spec);
    check_passes<float>(*ex, spec);
  });
}
