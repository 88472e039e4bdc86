#include <dagrad/core/op.hpp>
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/viz/dot.hpp>
#include <dagrad/viz/trace.hpp>

// GCC 12 wrongly sees the boost::optional inside adjacency_list's
// add_vertex and edge iterators as uninitialized (at -O1, as the sanitizer
// builds compile) or maybe uninitialized (at -O2). The warnings are placed
// in Boost's headers, in instantiations made for this file, so they are off
// from these includes to the end of the file (clang does not know them).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/range/iterator_range.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include <sys/stat.h>
#include <unistd.h>

namespace dagrad {

namespace {

// Every piece of user text (node names, scopes, the title) goes into
// HTML-like labels, never into DOT IDs or quoted strings: node IDs are
// "n<id>", and HTML needs only entity escaping, whereas a quoted DOT string
// cannot end in a backslash. Invalid UTF-8 and control characters would make
// Graphviz's XML parser reject the label, so they become U+FFFD.
std::string html(std::string_view text) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\n': out += "<BR/>"; break;
        case '\t': out += ' '; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += replacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence (no overlongs, surrogates or > U+10FFFF)
    // passes through unchanged.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const unsigned char b = s[i + k];
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += replacement;
      ++i;
    }
  }
  return out;
}

struct Style {
  const char* shape;
  const char* fill;
  const char* border;
  const char* what;  // for the legend
};

// Forward nodes are coloured by kind; every backward node is red, so the
// pass gradients() added stands out whatever its nodes are.
constexpr Style input_style{"invhouse", "#d5e8d4", "#82b366", "input (house): fed to run()"};
constexpr Style parameter_style{"cylinder", "#fff2cc", "#d6b656",
                                "parameter (cylinder): trained, set on the executor"};
constexpr Style constant_style{"note", "#f5f5f5", "#666666", "constant (note): fixed in the graph"};
constexpr Style op_style{"box", "#dae8fc", "#6c8ebf", "op (rounded box): forward computation"};
constexpr const char* backward_fill = "#f8cecc";
constexpr const char* backward_border = "#b85450";
constexpr const char* forward_edge = "#555555";

const Style& style_of(NodeKind kind) {
  switch (kind) {
    case NodeKind::input: return input_style;
    case NodeKind::parameter: return parameter_style;
    case NodeKind::constant: return constant_style;
    case NodeKind::op: return op_style;
  }
  return op_style;
}

// The values a drawing shows, as double whatever the executor's type.
class Values {
 public:
  Values(const Graph& graph, const DotValues& source) {
    std::visit(
        [&](const auto& ex) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ex)>, std::monostate>) {
            if (ex == nullptr) return;
            if (&ex->graph() != &graph) {
              throw GraphError("to_dot: the executor given for values runs another graph");
            }
            lookup_ = [ex](NodeId id) -> std::optional<Matrix<double>> {
              const Node n = ex->graph().node(id);
              if (!ex->value_from_last_run(n) || ex->value_reused(n)) return std::nullopt;
              return ex->value(n).template cast<double>();
            };
            reused_ = [ex](NodeId id) { return ex->value_reused(ex->graph().node(id)); };
            earlier_ = [ex](NodeId id) {
              const Node n = ex->graph().node(id);
              return ex->has_value(n) && !ex->value_from_last_run(n);
            };
          }
        },
        source);
  }
  bool any() const { return static_cast<bool>(lookup_); }
  std::optional<Matrix<double>> of(NodeId id) const {
    return lookup_ ? lookup_(id) : std::nullopt;
  }
  // Computed by the last run, but a later value took its bytes.
  bool reused(NodeId id) const { return reused_ && reused_(id); }
  // Left by an earlier run (of other fetches) than the last: not shown
  // beside the last run's values.
  bool earlier(NodeId id) const { return earlier_ && earlier_(id); }

 private:
  std::function<std::optional<Matrix<double>>(NodeId)> lookup_;
  std::function<bool(NodeId)> reused_;
  std::function<bool(NodeId)> earlier_;
};

