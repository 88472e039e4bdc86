#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

onnx::ModelProto read_model(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  onnx::ModelProto m;
  REQUIRE(m.ParseFromIstream(&in));
  return m;
}

// x (batch x 3) -> dense 3 -> relu -> dense 2 -> softmax, with a loss and its gradients.
struct Mlp {
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = g.input("y", {batch, 2});
  Node w1 = g.parameter("w1", {3, 3});
  Node w2 = g.parameter("w2", {3, 2});
  Node logits = matmul(relu(matmul(x, w1)), w2);
  Node probabilities = softmax(logits);
  Node loss = softmax_cross_entropy(logits, y);
  std::vector<Node> grads = gradients(loss, {w1, w2});
};

}  // namespace

TEST_CASE("an ONNX export holds the inputs it needs, the parameters as float32 initializers and the outputs") {
  const dagrad::testing::TempDir dir("onnx");
  Mlp net;
  Executor<double> ex(net.g);
  Matrix<double> w1(3, 3), w2(3, 2);
  w1 << 0.1, -0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8, 0.9;
  w2 << 1.0 / 3, -2.0 / 3, 0.25, 0.5, -0.125, 1e-3;
  ex.set(net.w1, w1);
  ex.set(net.w2, w2);
  const fs::path file = dir.path / "mlp.onnx";
  export_onnx(ex, {net.probabilities}, file.string(), {.graph_name = "mlp", .doc = "a test"});
  const onnx::ModelProto m = read_model(file);
  CHECK(m.ir_version() == 8);
  REQUIRE(m.opset_import_size() == 1);
  CHECK(m.opset_import(0).version() == 13);
  CHECK(m.producer_name() == "dagrad");
  CHECK(m.doc_string() == "a test");
  const onnx::GraphProto& g = m.graph();
  CHECK(g.name() == "mlp");
  // y feeds only the loss, which the output does not need.
  REQUIRE(g.input_size() == 1);
  CHECK(g.input(0).name() == "x");
  const auto& dims = g.input(0).type().tensor_type().shape().dim();
  REQUIRE(dims.size() == 2);
  CHECK(dims[0].dim_param() == "batch");
  CHECK(dims[1].dim_value() == 3);
  REQUIRE(g.output_size() == 1);
  CHECK(g.output(0).name() == net.probabilities.name());
  REQUIRE(g.initializer_size() == 2);
  for (const onnx::TensorProto& t : g.initializer()) {
    const Matrix<double>& want = t.name() == "w1" ? w1 : w2;
    REQUIRE(t.dims_size() == 2);
    CHECK(t.dims(0) == want.rows());
    CHECK(t.dims(1) == want.cols());
    REQUIRE(t.float_data_size() == want.size());
    for (int k = 0; k < t.float_data_size(); ++k) CHECK(t.float_data(k) == static_cast<float>(want.data()[k]));
  }
  std::vector<std::string> ops;
  for (const auto& n : g.node()) ops.push_back(n.op_type());
  CHECK(ops == std::vector<std::string>{"MatMul", "Relu", "MatMul", "Softmax"});
}

