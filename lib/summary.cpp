#include <dagrad/op.hpp>
#include <dagrad/summary.hpp>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>

namespace dagrad {

std::string graph_summary(const Graph& graph) {
  std::ostringstream inputs, parameters;
  std::size_t input_count = 0, parameter_tensors = 0, constants = 0;
  std::int64_t total = 0;
  // Ordered maps: the listing reads alphabetically and never depends on hashing.
  std::map<std::string, std::size_t> forward_ops, backward_ops;
  for (NodeId id = 0; id < graph.size(); ++id) {
    const NodeInfo& n = graph.info(id);
    switch (n.kind) {
      case NodeKind::input:
        ++input_count;
        inputs << "  " << n.name << "  " << to_string(n.shape) << "\n";
        break;
      case NodeKind::parameter:
        ++parameter_tensors;
        total += n.shape.size();
        parameters << "  " << n.name << "  " << to_string(n.shape) << "  " << n.shape.size() << "\n";
        break;
      case NodeKind::constant:
        ++constants;
        break;
      case NodeKind::op:
        ++(n.role == Role::forward ? forward_ops : backward_ops)[std::string(n.op->key())];
        break;
    }
  }
  std::ostringstream s;
  s << "Graph of " << graph.size() << " nodes\n\nInputs (fed at run time): " << input_count << "\n"
    << inputs.str() << "\nParameters (learned by training): " << parameter_tensors << " tensors\n"
    << parameters.str() << "  total: " << total << " parameters\n\nConstants: " << constants << "\n";
  auto list = [&s](const char* what, const std::map<std::string, std::size_t>& ops) {
    std::size_t sum = 0;
    for (const auto& [key, count] : ops) sum += count;
    s << "\n" << what << ": " << sum << "\n";
    for (const auto& [key, count] : ops) s << "  " << key << "  " << count << "\n";
  };
  list("Forward ops", forward_ops);
  if (!backward_ops.empty()) list("Backward ops (added by gradients())", backward_ops);
  return s.str();
}

}  // namespace dagrad
