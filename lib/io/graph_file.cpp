// Whole-graph files (graph_file.hpp): the graph's nodes as records in the
// model file format's header (model_file.cpp encodes and checks the bytes),
// rebuilt on loading through each op's registry entry, so that every shape
// rule and attribute check runs again.
#include <dagrad/core/registry.hpp>
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/io/graph_file.hpp>

#include <dagrad/io/detail/model_file.hpp>

#include <map>
#include <optional>
#include <set>

namespace dagrad {

using namespace model_file_detail;

template <class T>
void save_graph(const Executor<T>& ex, const std::string& path) {
  Graph& g = ex.graph();
  Contents c;
  c.kind = kind_graph;
  c.nodes.reserve(g.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    const NodeInfo& info = g.info(id);
    NodeRecord n{.kind = static_cast<std::uint8_t>(info.kind),
                 .role = static_cast<std::uint8_t>(info.role),
                 .name = info.name,
                 .scope = info.scope,
                 .rows = info.shape.rows,
                 .cols = info.shape.cols};
    if (info.op) {
      n.op = std::string(info.op->key());
      n.attributes = info.op->attributes();
    }
    n.inputs.assign(info.inputs.begin(), info.inputs.end());
    n.grad_of = info.grad_of ? *info.grad_of + 1 : 0;
    c.nodes.push_back(std::move(n));
    if (info.kind == NodeKind::parameter) {
      const Node p = g.node(id);
      if (!ex.has_value(p)) {
        throw Error(path + ": parameter '" + info.name + "' has no value yet; set it before saving the graph");
      }
      c.tensors.push_back({info.name, ex.value(p).template cast<double>()});
    } else if (info.kind == NodeKind::constant) {
      c.tensors.push_back({info.name, info.value});
    }
  }
  for (const Graph::CachedGradient& m : g.cached_gradients()) c.gradients.push_back({m.y, m.x, m.grad});
  write_file_atomically(path, encode(c));
}

namespace {

// The checks on what the records mean, before anything is built.
void check_records(const Contents& c, const std::string& name, std::map<std::string, const Tensor*>& values) {
  auto fail = [&](std::size_t id, const std::string& problem) {
    throw DataError(name + ": node " + std::to_string(id) + " '" + c.nodes[id].name + "': " + problem);
  };
  for (const Tensor& t : c.tensors) {
    if (!values.emplace(t.name, &t).second) throw DataError(name + ": tensor '" + t.name + "' appears twice");
  }
  std::set<std::string> names;
  std::size_t valued = 0;
  for (std::size_t id = 0; id < c.nodes.size(); ++id) {
    const NodeRecord& n = c.nodes[id];
    const auto kind = static_cast<NodeKind>(n.kind);
    if (n.name.empty()) fail(id, "the name is empty");
    if (!names.insert(n.name).second) fail(id, "another node has this name");
    if ((kind == NodeKind::op) == n.op.empty()) {
      fail(id, kind == NodeKind::op ? "an op node without an op" : std::string(to_string(kind)) + " node with an op");
    }
    if (kind != NodeKind::op && (!n.inputs.empty() || !n.attributes.empty())) {
      fail(id, std::string(to_string(kind)) + " node with inputs or attributes");
    }
    if (n.rows < batch || n.rows == 0 || n.cols < 1) {
      fail(id, "the shape " + to_string(Shape{n.rows, n.cols}) + " is not a node's");
    }
    if (kind != NodeKind::parameter && kind != NodeKind::constant) continue;
    const auto it = values.find(n.name);
    if (it == values.end()) fail(id, "the file holds no value for this " + std::string(to_string(kind)));
    const Matrix<double>& v = it->second->value;
    if (v.rows() != n.rows || v.cols() != n.cols) {
      fail(id, "the value is " + shape_text(std::uint64_t(v.rows()), std::uint64_t(v.cols())) + " but the node is " +
                   to_string(Shape{n.rows, n.cols}));
    }
    if (std::size_t r, k; !all_finite(v, r, k)) {
      fail(id, "the value at row " + std::to_string(r) + ", column " + std::to_string(k) + " is not finite");
    }
    ++valued;
  }
  if (valued != values.size()) {
    for (const Tensor& t : c.tensors) {
      if (!names.count(t.name)) throw DataError(name + ": tensor '" + t.name + "' is the value of no node");
    }
    throw DataError(name + ": a tensor is the value of a node that is neither a parameter nor a constant");
  }
}

}  // namespace

LoadedGraph parse_graph(std::span<const std::uint8_t> bytes, const std::string& name) {
  const Contents c = decode(bytes, name, kind_graph);
  std::map<std::string, const Tensor*> values;
  check_records(c, name, values);

  LoadedGraph out;
  out.graph = std::make_unique<Graph>();
  Graph& g = *out.graph;
  std::vector<Node> nodes;
  nodes.reserve(c.nodes.size());
  for (std::size_t id = 0; id < c.nodes.size(); ++id) {
    const NodeRecord& n = c.nodes[id];
    const auto kind = static_cast<NodeKind>(n.kind);
    const Shape shape{n.rows, n.cols};
    std::string where = name + ": node " + std::to_string(id) + " '" + n.name + "'";
    if (kind == NodeKind::op) where += " (" + n.op + ")";
    try {
      const auto scope = g.scope_path(n.scope);
      const auto role = g.role(static_cast<Role>(n.role));
      // Built under its scope, a leaf is named by the rest of its name.
      const std::string prefix = n.scope.empty() ? "" : n.scope + "/";
      const std::string leaf = n.name.starts_with(prefix) ? n.name.substr(prefix.size()) : n.name;
      Node node;
      switch (kind) {
        case NodeKind::input: node = g.input(leaf, shape); break;
        case NodeKind::parameter: node = g.parameter(leaf, shape); break;
        case NodeKind::constant: node = g.constant(values.at(n.name)->value, leaf); break;
        case NodeKind::op: {
          const OpEntry* entry = find_op(n.op);
          if (!entry) throw GraphError("op '" + n.op + "' is not one this dagrad has");
          std::vector<Node> inputs;
          for (std::uint32_t i : n.inputs) inputs.push_back(nodes[i]);
          AttributeReader attributes(n.attributes);
          node = entry->rebuild(inputs, attributes);
          attributes.finish();
          break;
        }
      }
      if (node.id() != id) throw GraphError("building it added other nodes too");
      g.rename(node, n.name);
      if (node.name() != n.name) throw GraphError("the name is taken");
      if (node.shape() != shape) {
        throw GraphError("the op gives the shape " + to_string(node.shape()) + " but the file records " +
                         to_string(shape));
      }
      if (n.grad_of) g.set_grad_of(node, nodes[n.grad_of - 1]);
      if (kind == NodeKind::parameter) out.parameters.emplace_back(node, values.at(n.name)->value);
      nodes.push_back(node);
    } catch (const DataError&) {
      throw;
    } catch (const Error& e) {
      throw DataError(where + ": " + e.what());
    }
  }
  for (const GradientRecord& m : c.gradients) g.cache_gradient(m.y, m.x, m.grad);
  return out;
}

LoadedGraph load_graph(const std::string& path) { return parse_graph(read_file(path), path); }

template void save_graph<float>(const Executor<float>&, const std::string&);
template void save_graph<double>(const Executor<double>&, const std::string&);

}  // namespace dagrad
