// ONNX export (onnx.hpp) through Debian's libonnx-dev: its generated protobuf
// classes for onnx-ml.proto, so the bytes are protobuf's own serialization
// of the official schema. Each dagrad op node becomes the ONNX nodes its
// op's file describes (OpEntry::onnx, dagrad/core/onnx_form.hpp): one of
// the same meaning, or a few (reshapes to NCHW and back, a composition);
// its output keeps the node's name, helper tensors get "<name>#<what>".
#include <dagrad/core/onnx_form.hpp>
#include <dagrad/core/registry.hpp>
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/onnx/export.hpp>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <deque>
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

// A protobuf node's attributes (OnnxNode).
class ProtoNode final : public OnnxNode {
 public:
  explicit ProtoNode(onnx::NodeProto& n) : n_(n) {}
  OnnxNode& attr(const std::string& name, std::int64_t v) override {
    add(name, onnx::AttributeProto::INT)->set_i(v);
    return *this;
  }
  OnnxNode& attr(const std::string& name, float v) override {
    add(name, onnx::AttributeProto::FLOAT)->set_f(v);
    return *this;
  }
  OnnxNode& attr(const std::string& name, const std::string& v) override {
    add(name, onnx::AttributeProto::STRING)->set_s(v);
    return *this;
  }
  OnnxNode& attr(const std::string& name, const std::vector<std::int64_t>& v) override {
    auto* a = add(name, onnx::AttributeProto::INTS);
    for (std::int64_t x : v) a->add_ints(x);
    return *this;
  }
  OnnxNode& tensor_attr(const std::string& name, float v) override {
    auto* t = add(name, onnx::AttributeProto::TENSOR)->mutable_t();
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(1);
    t->add_float_data(v);
    return *this;
  }

 private:
  onnx::AttributeProto* add(const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = n_.add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }
  onnx::NodeProto& n_;
};

// The graph being written: tensor names, initializers and nodes.
class Model {
 public:
  explicit Model(onnx::GraphProto& out) : out_(out) {}

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
  void input(const std::string& name, Shape shape) { value_info(*out_.add_input(), name, shape); }
  void output(const std::string& name, Shape shape) { value_info(*out_.add_output(), name, shape); }

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
  // A 1-D list, or with `dims` false a 0-d int64 of v's one value.
  std::string ints(const std::string& base, const std::string& what, const std::vector<std::int64_t>& v,
                   bool dims = true) {
    const std::string name = helper(base, what);
    onnx::TensorProto& t = *out_.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    if (dims) t.add_dims(static_cast<std::int64_t>(v.size()));
    for (std::int64_t x : v) t.add_int64_data(x);
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

 private:
  onnx::GraphProto& out_;
  std::set<std::string> names_;
};

// One dagrad node as its op's file writes it (OnnxWriter).
class NodeWriter final : public OnnxWriter {
 public:
  NodeWriter(Model& model, const Graph& graph, const NodeInfo& info, const std::vector<std::string>& in,
             const std::string& out)
      : model_(model), graph_(graph), info_(info), in_(in), out_(out), attributes_(info.op->attributes()) {}

  const std::vector<std::string>& in() const override { return in_; }
  const std::string& out() const override { return out_; }
  Shape input_shape(std::size_t i) const override { return graph_.info(info_.inputs.at(i)).shape; }
  Shape shape() const override { return info_.shape; }
  AttributeReader& attributes() override { return attributes_; }

  OnnxNode& node(const std::string& type, const std::vector<std::string>& in, const std::string& out) override {
    return nodes_.emplace_back(model_.node(type, in, out));
  }
  std::string helper(const std::string& base, const std::string& what) override { return model_.helper(base, what); }
  std::string scalar(const std::string& base, const std::string& what, double value) override {
    return model_.scalar(base, what, value);
  }
  std::string ints(const std::string& base, const std::string& what, const std::vector<std::int64_t>& v) override {
    return model_.ints(base, what, v);
  }
  std::string index(const std::string& base, const std::string& what, std::int64_t value) override {
    return model_.ints(base, what, {value}, false);
  }
  std::string matrix(const std::string& base, const std::string& what, const Matrix<double>& value) override {
    const std::string name = model_.helper(base, what);
    model_.initializer(name, value);
    return name;
  }

