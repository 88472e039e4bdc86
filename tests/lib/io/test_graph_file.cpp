#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <dagrad/io/detail/model_file.hpp>  // decode and encode, to build bad files with good checksums

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

using namespace dagrad;
namespace fs = std::filesystem;
using dagrad::testing::TempDir;
namespace format = dagrad::model_file_detail;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// A small convolutional network with every kind of node: inputs, parameters,
// a constant, ops with attributes (conv2d, max_pool2d, dropout, scale), scopes,
// and the backward nodes of the loss's gradients.
struct Net {
  Graph g;
  Node x, labels, step, loss, probabilities;
  std::vector<Node> params, grads;

  Net() {
    x = g.input("x", {batch, 36});
    labels = g.input("labels", {batch, 3});
    step = g.input("training_step", {1, 1});
    Node h;
    {
      auto s = g.scope("conv");
      const Node w = g.parameter("w", {2, 9});
      const Node b = g.parameter("b", {1, 2});
      params = {w, b};
      h = conv2d(x, w, {.in = {1, 6, 6}, .out_channels = 2, .kernel = 3, .padding = 1});
      h = relu(add_channel_bias(h, b));
      h = max_pool2d(h, {.in = {2, 6, 6}, .size = 2});
    }
    {
      auto s = g.scope("out");
      const Node w = g.parameter("w", {18, 3});
      const Node b = g.parameter("b", {1, 3});
      params.push_back(w);
      params.push_back(b);
      h = dropout(h, step, {.rate = 0.25, .seed = 0xfedcba9876543210u});
      const Node logits = add(matmul(h, w), scale(b, 0.5));
      probabilities = softmax(logits);
      g.rename(probabilities, "probabilities");
      loss = add(softmax_cross_entropy(logits, labels), mul(g.constant(Matrix<double>::Constant(1, 1, 1e-3)),
                                                              sum_squares(w)));
      g.rename(loss, "loss");
    }
    grads = gradients(loss, params);
  }
};

Matrix<double> values(Dim rows, Dim cols, double salt) {
  Matrix<double> m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = std::sin(salt + 0.7 * double(k));
  return m;
}

template <class T>
void set_values(Executor<T>& ex, const std::vector<Node>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    ex.set(params[i], values(params[i].shape().rows, params[i].shape().cols, double(i)).template cast<T>());
  }
}

// net's graph saved as dir/net.dagradg, its parameters given values in ex first.
template <class T>
fs::path save_net(const TempDir& dir, const Net& net, Executor<T>& ex) {
  set_values(ex, net.params);
  const fs::path file = dir.path / "net.dagradg";
  save_graph(ex, file.string());
  return file;
}

// The records of net's graph file, decoded, to edit and encode again.
format::Contents saved_contents(const TempDir& dir, const Net& net, Executor<double>& ex) {
  return format::decode(read_bytes(save_net(dir, net, ex)), "net", format::kind_graph);
}

// The bytes of a decoded graph file, edited, with every checksum recomputed:
// what parse_graph says of them, or "loaded".
std::string refused_as(const format::Contents& c) {
  try {
    parse_graph(format::encode(c), "net.dagradg");
  } catch (const DataError& e) {
    return e.what();
  }
  return "loaded";
}

// The loss and gradients on a fixed batch, after one Adam step.
template <class T>
std::vector<Matrix<T>> run(Executor<T>& ex, Node x, Node labels, Node step, Node loss,
                           const std::vector<Node>& params, const std::vector<Node>& grads) {
  Matrix<T> y = Matrix<T>::Zero(4, 3);
  for (int r = 0; r < 4; ++r) y(r, r % 3) = 1;
  // Feeds refer to their values: each is kept in a variable.
  const Matrix<T> xs = values(4, 36, 3).template cast<T>(), training_step = Matrix<T>::Constant(1, 1, T(2));
  const std::vector<Feed<T>> feeds{{x, xs}, {labels, y}, {step, training_step}};
  nn::Adam adam(loss, {.learning_rate = 0.01}, params);
  adam.step(ex, feeds);
  std::vector<Node> fetches = grads;
  fetches.push_back(loss);
  return ex.run(feeds, fetches);
}

}  // namespace

