#include <dagrad/autodiff.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

#include <algorithm>
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

}  // namespace

std::vector<Node> gradients(Node y, const std::vector<Node>& xs, GradientOptions options) {
  Graph& g = y.graph();
  if (!y.shape().is_scalar()) {
    throw GraphError("gradients: '" + y.name() + "' has shape " + to_string(y.shape()) +
                     "; the differentiated node must be 1x1 (a scalar loss)");
  }
  for (const Node& x : xs) g.check_owns(x, "gradients");

  std::vector<Node> result;
  for (const Node& x : xs) {
    if (auto cached = g.cached_gradient(y.id(), x.id())) result.push_back(g.node(*cached));
  }
  if (result.size() == xs.size()) return result;
  result.clear();

  // Node ids are a topological order (inputs are always built first), so one
  // sweep down from y finds y's ancestors and one sweep up finds the nodes
  // that depend on some x. Only nodes in both get gradients.
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
  auto relevant = [&](NodeId n) { return n < end && reaches_y[n] && from_x[n]; };

  for (const Node& x : xs) {
    if (!relevant(x.id()) && !options.allow_unconnected) {
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
    if (!relevant(n) || terms[n].empty()) continue;
    Node node = g.node(n);
    // A copy: building backward nodes grows the graph's storage.
    const NodeInfo info = g.info(n);
    auto in_scope = g.scope_path(info.scope);

    // Sum in a fixed order: by consumer in topological order, then position.
    auto& t = terms[n];
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
    total[n] = grad;

    if (info.kind != NodeKind::op) continue;
    std::vector<bool> needs(info.inputs.size());
    bool any = false;
    for (std::size_t i = 0; i < needs.size(); ++i) any |= (needs[i] = relevant(info.inputs[i]));
    if (!any) continue;

    std::vector<Node> input_grads = info.op->backward(GradContext(node, grad, needs));
    if (input_grads.size() != needs.size()) {
      throw GraphError(std::string(info.op->key()) + " node '" + info.name +
                       "': its gradient rule returned " + std::to_string(input_grads.size()) +
                       " gradients for " + std::to_string(needs.size()) + " inputs");
    }
    for (std::size_t i = 0; i < needs.size(); ++i) {
      if (!needs[i]) continue;
      const Node& ig = input_grads[i];
      const Node in = node.input(i);
      if (!ig.valid()) {
        throw GraphError(std::string(info.op->key()) + " node '" + info.name +
                         "' gave no gradient for its input '" + in.name() + "'");
      }
      const Shape want = in.shape(), got = ig.shape();
      if (want.known() && got.known() && !(want == got)) {
        throw ShapeError(std::string(info.op->key()) + " node '" + info.name +
                         "': gradient for input '" + in.name() + "' has shape " + to_string(got) +
                         ", expected " + to_string(want));
      }
      terms[in.id()].push_back({n, i, ig});
    }
  }

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
