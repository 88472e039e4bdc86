#include <dagrad/core/graph.hpp>
#include <dagrad/core/op.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

#include <iterator>
#include <map>
#include <unordered_map>
#include <utility>

namespace dagrad {

struct Graph::Impl {
  // Edges run from an input to the node consuming it; the inputs' order is
  // kept in NodeInfo::inputs, since a node may use one input twice.
  using Storage = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, NodeInfo>;
  Storage storage;
  std::unordered_map<std::string, NodeId> by_name;
  std::vector<std::string> scopes;
  Role role = Role::forward;
  std::map<std::pair<NodeId, NodeId>, NodeId> gradient_memo;
};

std::string_view to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::input: return "input";
    case NodeKind::parameter: return "parameter";
    case NodeKind::constant: return "constant";
    case NodeKind::op: return "op";
  }
  return "?";
}

Graph& Node::graph() const {
  if (!graph_) throw GraphError("use of an empty Node (it belongs to no graph)");
  return *graph_;
}
Shape Node::shape() const { return graph().info(id_).shape; }
std::string Node::name() const { return graph().info(id_).name; }
NodeKind Node::kind() const { return graph().info(id_).kind; }
const Op* Node::op() const { return graph().info(id_).op.get(); }
Node Node::input(std::size_t i) const { return Node(graph_, graph().info(id_).inputs.at(i)); }
std::size_t Node::num_inputs() const { return graph().info(id_).inputs.size(); }

Graph::Graph() : impl_(std::make_unique<Impl>()) {}
Graph::~Graph() = default;

std::size_t Graph::size() const { return boost::num_vertices(impl_->storage); }

const NodeInfo& Graph::info(NodeId id) const {
  if (id >= size()) throw GraphError("no node with index " + std::to_string(id) + " in this graph");
  return impl_->storage[id];
}

Node Graph::node(NodeId id) {
  info(id);
  return Node(this, id);
}

std::optional<Node> Graph::find(std::string_view name) {
  auto it = impl_->by_name.find(std::string(name));
  if (it == impl_->by_name.end()) return std::nullopt;
  return Node(this, it->second);
}

std::string Graph::current_scope() const {
  std::string s;
  for (const auto& part : impl_->scopes) {
    if (!s.empty()) s += '/';
    s += part;
  }
  return s;
}

std::string Graph::unique_name(std::string base) const {
  if (!impl_->by_name.count(base)) return base;
  for (std::size_t i = 1;; ++i) {
    std::string candidate = base + "_" + std::to_string(i);
    if (!impl_->by_name.count(candidate)) return candidate;
  }
}

NodeId Graph::add_node(NodeInfo info) {
  info.role = impl_->role;
  info.scope = current_scope();
  const NodeId id = static_cast<NodeId>(size());
  std::string base = info.name;
  if (base.empty()) {
    base = info.scope.empty() || info.kind != NodeKind::op
               ? "node_" + std::to_string(id)
               : std::string(info.op->key());
  }
  if (!info.scope.empty()) base = info.scope + "/" + base;
  if (info.kind == NodeKind::input || info.kind == NodeKind::parameter) {
    // Inputs and parameters are looked up by name (feeds, saved models).
    if (impl_->by_name.count(base)) {
      throw GraphError(std::string(to_string(info.kind)) + " name '" + base +
                       "' is already used by another node of this graph");
    }
  }
  info.name = unique_name(base);
  const auto v = boost::add_vertex(impl_->storage);
  for (NodeId in : info.inputs) boost::add_edge(in, v, impl_->storage);
  impl_->by_name.emplace(info.name, id);
  impl_->storage[v] = std::move(info);
  return id;
}

Node Graph::input(std::string name, Shape shape) {
  if (shape.cols == batch || shape.rows < batch || shape.cols < 0 || shape.rows == 0 ||
      shape.cols == 0) {
    throw ShapeError("input '" + name + "': shape " + to_string(shape) +
                     " is not allowed (rows may be batch, columns must be positive)");
  }
  return leaf(NodeKind::input, std::move(name), shape);
}

Node Graph::parameter(std::string name, Shape shape) {
  if (!shape.known() || shape.rows == 0 || shape.cols == 0) {
    throw ShapeError("parameter '" + name + "': shape " + to_string(shape) +
                     " must be fully known and non-empty");
  }
  return leaf(NodeKind::parameter, std::move(name), shape);
}

Node Graph::leaf(NodeKind kind, std::string name, Shape shape) {
  NodeInfo n;
  n.kind = kind;
  n.name = std::move(name);
  n.shape = shape;
  return Node(this, add_node(std::move(n)));
}

Node Graph::constant(Matrix<double> value, std::string name) {
  if (value.size() == 0) throw ShapeError("constant '" + name + "' is empty");
  NodeInfo n;
  n.kind = NodeKind::constant;
  n.name = std::move(name);
  n.shape = shape_of(value);
  n.value = std::move(value);
  return Node(this, add_node(std::move(n)));
}

void Graph::check_owns(Node n, std::string_view what) const {
  if (!n.valid()) throw GraphError(std::string(what) + ": an input is an empty Node");
  if (&n.graph() != this) {
    throw GraphError(std::string(what) + ": node '" + n.name() +
                     "' belongs to another graph; nodes of two graphs cannot be combined");
  }
}

