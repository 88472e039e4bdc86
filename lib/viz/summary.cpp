#include <dagrad/core/kernels.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/viz/summary.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
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

std::string profile_table(const std::vector<NodeTime>& profile, double wall_seconds, int threads) {
  double total = 0;
  for (const NodeTime& t : profile) total += t.seconds;
  std::ostringstream out;
  out << "Kernel time by node ("
      << (threads == 0 ? std::string("threads: one per core") : "threads: " + std::to_string(threads))
      << "; nodes that ran at once overlap):\n"
      << "Kernels: " << kernel_isa() << "\n"
      << "  share  seconds   us/run   runs  node (op)\n";
  for (const NodeTime& t : profile) {
    char line[96];
    std::snprintf(line, sizeof line, "  %4.1f%%  %7.3f  %7.1f  %5llu  ", total > 0 ? 100 * t.seconds / total : 0.0,
                  t.seconds, 1e6 * t.seconds / double(std::max<std::uint64_t>(t.runs, 1)),
                  static_cast<unsigned long long>(t.runs));
    out << line << t.node.name() << " (" << t.node.op()->label() << ")";
    // A fused group's root: its time is the group's.
    for (std::size_t i = 0; i < t.with.size(); ++i) {
      out << (i == 0 ? ", with " : ", ") << t.with[i].name() << " (" << t.with[i].op()->label() << ")";
    }
    out << "\n";
  }
  char line[128];
  std::snprintf(line, sizeof line, "  kernels %.3f s of %.3f s; the rest is batches, updates and scheduling\n",
                total, wall_seconds);
  out << line;
  return out.str();
}

std::string progress_bar(int epoch, std::size_t done, std::size_t total) {
  return progress_bar("epoch " + std::to_string(epoch), done, total);
}

std::string progress_bar(const std::string& label, std::size_t done, std::size_t total) {
  std::string line = "\r\033[K";  // back to the line's start, and clear it
  if (total == 0 || done >= total) return line;
  constexpr std::size_t width = 30;
  const std::size_t filled = width * done / total;
  return line + label + " [" + std::string(filled, '#') + std::string(width - filled, ' ') + "] " +
         std::to_string(done) + "/" + std::to_string(total);
}

}  // namespace dagrad