// A summary goes one statistic a line, so a big tensor's node stays narrow.
std::string value_html(const std::string& prefix, const Matrix<double>& value) {
  std::string text = html(format_value(value));
  if (value.size() > max_listed_entries) {
    for (const char* stat : {" min ", " mean ", " max "}) {
      const auto at = text.find(stat);
      if (at != std::string::npos) text.replace(at, 1, "<BR/>");
    }
  }
  return "<B>" + prefix + "</B> " + text;
}

struct VertexData {
  NodeId id = 0;       // the node drawn, or a layer's last member
  int layer = -1;      // >= 0: the vertex is Layers::boxes[layer]
  std::string dot_id;  // "n<id>" or "layer<k>"
};
struct EdgeData {
  Shape shape;
  bool backward = false;
};
using DotGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, VertexData, EdgeData>;

// Name scopes as a tree; a cluster per scope, nested as the scopes are, in
// the order their first nodes were built, which Graphviz roughly keeps.
struct Cluster {
  std::string name;  // this scope's own part ("inner" of "outer/inner")
  bool fused = false;  // a fused group of the executor's plan, not a scope
  std::vector<std::string> members;
  std::vector<std::unique_ptr<Cluster>> children;

  Cluster& child(const std::string& part) {
    for (auto& c : children) {
      if (c->name == part) return *c;
    }
    children.push_back(std::make_unique<Cluster>());
    children.back()->name = part;
    return *children.back();
  }
  // The cluster of a scope path ("outer/inner"), made as needed; the root
  // for "".
  Cluster& at(const std::string& scope) {
    Cluster* c = this;
    std::size_t start = 0;
    while (start <= scope.size()) {
      std::size_t end = scope.find('/', start);
      if (end == std::string::npos) end = scope.size();
      if (end > start) c = &c->child(scope.substr(start, end - start));
      start = end + 1;
    }
    return *c;
  }
};

void write_cluster(std::ostream& out, const Cluster& c, int& counter, int depth) {
  const std::string indent(2 * static_cast<std::size_t>(depth), ' ');
  out << indent << "subgraph cluster_" << counter++ << " {\n";
  if (c.fused) {
    out << indent << "  graph [label=<" << html(c.name)
        << ">, labeljust=l, style=\"rounded,filled\", fillcolor=\"#eeeeee\", color=\"#555555\"];\n";
  } else {
    out << indent << "  graph [label=<<B>" << html(c.name)
        << "</B>>, labeljust=l, style=\"rounded,dashed\", color=\"#999999\"];\n";
  }
  for (const auto& m : c.members) out << indent << "  " << m << ";\n";
  for (const auto& child : c.children) write_cluster(out, *child, counter, depth + 1);
  out << indent << "}\n";
}

std::string legend_row(const char* fill, const char* border, const std::string& text) {
  return std::string("<TR><TD WIDTH=\"18\" BGCOLOR=\"") + fill + "\" COLOR=\"" + border +
         "\" BORDER=\"1\"></TD><TD ALIGN=\"LEFT\">" + text + "</TD></TR>";
}

// Which nodes are drawn, and which node holds each one's gradient.
struct Selection {
  std::vector<bool> keep;
  std::vector<std::optional<NodeId>> grad_node;
  bool any_backward = false;
};

Selection select_nodes(const Graph& graph, const DotOptions& options) {
  const std::size_t n = graph.size();
  Selection s{std::vector<bool>(n), std::vector<std::optional<NodeId>>(n)};
  for (NodeId id = 0; id < n; ++id) {
    const NodeInfo& info = graph.info(id);
    s.keep[id] = options.backward || info.role == Role::forward;
    s.any_backward |= s.keep[id] && info.role == Role::backward;
    if (info.grad_of) s.grad_node[*info.grad_of] = id;
  }
  // A gradient that passed through an op unchanged (b in x @ w + b) is
  // another node's grad_of node; gradients()'s memo still knows it.
  for (NodeId y = 0; y < n; ++y) {
    if (!graph.info(y).shape.is_scalar()) continue;
    for (NodeId x = 0; x < n; ++x) {
      if (s.grad_node[x]) continue;
      if (auto g = graph.cached_gradient(y, x)) s.grad_node[x] = *g;
    }
  }
  return s;
}

