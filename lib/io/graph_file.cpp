// Whole-graph files (graph_file.hpp): the graph's nodes as records in the
// model file format's header (model_file.cpp encodes and checks the bytes),
// rebuilt on loading through each op's registry entry, so that every shape
// rule and attribute check runs again.
#include <dagrad/core/registry.hpp>
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/io/graph_file.hpp>

#include <dagrad/io/detail/model_file.hpp>

#include <map>
#include <utility>
#include <optional>
#include <set>
#include <string_view>

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

// Whether z's gradient reaches x unchanged: a chain of ops from x to z,
// each of x's shape, whose gradient rules hand their output's gradient node
// itself to the input the chain enters by (add and sub's first operand
// unbroadcast, add_n, add_channel_bias's input, identity, shift, a whole
// slice, strided_rows of stride 1). gradients() then keeps that node, which names z, as x's gradient.
bool passes_gradient_unchanged(const Graph& g, NodeId x, NodeId z) {
  static const std::set<std::string_view> any_input{"add",   "add_n",     "identity", "shift",
                                                    "slice", "broadcast", "strided_rows"};
  static const std::set<std::string_view> first_input{"sub", "add_channel_bias"};
  const Shape shape = g.info(x).shape;
  std::vector<NodeId> stack{z};
  std::set<NodeId> seen{z};
  while (!stack.empty()) {
    const NodeInfo& n = g.info(stack.back());
    stack.pop_back();
    if (n.kind != NodeKind::op || n.shape != shape) continue;
    const std::string_view key = n.op->key();
    const std::size_t inputs = any_input.count(key) ? n.inputs.size() : first_input.count(key) ? 1 : 0;
    for (std::size_t i = 0; i < inputs; ++i) {
      const NodeId in = n.inputs[i];
      if (in == x) return true;
      if (in > x && seen.insert(in).second) stack.push_back(in);
    }
  }
  return false;
}

// A cached-gradient record (y, x, grad) is what gradients(y, {x}) will hand
// out, and what an optimizer updates x with element by element, so it is
// trusted only as gradients() builds it: y is 1x1, grad has x's shape
// (Graph::cache_gradient checks both), is a backward node built after y and
// x, and holds x's gradient: its gradient link names x, or a node z whose
// gradient reaches x unchanged.
void cache_checked(Graph& g, const GradientRecord& m, std::size_t index, const std::string& name,
                   std::set<std::pair<NodeId, NodeId>>& seen) {
  const auto what = [&](NodeId id) { return "'" + g.info(id).name + "'"; };
  const std::string where = name + ": cached gradient " + std::to_string(index + 1) + " (d" + what(m.y) + " / d" +
                            what(m.x) + " = node " + std::to_string(m.grad) + " " + what(m.grad) + "): ";
  auto fail = [&](const std::string& problem) { throw DataError(where + problem); };
  if (!seen.emplace(m.y, m.x).second) fail("another record gives this gradient too");
  try {
    g.cache_gradient(m.y, m.x, m.grad);
  } catch (const Error& e) {
    fail(e.what());
  }
  const NodeInfo& grad = g.info(m.grad);
  if (grad.role != Role::backward) fail("the node is not a backward node");
  if (m.grad <= m.y || m.grad <= m.x) fail("the node is built before the nodes it differentiates");
  if (!grad.grad_of) fail("the node holds no node's gradient");
  const NodeId of = *grad.grad_of;
  if (of != m.x && !passes_gradient_unchanged(g, m.x, of)) {
    fail("the node holds the gradient of " + what(of) + ", not of " + what(m.x));
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
          if (!entry) {
            throw GraphError("op '" + n.op + "' is not one this dagrad has (an op of the program's own " +
                             "loads once register_op has added it)");
          }
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
      if (n.grad_of) {
        const Node of = nodes[n.grad_of - 1];
        if (kind != NodeKind::op && kind != NodeKind::constant) {
          throw GraphError(std::string(to_string(kind)) + " node cannot hold the gradient of '" + of.name() + "'");
        }
        if (n.role != static_cast<std::uint8_t>(Role::backward)) {
          throw GraphError("a forward node cannot hold the gradient of '" + of.name() + "'");
        }
        g.set_grad_of(node, of);
      }
      if (kind == NodeKind::parameter) out.parameters.emplace_back(node, values.at(n.name)->value);
      nodes.push_back(node);
    } catch (const DataError&) {
      throw;
    } catch (const Error& e) {
      throw DataError(where + ": " + e.what());
    }
  }
  std::set<std::pair<NodeId, NodeId>> seen;
  for (std::size_t i = 0; i < c.gradients.size(); ++i) cache_checked(g, c.gradients[i], i, name, seen);
  return out;
}

LoadedGraph load_graph(const std::string& path) { return parse_graph(read_file(path), path); }

template void save_graph<float>(const Executor<float>&, const std::string&);
template void save_graph<double>(const Executor<double>&, const std::string&);

}  // namespace dagrad