 private:
  Model& model_;
  const Graph& graph_;
  const NodeInfo& info_;
  const std::vector<std::string>& in_;
  const std::string& out_;
  AttributeReader attributes_;
  std::deque<ProtoNode> nodes_;  // the handles node() gave out, kept in place
};

class Exporter {
 public:
  Exporter(const Graph& graph, onnx::GraphProto& out) : graph_(graph), model_(out) {}

  // The tensor that holds node id's value, emitting what it needs first.
  const std::string& tensor(NodeId id, const ParameterValues& values) {
    if (const auto it = tensors_.find(id); it != tensors_.end()) return it->second;
    const NodeInfo& info = graph_.info(id);
    std::string name = model_.claim(info.name);
    switch (info.kind) {
      case NodeKind::input: model_.input(name, info.shape); break;
      case NodeKind::parameter: {
        const auto v = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first.id() == id; });
        if (v == values.end()) throw Error("ONNX export: parameter '" + info.name + "' has no value");
        model_.initializer(name, v->second);
        break;
      }
      case NodeKind::constant: model_.initializer(name, info.value); break;
      case NodeKind::op: op(info, values, name); break;
    }
    return tensors_.emplace(id, std::move(name)).first->second;
  }

  void declare_output(NodeId id) { model_.output(tensors_.at(id), graph_.info(id).shape); }

 private:
  // An op node as its op's file says (OpEntry::onnx), or as the chain
  // register_onnx_chain gave a program's own op.
  void op(const NodeInfo& info, const ParameterValues& values, const std::string& name) {
    const std::string key(info.op->key());
    if (info.role == Role::backward) {
      throw Error("ONNX export: node '" + info.name + "' (" + key + ") is a backward node; export the forward outputs");
    }
    const OpEntry* entry = find_op(key);
    if (!entry || entry->onnx.operators.empty()) {
      if (auto chain = user_chain(key)) {
        emit_chain(*chain, info, values, name);
        return;
      }
      throw Error("ONNX export: node '" + info.name + "' is a " + key +
                  ", which has no ONNX operator here (docs/onnx.md lists those that do; "
                  "register_onnx_chain maps an op of the program's own)");
    }
    std::vector<std::string> in;
    const std::size_t used = std::min(entry->onnx.inputs, info.inputs.size());
    for (std::size_t i = 0; i < used; ++i) in.push_back(tensor(info.inputs[i], values));
    NodeWriter writer(model_, graph_, info, in, name);
    if (entry->onnx.write) {
      entry->onnx.write(writer);
    } else {
      model_.node(entry->onnx.operators, in, name);  // one ONNX operator of the same meaning
    }
    writer.attributes().finish();
  }

  // A user's op as its chain of ONNX operators: the first on the node's
  // inputs, each next on the one before's output, the last named `name`.
  void emit_chain(const std::vector<std::string>& chain, const NodeInfo& info, const ParameterValues& values,
                  const std::string& name) {
    std::vector<std::string> in;
    for (NodeId i : info.inputs) in.push_back(tensor(i, values));
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const std::string out = k + 1 == chain.size() ? name : model_.helper(name, chain[k]);
      model_.node(chain[k], in, out);
      in = {out};
    }
  }

  const Graph& graph_;
  Model model_;
  std::map<NodeId, std::string> tensors_;
};

}  // namespace

void register_onnx_chain(std::string key, std::vector<std::string> operators) {
  if (operators.empty()) throw Error("register_onnx_chain: op '" + key + "' needs at least one ONNX operator");
  for (const std::string& op : operators) {
    if (op.empty()) throw Error("register_onnx_chain: op '" + key + "' has an empty ONNX operator name");
  }
  if (const OpEntry* entry = find_op(key); entry && !entry->onnx.operators.empty()) {
    const auto& built_in = op_registry();
    const bool ours = std::any_of(built_in.begin(), built_in.end(), [&](const OpEntry& e) { return e.key == key; });
    throw Error("register_onnx_chain: '" + key +
                (ours ? "' is a dagrad op with its own ONNX operators" : "' has ONNX operators in its registry entry"));
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
    for (const OpEntry& entry : op_registry()) {
      if (!entry.onnx.operators.empty()) rows.emplace_back(entry.key, entry.onnx.operators);
    }
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
