// ONNX export (onnx.hpp) through Debian's libonnx-dev: its generated protobuf
// classes for onnx-ml.proto, so the bytes are protobuf's own serialization
// of the official schema. Each dagrad op node becomes one ONNX node, or a
// few around it (reshapes to NCHW and back); its output keeps the node's
// name, helper tensors get "<name>#<what>".
#include <dagrad/core/detail/class_ids.hpp>
#include <dagrad/core/detail/attention.hpp>
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
#include <set>

namespace dagrad {

namespace {

constexpr std::int64_t ir_version = 8;  // what Debian's onnx 1.12 checker and onnxruntime 1.20 take
constexpr std::int64_t opset = 13;

// Each mapped op key and the ONNX operators it becomes.
const std::map<std::string, std::string>& mapping() {
  static const std::map<std::string, std::string> m = {
      {"abs", "Abs"},
      {"add", "Add"},
      {"add_channel_bias", "Reshape, Add, Reshape"},
      {"add_n", "Sum"},
      {"attention", "Reshape, Transpose, Gather, MatMul, Mul, Add (the causal mask, an initializer), Softmax, "
                    "MatMul, Transpose, Reshape"},
      {"avg_pool2d", "Reshape, AveragePool, Reshape"},
      {"binary_cross_entropy", "Relu, Mul, Sub, Abs, Neg, Softplus, Add, ReduceMean"},
      {"broadcast", "Shape, Expand"},
      {"concat", "Concat (axis 1)"},
      {"conv2d", "Reshape, Conv, Reshape (and Reshape of the weights)"},
      {"cross_entropy", "Cast (ids to int64), Reshape, SoftmaxCrossEntropyLoss (mean, ignore_index), Reshape"},
      {"div", "Div"},
      {"dropout", "Identity (inference: dropout is off)"},
      {"embedding", "Cast (ids to int64), Reshape, Gather (axis 0)"},
      {"exp", "Exp"},
      {"gelu", "Mul, Erf, Add, Mul (exact); Mul, Add, Tanh, Mul (tanh form)"},
      {"identity", "Identity"},
      {"layer_norm", "ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div, Mul, Add"},
      {"leaky_relu", "LeakyRelu"},
      {"log", "Log"},
      {"log_softmax", "LogSoftmax (axis 1)"},
      {"matmul", "MatMul, or Gemm where an operand is transposed"},
      {"max_pool2d", "Reshape, MaxPool, Reshape"},
      {"mean", "ReduceMean"},
      {"mse_loss", "Sub, Mul, ReduceMean"},
      {"mul", "Mul"},
      {"pow", "Pow (by a scalar initializer)"},
      {"relu", "Relu"},
      {"rsqrt", "Sqrt, Reciprocal"},
      {"scale", "Mul (by a scalar initializer)"},
      {"shift", "Add (a scalar initializer)"},
      {"sigmoid", "Sigmoid"},
      {"sign", "Sign"},
      {"slice", "Slice (axis 1)"},
      {"softmax", "Softmax (axis 1)"},
      {"softmax_cross_entropy", "LogSoftmax, Mul, ReduceSum, ReduceMean, Neg"},
      {"sqrt", "Sqrt"},
      {"square", "Mul (x by x)"},
      {"sub", "Sub"},
      {"sum", "ReduceSum"},
      {"sum_channels", "Reshape, ReduceSum, Reshape"},
      {"sum_cols", "ReduceSum (axis 1)"},
      {"sum_rows", "ReduceSum (axis 0)"},
      {"sum_squares", "ReduceSumSquare"},
      {"tanh", "Tanh"},
      {"transpose", "Transpose"},
      {"zeros_like", "Shape, ConstantOfShape"},
  };
  return m;
}

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
        if (!mapping().count(key)) {
          throw Error("ONNX export: node '" + info.name + "' is a " + key +
                      ", which has no ONNX operator here (docs/onnx.md lists those that do)");
        }
        std::vector<std::string> in;
        // Dropout's step input only switches it off at inference: not exported.
        const std::size_t used = key == "dropout" ? 1 : info.inputs.size();
        for (std::size_t i = 0; i < used; ++i) in.push_back(tensor(info.inputs[i], values));
        emit(key, info, in, name);
        break;
      }
    }
    return tensors_.emplace(id, std::move(name)).first->second;
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

  void emit(const std::string& key, const NodeInfo& info, const std::vector<std::string>& in, const std::string& out) {
    AttributeReader a(info.op->attributes());
    static const std::map<std::string, std::string> same = {
        {"abs", "Abs"},         {"add", "Add"},   {"sub", "Sub"},   {"mul", "Mul"},        {"div", "Div"},
        {"exp", "Exp"},         {"log", "Log"},   {"sign", "Sign"}, {"sigmoid", "Sigmoid"}, {"relu", "Relu"},
        {"tanh", "Tanh"},       {"identity", "Identity"},           {"add_n", "Sum"},
        {"sqrt", "Sqrt"},
    };
    if (const auto it = same.find(key); it != same.end()) {
      node(it->second, in, out);
    } else if (key == "dropout") {
      node("Identity", in, out);
      a.real("rate");
      a.integer("seed");
    } else if (key == "rsqrt") {
      const std::string root = helper(out, "sqrt");
      node("Sqrt", in, root);
      node("Reciprocal", {root}, out);
    } else if (key == "pow") {
      node("Pow", {in[0], scalar(out, "exponent", a.real("exponent"))}, out);
    } else if (key == "gelu") {
      gelu(in[0], a.flag("approximate_tanh"), out);
    } else if (key == "embedding") {
      attr(node("Gather", {in[1], int_ids(in[0], out)}, out), "axis", std::int64_t{0});
    } else if (key == "layer_norm") {
      layer_norm(in, a.real("eps"), out);
    } else if (key == "cross_entropy") {
      // The mean over the rows not ignored, as dagrad's; ONNX gives a scalar, dagrad a 1x1.
      const CrossEntropyOptions o = detail::cross_entropy_options_of(a);
      const std::string loss = helper(out, "loss");
      onnx::NodeProto& n = node("SoftmaxCrossEntropyLoss", {in[0], int_ids(in[1], out)}, loss);
      attr(n, "reduction", std::string("mean"));
      if (o.ignore_index) attr(n, "ignore_index", std::int64_t{*o.ignore_index});
      node("Reshape", {loss, ints(out, "shape", {1, 1})}, out);
    } else if (key == "attention") {
      attention(in[0], detail::attention_options_of(a), info.shape.cols, out);
    } else if (key == "square") {
      node("Mul", {in[0], in[0]}, out);
    } else if (key == "scale") {
      node("Mul", {in[0], scalar(out, "factor", a.real("factor"))}, out);
    } else if (key == "shift") {
      node("Add", {in[0], scalar(out, "offset", a.real("offset"))}, out);
    } else if (key == "leaky_relu") {
      attr(node("LeakyRelu", in, out), "alpha", static_cast<float>(a.real("slope")));
    } else if (key == "matmul") {
      const bool ta = a.flag("transpose_a"), tb = a.flag("transpose_b");
      if (!ta && !tb) {
        node("MatMul", in, out);
      } else {
        onnx::NodeProto& n = node("Gemm", in, out);
        attr(n, "transA", std::int64_t{ta});
        attr(n, "transB", std::int64_t{tb});
      }
    } else if (key == "transpose") {
      attr(node("Transpose", in, out), "perm", std::vector<std::int64_t>{1, 0});
    } else if (key == "softmax" || key == "log_softmax") {
      attr(node(key == "softmax" ? "Softmax" : "LogSoftmax", in, out), "axis", std::int64_t{1});
    } else if (key == "concat") {
      attr(node("Concat", in, out), "axis", std::int64_t{1});
    } else if (key == "slice") {
      const std::int64_t first = a.integer("first"), count = a.integer("count");
      node("Slice", {in[0], ints(out, "starts", {first}), ints(out, "ends", {first + count}), ints(out, "axes", {1})},
           out);
    } else if (key == "sum") {
      reduce("ReduceSum", in[0], {}, out);
    } else if (key == "sum_rows") {
      reduce("ReduceSum", in[0], {0}, out);
    } else if (key == "sum_cols") {
      reduce("ReduceSum", in[0], {1}, out);
    } else if (key == "mean") {
      reduce("ReduceMean", in[0], {}, out);
    } else if (key == "sum_squares") {
      reduce("ReduceSumSquare", in[0], {}, out);
    } else if (key == "broadcast" || key == "zeros_like") {
      const std::string like = key == "broadcast" ? in[1] : in[0];
      const std::string shape = helper(out, "shape");
      node("Shape", {like}, shape);
      if (key == "broadcast") {
        node("Expand", {in[0], shape}, out);
      } else {
        onnx::NodeProto& n = node("ConstantOfShape", {shape}, out);
        auto* value = n.add_attribute();
        value->set_name("value");
        value->set_type(onnx::AttributeProto::TENSOR);
        value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
        value->mutable_t()->add_dims(1);
        value->mutable_t()->add_float_data(0.0f);
      }
    } else if (key == "mse_loss") {
      const std::string d = helper(out, "difference"), sq = helper(out, "squares");
      node("Sub", in, d);
      node("Mul", {d, d}, sq);
      reduce("ReduceMean", sq, {}, out);
    } else if (key == "binary_cross_entropy") {
      // max(x, 0) - x t + log(1 + e^-|x|), averaged: the op's own stable form.
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
    } else if (key == "softmax_cross_entropy") {
      // -(1/M) sum_ij t_ij log softmax(x)_ij: each row's sum, their mean, negated.
      const std::string ls = helper(out, "log_softmax"), prod = helper(out, "product"), rows = helper(out, "rows"),
                        mean = helper(out, "mean");
      attr(node("LogSoftmax", {in[0]}, ls), "axis", std::int64_t{1});
      node("Mul", {in[1], ls}, prod);
      reduce("ReduceSum", prod, {1}, rows);
      reduce("ReduceMean", rows, {0}, mean);
      node("Neg", {mean}, out);
    } else if (key == "conv2d") {
      const Conv2dOptions o = detail::conv2d_options_of(a);
      const ImageShape y = conv2d_output(o);
      const std::string x = reshape(in[0], out, "nchw", {-1, o.in.channels, o.in.height, o.in.width});
      const std::string w = reshape(in[1], out, "weights", {o.out_channels, o.in.channels, o.kernel, o.kernel});
      const std::string conv = helper(out, "conv");
      onnx::NodeProto& n = node("Conv", {x, w}, conv);
      attr(n, "kernel_shape", std::vector<std::int64_t>{o.kernel, o.kernel});
      attr(n, "strides", std::vector<std::int64_t>{o.stride, o.stride});
      attr(n, "pads", std::vector<std::int64_t>{o.padding, o.padding, o.padding, o.padding});
      node("Reshape", {conv, ints(out, "rows", {-1, y.channels * y.height * y.width})}, out);
    } else if (key == "max_pool2d" || key == "avg_pool2d") {
      const Pool2dOptions o = detail::pool2d_options_of(a);
      const ImageShape y = pool2d_output(o);
      const std::int64_t stride = o.stride == 0 ? o.size : o.stride;
      const std::string x = reshape(in[0], out, "nchw", {-1, o.in.channels, o.in.height, o.in.width});
      const std::string pool = helper(out, "pool");
      onnx::NodeProto& n = node(key == "max_pool2d" ? "MaxPool" : "AveragePool", {x}, pool);
      attr(n, "kernel_shape", std::vector<std::int64_t>{o.size, o.size});
      attr(n, "strides", std::vector<std::int64_t>{stride, stride});
      node("Reshape", {pool, ints(out, "rows", {-1, y.channels * y.height * y.width})}, out);
    } else if (key == "add_channel_bias") {
      const Dim channels = graph_.info(info.inputs[1]).shape.cols, pixels = info.shape.cols / channels;
      const std::string x = reshape(in[0], out, "channels", {-1, channels, pixels});
      const std::string b = reshape(in[1], out, "bias", {1, channels, 1});
      const std::string sum = helper(out, "sum");
      node("Add", {x, b}, sum);
      node("Reshape", {sum, ints(out, "rows", {-1, channels * pixels})}, out);
    } else if (key == "sum_channels") {
      const Dim channels = a.integer("channels"), pixels = graph_.info(info.inputs[0]).shape.cols / channels;
      const std::string x = reshape(in[0], out, "channels", {-1, channels, pixels});
      const std::string sums = helper(out, "sums");
      reduce("ReduceSum", x, {0, 2}, sums, false);
      node("Reshape", {sums, ints(out, "row", {1, channels})}, out);
    } else {
      throw Error("ONNX export: node '" + info.name + "' (" + key + ") has a mapping but no emitter");
    }
    a.finish();
  }

  const Graph& graph_;
  onnx::GraphProto& out_;
  std::set<std::string> names_;
  std::map<NodeId, std::string> tensors_;
};

}  // namespace

const std::vector<std::pair<std::string, std::string>>& onnx_operator_table() {
  static const std::vector<std::pair<std::string, std::string>> table(mapping().begin(), mapping().end());
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
