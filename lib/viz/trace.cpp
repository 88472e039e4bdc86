#include <dagrad/core/op.hpp>
#include <dagrad/viz/trace.hpp>

#include <cstdio>
#include <string>

namespace dagrad {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace

std::string format_value(const Matrix<double>& value) {
  if (value.size() == 0) return "[]";
  if (value.size() == 1) return number(value(0, 0));
  if (value.size() <= max_listed_entries) {
    std::string s = "[";
    for (Eigen::Index r = 0; r < value.rows(); ++r) {
      if (r) s += "; ";
      for (Eigen::Index c = 0; c < value.cols(); ++c) {
        if (c) s += ' ';
        s += number(value(r, c));
      }
    }
    return s + "]";
  }
  return to_string(shape_of(value)) + " min " + number(value.minCoeff()) + " mean " +
         number(value.mean()) + " max " + number(value.maxCoeff());
}

std::vector<TraceLine> trace_lines(const Executor<double>& values, Node loss,
                                   const std::vector<Node>& grads) {
  Graph& g = values.graph();
  g.check_owns(loss, "trace");
  for (const Node& n : grads) g.check_owns(n, "trace");

  // Node ids are a topological order (a node's inputs are built before it),
  // and, for backward nodes, the order gradients() built them in: walking
  // down from the highest id marks every ancestor.
  std::vector<char> wanted(g.size(), 0);
  wanted[loss.id()] = 1;
  for (const Node& n : grads) wanted[n.id()] = 1;
  for (NodeId id = static_cast<NodeId>(g.size()); id-- > 0;) {
    if (!wanted[id]) continue;
    for (NodeId in : g.info(id).inputs) wanted[in] = 1;
  }

  auto line = [&](NodeId id) {
    const NodeInfo& info = g.info(id);
    std::string text = info.name + ' ';
    if (info.kind == NodeKind::op) {
      std::vector<std::string> args;
      for (NodeId in : info.inputs) args.push_back(g.info(in).name);
      text += "= " + info.op->expression(args) + ' ';
    } else {
      text += '(' + std::string(to_string(info.kind)) + ") ";
    }
    const Node node = g.node(id);
    if (values.value_reused(node)) {
      text += "(not fetched, its memory reused; fetch it or set ExecutorOptions::plan_memory = false)";
    } else if (values.has_value(node)) {
      text += "= " + format_value(values.value(node));
    } else if (info.kind == NodeKind::constant) {
      text += "= " + format_value(info.value);
    } else {
      text += "(not computed)";
    }
    return TraceLine{node, info.role, std::move(text)};
  };

  std::vector<TraceLine> out;
  for (Role role : {Role::forward, Role::backward}) {
    for (NodeId id = 0; id < g.size(); ++id) {
      if (wanted[id] && g.info(id).role == role) out.push_back(line(id));
    }
  }
  return out;
}

void trace(std::ostream& out, const Executor<double>& values, Node loss,
           const std::vector<Node>& grads) {
  const Graph& g = values.graph();
  const std::vector<TraceLine> lines = trace_lines(values, loss, grads);
  out << "forward pass:\n";
  for (const TraceLine& l : lines) {
    if (l.pass == Role::forward) out << l.text << '\n';
  }
  out << "backward pass:\n";
  for (const TraceLine& l : lines) {
    if (l.pass == Role::backward) out << l.text << '\n';
  }

  // A gradient that passed through an op unchanged (b in x @ w + b) is
  // another node's gradient node, so say which x each requested one is for.
  if (grads.empty()) return;
  out << "gradients:\n";
  for (const Node& grad : grads) {
    std::string of;
    for (NodeId x = 0; x < g.size(); ++x) {
      if (g.cached_gradient(loss.id(), x) == grad.id()) {
        of += (of.empty() ? "" : ", ") + std::string("dL/d(") + g.info(x).name + ")";
      }
    }
    out << (of.empty() ? grad.name() : of + " = " + grad.name()) << " = "
        << (values.value_reused(grad)  ? std::string("(not fetched, its memory reused)")
            : values.has_value(grad) ? format_value(values.value(grad))
                                     : std::string("(not computed)"))
        << '\n';
  }
}

}  // namespace dagrad