TEST_CASE("an ONNX export refuses backward nodes, gradient ops, leaves and missing values by name, writing nothing") {
  const dagrad::testing::TempDir dir("onnx");
  Mlp net;
  Executor<double> ex(net.g);
  const std::string file = (dir.path / "m.onnx").string();
  CHECK_THROWS_WITH_AS(export_onnx(ex, {net.probabilities}, file), (file + ": ONNX export: parameter 'w1' has no value").c_str(),
                       Error);
  ex.set(net.w1, Matrix<double>::Ones(3, 3));
  ex.set(net.w2, Matrix<double>::Ones(3, 2));
  const std::string backward_message =
      "node '" + net.grads[0].name() + "' (matmul) is a backward node; export the forward outputs";
  CHECK_THROWS_WITH_AS(export_onnx(ex, {net.grads[0]}, file), doctest::Contains(backward_message.c_str()), Error);
  Graph& g = net.g;
  const Node mask = relu_grad(net.x, net.x);
  const std::string unmapped_message = "node '" + mask.name() + "' is a relu_grad, which has no ONNX operator here";
  CHECK_THROWS_WITH_AS(export_onnx(ex, {mask}, file), doctest::Contains(unmapped_message.c_str()), Error);
  CHECK_THROWS_WITH_AS(export_onnx(ex, {net.x}, file), doctest::Contains("output 'x' is input node; outputs must be op nodes"),
                       Error);
  CHECK_THROWS_WITH_AS(export_onnx(ex, {}, file), doctest::Contains("no outputs asked for"), Error);
  Graph other;
  const Node stranger = sigmoid(other.input("x", {1, 1}));
  CHECK_THROWS_WITH_AS(export_onnx(ex, {stranger}, file), doctest::Contains("belongs to another graph"), Error);
  CHECK(g.size() > 0);
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("the ONNX operator table lists registered ops in key order, and no backward op") {
  const auto& table = onnx_operator_table();
  CHECK(table.size() >= 35);
  for (std::size_t i = 0; i < table.size(); ++i) {
    CAPTURE(table[i].first);
    CHECK(find_op(table[i].first) != nullptr);
    CHECK(!table[i].first.ends_with("_grad"));
    if (i) CHECK(table[i - 1].first < table[i].first);
  }
}

namespace {
// An op of the program's own: 1 / sqrt(x), exported as Sqrt then Reciprocal.
struct UserRsqrtRule {
  static constexpr std::string_view key = "user_rsqrt";
  auto operator()(const auto& x) const { return x.sqrt().inverse(); }
  Node grad(const GradContext& ctx) const {
    return mul(ctx.grad(), scale(mul(ctx.output(), mul(ctx.output(), ctx.output())), -0.5));
  }
};
Node user_rsqrt(Node x) { return unary(x, UserRsqrtRule{}); }
}  // namespace

TEST_CASE("a user's own op exports as the chain of ONNX operators register_onnx_chain gives it") {
  const dagrad::testing::TempDir dir("onnx_user_op");
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node w = g.parameter("w", {3, 3});
  Node y = user_rsqrt(matmul(x, w));
  Executor<double> ex(g);
  ex.set(w, Matrix<double>::Identity(3, 3));
  const fs::path file = dir.path / "user.onnx";
  CHECK_THROWS_WITH_AS(export_onnx(ex, {y}, file.string()),
                       doctest::Contains("is a user_rsqrt, which has no ONNX operator here (docs/onnx.md lists "
                                         "those that do; register_onnx_chain maps an op of the program's own)"),
                       Error);
  CHECK_FALSE(fs::exists(file));

  register_onnx_chain("user_rsqrt", {"Sqrt", "Reciprocal"});
  export_onnx(ex, {y}, file.string());
  const onnx::ModelProto model = read_model(file);
  const onnx::GraphProto& m = model.graph();
  REQUIRE(m.node_size() == 3);
  CHECK(m.node(0).op_type() == "MatMul");
  CHECK(m.node(1).op_type() == "Sqrt");
  CHECK(m.node(1).input(0) == m.node(0).output(0));
  CHECK(m.node(2).op_type() == "Reciprocal");
  CHECK(m.node(2).input(0) == m.node(1).output(0));
  CHECK(m.node(2).output(0) == y.name());
  CHECK(m.output(0).name() == y.name());

  CHECK_THROWS_WITH_AS(register_onnx_chain("user_rsqrt", {"Sqrt"}),
                       "register_onnx_chain: op 'user_rsqrt' has its ONNX operators already", Error);
  CHECK_THROWS_WITH_AS(register_onnx_chain("relu", {"Relu"}),
                       "register_onnx_chain: 'relu' is a dagrad op with its own ONNX operators", Error);
  CHECK_THROWS_WITH_AS(register_onnx_chain("user_other", {}),
                       "register_onnx_chain: op 'user_other' needs at least one ONNX operator", Error);
}

namespace {
// An op of the program's own with an ONNX form in its registry entry, as a
// built-in op's: 2x, exported as Mul by a scalar initializer.
struct UserTwiceRule {
  static constexpr std::string_view key = "user_twice";
  auto operator()(const auto& x) const { return x + x; }
  Node grad(const GradContext& ctx) const { return scale(ctx.grad(), 2.0); }
};
Node user_twice(Node x) { return unary(x, UserTwiceRule{}); }
void write_user_twice(OnnxWriter& w) {
  w.node("Mul", {w.in()[0], w.scalar(w.out(), "two", 2.0)}, w.out());
}
}  // namespace

TEST_CASE("a user's own op exports as the ONNX form its registry entry gives it") {
  const dagrad::testing::TempDir dir("onnx_user_form");
  register_op({.key = "user_twice",
               .examples = {unary_example(user_twice)},
               .rebuild = rebuild_of(user_twice),
               .onnx = {.operators = "Mul (by a scalar initializer)", .write = write_user_twice}});
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = user_twice(sigmoid(x));
  Executor<double> ex(g);
  const fs::path file = dir.path / "twice.onnx";
  export_onnx(ex, {y}, file.string());
  const onnx::ModelProto model = read_model(file);
  const onnx::GraphProto& m = model.graph();
  REQUIRE(m.node_size() == 2);
  CHECK(m.node(0).op_type() == "Sigmoid");
  CHECK(m.node(1).op_type() == "Mul");
  CHECK(m.node(1).input(0) == m.node(0).output(0));
  CHECK(m.node(1).input(1) == y.name() + "#two");
  CHECK(m.node(1).output(0) == y.name());
  REQUIRE(m.initializer_size() == 1);
  CHECK(m.initializer(0).name() == y.name() + "#two");
  CHECK(m.initializer(0).float_data(0) == 2.0f);
  // The table of built-in ops does not list it; a chain for it is refused.
  for (const auto& [key, operators] : onnx_operator_table()) CHECK(key != "user_twice");
  CHECK_THROWS_WITH_AS(register_onnx_chain("user_twice", {"Mul"}),
                       "register_onnx_chain: 'user_twice' has ONNX operators in its registry entry", Error);
}
