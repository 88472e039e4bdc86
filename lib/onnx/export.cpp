// ONNX export (onnx.hpp) through Debian's libonnx-dev: its generated protobuf
// classes for onnx-ml.proto, so the bytes are protobuf's own serialization
// of the official schema. Each dagrad op node becomes one ONNX node, or a
// few around it (reshapes to NCHW and back); its output keeps the node's
// name, helper tensors get "<name>#<what>".
#include <dagrad/core/detail/class_ids.hpp>
#include <dagrad/core/detail/attention.hpp>
#include <dagrad/core/detail/batch_norm.hpp>
#include <dagrad/core/detail/image_op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/registry.hpp>
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/onnx/export.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace dagrad {

namespace {

// register_onnx_chain's maps, by op key.
struct UserChains {
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>, std::less<>> chains;
};
UserChains& user_chains() {
  static UserChains c;
  return c;
}
std::optional<std::vector<std::string>> user_chain(std::string_view key) {
  UserChains& u = user_chains();
  std::lock_guard lock(u.mutex);
  const auto it = u.chains.find(key);
  if (it == u.chains.end()) return std::nullopt;
  return it->second;
}

constexpr std::int64_t ir_version = 8;  // what Debian's onnx 1.12 checker and onnxruntime 1.20 take
constexpr std::int64_t opset = 13;

class Exporter;

// One node to export: the node, its inputs' and its own tensor names, and
// its attributes (each read once; the exporter checks none is left over).
struct Call {
  const NodeInfo& info;
  const std::vector<std::string>& in;
  const std::string& out;
  AttributeReader& a;
};

class Exporter {
 public:
  Exporter(const Graph& graph, onnx::GraphProto& out) : graph_(graph), out_(out) {}

  // The tensor that holds node id's value, emitting what it needs first.
  const std::string& tensor(NodeId id, const ParameterValues& values) {
    if (const auto it = tensors_.find(id); it != tensors_.end()) return it->second;
    const NodeInfo& info = graph_.info(id);
    std::string name = claim(info.name);
    switch (info.kind) {
      case NodeKind::input: declare_input(name, info); break;
      case NodeKind::parameter: {
        const auto v = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first.id() == id; });
        if (v == values.end()) throw Error("ONNX export: parameter '" + info.name + "' has no value");
        initializer(name, v->second);
        break;
      }
      case NodeKind::constant: initializer(name, info.value); break;
      case NodeKind::op: {
        if (info.role == Role::backward) {
          throw Error("ONNX export: node '" + info.name + "' (" + std::string(info.op->key()) +
                      ") is a backward node; export the forward outputs");
        }
        const std::string key(info.op->key());
        const auto rule = rules().find(key);
        if (rule == rules().end()) {
          if (auto chain = user_chain(key)) {
            emit_chain(*chain, info, values, name);
            break;
          }
          throw Error("ONNX export: node '" + info.name + "' is a " + key +
                      ", which has no ONNX operator here (docs/onnx.md lists those that do; "
                      "register_onnx_chain maps an op of the program's own)");
        }
        std::vector<std::string> in;
        // Dropout's and batch_norm's step input only picks inference: not exported.
        const std::size_t used = key == "dropout" ? 1 : key == "batch_norm" ? 5 : info.inputs.size();
        for (std::size_t i = 0; i < used; ++i) in.push_back(tensor(info.inputs[i], values));
        AttributeReader attributes(info.op->attributes());
        Call call{info, in, name, attributes};
        if (rule->second.emit) {
          rule->second.emit(*this, call);
        } else {
          node(rule->second.onnx, in, name);  // one ONNX operator of the same meaning
        }
        attributes.finish();
        break;
      }
    }
    return tensors_.emplace(id, std::move(name)).first->second;
  }

  // A user's op as its chain of ONNX operators: the first on the node's
  // inputs, each next on the one before's output, the last named `name`.
  void emit_chain(const std::vector<std::string>& chain, const NodeInfo& info, const ParameterValues& values,
                  const std::string& name) {
    std::vector<std::string> in;
    for (NodeId i : info.inputs) in.push_back(tensor(i, values));
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const std::string out = k + 1 == chain.size() ? name : helper(name, chain[k]);
      node(chain[k], in, out);
      in = {out};
    }
  }

  void declare_output(NodeId id) {
    const NodeInfo& info = graph_.info(id);
    value_info(*out_.add_output(), tensors_.at(id), info.shape);
  }

 private:
  // A tensor name no other tensor has; helper tensors are "<base>#<what>".
  std::string claim(const std::string& name) {
    if (!names_.insert(name).second) throw Error("ONNX export: two tensors would be named '" + name + "'");
    return name;
  }
  std::string helper(const std::string& base, const std::string& what) {
    std::string name = base + "#" + what;
    for (int k = 2; names_.count(name); ++k) name = base + "#" + what + std::to_string(k);
    return claim(name);
  }

  void value_info(onnx::ValueInfoProto& v, const std::string& name, Shape shape) {
    v.set_name(name);
    auto* t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    auto* s = t->mutable_shape();
    if (shape.rows == batch) {
      s->add_dim()->set_dim_param("batch");
    } else {
      s->add_dim()->set_dim_value(shape.rows);
    }
    s->add_dim()->set_dim_value(shape.cols);
  }

  void declare_input(const std::string& name, const NodeInfo& info) { value_info(*out_.add_input(), name, info.shape); }

  void initializer(const std::string& name, const Matrix<double>& value) {
    onnx::TensorProto& t = *out_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(value.rows());
    t.add_dims(value.cols());
    for (Eigen::Index k = 0; k < value.size(); ++k) t.add_float_data(static_cast<float>(value.data()[k]));
  }
  std::string scalar(const std::string& base, const std::string& what, double v) {
    const std::string name = helper(base, what);
    onnx::TensorProto& t = *out_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_float_data(static_cast<float>(v));
    return name;
  }
  std::string ints(const std::string& base, const std::string& what, const std::vector<std::int64_t>& v) {
    const std::string name = helper(base, what);
    onnx::TensorProto& t = *out_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(static_cast<std::int64_t>(v.size()));
    for (std::int64_t x : v) t.add_int64_data(x);
    return name;
  }

  std::string index(const std::string& base, const std::string& what, std::int64_t v) {  // a 0-d int64
    const std::string name = helper(base, what);
    onnx::TensorProto& t = *out_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_int64_data(v);
    return name;
  }

  onnx::NodeProto& node(const std::string& type, const std::vector<std::string>& in, const std::string& out) {
    onnx::NodeProto& n = *out_.add_node();
    n.set_op_type(type);
    n.set_name(out);
    for (const auto& i : in) n.add_input(i);
    n.add_output(out);
    return n;
  }
  static void attr(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (std::int64_t x : v) a->add_ints(x);
  }

  // x reshaped to `dims` under a helper name.
  std::string reshape(const std::string& x, const std::string& base, const std::string& what,
                      const std::vector<std::int64_t>& dims) {
    const std::string shape = ints(base, what + "_shape", dims);
    const std::string y = helper(base, what);
    node("Reshape", {x, shape}, y);
    return y;
  }
  // A reduction to keepdims of `axes` (all of them when empty).
  void reduce(const std::string& type, const std::string& x, const std::vector<std::int64_t>& axes,
              const std::string& out, bool keep = true) {
    if (type == "ReduceSum") {  // opset 13 takes its axes as an input
      std::vector<std::string> in{x};
      if (!axes.empty()) in.push_back(ints(out, "axes", axes));
      attr(node(type, in, out), "keepdims", std::int64_t{keep});
    } else {
      onnx::NodeProto& n = node(type, {x}, out);
      if (!axes.empty()) attr(n, "axes", axes);
      attr(n, "keepdims", std::int64_t{keep});
    }
  }

  // A column of ids (n x 1 floats, as dagrad keeps them) as the n int64s
  // that Gather and SoftmaxCrossEntropyLoss index with.
  std::string int_ids(const std::string& ids, const std::string& out) {
    const std::string as_int = helper(out, "ids");
    attr(node("Cast", {ids}, as_int), "to", std::int64_t{onnx::TensorProto::INT64});
    return reshape(as_int, out, "flat_ids", {-1});
  }

  // (x - mean) / sqrt(var + eps) * gain + bias along each row, var the mean
  // square of x - mean: LayerNormalization itself is opset 17.
  void layer_norm(const std::vector<std::string>& in, double eps, const std::string& out) {
    const std::string mean = helper(out, "mean"), centered = helper(out, "centered"), squares = helper(out, "squares"),
                      variance = helper(out, "variance"), shifted = helper(out, "variance_eps"),
                      deviation = helper(out, "deviation"), normalized = helper(out, "normalized"),
                      scaled = helper(out, "scaled");
    reduce("ReduceMean", in[0], {1}, mean);
    node("Sub", {in[0], mean}, centered);
    node("Mul", {centered, centered}, squares);
    reduce("ReduceMean", squares, {1}, variance);
    node("Add", {variance, scalar(out, "eps", eps)}, shifted);
    node("Sqrt", {shifted}, deviation);
    node("Div", {centered, deviation}, normalized);
    node("Mul", {normalized, in[1]}, scaled);
    node("Add", {scaled, in[2]}, out);
  }

  // x Phi(x) as x (1 + erf(x / sqrt 2)) / 2, or PyTorch's tanh form
  // x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2: Gelu itself is opset 20.
  void gelu(const std::string& x, bool tanh_form, const std::string& out) {
    const std::string inner = helper(out, "inner"), bend = helper(out, "bend"), one_plus = helper(out, "one_plus"),
                      product = helper(out, "product");
    if (tanh_form) {
      const std::string square = helper(out, "square"), cube = helper(out, "cube"), cubic = helper(out, "cubic"),
                        sum = helper(out, "sum");
      node("Mul", {x, x}, square);
      node("Mul", {square, x}, cube);
      node("Mul", {cube, scalar(out, "c", 0.044715)}, cubic);
      node("Add", {x, cubic}, sum);
      node("Mul", {sum, scalar(out, "k", 0.7978845608028654)}, inner);
      node("Tanh", {inner}, bend);
    } else {
      node("Mul", {x, scalar(out, "inv_sqrt2", 0.7071067811865476)}, inner);
      node("Erf", {inner}, bend);
    }
    node("Add", {bend, scalar(out, "one", 1.0)}, one_plus);
    node("Mul", {x, one_plus}, product);
    node("Mul", {product, scalar(out, "half", 0.5)}, out);
  }

  // Per sequence and head softmax(Q Kᵀ / sqrt(d) + mask) V: the qkv rows
  // as (sequences, T, 3, heads, d), put head-major as (3, sequences, heads,
  // T, d), Q, K and V gathered from it; the causal mask is a T x T
  // initializer, 0 on and below the diagonal and -inf above, added to the
  // scores; the heads go back side by side in rows.
  void attention(const std::string& qkv, const AttentionOptions& o, Dim width, const std::string& out) {
    const Dim d = width / o.heads;
    const std::string steps = reshape(qkv, out, "steps", {-1, o.context, 3, o.heads, d});
    const std::string heads = helper(out, "heads");
    attr(node("Transpose", {steps}, heads), "perm", std::vector<std::int64_t>{2, 0, 3, 1, 4});
    std::string part[3];
    for (int i = 0; i < 3; ++i) {
      part[i] = helper(out, std::string(1, "qkv"[i]));
      attr(node("Gather", {heads, index(out, std::string(1, "qkv"[i]) + "_index", i)}, part[i]), "axis",
           std::int64_t{0});
    }
    const std::string kt = helper(out, "kt"), qk = helper(out, "qk"), scores = helper(out, "scores"),
                      p = helper(out, "p"), o_heads = helper(out, "o"), o_steps = helper(out, "o_steps");
    attr(node("Transpose", {part[1]}, kt), "perm", std::vector<std::int64_t>{0, 1, 3, 2});
    node("MatMul", {part[0], kt}, qk);
    node("Mul", {qk, scalar(out, "scale", 1 / std::sqrt(double(d)))}, scores);
    std::string logits = scores;
    if (o.causal) {
      Matrix<double> mask = Matrix<double>::Zero(o.context, o.context);
      for (Dim i = 0; i < o.context; ++i) {
        for (Dim j = i + 1; j < o.context; ++j) mask(i, j) = -std::numeric_limits<double>::infinity();
      }
      const std::string m = helper(out, "mask");
      initializer(m, mask);
      logits = helper(out, "masked");
      node("Add", {scores, m}, logits);
    }
    attr(node("Softmax", {logits}, p), "axis", std::int64_t{-1});
    node("MatMul", {p, part[2]}, o_heads);
    attr(node("Transpose", {o_heads}, o_steps), "perm", std::vector<std::int64_t>{0, 2, 1, 3});
    node("Reshape", {o_steps, ints(out, "rows", {-1, width})}, out);
  }

  // The ops that need more than one ONNX operator of the same meaning.
  void broadcast_or_zeros(bool broadcast, const std::vector<std::string>& in, const std::string& out) {
    const std::string like = broadcast ? in[1] : in[0];
    const std::string shape = helper(out, "shape");
    node("Shape", {like}, shape);
    if (broadcast) {
      node("Expand", {in[0], shape}, out);
      return;
    }
    onnx::NodeProto& n = node("ConstantOfShape", {shape}, out);
    auto* value = n.add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    value->mutable_t()->add_dims(1);
    value->mutable_t()->add_float_data(0.0f);
  }

  // max(x, 0) - x t + log(1 + e^-|x|), averaged: the op's own stable form.
  void binary_cross_entropy(const std::vector<std::string>& in, const std::string& out) {
    const std::string pos = helper(out, "relu"), xt = helper(out, "xt"), lin = helper(out, "linear"),
                      ab = helper(out, "abs"), neg = helper(out, "neg"), sp = helper(out, "softplus"),
                      all = helper(out, "elements");
    node("Relu", {in[0]}, pos);
    node("Mul", {in[0], in[1]}, xt);
    node("Sub", {pos, xt}, lin);
    node("Abs", {in[0]}, ab);
    node("Neg", {ab}, neg);
    node("Softplus", {neg}, sp);
    node("Add", {lin, sp}, all);
    reduce("ReduceMean", all, {}, out);
  }

  // -(1/M) sum_ij t_ij log softmax(x)_ij: each row's sum, their mean, negated.
  void softmax_cross_entropy(const std::vector<std::string>& in, const std::string& out) {
    const std::string ls = helper(out, "log_softmax"), prod = helper(out, "product"), rows = helper(out, "rows"),
                      mean = helper(out, "mean");
    attr(node("LogSoftmax", {in[0]}, ls), "axis", std::int64_t{1});
    node("Mul", {in[1], ls}, prod);
    reduce("ReduceSum", prod, {1}, rows);
    reduce("ReduceMean", rows, {0}, mean);
    node("Neg", {mean}, out);
  }

  // The mean over the rows not ignored, as dagrad's; ONNX gives a scalar, dagrad a 1x1.
  void cross_entropy(const std::vector<std::string>& in, const CrossEntropyOptions& o, const std::string& out) {
    const std::string loss = helper(out, "loss");
    onnx::NodeProto& n = node("SoftmaxCrossEntropyLoss", {in[0], int_ids(in[1], out)}, loss);
    attr(n, "reduction", std::string("mean"));
    if (o.ignore_index) attr(n, "ignore_index", std::int64_t{*o.ignore_index});
    node("Reshape", {loss, ints(out, "shape", {1, 1})}, out);
  }

  void batch_norm(const std::vector<std::string>& in, const BatchNormOptions& o, Dim cols, const std::string& out) {
    const std::vector<std::int64_t> shape =
        o.image ? std::vector<std::int64_t>{-1, o.image->channels, o.image->height, o.image->width}
                : std::vector<std::int64_t>{-1, cols};
    std::vector<std::string> args{reshape(in[0], out, "nchw", shape)};
    const char* what[] = {"scale", "bias", "mean", "var"};
    for (std::size_t i = 1; i < 5; ++i) args.push_back(reshape(in[i], out, what[i - 1], {-1}));
    const std::string normalized = helper(out, "normalized");
    onnx::NodeProto& n = node("BatchNormalization", args, normalized);
    attr(n, "epsilon", static_cast<float>(o.eps));
    attr(n, "momentum", static_cast<float>(1 - o.momentum));  // ONNX's weighs the running value
    node("Reshape", {normalized, ints(out, "shape", {-1, cols})}, out);
  }

  void conv2d(const std::vector<std::string>& in, const Conv2dOptions& o, const std::string& out) {
    const ImageShape y = conv2d_output(o);
    const std::string x = reshape(in[0], out, "nchw", {-1, o.in.channels, o.in.height, o.in.width});
    const std::string w = reshape(in[1], out, "weights", {o.out_channels, o.in.channels, o.kernel, o.kernel});
    const std::string conv = helper(out, "conv");
    onnx::NodeProto& n = node("Conv", {x, w}, conv);
    attr(n, "kernel_shape", std::vector<std::int64_t>{o.kernel, o.kernel});
    attr(n, "strides", std::vector<std::int64_t>{o.stride, o.stride});
    attr(n, "pads", std::vector<std::int64_t>{o.padding, o.padding, o.padding, o.padding});
    node("Reshape", {conv, ints(out, "rows", {-1, y.channels * y.height * y.width})}, out);
  }

  void pool2d(const std::string& type, const std::string& in, const Pool2dOptions& o, const std::string& out) {
    const ImageShape y = pool2d_output(o);
    const std::int64_t stride = o.stride == 0 ? o.size : o.stride;
    const std::string x = reshape(in, out, "nchw", {-1, o.in.channels, o.in.height, o.in.width});
    const std::string pool = helper(out, "pool");
    onnx::NodeProto& n = node(type, {x}, pool);
    attr(n, "kernel_shape", std::vector<std::int64_t>{o.size, o.size});
    attr(n, "strides", std::vector<std::int64_t>{stride, stride});
    node("Reshape", {pool, ints(out, "rows", {-1, y.channels * y.height * y.width})}, out);
  }

  void add_channel_bias(const Call& c) {
    const Dim channels = graph_.info(c.info.inputs[1]).shape.cols, pixels = c.info.shape.cols / channels;
    const std::string x = reshape(c.in[0], c.out, "channels", {-1, channels, pixels});
    const std::string b = reshape(c.in[1], c.out, "bias", {1, channels, 1});
    const std::string sum = helper(c.out, "sum");
    node("Add", {x, b}, sum);
    node("Reshape", {sum, ints(c.out, "rows", {-1, channels * pixels})}, c.out);
  }

  void sum_channels(const Call& c, Dim channels) {
    const Dim pixels = graph_.info(c.info.inputs[0]).shape.cols / channels;
    const std::string x = reshape(c.in[0], c.out, "channels", {-1, channels, pixels});
    const std::string sums = helper(c.out, "sums");
    reduce("ReduceSum", x, {0, 2}, sums, false);
    node("Reshape", {sums, ints(c.out, "row", {1, channels})}, c.out);
  }

  void matmul(const Call& c) {
    const bool ta = c.a.flag("transpose_a"), tb = c.a.flag("transpose_b");
    if (!ta && !tb) {
      node("MatMul", c.in, c.out);
      return;
    }
    onnx::NodeProto& n = node("Gemm", c.in, c.out);
    attr(n, "transA", std::int64_t{ta});
    attr(n, "transB", std::int64_t{tb});
  }

  void mse_loss(const Call& c) {
    const std::string d = helper(c.out, "difference"), sq = helper(c.out, "squares");
    node("Sub", c.in, d);
    node("Mul", {d, d}, sq);
    reduce("ReduceMean", sq, {}, c.out);
  }

 public:
  // One row per op dagrad exports: the ONNX operators it becomes (docs/onnx.md's
  // table) and how, or no function where it is the one operator so named.
  struct Rule {
    std::string onnx;
    void (*emit)(Exporter&, Call&) = nullptr;
  };
  static const std::map<std::string, Rule, std::less<>>& rules() { return rule_table_; }

 private:
  static const std::map<std::string, Rule, std::less<>> rule_table_;

  const Graph& graph_;
  onnx::GraphProto& out_;
  std::set<std::string> names_;
  std::map<NodeId, std::string> tensors_;
};

