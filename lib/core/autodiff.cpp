// The reverse-mode pass: seed dL/dL = 1, then walk the nodes between the xs
// and y from y down, summing each node's incoming terms and asking its op's
// gradient rule for its inputs' terms. Every node it builds joins y's graph.
#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>
#include <optional>
#include <tuple>

namespace dagrad {

namespace {

// One term of dL/dn: consumer's id and the input position it arrived through.
struct Contribution {
  NodeId consumer;
  std::size_t position;
  Node grad;
};

std::string grad_name(const Node& n) { return "grad(" + n.name() + ")"; }

void check_arguments(Graph& g, Node y, const std::vector<Node>& xs) {
  if (!y.shape().is_scalar()) {
    throw GraphError("gradients: '" + y.name() + "' has shape " + to_string(y.shape()) +
                     "; the differentiated node must be 1x1 (a scalar loss)");
  }
  for (const Node& x : xs) g.check_owns(x, "gradients");
}

// All of xs' gradients when earlier calls built every one of them.
std::optional<std::vector<Node>> all_cached(Graph& g, Node y, const std::vector<Node>& xs) {
  std::vector<Node> result;
  for (const Node& x : xs) {
    auto cached = g.cached_gradient(y.id(), x.id());
    if (!cached) return std::nullopt;
    result.push_back(g.node(*cached));
  }
  return result;
}

// The nodes on some path from an x to y: those get gradients. Node ids are a
// topological order (inputs are always built first), so one sweep down from
// y finds y's ancestors and one sweep up finds the nodes that depend on an x.
std::vector<char> nodes_between(const Graph& g, Node y, const std::vector<Node>& xs) {
  const NodeId end = y.id() + 1;
  std::vector<char> reaches_y(end, 0), from_x(end, 0);
  reaches_y[y.id()] = 1;
  for (NodeId n = end; n-- > 0;) {
    if (!reaches_y[n]) continue;
    for (NodeId in : g.info(n).inputs) reaches_y[in] = 1;
  }
  for (const Node& x : xs) {
    if (x.id() < end) from_x[x.id()] = 1;
  }
  for (NodeId n = 0; n < end; ++n) {
    if (from_x[n]) continue;
    for (NodeId in : g.info(n).inputs) {
      if (from_x[in]) {
        from_x[n] = 1;
        break;
      }
    }
  }
  for (NodeId n = 0; n < end; ++n) reaches_y[n] = reaches_y[n] && from_x[n];
  return reaches_y;
}

// dL/dn from its terms, summed in a fixed order (by consumer in topological
// order, then input position) so the sum is the same whatever built it.
Node sum_terms(Graph& g, Node node, std::vector<Contribution>& t) {
  std::sort(t.begin(), t.end(), [](const Contribution& a, const Contribution& b) {
    return std::tie(a.consumer, a.position) < std::tie(b.consumer, b.position);
  });
  Node grad;
  if (t.size() == 1) {
    grad = t[0].grad;
  } else {
    std::vector<Node> parts;
    for (const auto& c : t) parts.push_back(c.grad);
    grad = add_n(parts);
  }
  if (!g.info(grad.id()).grad_of && g.info(grad.id()).role == Role::backward) {
    g.rename(grad, grad_name(node));
    g.set_grad_of(grad, node);
  }
  return grad;
}

// Asks the op's gradient rule for its inputs' terms and checks what it gives
// (one valid node per needed input, of that input's shape).
void propagate(const NodeInfo& info, Node node, Node grad, const std::vector<char>& relevant,
               std::vector<std::vector<Contribution>>& terms) {
  std::vector<bool> needs(info.inputs.size());
  bool any = false;
  for (std::size_t i = 0; i < needs.size(); ++i) any |= (needs[i] = relevant[info.inputs[i]] != 0);
  if (!any) return;

  std::vector<Node> input_grads = info.op->backward(GradContext(node, grad, needs));
  if (input_grads.size() != needs.size()) {
    throw GraphError(std::string(info.op->key()) + " node '" + info.name + "': its gradient rule returned " +
                     std::to_string(input_grads.size()) + " gradients for " + std::to_string(needs.size()) +
                     " inputs");
  }
  for (std::size_t i = 0; i < needs.size(); ++i) {
    if (!needs[i]) continue;
    const Node& ig = input_grads[i];
    const Node in = node.input(i);
    if (!ig.valid()) {
      throw GraphError(std::string(info.op->key()) + " node '" + info.name + "' gave no gradient for its input '" +
                       in.name() + "'");
    }
    const Shape want = in.shape(), got = ig.shape();
    if (want.known() && got.known() && !(want == got)) {
      throw ShapeError(std::string(info.op->key()) + " node '" + info.name + "': gradient for input '" +
                       in.name() + "' has shape " + to_string(got) + ", expected " + to_string(want));
    }
    terms[in.id()].push_back({node.id(), i, ig});
  }
}

}  // namespace

std::vector<Node> gradients(Node y, const std::vector<Node>& xs, GradientOptions options) {
  Graph& g = y.graph();
  check_arguments(g, y, xs);
  if (auto cached = all_cached(g, y, xs)) return *cached;

  const NodeId end = y.id() + 1;
  const std::vector<char> relevant = nodes_between(g, y, xs);
  for (const Node& x : xs) {
    if ((x.id() >= end || !relevant[x.id()]) && !options.allow_unconnected) {
      throw GraphError("gradients: '" + x.name() + "' does not reach '" + y.name() +
                       "': no path from it to the differentiated node (pass "
                       "GradientOptions{.allow_unconnected = true} to get zeros)");
    }
  }

  auto backward_role = g.role(Role::backward);
  std::vector<std::vector<Contribution>> terms(end);
  std::vector<Node> total(end);
  {
    Matrix<double> one(1, 1);
    one(0, 0) = 1.0;
    auto in_scope = g.scope_path(g.info(y.id()).scope);
    Node seed = g.constant(std::move(one));
    g.rename(seed, grad_name(y));  // "grad(loss/total)", not prefixed by the scope again
    g.set_grad_of(seed, y);
    terms[y.id()].push_back({end, 0, seed});
  }

  for (NodeId n = end; n-- > 0;) {
    if (!relevant[n] || terms[n].empty()) continue;
    Node node = g.node(n);
    // A copy: building backward nodes grows the graph's storage.
    const NodeInfo info = g.info(n);
    auto in_scope = g.scope_path(info.scope);
    total[n] = sum_terms(g, node, terms[n]);
    if (info.kind == NodeKind::op) propagate(info, node, total[n], relevant, terms);
  }

  std::vector<Node> result;
  for (const Node& x : xs) {
    Node gx;
    if (x.id() < end && total[x.id()].valid()) {
      gx = total[x.id()];
    } else {
      auto in_scope = g.scope_path(g.info(x.id()).scope);
      gx = zeros_like(x);
      g.rename(gx, grad_name(x));
      g.set_grad_of(gx, x);
    }
    g.cache_gradient(y.id(), x.id(), gx.id());
    result.push_back(gx);
  }
  return result;
}

}  // namespace dagrad
