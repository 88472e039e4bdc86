#include <dagrad/core/error.hpp>
#include <dagrad/viz/render.hpp>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <cstdlib>
#include <mutex>
#include <string_view>

namespace dagrad {

namespace {

constexpr std::array<std::string_view, 3> formats{"svg", "png", "pdf"};

// Graphviz keeps its error state in globals, so one render at a time.
std::mutex graphviz_mutex;
std::string graphviz_messages;  // guarded by graphviz_mutex

int collect_message(char* message) {
  graphviz_messages += message;
  return 0;
}

// One context for the whole process, never freed: Graphviz 2.42's pango
// plugin caches font data across contexts, so a second gvContext after a
// gvFreeContext reads freed memory. Created on first use, under the mutex.
GVC_t* shared_context() {
  static GVC_t* gvc = gvContext();
  return gvc;
}

// Routes Graphviz's messages (warnings and errors) into graphviz_messages
// instead of stderr while it lives, and frees the graph it owns.
class Session {
 public:
  Session() : previous_handler_(agseterrf(collect_message)), previous_level_(agseterr(AGWARN)) {
    graphviz_messages.clear();
    agreseterrors();
    gvc_ = shared_context();
  }
  ~Session() {
    if (graph) {
      if (laid_out) gvFreeLayout(gvc_, graph);
      agclose(graph);
    }
    agseterrf(previous_handler_);
    agseterr(previous_level_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  GVC_t* gvc() const { return gvc_; }
  Agraph_t* graph = nullptr;
  bool laid_out = false;
  // Graphviz reports some problems (a bad HTML label) only as a message.
  bool failed() const { return agerrors() > 0; }

 private:
  agusererrf previous_handler_;
  agerrlevel_t previous_level_;
  GVC_t* gvc_ = nullptr;
};

std::string messages_or(const std::string& fallback) {
  std::string m = graphviz_messages;
  while (!m.empty() && std::isspace(static_cast<unsigned char>(m.back()))) m.pop_back();
  return m.empty() ? fallback : m;
}

std::string allowed() {
  std::string s;
  for (std::size_t i = 0; i < formats.size(); ++i) {
    s += i == 0 ? "" : i + 1 == formats.size() ? " or " : ", ";
    s += '.';
    s += formats[i];
  }
  return s;
}

std::vector<std::string> available_devices(GVC_t* gvc) {
  std::vector<std::string> out;
  int count = 0;
  char** list = gvPluginList(gvc, "device", &count, nullptr);
  for (int i = 0; i < count; ++i) {
    std::string name = list[i];
    out.push_back(name.substr(0, name.find(':')));  // "png:cairo" -> "png"
    free(list[i]);
  }
  free(list);
  return out;
}

// The picture's bytes; errors start with `who` (the path, or "render_data").
std::string render_bytes(const std::string& dot_text, std::string format, const std::string& who) {
  std::transform(format.begin(), format.end(), format.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
    throw Error(who + ": cannot render to " +
                (format.empty() ? std::string("a file without an extension") : "'." + format + "'") +
                "; render writes " + allowed());
  }

  std::lock_guard lock(graphviz_mutex);
  Session s;
  if (!s.gvc()) throw Error(who + ": cannot start Graphviz: " + messages_or("gvContext failed"));
  s.graph = agmemread(dot_text.c_str());
  if (!s.graph || s.failed()) {
    throw Error(who + ": Graphviz cannot read the DOT text: " + messages_or("agmemread found no graph"));
  }
  s.laid_out = gvLayout(s.gvc(), s.graph, "dot") == 0;
  if (!s.laid_out || s.failed()) {
    throw Error(who + ": Graphviz cannot lay out the graph: " + messages_or("gvLayout failed"));
  }
  char* data = nullptr;
  unsigned int length = 0;
  std::string bytes;
  const int rc = gvRenderData(s.gvc(), s.graph, format.c_str(), &data, &length);
  if (rc == 0 && data) bytes.assign(data, length);
  if (data) gvFreeRenderData(data);
  if (rc != 0 || s.failed() || bytes.empty()) {
    throw Error(who + ": Graphviz cannot render " + format + ": " +
                messages_or("no plugin for this format (render_formats() lists those available)"));
  }
  return bytes;
}

}  // namespace

void render(const std::string& dot_text, const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  write_file_atomically(path, render_bytes(dot_text, ext, path));
}

std::string render_data(const std::string& dot_text, const std::string& format) {
  return render_bytes(dot_text, format, "render_data");
}

void render(const Graph& graph, const std::string& path, const DotOptions& options) {
  render(to_dot(graph, options), path);
}

std::vector<std::string> render_formats() {
  std::lock_guard lock(graphviz_mutex);
  Session s;
  std::vector<std::string> out;
  if (!s.gvc()) return out;
  const std::vector<std::string> devices = available_devices(s.gvc());
  for (std::string_view f : formats) {
    if (std::find(devices.begin(), devices.end(), f) != devices.end()) out.emplace_back(f);
  }
  return out;
}

}  // namespace dagrad