TEST_CASE("a saved graph loads with the same nodes, DOT, values and gradients, and trains on the same") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g, {.threads = 2});
  const fs::path file = save_net(dir, net, ex);

  const LoadedGraph loaded = load_graph(file.string());
  Graph& g = *loaded.graph;
  REQUIRE(g.size() == net.g.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    const NodeInfo& a = net.g.info(id);
    const NodeInfo& b = g.info(id);
    CAPTURE(a.name);
    CHECK(b.name == a.name);
    CHECK(b.kind == a.kind);
    CHECK(b.role == a.role);
    CHECK(b.scope == a.scope);
    CHECK(b.shape == a.shape);
    CHECK(b.inputs == a.inputs);
    CHECK(b.grad_of == a.grad_of);
    CHECK((b.op == nullptr) == (a.op == nullptr));
    if (a.op) CHECK(b.op->label() == a.op->label());
    if (a.kind == NodeKind::constant) CHECK(b.value == a.value);
  }
  CHECK(to_dot(g) == to_dot(net.g));
  const auto memo = g.cached_gradients();
  const auto want = net.g.cached_gradients();
  REQUIRE(memo.size() == want.size());
  for (std::size_t i = 0; i < memo.size(); ++i) {
    CHECK(memo[i].y == want[i].y);
    CHECK(memo[i].x == want[i].x);
    CHECK(memo[i].grad == want[i].grad);
  }
  REQUIRE(loaded.parameters.size() == net.params.size());

  // The loaded graph's gradients are the saved nodes: asking again adds none.
  auto find = [&](const char* name) { return *g.find(name); };
  std::vector<Node> params;
  for (const auto& [node, value] : loaded.parameters) params.push_back(node);
  const std::size_t size = g.size();
  const std::vector<Node> grads = gradients(find("loss"), params);
  CHECK(g.size() == size);
  for (std::size_t i = 0; i < grads.size(); ++i) CHECK(grads[i].id() == net.grads[i].id());

  Executor<double> again(g, {.threads = 1});
  loaded.set_parameters(again);
  const auto before = run(ex, net.x, net.labels, net.step, net.loss, net.params, net.grads);
  const auto after = run(again, find("x"), find("labels"), find("training_step"), find("loss"), params, grads);
  REQUIRE(before.size() == after.size());
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(before[i] == after[i]);
}

TEST_CASE("a float32 graph's parameters read back exactly, in a version-2 file of kind 3") {
  const TempDir dir("graph_file");
  Net net;
  Executor<float> ex(net.g);
  const fs::path file = save_net(dir, net, ex);
  const Bytes bytes = read_bytes(file);
  REQUIRE(bytes.size() > 16);
  CHECK(bytes[8] == 2);
  CHECK(bytes[12] == 3);
  const LoadedGraph loaded = load_graph(file.string());
  Executor<float> again(*loaded.graph);
  loaded.set_parameters(again);
  for (std::size_t i = 0; i < net.params.size(); ++i) {
    CHECK(again.value(loaded.parameters[i].first) == ex.value(net.params[i]));
  }
  // The other readers refuse it by kind, and the graph reader refuses theirs.
  CHECK_THROWS_WITH_AS(load_tensors(file.string()), doctest::Contains("holds a graph (kind 3), not executor parameters"),
                       DataError);
  save_tensors({{"w", Matrix<double>::Ones(1, 1)}}, (dir.path / "t").string());
  CHECK_THROWS_WITH_AS(load_graph((dir.path / "t").string()),
                       doctest::Contains("holds executor parameters (kind 2), not a graph"), DataError);
}

TEST_CASE("saving a graph whose parameter has no value names it, and writes nothing") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g);
  const fs::path file = dir.path / "net.dagradg";
  CHECK_THROWS_WITH_AS(save_graph(ex, file.string()), doctest::Contains("parameter 'conv/w' has no value yet"), Error);
  CHECK(!fs::exists(file));
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("every truncation and every corrupted byte of a graph file is refused with a DataError") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g);
  const fs::path file = save_net(dir, net, ex);
  const Bytes bytes = read_bytes(file);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(parse_graph(std::span(bytes).first(n), "cut"), DataError);
  }
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    CAPTURE(at);
    Bytes bad = bytes;
    bad[at] ^= 0x5a;
    CHECK_THROWS_AS(parse_graph(bad, "flipped"), DataError);
  }
}