// A table, not a function of the key: each op's row is read once, where the
// exporter meets a node of that op.
using E = Exporter;
const std::map<std::string, Exporter::Rule, std::less<>> Exporter::rule_table_ = {
    {"abs", {"Abs"}},
    {"add", {"Add"}},
    {"add_channel_bias", {"Reshape, Add, Reshape", [](E& e, Call& c) { e.add_channel_bias(c); }}},
    {"add_n", {"Sum"}},
    {"attention",
     {"Reshape, Transpose, Gather, MatMul, Mul, Add (the causal mask, an initializer), Softmax, MatMul, Transpose, "
      "Reshape",
      [](E& e, Call& c) { e.attention(c.in[0], detail::attention_options_of(c.a), c.info.shape.cols, c.out); }}},
    {"avg_pool2d",
     {"Reshape, AveragePool, Reshape",
      [](E& e, Call& c) { e.pool2d("AveragePool", c.in[0], detail::pool2d_options_of(c.a), c.out); }}},
    {"batch_norm",
     {"Reshape, BatchNormalization (inference: the running statistics), Reshape",
      [](E& e, Call& c) { e.batch_norm(c.in, detail::batch_norm_options_of(c.a), c.info.shape.cols, c.out); }}},
    {"binary_cross_entropy",
     {"Relu, Mul, Sub, Abs, Neg, Softplus, Add, ReduceMean", [](E& e, Call& c) { e.binary_cross_entropy(c.in, c.out); }}},
    {"broadcast", {"Shape, Expand", [](E& e, Call& c) { e.broadcast_or_zeros(true, c.in, c.out); }}},
    {"concat", {"Concat (axis 1)", [](E& e, Call& c) { attr(e.node("Concat", c.in, c.out), "axis", std::int64_t{1}); }}},
    {"conv2d",
     {"Reshape, Conv, Reshape (and Reshape of the weights)",
      [](E& e, Call& c) { e.conv2d(c.in, detail::conv2d_options_of(c.a), c.out); }}},
    {"cross_entropy",
     {"Cast (ids to int64), Reshape, SoftmaxCrossEntropyLoss (mean, ignore_index), Reshape",
      [](E& e, Call& c) { e.cross_entropy(c.in, detail::cross_entropy_options_of(c.a), c.out); }}},
    {"div", {"Div"}},
    {"dropout",
     {"Identity (inference: dropout is off)",
      [](E& e, Call& c) {
        e.node("Identity", c.in, c.out);
        c.a.real("rate");
        c.a.integer("seed");
      }}},
    {"embedding",
     {"Cast (ids to int64), Reshape, Gather (axis 0)",
      [](E& e, Call& c) {
        attr(e.node("Gather", {c.in[1], e.int_ids(c.in[0], c.out)}, c.out), "axis", std::int64_t{0});
      }}},
    {"exp", {"Exp"}},
    {"gelu",
     {"Mul, Erf, Add, Mul (exact); Mul, Add, Tanh, Mul (tanh form)",
      [](E& e, Call& c) { e.gelu(c.in[0], c.a.flag("approximate_tanh"), c.out); }}},
    {"identity", {"Identity"}},
    {"layer_norm",
     {"ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div, Mul, Add",
      [](E& e, Call& c) { e.layer_norm(c.in, c.a.real("eps"), c.out); }}},
    {"leaky_relu",
     {"LeakyRelu",
      [](E& e, Call& c) { attr(e.node("LeakyRelu", c.in, c.out), "alpha", static_cast<float>(c.a.real("slope"))); }}},
    {"log", {"Log"}},
    {"log_softmax",
     {"LogSoftmax (axis 1)", [](E& e, Call& c) { attr(e.node("LogSoftmax", c.in, c.out), "axis", std::int64_t{1}); }}},
    {"matmul", {"MatMul, or Gemm where an operand is transposed", [](E& e, Call& c) { e.matmul(c); }}},
    {"max_pool2d",
     {"Reshape, MaxPool, Reshape",
      [](E& e, Call& c) { e.pool2d("MaxPool", c.in[0], detail::pool2d_options_of(c.a), c.out); }}},
    {"mean", {"ReduceMean", [](E& e, Call& c) { e.reduce("ReduceMean", c.in[0], {}, c.out); }}},
    {"mse_loss", {"Sub, Mul, ReduceMean", [](E& e, Call& c) { e.mse_loss(c); }}},
    {"mul", {"Mul"}},
    {"pow",
     {"Pow (by a scalar initializer)",
      [](E& e, Call& c) { e.node("Pow", {c.in[0], e.scalar(c.out, "exponent", c.a.real("exponent"))}, c.out); }}},
    {"relu", {"Relu"}},
    {"rsqrt",
     {"Sqrt, Reciprocal",
      [](E& e, Call& c) {
        const std::string root = e.helper(c.out, "sqrt");
        e.node("Sqrt", c.in, root);
        e.node("Reciprocal", {root}, c.out);
      }}},
    {"scale",
     {"Mul (by a scalar initializer)",
      [](E& e, Call& c) { e.node("Mul", {c.in[0], e.scalar(c.out, "factor", c.a.real("factor"))}, c.out); }}},
    {"shift",
     {"Add (a scalar initializer)",
      [](E& e, Call& c) { e.node("Add", {c.in[0], e.scalar(c.out, "offset", c.a.real("offset"))}, c.out); }}},
    {"sigmoid", {"Sigmoid"}},
    {"sign", {"Sign"}},
    {"slice",
     {"Slice (axis 1)",
      [](E& e, Call& c) {
        const std::int64_t first = c.a.integer("first"), count = c.a.integer("count");
        e.node("Slice",
               {c.in[0], e.ints(c.out, "starts", {first}), e.ints(c.out, "ends", {first + count}),
                e.ints(c.out, "axes", {1})},
               c.out);
      }}},
    {"softmax",
     {"Softmax (axis 1)", [](E& e, Call& c) { attr(e.node("Softmax", c.in, c.out), "axis", std::int64_t{1}); }}},
    {"softmax_cross_entropy",
     {"LogSoftmax, Mul, ReduceSum, ReduceMean, Neg", [](E& e, Call& c) { e.softmax_cross_entropy(c.in, c.out); }}},
    {"sqrt", {"Sqrt"}},
    {"square", {"Mul (x by x)", [](E& e, Call& c) { e.node("Mul", {c.in[0], c.in[0]}, c.out); }}},
    {"sub", {"Sub"}},
    {"sum", {"ReduceSum", [](E& e, Call& c) { e.reduce("ReduceSum", c.in[0], {}, c.out); }}},
    {"sum_channels",
     {"Reshape, ReduceSum, Reshape", [](E& e, Call& c) { e.sum_channels(c, c.a.integer("channels")); }}},
    {"sum_cols", {"ReduceSum (axis 1)", [](E& e, Call& c) { e.reduce("ReduceSum", c.in[0], {1}, c.out); }}},
    {"sum_rows", {"ReduceSum (axis 0)", [](E& e, Call& c) { e.reduce("ReduceSum", c.in[0], {0}, c.out); }}},
    {"sum_squares", {"ReduceSumSquare", [](E& e, Call& c) { e.reduce("ReduceSumSquare", c.in[0], {}, c.out); }}},
    {"tanh", {"Tanh"}},
    {"transpose",
     {"Transpose",
      [](E& e, Call& c) { attr(e.node("Transpose", c.in, c.out), "perm", std::vector<std::int64_t>{1, 0}); }}},
    {"zeros_like", {"Shape, ConstantOfShape", [](E& e, Call& c) { e.broadcast_or_zeros(false, c.in, c.out); }}},
};

}  // namespace

