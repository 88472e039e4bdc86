#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "contains.hpp"
#include "temp_dir.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::string small_dot = "digraph { a -> b [xlabel=\"1x2\"]; b -> c; }";

// The text of Error thrown by f, or "" when it throws nothing.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("this machine's Graphviz renders SVG, PNG and PDF in process") {
  CHECK(render_formats() == std::vector<std::string>{"svg", "png", "pdf"});
}

TEST_CASE("render writes a well-formed SVG") {
  const dagrad::testing::TempDir dir("render_svg");
  const fs::path path = dir.path / "g.svg";
  render(small_dot, path.string());
  std::string svg = read(path);
  REQUIRE(!svg.empty());
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(contains(svg, "<svg"));
  while (!svg.empty() && std::isspace(static_cast<unsigned char>(svg.back()))) svg.pop_back();
  CHECK(svg.size() >= 6);
  CHECK(svg.substr(svg.size() - 6) == "</svg>");
  // One <g class="node"> per node, one <g class="edge"> per edge.
  std::size_t nodes = 0, edges = 0;
  for (std::size_t at = 0; (at = svg.find("class=\"node\"", at)) != std::string::npos; ++at) ++nodes;
  for (std::size_t at = 0; (at = svg.find("class=\"edge\"", at)) != std::string::npos; ++at) ++edges;
  CHECK(nodes == 3);
  CHECK(edges == 2);
  CHECK(dir.files() == std::vector<std::string>{"g.svg"});
}

TEST_CASE("render writes PNG and PDF files that start with their signatures") {
  const dagrad::testing::TempDir dir("render_png_pdf");
  render(small_dot, (dir.path / "g.png").string());
  render(small_dot, (dir.path / "g.PDF").string());  // the extension's case does not matter
  const std::string png = read(dir.path / "g.png");
  const std::string pdf = read(dir.path / "g.PDF");
  CHECK(png.size() > 100);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(pdf.rfind("%PDF", 0) == 0);
}

TEST_CASE("render draws a graph with values through the Graph overload, repeatedly") {
  const dagrad::testing::TempDir dir("render_graph");
  Graph g;
  Node x = g.input("x", {1, 2});
  Node w = g.parameter("w", {2, 1});
  Node loss = sum(sigmoid(matmul(x, w)));
  std::vector<Node> grads = gradients(loss, {w});
  Executor<double> ex(g, {.threads = 1, .plan_memory = false});
  ex.set(w, Matrix<double>::Constant(2, 1, 0.5));
  const Matrix<double> X = Matrix<double>::Ones(1, 2);
  ex.compute({{x, X}}, {loss, grads[0]});
  // Several formats in a row: Graphviz state left by one must not spoil the next.
  for (const char* name : {"a.svg", "a.png", "a.pdf", "b.png", "b.svg"}) {
    render(g, (dir.path / name).string(), {.values = &ex, .title = "sigmoid"});
  }
  CHECK(contains(read(dir.path / "b.svg"), "grad"));
  CHECK(dir.files() == std::vector<std::string>{"a.pdf", "a.png", "a.svg", "b.png", "b.svg"});
}

TEST_CASE("an unknown extension is refused, naming the path and the formats") {
  const dagrad::testing::TempDir dir("render_ext");
  for (const char* name : {"g.gif", "g", "g.svg.txt"}) {
    const std::string path = (dir.path / name).string();
    const std::string what = error_of([&] { render(small_dot, path); });
    CAPTURE(what);
    check_contains(what, {path, ".svg, .png or .pdf"});
  }
  CHECK(dir.files().empty());
}

TEST_CASE("DOT that Graphviz rejects throws its message and leaves no file") {
  const dagrad::testing::TempDir dir("render_bad");
  const std::string path = (dir.path / "bad.svg").string();

  std::string what = error_of([&] { render("digraph { a -> ; }", path); });
  CAPTURE(what);
  check_contains(what, {path, "syntax error"});

  what = error_of([&] { render("digraph { a [label=<<B>x</I>>]; }", path); });
  check_contains(what, {path, "mismatched tag"});

  what = error_of([&] { render("", path); });
  CHECK(contains(what, path));

  CHECK(dir.files().empty());

  // Graphviz recovers: the next render works.
  render(small_dot, path);
  CHECK(dir.files() == std::vector<std::string>{"bad.svg"});
}

TEST_CASE("a picture that cannot be written names the path") {
  const std::string path = "/nonexistent-dagrad-folder/g.png";
  const std::string what = error_of([&] { render(small_dot, path); });
  CHECK(contains(what, path));
}

TEST_CASE("render_data returns the same picture render writes, without a file") {
  const dagrad::testing::TempDir dir("render_data");
  const fs::path path = dir.path / "g.svg";
  // A named graph: an anonymous one is titled by a counter that each read moves.
  const std::string named = "digraph g { a -> b [xlabel=\"1x2\"]; b -> c; }";
  render(named, path.string());
  CHECK(render_data(named, "svg") == read(path));
  CHECK(render_data(small_dot, "PNG").rfind("\x89PNG\r\n\x1a\n", 0) == 0);
  const std::string unknown = error_of([] { render_data(small_dot, "gif"); });
  CHECK(contains(unknown, "render_data: cannot render to '.gif'"));
  const std::string bad = error_of([] { render_data("digraph { a -> }", "svg"); });
  CHECK(contains(bad, "render_data: Graphviz cannot read the DOT text"));
}