TEST_CASE("a graph file that its ops or its records refuse names the file, the node and the problem") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g);
  const format::Contents good = saved_contents(dir, net, ex);
  auto node_named = [&](format::Contents& c, const std::string& name) -> format::NodeRecord& {
    for (auto& n : c.nodes) {
      if (n.name == name) return n;
    }
    FAIL("no node " << name);
    throw;
  };
  auto id_of = [&](const std::string& name) { return std::to_string(net.g.find(name)->id()); };

  SUBCASE("an op this dagrad does not have") {
    format::Contents c = good;
    const std::string relu = net.g.info(net.g.find("conv/relu")->id()).name;
    node_named(c, relu).op = "frobnicate";
    CHECK(refused_as(c) == "net.dagradg: node " + id_of(relu) +
                               " 'conv/relu' (frobnicate): op 'frobnicate' is not one this dagrad has (an op of the "
                               "program's own loads once register_op has added it)");
  }
  SUBCASE("attributes the op refuses") {
    format::Contents c = good;
    for (Attribute& a : node_named(c, "conv/conv2d").attributes) {
      if (a.name == "stride") a.value = std::int64_t{0};
    }
    CHECK_MESSAGE(refused_as(c).starts_with("net.dagradg: node " + id_of("conv/conv2d") + " 'conv/conv2d' (conv2d): "),
                  refused_as(c));
    CHECK(refused_as(c).find("stride") != std::string::npos);
  }
  SUBCASE("an unknown attribute") {
    format::Contents c = good;
    node_named(c, "conv/conv2d").attributes.push_back({"dilation", std::int64_t{2}});
    CHECK(refused_as(c) == "net.dagradg: node " + id_of("conv/conv2d") +
                               " 'conv/conv2d' (conv2d): unknown attribute 'dilation'");
  }
  SUBCASE("inputs whose shapes the op refuses") {
    format::Contents c = good;
    node_named(c, "out/w").rows = 17;
    for (auto& t : c.tensors) {
      if (t.name == "out/w") t.value = Matrix<double>::Zero(17, 3);
    }
    const std::string msg = refused_as(c);
    CHECK_MESSAGE(msg.find("(matmul): matmul: ") != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("'out/w' (17x3)") != std::string::npos, msg);
  }
  SUBCASE("a recorded shape other than the op gives") {
    format::Contents c = good;
    node_named(c, "probabilities").cols = 4;
    CHECK(refused_as(c) == "net.dagradg: node " + id_of("probabilities") +
                               " 'probabilities' (softmax): the op gives the shape ?x3 but the file records ?x4");
  }
  SUBCASE("two nodes of one name") {
    format::Contents c = good;
    node_named(c, "probabilities").name = "loss";
    CHECK(refused_as(c).find("'loss': another node has this name") != std::string::npos);
  }
  SUBCASE("a parameter without its value, and a value of no node") {
    format::Contents c = good;
    for (auto& t : c.tensors) {
      if (t.name == "out/b") t.name = "out/bias";
    }
    CHECK(refused_as(c) == "net.dagradg: node " + id_of("out/b") +
                               " 'out/b': the file holds no value for this parameter");
    node_named(c, "out/b").name = "out/bias";
    c.tensors.push_back({"stray", Matrix<double>::Ones(1, 1)});
    CHECK(refused_as(c) == "net.dagradg: tensor 'stray' is the value of no node");
  }
  SUBCASE("a value that is not finite") {
    format::Contents c = good;
    for (auto& t : c.tensors) {
      if (t.name == "conv/b") t.value(0, 1) = std::nan("");
    }
    CHECK(refused_as(c) == "net.dagradg: node " + id_of("conv/b") +
                               " 'conv/b': the value at row 0, column 1 is not finite");
  }
  SUBCASE("an input that is not an earlier node") {
    format::Contents c = good;
    format::NodeRecord& n = node_named(c, "probabilities");
    n.inputs[0] = static_cast<std::uint32_t>(c.nodes.size() - 1);
    CHECK(refused_as(c).find("'s input 1 is node " + std::to_string(c.nodes.size() - 1) + ", not an earlier node") !=
          std::string::npos);
  }
  SUBCASE("a leaf with inputs, and an op node without an op") {
    format::Contents c = good;
    node_named(c, "x").inputs.push_back(0);
    CHECK(refused_as(c).find("not an earlier node") != std::string::npos);  // node 0 is x itself
    c = good;
    node_named(c, "labels").attributes.push_back({"rate", 0.5});
    CHECK(refused_as(c).find("'labels': input node with inputs or attributes") != std::string::npos);
    c = good;
    node_named(c, "loss").op.clear();
    CHECK(refused_as(c).find("'loss': an op node without an op") != std::string::npos);
  }
}

namespace {

// The record of d(y)/d(x) in c.
format::GradientRecord& record_of(format::Contents& c, Node y, Node x) {
  for (auto& m : c.gradients) {
    if (m.y == y.id() && m.x == x.id()) return m;
  }
  FAIL("no cached gradient d" << y.name() << "/d" << x.name());
  throw;
}

std::size_t index_of(const format::Contents& c, const format::GradientRecord& m) {
  return static_cast<std::size_t>(&m - c.gradients.data()) + 1;
}

}  // namespace