void register_onnx_chain(std::string key, std::vector<std::string> operators) {
  if (operators.empty()) throw Error("register_onnx_chain: op '" + key + "' needs at least one ONNX operator");
  for (const std::string& op : operators) {
    if (op.empty()) throw Error("register_onnx_chain: op '" + key + "' has an empty ONNX operator name");
  }
  if (Exporter::rules().count(key)) {
    throw Error("register_onnx_chain: '" + key + "' is a dagrad op with its own ONNX operators");
  }
  UserChains& u = user_chains();
  std::lock_guard lock(u.mutex);
  if (!u.chains.emplace(key, std::move(operators)).second) {
    throw Error("register_onnx_chain: op '" + key + "' has its ONNX operators already");
  }
}

const std::vector<std::pair<std::string, std::string>>& onnx_operator_table() {
  static const std::vector<std::pair<std::string, std::string>> table = [] {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [key, rule] : Exporter::rules()) rows.emplace_back(key, rule.onnx);
    return rows;
  }();
  return table;
}

void export_onnx(const Graph& graph, const std::vector<Node>& outputs, const ParameterValues& parameters,
                 const std::string& path, const OnnxOptions& options) {
  if (outputs.empty()) throw Error("ONNX export to " + path + ": no outputs asked for");
  onnx::ModelProto model;
  model.set_ir_version(ir_version);
  model.set_producer_name("dagrad");
  model.set_producer_version(DAGRAD_VERSION);
  if (!options.doc.empty()) model.set_doc_string(options.doc);
  auto* op_set = model.add_opset_import();
  op_set->set_domain("");
  op_set->set_version(opset);
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(options.graph_name);
  Exporter exporter(graph, g);
  try {
    for (const Node& out : outputs) {
      graph.check_owns(out, "export_onnx");
      if (out.kind() != NodeKind::op) {
        throw Error("ONNX export: output '" + out.name() + "' is " + std::string(to_string(out.kind())) +
                    " node; outputs must be op nodes");
      }
      exporter.tensor(out.id(), parameters);
    }
    for (const Node& out : outputs) exporter.declare_output(out.id());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error(path + ": protobuf could not serialize the ONNX model");
  write_file_atomically(path, bytes);
}

template <class T>
void export_onnx(const Executor<T>& ex, const std::vector<Node>& outputs, const std::string& path,
                 const OnnxOptions& options) {
  Graph& g = ex.graph();
  ParameterValues values;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node n = g.node(id);
    if (n.kind() == NodeKind::parameter && ex.has_value(n)) values.emplace_back(n, ex.value(n).template cast<double>());
  }
  export_onnx(g, outputs, values, path, options);
}

template void export_onnx<float>(const Executor<float>&, const std::vector<Node>&, const std::string&,
                                 const OnnxOptions&);
template void export_onnx<double>(const Executor<double>&, const std::vector<Node>&, const std::string&,
                                  const OnnxOptions&);

}  // namespace dagrad