Node Graph::apply(std::shared_ptr<const Op> op, const std::vector<Node>& inputs, std::string name) {
  std::vector<Shape> shapes;
  std::vector<NodeId> ids;
  for (const Node& in : inputs) {
    check_owns(in, op->key());
    shapes.push_back(in.shape());
    ids.push_back(in.id());
  }
  Shape out;
  try {
    out = op->infer(shapes);
  } catch (const ShapeError& e) {
    std::string msg(op->key());
    msg += ": ";
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (i) msg += i + 1 == inputs.size() ? " and " : ", ";
      msg += "'" + inputs[i].name() + "' (" + to_string(shapes[i]) + ")";
    }
    msg += " do not fit: ";
    msg += e.what();
    throw ShapeError(msg);
  }
  NodeInfo n;
  n.kind = NodeKind::op;
  n.name = std::move(name);
  n.shape = out;
  n.op = std::move(op);
  n.inputs = std::move(ids);
  return Node(this, add_node(std::move(n)));
}

void Graph::rename(Node n, std::string name) {
  check_owns(n, "rename");
  NodeInfo& info = impl_->storage[n.id()];
  if (info.name == name) return;
  impl_->by_name.erase(info.name);
  info.name = unique_name(std::move(name));
  impl_->by_name.emplace(info.name, n.id());
}

namespace {

// A gradient has its variable's shape; an open batch dimension on either
// side matches any row count, as gradients() compares them.
bool gradient_fits(Shape grad, Shape of) {
  return grad.cols == of.cols && (grad.rows == of.rows || grad.rows == batch || of.rows == batch);
}

}  // namespace

void Graph::set_grad_of(Node grad, Node of) {
  check_owns(grad, "set_grad_of");
  check_owns(of, "set_grad_of");
  if (!gradient_fits(grad.shape(), of.shape())) {
    throw ShapeError("set_grad_of: '" + grad.name() + "' (" + to_string(grad.shape()) +
                     ") cannot hold the gradient of '" + of.name() + "' (" + to_string(of.shape()) + ")");
  }
  impl_->storage[grad.id()].grad_of = of.id();
}

Graph::ScopeGuard Graph::scope(std::string name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    throw GraphError("scope name '" + name + "' must be non-empty and contain no '/'");
  }
  ScopeGuard guard(this, impl_->scopes);
  impl_->scopes.push_back(std::move(name));
  return guard;
}

Graph::ScopeGuard Graph::scope_path(const std::string& path) {
  ScopeGuard guard(this, impl_->scopes);
  impl_->scopes.clear();
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) impl_->scopes.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return guard;
}

Graph::ScopeGuard::ScopeGuard(ScopeGuard&& other) noexcept
    : graph_(std::exchange(other.graph_, nullptr)), saved_(std::move(other.saved_)) {}

Graph::ScopeGuard::~ScopeGuard() {
  if (graph_) graph_->impl_->scopes = std::move(saved_);
}

Graph::RoleGuard Graph::role(Role r) {
  Role previous = impl_->role;
  impl_->role = r;
  return RoleGuard(this, previous);
}

Graph::RoleGuard::~RoleGuard() { graph_->impl_->role = previous_; }

std::vector<NodeId> Graph::topological_order() const {
  std::vector<Impl::Storage::vertex_descriptor> reversed;
  reversed.reserve(size());
  boost::topological_sort(impl_->storage, std::back_inserter(reversed));
  return std::vector<NodeId>(reversed.rbegin(), reversed.rend());
}

std::optional<NodeId> Graph::cached_gradient(NodeId y, NodeId x) const {
  auto it = impl_->gradient_memo.find({y, x});
  if (it == impl_->gradient_memo.end()) return std::nullopt;
  return it->second;
}

void Graph::cache_gradient(NodeId y, NodeId x, NodeId grad) {
  // What gradients() later hands out as dy/dx must be a node of x's shape:
  // an optimizer updates x with it element by element.
  for (NodeId id : {y, x, grad}) {
    if (id >= size()) {
      throw GraphError("cache_gradient: node " + std::to_string(id) + " is past the graph's " +
                       std::to_string(size()) + " nodes");
    }
  }
  const NodeInfo &yi = info(y), &xi = info(x), &gi = info(grad);
  if (!yi.shape.is_scalar()) {
    throw ShapeError("cache_gradient: '" + yi.name + "' has shape " + to_string(yi.shape) +
                     "; only a 1x1 node has gradients");
  }
  if (!gradient_fits(gi.shape, xi.shape)) {
    throw ShapeError("cache_gradient: '" + gi.name + "' is " + to_string(gi.shape) + ", but the gradient of '" +
                     xi.name + "' must be " + to_string(xi.shape));
  }
  impl_->gradient_memo[{y, x}] = grad;
}

std::vector<Graph::CachedGradient> Graph::cached_gradients() const {
  std::vector<CachedGradient> all;
  all.reserve(impl_->gradient_memo.size());
  for (const auto& [key, grad] : impl_->gradient_memo) all.push_back({key.first, key.second, grad});
  return all;
}

}  // namespace dagrad