// A collapsed name scope: its forward nodes drawn as one box, and its
// backward nodes (gradients() builds them in the same scope) as another.
struct LayerBox {
  std::string scope;
  Role role = Role::forward;
  std::vector<NodeId> members;  // in id order
};

struct Layers {
  std::vector<LayerBox> boxes;
  std::vector<int> of;  // per node: its box, or -1 when drawn alone
};

// The collapsed scope a node's scope falls in, or "" for none.
std::string collapsed_scope(const std::string& scope, const DotOptions& options) {
  if (scope.empty()) return "";
  if (options.collapse_layers) return scope.substr(0, scope.find('/'));
  for (const std::string& c : options.collapse) {
    if (!c.empty() && scope.starts_with(c) && (scope.size() == c.size() || scope[c.size()] == '/')) return c;
  }
  return "";
}

Layers group_layers(const Graph& graph, const Selection& selection, const DotOptions& options) {
  Layers layers{{}, std::vector<int>(graph.size(), -1)};
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (!selection.keep[id]) continue;
    const NodeInfo& info = graph.info(id);
    const std::string scope = collapsed_scope(info.scope, options);
    if (scope.empty()) continue;
    int k = 0;
    while (k < int(layers.boxes.size()) &&
           (layers.boxes[std::size_t(k)].scope != scope || layers.boxes[std::size_t(k)].role != info.role)) {
      ++k;
    }
    if (k == int(layers.boxes.size())) layers.boxes.push_back({scope, info.role, {}});
    layers.boxes[std::size_t(k)].members.push_back(id);
    layers.of[id] = k;
  }
  return layers;
}

// Each op node's share of the profiled kernel time.
std::vector<double> time_shares(const Graph& graph, const std::vector<NodeTime>& profile) {
  std::vector<double> share(graph.size(), 0.0);
  double total = 0;
  for (const NodeTime& t : profile) total += t.seconds;
  if (total <= 0) return share;
  for (const NodeTime& t : profile) {
    if (&t.node.graph() != &graph) throw GraphError("to_dot: the profile given is of another graph");
    share[t.node.id()] += t.seconds / total;
  }
  return share;
}

std::string percent(double share) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << 100 * share << "%";
  return s.str();
}

// Where each drawn node's value lay, from Executor::memory_plan(): an index
// into report.values per node id (-1: not an op the run computed), and a
// fill colour per offset in the shared block, in the order of the offsets.
struct Places {
  std::vector<int> of;
  std::map<std::size_t, std::size_t> colour_of_offset;
};

Places memory_places(const Graph& graph, const MemoryReport& report) {
  Places p{std::vector<int>(graph.size(), -1), {}};
  for (std::size_t i = 0; i < report.values.size(); ++i) {
    const PlacedValue& v = report.values[i];
    if (&v.node.graph() != &graph) throw GraphError("to_dot: the memory plan given is of another graph");
    p.of[v.node.id()] = static_cast<int>(i);
    if (v.in_arena) p.colour_of_offset.emplace(v.offset, 0);
  }
  std::size_t k = 0;
  for (auto& [offset, colour] : p.colour_of_offset) colour = k++;
  return p;
}

// Twelve pale colours (ColorBrewer's Set3), repeated past twelve offsets.
constexpr std::array<const char*, 12> arena_colours{"#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                                                    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"};
constexpr const char* own_storage_fill = "#ffffff";
constexpr const char* fused_fill = "#eeeeee";  // as the fused group's cluster: no storage of its own

std::string kib(std::size_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1024.0 << " KiB";
  return s.str();
}

// A heavier border for a node that takes more of the step.
std::string time_attributes(double share) {
  std::ostringstream s;
  s << ", penwidth=" << std::fixed << std::setprecision(2) << 1.0 + 5.0 * share;
  return s.str();
}

