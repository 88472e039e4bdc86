// Draws DOT text to an SVG, PNG or PDF file, inside this process through
// Graphviz's libraries (no `dot` program needed); the extension picks the format.
//   render(to_dot(g, {.values = &ex}), "model.svg");
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/viz/dot.hpp>

#include <string>
#include <vector>

namespace dagrad {

// Lays out dot_text with Graphviz's "dot" engine and writes the picture to
// path atomically. Throws Error naming the path: for an extension other than
// those of render_formats(), for DOT Graphviz rejects (with its message), or
// when the format's plugin is missing or the file cannot be written.
void render(const std::string& dot_text, const std::string& path);

// The picture's bytes in `format` ("svg", "png", "pdf"), for a caller
// that serves or embeds it: render() without the file. Throws Error as
// render() does, starting with "render_data".
//   std::string svg = render_data(to_dot(g), "svg");
std::string render_data(const std::string& dot_text, const std::string& format);

// render(to_dot(graph, options), path).
void render(const Graph& graph, const std::string& path, const DotOptions& options = {});

// The extensions render() writes ("svg", "png", "pdf") that this machine's
// Graphviz plugins can produce.
std::vector<std::string> render_formats();

}  // namespace dagrad