TEST_CASE("a cached gradient pointed at another node, checksums recomputed, is refused naming the record") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g);
  const format::Contents good = saved_contents(dir, net, ex);
  REQUIRE(refused_as(good) == "loaded");
  const Node conv_b = net.params[1], out_w = net.params[2], out_b = net.params[3];
  auto id = [&](const std::string& name) { return net.g.find(name)->id(); };
  auto where = [&](const format::Contents& c, const format::GradientRecord& m, const std::string& y,
                   const std::string& x, const std::string& grad) {
    return "net.dagradg: cached gradient " + std::to_string(index_of(c, m)) + " (d'" + y + "' / d'" + x +
           "' = node " + std::to_string(id(grad)) + " '" + grad + "'): ";
  };
  // good with the record of d'loss'/dx pointed at the node named grad: what
  // parse_graph says of it, and how that must name the record.
  struct Refusal {
    std::string said, record;
  };
  auto pointed = [&](Node x, const std::string& x_name, const std::string& grad) {
    format::Contents c = good;
    format::GradientRecord& m = record_of(c, net.loss, x);
    m.grad = id(grad);
    return Refusal{refused_as(c), where(c, m, "loss", x_name, grad)};
  };

  SUBCASE("the issue's file: out/w's gradient is grad(conv/b), 1x2 instead of 18x3") {
    const Refusal r = pointed(out_w, "out/w", "grad(conv/b)");
    CHECK(r.said == r.record + "cache_gradient: 'grad(conv/b)' is 1x2, but the gradient of 'out/w' must be 18x3");
  }
  SUBCASE("a backward node of the right shape that holds another node's gradient") {
    CHECK(net.g.find("grad(out/scale)")->shape() == out_b.shape());
    const Refusal r = pointed(out_b, "out/b", "grad(out/scale)");
    CHECK(r.said == r.record + "the node holds the gradient of 'out/scale', not of 'out/b'");
  }
  SUBCASE("a forward node of the right shape") {
    const Refusal r = pointed(out_b, "out/b", "out/scale");
    CHECK(r.said == r.record + "the node is not a backward node");
  }
  SUBCASE("a record whose y is no scalar") {
    format::Contents c = good;
    format::GradientRecord& m = record_of(c, net.loss, conv_b);
    m.y = id("probabilities");
    CHECK(refused_as(c) == where(c, m, "probabilities", "conv/b", "grad(conv/b)") +
                                  "cache_gradient: 'probabilities' has shape ?x3; only a 1x1 node has gradients");
  }
  SUBCASE("two records of one gradient") {
    format::Contents c = good;
    c.gradients.push_back(record_of(c, net.loss, conv_b));
    const format::GradientRecord& m = c.gradients.back();
    CHECK(refused_as(c) == where(c, m, "loss", "conv/b", "grad(conv/b)") + "another record gives this gradient too");
  }
  SUBCASE("a node's gradient link to a node of another shape, or on a forward node") {
    format::Contents c = good;
    const std::size_t grad_w = id("grad(out/w)");
    c.nodes[grad_w].grad_of = static_cast<std::uint32_t>(conv_b.id() + 1);
    CHECK(refused_as(c) == "net.dagradg: node " + std::to_string(grad_w) +
                                  " 'grad(out/w)' (add_n): set_grad_of: 'grad(out/w)' (18x3) cannot hold the "
                                  "gradient of 'conv/b' (1x2)");
    c = good;
    const std::size_t scale = id("out/scale");
    c.nodes[scale].grad_of = static_cast<std::uint32_t>(out_b.id() + 1);
    CHECK(refused_as(c) == "net.dagradg: node " + std::to_string(scale) +
                                  " 'out/scale' (scale): a forward node cannot hold the gradient of 'out/b'");
  }
}

TEST_CASE("a graph file with the fields of an estimator is refused: the format fixes them at none") {
  const TempDir dir("graph_file");
  Net net;
  Executor<double> ex(net.g);
  const format::Contents good = saved_contents(dir, net, ex);
  format::Contents c = good;
  c.n_iter = 3;
  CHECK(refused_as(c) == "net.dagradg: a graph file has no n_iter, but the header holds 3");
  c = good;
  c.n_features = 36;
  CHECK(refused_as(c) == "net.dagradg: a graph file has no features, but the header declares 36");
  c = good;
  c.classes = {0, 1};
  CHECK(refused_as(c) == "net.dagradg: a graph file has no classes, but the header lists 2");
  c = good;
  c.params = {{"alpha", "0.1"}};
  CHECK(refused_as(c) == "net.dagradg: a graph file has no hyperparameters, but the header lists 1 ('alpha', ...)");
}