// The graph Boost writes: a vertex per drawn node or layer box, an edge per
// input that crosses between vertices (once per pair).
DotGraph build_dot_graph(const Graph& graph, const Selection& selection, const Layers& layers) {
  const std::size_t n = graph.size();
  DotGraph dg;
  std::vector<DotGraph::vertex_descriptor> vertex(n);
  std::vector<std::optional<DotGraph::vertex_descriptor>> box_vertex(layers.boxes.size());
  for (NodeId id = 0; id < n; ++id) {
    if (!selection.keep[id]) continue;
    const int k = layers.of[id];
    if (k < 0) {
      vertex[id] = boost::add_vertex(VertexData{id, -1, "n" + std::to_string(id)}, dg);
      continue;
    }
    auto& box = box_vertex[std::size_t(k)];
    if (!box) box = boost::add_vertex(VertexData{id, k, "layer" + std::to_string(k)}, dg);
    dg[*box].id = id;  // the last member: the box's output shape
    vertex[id] = *box;
  }
  std::set<std::pair<std::size_t, std::size_t>> drawn;
  for (NodeId id = 0; id < n; ++id) {
    if (!selection.keep[id]) continue;
    const NodeInfo& info = graph.info(id);
    for (NodeId in : info.inputs) {
      if (!selection.keep[in] || vertex[in] == vertex[id]) continue;
      // Once per pair when a box is involved; a node using one input twice
      // (mul(y, y)) keeps both edges.
      const bool boxed = layers.of[in] >= 0 || layers.of[id] >= 0;
      if (boxed && !drawn.emplace(vertex[in], vertex[id]).second) continue;
      boost::add_edge(vertex[in], vertex[id], EdgeData{graph.info(in).shape, info.role == Role::backward}, dg);
    }
  }
  return dg;
}

// Writes one graph: what Boost's write_graphviz asks of each vertex, each
// edge and the graph as a whole.
class DotWriter {
 public:
  DotWriter(const Graph& graph, const DotOptions& options)
      : graph_(graph),
        options_(options),
        values_(graph, options.values),
        selection_(select_nodes(graph, options)),
        layers_(group_layers(graph, selection_, options)),
        share_(time_shares(graph, options.profile)),
        timed_(!options.profile.empty()),
        places_(memory_places(graph, options.memory)),
        dg_(build_dot_graph(graph, selection_, layers_)) {}

  std::string write() {
    std::ostringstream out;
    boost::write_graphviz(
        out, dg_, [this](std::ostream& o, DotGraph::vertex_descriptor v) { vertex(o, v); },
        [this](std::ostream& o, DotGraph::edge_descriptor e) { edge(o, e); },
        [this](std::ostream& o) { graph_attributes(o); }, boost::get(&VertexData::dot_id, dg_));
    return out.str();
  }

 private:
  void vertex(std::ostream& out, DotGraph::vertex_descriptor v) const {
    if (dg_[v].layer >= 0) {
      layer(out, layers_.boxes[std::size_t(dg_[v].layer)], dg_[v].id);
    } else {
      node(out, dg_[v].id);
    }
  }

  // A node's table: name, op and shape, its time share, and its value beside
  // its gradient's when a run left them.
  std::string node_label(NodeId id) const {
    const NodeInfo& info = graph_.info(id);
    const std::string what = info.kind == NodeKind::op ? info.op->label() : std::string(to_string(info.kind));
    std::string label = "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"2\">";
    label += "<TR><TD COLSPAN=\"2\"><B>" + html(info.name) + "</B></TD></TR>";
    label += "<TR><TD COLSPAN=\"2\">" + html(what) + " · " + html(to_string(info.shape)) + "</TD></TR>";
    if (timed_ && info.kind == NodeKind::op) {
      label += "<TR><TD COLSPAN=\"2\">time " + percent(share_[id]) + "</TD></TR>";
    }
    if (const PlacedValue* v = place(id)) {
      label += "<TR><TD COLSPAN=\"2\">" +
               (v->fused_into.valid() ? "fused into " + html(v->fused_into.name()) + ", never stored"
                : v->in_arena         ? "block @ " + kib(v->offset) + ", " + kib(v->bytes)
                : v->into.valid()     ? "in " + html(v->into.name()) + "'s own, " + kib(v->bytes)
                                      : "own, " + kib(v->bytes)) +
               "</TD></TR>";
      if (v->over.valid()) label += "<TR><TD COLSPAN=\"2\">in place over " + html(v->over.name()) + "</TD></TR>";
    }
    std::optional<Matrix<double>> value = values_.of(id);
    if (!value && info.kind == NodeKind::constant) value = info.value;
    if (!value && values_.reused(id)) {
      label += "<TR><TD COLSPAN=\"2\" BORDER=\"1\" SIDES=\"T\"><B>data</B> reused†</TD></TR>";
    } else if (!value && values_.earlier(id)) {
      label += "<TR><TD COLSPAN=\"2\" BORDER=\"1\" SIDES=\"T\"><B>data</B> earlier run‡</TD></TR>";
    }
    if (value) {
      std::optional<Matrix<double>> grad;
      const std::optional<NodeId> grad_id = selection_.grad_node[id];
      if (grad_id) grad = values_.of(*grad_id);
      const std::string data = value_html("data", *value);
      if (grad) {
        label += "<TR><TD BORDER=\"1\" SIDES=\"TR\">" + data + "</TD><TD BORDER=\"1\" SIDES=\"T\">" +
                 value_html("grad", *grad) + "</TD></TR>";
      } else if (grad_id && values_.earlier(*grad_id)) {
        label += "<TR><TD BORDER=\"1\" SIDES=\"TR\">" + data +
                 "</TD><TD BORDER=\"1\" SIDES=\"T\"><B>grad</B> earlier run‡</TD></TR>";
      } else {
        label += "<TR><TD COLSPAN=\"2\" BORDER=\"1\" SIDES=\"T\">" + data + "</TD></TR>";
      }
    }
    return label + "</TABLE>";
  }

  void node(std::ostream& out, NodeId id) const {
    const NodeInfo& info = graph_.info(id);
    const Style& style = style_of(info.kind);
    const bool backward = info.role == Role::backward;
    const char* fill = backward ? backward_fill : style.fill;
    if (const PlacedValue* v = place(id)) {
      fill = v->in_arena           ? arena_colours[places_.colour_of_offset.at(v->offset) % arena_colours.size()]
             : v->fused_into.valid() ? fused_fill
                                     : own_storage_fill;
    }
    out << "[label=<" << node_label(id) << ">, shape=" << style.shape << ", style=\""
        << (info.kind == NodeKind::op ? "rounded,filled" : "filled") << "\", fillcolor=\""
        << fill << "\", color=\"" << (backward ? backward_border : style.border)
        << "\", class=\"" << (backward ? "backward" : "forward") << ' ' << to_string(info.kind) << "\""
        << (timed_ && info.kind == NodeKind::op ? time_attributes(share_[id]) : "")
        // The SVG element's id, for a page that finds a node by its id.
        << ", id=\"n" << id << "\"]";
  }

  // A kept node, or its gradient, holds an earlier run's value.
  bool any_earlier() const {
    for (NodeId id = 0; id < graph_.size(); ++id) {
      if (!selection_.keep[id]) continue;
      if (values_.earlier(id)) return true;
      if (selection_.grad_node[id] && values_.earlier(*selection_.grad_node[id])) return true;
    }
    return false;
  }

  bool any_reused() const {
    for (NodeId id = 0; id < graph_.size(); ++id) {
      if (selection_.keep[id] && values_.reused(id)) return true;
    }
    return false;
  }

  const PlacedValue* place(NodeId id) const {
    const int i = places_.of[id];
    return i < 0 ? nullptr : &options_.memory.values[std::size_t(i)];
  }