TEST_CASE("a parameter whose gradient is its sum's, passed on unchanged by add, loads and trains") {
  const TempDir dir("graph_file");
  Graph g;
  const Node w = g.parameter("w", {1, 3}), v = g.parameter("v", {1, 3});
  const Node sum = add(w, v);
  const Node loss = sum_squares(sum);
  const std::vector<Node> grads = gradients(loss, {w, v});
  // The one gradient node serves both: gradients() kept add's output's.
  REQUIRE(grads[0] == grads[1]);
  REQUIRE(*g.info(grads[0].id()).grad_of == sum.id());
  Executor<double> ex(g);
  ex.set(w, values(1, 3, 1));
  ex.set(v, values(1, 3, 2));
  const fs::path file = dir.path / "sum.dagradg";
  save_graph(ex, file.string());
  const LoadedGraph loaded = load_graph(file.string());
  Executor<double> again(*loaded.graph);
  loaded.set_parameters(again);
  const std::size_t before = loaded.graph->size();
  nn::SGD sgd(*loaded.graph->find(loss.name()), {.learning_rate = 0.1});
  CHECK(loaded.graph->size() == before);  // the cached gradients served, no node added
  const double first = sgd.step(again), second = sgd.step(again);
  CHECK(second < first);
}

namespace {
// An op of the program's own, as a user writes one with op_family.hpp:
// y = x^3 elementwise, dy/dx = 3 x^2.
struct UserCubeRule {
  static constexpr std::string_view key = "user_cube";
  auto operator()(const auto& x) const { return x * x * x; }
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), scale(square(ctx.input(0)), 3.0)); }
};
Node user_cube(Node x) { return unary(x, UserCubeRule{}); }
}  // namespace

TEST_CASE("a graph with a user's own op loads once register_op has added the op, and computes the same") {
  const TempDir dir("graph_file_user_op");
  Graph g;
  Node x = g.input("x", {2, 3});
  Node w = g.parameter("w", {2, 3});
  Node loss = sum(user_cube(mul(x, w)));
  const std::vector<Node> grads = gradients(loss, {w});
  Matrix<double> X(2, 3), W(2, 3);
  X << 0.5, -1, 2, 1.5, 0.25, -0.75;
  W << 1, 0.5, -0.5, 2, -1, 0.3;
  Executor<double> ex(g);
  ex.set(w, W);
  const std::vector<Matrix<double>> want = ex.run({{x, X}}, {loss, grads[0]});
  const std::string file = (dir.path / "cube.dagrad").string();
  save_graph(ex, file);

  CHECK_THROWS_WITH_AS(load_graph(file),
                       doctest::Contains("op 'user_cube' is not one this dagrad has (an op of the program's own "
                                         "loads once register_op has added it)"),
                       DataError);
  register_op({.key = "user_cube", .examples = {unary_example(user_cube)}, .rebuild = rebuild_of(user_cube)});
  REQUIRE(find_op("user_cube") != nullptr);
  CHECK(find_op("user_cube")->key == "user_cube");

  const LoadedGraph loaded = load_graph(file);
  Executor<double> again(*loaded.graph);
  loaded.set_parameters(again);
  const Node lx = *loaded.graph->find("x"), lloss = *loaded.graph->find(loss.name());
  const std::vector<Node> lgrads = gradients(lloss, {*loaded.graph->find("w")});
  const std::vector<Matrix<double>> got = again.run({{lx, X}}, {lloss, lgrads[0]});
  CHECK(got[0] == want[0]);
  CHECK(got[1] == want[1]);

  CHECK_THROWS_WITH_AS(register_op({.key = "user_cube", .rebuild = rebuild_of(user_cube)}),
                       "register_op: op 'user_cube' is registered already", GraphError);
  CHECK_THROWS_WITH_AS(register_op({.key = "sqrt", .rebuild = rebuild_of(user_cube)}),
                       "register_op: 'sqrt' is a built-in op", GraphError);
  CHECK_THROWS_WITH_AS(register_op({.key = "User Cube", .rebuild = rebuild_of(user_cube)}),
                       "register_op: 'User Cube' is not an op key (lowercase letters, digits and '_')", GraphError);
  CHECK_THROWS_WITH_AS(register_op({.key = "user_cube2"}), "register_op: op 'user_cube2' has no rebuild", GraphError);
}