  // A layer: its scope, the ops inside in order (repeats once), its
  // parameters' count and its output's shape.
  void layer(std::ostream& out, const LayerBox& box, NodeId last) const {
    const bool backward = box.role == Role::backward;
    std::vector<std::string> ops;
    Dim parameters = 0;
    double time = 0;
    for (NodeId id : box.members) {
      const NodeInfo& info = graph_.info(id);
      time += share_[id];
      if (info.kind == NodeKind::parameter) parameters += info.shape.known() ? info.shape.size() : 0;
      if (info.kind != NodeKind::op) continue;
      const std::string label = info.op->label();
      if (std::find(ops.begin(), ops.end(), label) == ops.end()) ops.push_back(label);
    }
    std::string op_list;
    for (std::size_t i = 0; i < ops.size(); ++i) op_list += (i ? " · " : "") + ops[i];
    std::string label = "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"2\">";
    label += "<TR><TD><B>" + html(backward ? "grad(" + box.scope + ")" : box.scope) + "</B></TD></TR>";
    label += "<TR><TD>" + html(op_list) + "</TD></TR>";
    label += "<TR><TD>" + std::to_string(box.members.size()) + " nodes";
    if (parameters > 0) label += ", " + std::to_string(parameters) + " parameters";
    label += " · out " + html(to_string(graph_.info(last).shape)) + "</TD></TR>";
    if (timed_) label += "<TR><TD>time " + percent(time) + "</TD></TR>";
    label += "</TABLE>";
    out << "[label=<" << label << ">, shape=box, peripheries=2, style=\"rounded,filled\", fillcolor=\""
        << (backward ? backward_fill : op_style.fill) << "\", color=\""
        << (backward ? backward_border : op_style.border) << "\", class=\"" << (backward ? "backward" : "forward")
        << " layer\"" << (timed_ ? time_attributes(time) : "") << "]";
  }

  // xlabel, placed after layout, rather than label: Graphviz 2.42's dot
  // layout frees memory twice for a labelled edge between nodes of one rank.
  void edge(std::ostream& out, DotGraph::edge_descriptor e) const {
    const EdgeData& d = dg_[e];
    out << "[xlabel=\"" << to_string(d.shape) << "\", color=\"" << (d.backward ? backward_border : forward_edge)
        << "\", fontcolor=\"" << (d.backward ? backward_border : forward_edge) << "\"]";
  }

  // The legend: the title, a row per kind of box drawn, and what the edges,
  // values and times mean.
  std::string legend() const {
    std::string legend = "<TABLE BORDER=\"0\" CELLSPACING=\"3\" CELLPADDING=\"2\">";
    if (!options_.title.empty()) {
      legend += "<TR><TD COLSPAN=\"2\"><FONT POINT-SIZE=\"16\"><B>" + html(options_.title) + "</B></FONT></TD></TR>";
    }
    for (const Style* s : {&input_style, &parameter_style, &constant_style, &op_style}) {
      legend += legend_row(s->fill, s->border, html(s->what));
    }
    if (!layers_.boxes.empty()) {
      legend += legend_row(op_style.fill, op_style.border,
                           "layer (double border): a name scope drawn as one box, its ops listed");
    }
    if (selection_.any_backward) {
      legend += legend_row(backward_fill, backward_border, "backward (red): added by gradients(), grad(x) = dL/dx");
    }
    legend += "<TR><TD></TD><TD ALIGN=\"LEFT\">edges: the tensor shape they carry "
              "(? = batch rows); dashed boxes: name scopes</TD></TR>";
    if (values_.any()) {
      legend += "<TR><TD></TD><TD ALIGN=\"LEFT\"><B>data</B> | <B>grad</B>: the node's value "
                "and its gradient's value in the last run; more than " +
                std::to_string(max_listed_entries) + " entries show as shape, min, mean, max</TD></TR>";
      if (any_earlier()) {
        legend += "<TR><TD></TD><TD ALIGN=\"LEFT\"><B>earlier run‡</B>: the value was left by an earlier run "
                  "of other fetches, not computed by the last; fetch it with the others to see them "
                  "side by side</TD></TR>";
      }
      if (any_reused()) {
        legend += "<TR><TD></TD><TD ALIGN=\"LEFT\"><B>reused†</B>: the run did not fetch the node, and a later "
                  "value took its memory (or it was computed inside a fused group, never stored); fetch it, "
                  "or make the executor with ExecutorOptions::plan_memory = false, to see it</TD></TR>";
      }
    }
    if (!options_.memory.values.empty()) {
      legend += "<TR><TD></TD><TD ALIGN=\"LEFT\"><B>memory</B>: " + html(plan_summary(options_.memory)) +
                "<BR ALIGN=\"LEFT\"/>an op's fill is its place in the shared block (one colour an offset; "
                "white: its own storage), its border its direction</TD></TR>";
    }
    if (timed_) {
      legend += "<TR><TD></TD><TD ALIGN=\"LEFT\"><B>time</B>: the share of the profiled kernel "
                "time; the border thickens with it</TD></TR>";
    }
    return legend + "</TABLE>";
  }

  void graph_attributes(std::ostream& out) const {
    out << "graph [label=<" << legend() << ">, labelloc=t, labeljust=l, fontname=\"Helvetica\", "
        << "fontsize=11, nodesep=0.3, ranksep=0.35];\n"
        << "node [fontname=\"Helvetica\", fontsize=10, margin=\"0.05,0.03\"];\n"
        << "edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n";
    // Nodes sit in their scope's cluster; a layer box in its scope's parent;
    // the ops of a fused group in a cluster of their own, inside the scope
    // all of them share.
    Cluster root;
    std::map<NodeId, Cluster*> fused = fused_clusters(root);
    for (const auto v : boost::make_iterator_range(boost::vertices(dg_))) {
      if (dg_[v].layer < 0) {
        if (const auto it = fused.find(dg_[v].id); it != fused.end()) {
          it->second->members.push_back(dg_[v].dot_id);
          continue;
        }
      }
      std::string scope;
      if (dg_[v].layer >= 0) {
        const std::string& s = layers_.boxes[std::size_t(dg_[v].layer)].scope;
        scope = s.find('/') == std::string::npos ? "" : s.substr(0, s.rfind('/'));
      } else {
        scope = graph_.info(dg_[v].id).scope;
      }
      if (!scope.empty()) root.at(scope).members.push_back(dg_[v].dot_id);
    }
    int counter = 0;
    for (const auto& child : root.children) write_cluster(out, *child, counter, 0);
  }

  // For DotOptions::memory: a cluster per fused group (its root and the
  // ops computed inside it), made inside the scope its ops share; returns
  // each drawn op's cluster.
  std::map<NodeId, Cluster*> fused_clusters(Cluster& root) const {
    std::map<NodeId, std::vector<NodeId>> groups;  // root -> its ops
    for (const PlacedValue& v : options_.memory.values) {
      if (!v.fused_into.valid()) continue;
      auto& ops = groups[v.fused_into.id()];
      if (ops.empty()) ops.push_back(v.fused_into.id());
      ops.push_back(v.node.id());
    }
    std::map<NodeId, Cluster*> cluster_of;
    for (const auto& [group_root, ops] : groups) {
      if (std::none_of(ops.begin(), ops.end(), [&](NodeId id) { return bool(selection_.keep[id]); })) continue;
      // The longest run of whole scope parts ("a/b" of "a/b/c" and "a/b/d").
      std::string common = graph_.info(group_root).scope;
      for (NodeId id : ops) {
        const std::string scope = graph_.info(id).scope + "/";
        const std::string mine = common + "/";
        std::size_t same = 0, whole = 0;
        while (same < mine.size() && same < scope.size() && mine[same] == scope[same]) {
          if (mine[same] == '/') whole = same;
          ++same;
        }
        common = common.substr(0, whole);
      }
      Cluster& parent = root.at(common);
      parent.children.push_back(std::make_unique<Cluster>());
      Cluster& c = *parent.children.back();
      c.fused = true;
      c.name = "fused: " + std::to_string(ops.size()) + " ops, one pass";
      for (NodeId id : ops) {
        if (selection_.keep[id]) cluster_of[id] = &c;
      }
    }
    return cluster_of;
  }

  const Graph& graph_;
  const DotOptions& options_;
  const Values values_;
  const Selection selection_;
  const Layers layers_;
  const std::vector<double> share_;
  const bool timed_;
  const Places places_;
  DotGraph dg_;
};

}  // namespace

std::string to_dot(const Graph& graph, const DotOptions& options) { return DotWriter(graph, options).write(); }

void write_dot(const Graph& graph, const std::string& path, const DotOptions& options) {
  write_file_atomically(path, to_dot(graph, options));
}


}  // namespace dagrad
