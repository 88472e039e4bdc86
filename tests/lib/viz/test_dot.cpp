#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <graphviz/cgraph.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "contains.hpp"
#include "temp_dir.hpp"
#include "thrown.hpp"

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

// The DOT text as libcgraph reads it; fails the test when it does not parse.
struct Parsed {
  explicit Parsed(const std::string& dot) : graph(agmemread(dot.c_str())) {
    REQUIRE_MESSAGE(graph != nullptr, dot);
  }
  ~Parsed() {
    if (graph) agclose(graph);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;

  Agnode_t* node(NodeId id) const {
    std::string name = "n";
    name += std::to_string(id);  // not "n" + ...: GCC 12 warns falsely on that
    return agnode(graph, name.data(), 0);
  }
  std::string attr(NodeId id, const char* key) const {
    Agnode_t* n = node(id);
    REQUIRE(n != nullptr);
    const char* v = agget(n, const_cast<char*>(key));
    return v ? v : "";
  }
  Agraph_t* graph;
};

std::size_t input_edges(const Graph& g, bool backward) {
  std::size_t count = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    const NodeInfo& info = g.info(id);
    if (!backward && info.role == Role::backward) continue;
    for (NodeId in : info.inputs) {
      if (backward || g.info(in).role == Role::forward) ++count;
    }
  }
  return count;
}

std::size_t forward_nodes(const Graph& g) {
  std::size_t count = 0;
  for (NodeId id = 0; id < g.size(); ++id) count += g.info(id).role == Role::forward;
  return count;
}

// A 2-layer network with gradients: forward and backward nodes, scopes, a
// node using one input twice.
struct Net {
  Graph g;
  Node x, w1, b1, w2, loss;
  std::vector<Node> grads;
  Net() {
    x = g.input("x", {batch, 3});
    {
      auto s = g.scope("layer1");
      w1 = g.parameter("w", {3, 4});
      b1 = g.parameter("b", {1, 4});
      Node h = tanh(add(matmul(x, w1), b1));
      auto inner = g.scope("inner");
      w2 = g.parameter("w", {4, 1});
      Node y = matmul(h, w2);
      loss = mean(mul(y, y));
    }
    grads = gradients(loss, {w1, b1, w2});
  }
  // The weights the tests that run it give it.
  void set_weights(Executor<double>& ex) const {
    ex.set(w1, Matrix<double>::Constant(3, 4, 0.1));
    ex.set(b1, Matrix<double>::Constant(1, 4, 0.2));
    ex.set(w2, Matrix<double>::Constant(4, 1, 0.3));
  }
};

// Subgraphs of g whose name starts with "cluster", with their labels.
std::vector<Agraph_t*> clusters(Agraph_t* g) {
  std::vector<Agraph_t*> out;
  for (Agraph_t* s = agfstsubg(g); s; s = agnxtsubg(s)) {
    if (std::string(agnameof(s)).rfind("cluster", 0) == 0) out.push_back(s);
  }
  return out;
}

std::string label_of(Agraph_t* s) {
  const char* v = agget(s, const_cast<char*>("label"));
  return v ? v : "";
}

}  // namespace

TEST_CASE("the DOT text has one node per graph node and one edge per node input") {
  SUBCASE("a network with its backward pass") {
    Net net;
    Parsed p(to_dot(net.g));
    CHECK(static_cast<std::size_t>(agnnodes(p.graph)) == net.g.size());
    CHECK(static_cast<std::size_t>(agnedges(p.graph)) == input_edges(net.g, true));
  }
  SUBCASE("a node using one input twice gets two edges") {
    Graph g;
    Node x = g.input("x", {2, 2});
    mul(x, x);
    Parsed p(to_dot(g));
    CHECK(agnnodes(p.graph) == 2);
    CHECK(agnedges(p.graph) == 2);
  }
  SUBCASE("a graph of one input") {
    Graph g;
    g.input("only", {1, 1});
    Parsed p(to_dot(g, {.title = "one node"}));
    CHECK(agnnodes(p.graph) == 1);
    CHECK(agnedges(p.graph) == 0);
    CHECK(contains(label_of(p.graph), "one node"));
  }
}

TEST_CASE("node names with quotes, backslashes, newlines and non-ASCII text survive") {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"say \"hi\"", "say &quot;hi&quot;"},
      {"back\\slash\\", "back\\slash\\"},
      {"two\nlines", "two<BR/>lines"},
      {"with spaces", "with spaces"},
      {"naïve σ ∑ 数", "naïve σ ∑ 数"},
      {"<b> & </table>", "&lt;b&gt; &amp; &lt;/table&gt;"},
      {std::string("bad \xff byte"), "bad \xEF\xBF\xBD byte"},
  };
  Graph g;
  std::vector<Node> nodes;
  for (const auto& [name, escaped] : names) nodes.push_back(g.input(name, {1, 1}));
  Node total = add_n(nodes);
  g.rename(total, "sum \"of\" all\\");
  std::string dot = to_dot(g, {.title = "title \"quoted\" \\ <here>"});

  Parsed p(dot);
  CHECK(static_cast<std::size_t>(agnnodes(p.graph)) == g.size());
  CHECK(static_cast<std::size_t>(agnedges(p.graph)) == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    CAPTURE(names[i].first);
    CHECK(contains(p.attr(nodes[i].id(), "label"), "<B>" + names[i].second + "</B>"));
  }
  CHECK(contains(p.attr(total.id(), "label"), "sum &quot;of&quot; all\\"));
  CHECK(contains(label_of(p.graph), "title &quot;quoted&quot; \\ &lt;here&gt;"));

  // Graphviz's own HTML parser accepts every label and draws the text.
  const dagrad::testing::TempDir dir("dot_names");
  render(dot, dir.file("names.svg"));
  std::ifstream in(dir.path / "names.svg");
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check_contains(svg, {"naïve σ ∑ 数", "back\\slash\\"});
}

TEST_CASE("name scopes become clusters, nested as the scopes are") {
  Net net;
  Parsed p(to_dot(net.g, {.backward = false}));
  const std::vector<Agraph_t*> top = clusters(p.graph);
  REQUIRE(top.size() == 1);
  CHECK(contains(label_of(top[0]), "layer1"));
  const std::vector<Agraph_t*> nested = clusters(top[0]);
  REQUIRE(nested.size() == 1);
  CHECK(contains(label_of(nested[0]), "inner"));

  // w1 is in layer1 only; w2 in layer1/inner; x at the top.
  CHECK(agsubnode(top[0], p.node(net.w1.id()), 0) != nullptr);
  CHECK(agsubnode(nested[0], p.node(net.w1.id()), 0) == nullptr);
  CHECK(agsubnode(nested[0], p.node(net.w2.id()), 0) != nullptr);
  CHECK(agsubnode(top[0], p.node(net.x.id()), 0) == nullptr);
}

TEST_CASE("backward nodes are drawn red, and backward = false leaves them out") {
  Net net;
  {
    Parsed p(to_dot(net.g));
    int backward = 0;
    for (NodeId id = 0; id < net.g.size(); ++id) {
      const bool is_backward = net.g.info(id).role == Role::backward;
      CAPTURE(net.g.info(id).name);
      CHECK((p.attr(id, "fillcolor") == "#f8cecc") == is_backward);
      CHECK(contains(p.attr(id, "class"), "backward") == is_backward);
      backward += is_backward;
    }
    CHECK(backward > 0);
    CHECK(contains(label_of(p.graph), "backward"));
  }
  {
    Parsed p(to_dot(net.g, {.backward = false}));
    CHECK(static_cast<std::size_t>(agnnodes(p.graph)) == forward_nodes(net.g));
    CHECK(static_cast<std::size_t>(agnedges(p.graph)) == input_edges(net.g, false));
    for (NodeId id = 0; id < net.g.size(); ++id) {
      CHECK((p.node(id) != nullptr) == (net.g.info(id).role == Role::forward));
    }
    CHECK(!contains(label_of(p.graph), "backward (red)"));
  }
}

TEST_CASE("node kinds differ in shape and edges carry their tensor's shape") {
  Graph g;
  Node x = g.input("x", {batch, 50});
  Node c = g.constant(Matrix<double>::Ones(1, 50), "c");
  Node w = g.parameter("w", {50, 2});
  Node y = matmul(relu(add(x, c)), w);
  Parsed p(to_dot(g));
  const std::vector<std::string> shapes = {p.attr(x.id(), "shape"), p.attr(c.id(), "shape"),
                                           p.attr(w.id(), "shape"), p.attr(y.id(), "shape")};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    for (std::size_t j = i + 1; j < shapes.size(); ++j) CHECK(shapes[i] != shapes[j]);
  }
  Agnode_t* from = p.node(x.id());
  Agedge_t* e = agfstout(p.graph, from);
  REQUIRE(e != nullptr);
  CHECK(std::string(agget(e, const_cast<char*>("xlabel"))) == "?x50");
}

TEST_CASE("with an executor each node shows its value and its gradient's value") {
  // y = x w, L = y²: dL/dy = 2y = 12, dL/dw = 2y x = 24, dL/dx = 2y w = 36.
  Graph g;
  Node x = g.input("x", {1, 1});
  Node w = g.parameter("w", {1, 1});
  Node y = mul(x, w);
  Node loss = square(y);
  Node unused = exp(x);  // never run: shows no value
  Node big = g.parameter("big", {3, 4});
  std::vector<Node> grads = gradients(loss, {w});

  const Matrix<double> X = Matrix<double>::Constant(1, 1, 2.0);
  const Matrix<double> W = Matrix<double>::Constant(1, 1, 3.0);

  SUBCASE("double") {
    Executor<double> ex(g, {.threads = 1, .plan_memory = false});
    ex.set(w, W);
    Matrix<double> B(3, 4);
    for (int i = 0; i < 12; ++i) B.data()[i] = i;
    ex.set(big, B);
    ex.compute({{x, X}}, {loss, grads[0]});
    Parsed p(to_dot(g, {.values = &ex}));
    check_contains(p.attr(w.id(), "label"), {"<B>data</B> 3</TD>", "<B>grad</B> 24</TD>"});
    check_contains(p.attr(y.id(), "label"), {"<B>data</B> 6</TD>", "<B>grad</B> 12</TD>"});
    CHECK(contains(p.attr(loss.id(), "label"), "<B>data</B> 36</TD>"));
    CHECK(!contains(p.attr(unused.id(), "label"), "data"));
    // Over six entries: the shape, then min, mean and max.
    CHECK(contains(p.attr(big.id(), "label"), "<B>data</B> 3x4<BR/>min 0<BR/>mean 5.5<BR/>max 11"));
    CHECK(contains(label_of(p.graph), "grad</B>: the node's value"));
  }
  SUBCASE("float, and gradients shown even without the backward nodes") {
    Executor<float> ex(g, {.threads = 1, .plan_memory = false});
    const Matrix<float> Xf = X.cast<float>(), Wf = W.cast<float>();
    ex.set(w, Wf);
    ex.compute({{x, Xf}}, {loss, grads[0]});
    Parsed p(to_dot(g, {.backward = false, .values = &ex}));
    check_contains(p.attr(w.id(), "label"), {"<B>data</B> 3</TD>", "<B>grad</B> 24</TD>"});
  }
  SUBCASE("no executor, no values (but constants show theirs)") {
    Parsed p(to_dot(g));
    CHECK(!contains(p.attr(w.id(), "label"), "data"));
  }
  SUBCASE("an executor of another graph is refused") {
    Graph other;
    Executor<double> ex(other);
    CHECK_THROWS_AS(to_dot(g, {.values = &ex}), GraphError);
  }
}

TEST_CASE("write_dot replaces the file whole and leaves nothing behind on failure") {
  const dagrad::testing::TempDir scratch("write_dot");
  const fs::path& dir = scratch.path;
  Net net;
  const std::string path = (dir / "net.dot").string();
  write_dot(net.g, path);
  write_dot(net.g, path, {.backward = false});  // over an existing file
  {
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == to_dot(net.g, {.backward = false}));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
  CHECK(files == std::vector<fs::path>{"net.dot"});

  const std::string missing = (dir / "no such folder" / "net.dot").string();
  const std::string what = thrown<Error>([&] { write_dot(net.g, missing); });
  CHECK(contains(what, missing));
  CHECK(!fs::exists(dir / "no such folder"));
}

TEST_CASE("a collapsed scope is one box listing its ops, with the edges that cross it") {
  Net net;
  Parsed p(to_dot(net.g, {.backward = false, .collapse = {"layer1"}}));
  // x stays, every node of layer1 and layer1/inner becomes the box layer0.
  Agnode_t* box = agnode(p.graph, const_cast<char*>("layer0"), 0);
  REQUIRE(box != nullptr);
  CHECK(agnnodes(p.graph) == 2);
  CHECK(p.node(net.w1.id()) == nullptr);
  CHECK(p.node(net.w2.id()) == nullptr);
  const std::string label = agget(box, const_cast<char*>("label"));
  for (const char* part : {"layer1", "matmul", "add", "tanh", "mean", "20 parameters", "out 1x1"}) {
    CAPTURE(part);
    CAPTURE(label);
    CHECK(contains(label, part));
  }
  CHECK(std::string(agget(box, const_cast<char*>("peripheries"))) == "2");
  CHECK(agnedges(p.graph) == 1);  // x -> layer1, drawn once
  CHECK(agedge(p.graph, p.node(net.x.id()), box, nullptr, 0) != nullptr);
  CHECK(clusters(p.graph).empty());  // a top-level box sits in no cluster
  CHECK(contains(label_of(p.graph), "layer (double border)"));
}

TEST_CASE("collapsing an inner scope keeps the outer cluster; collapse_layers boxes the backward pass apart") {
  Net net;
  {
    Parsed p(to_dot(net.g, {.backward = false, .collapse = {"layer1/inner"}}));
    CHECK(p.node(net.w1.id()) != nullptr);
    CHECK(p.node(net.w2.id()) == nullptr);
    const std::vector<Agraph_t*> top = clusters(p.graph);
    REQUIRE(top.size() == 1);
    CHECK(clusters(top[0]).empty());
    CHECK(agsubnode(top[0], agnode(p.graph, const_cast<char*>("layer0"), 0), 0) != nullptr);
  }
  {
    Parsed p(to_dot(net.g, {.collapse_layers = true}));
    Agnode_t* forward = agnode(p.graph, const_cast<char*>("layer0"), 0);
    Agnode_t* backward = agnode(p.graph, const_cast<char*>("layer1"), 0);
    REQUIRE(forward != nullptr);
    REQUIRE(backward != nullptr);
    CHECK(std::string(agget(backward, const_cast<char*>("class"))) == "backward layer");
    CHECK(contains(agget(backward, const_cast<char*>("label")), "grad(layer1)"));
    CHECK(agedge(p.graph, forward, backward, nullptr, 0) != nullptr);
  }
}

TEST_CASE("with a profile each op node and layer shows its share of the kernel time") {
  Net net;
  Executor<double> ex(net.g, {.threads = 1, .profile = true});
  net.set_weights(ex);
  ex.run({{net.x, Matrix<double>::Ones(64, 3)}}, {net.loss, net.grads[0]});
  const std::vector<NodeTime> profile = ex.profile();
  REQUIRE(!profile.empty());
  Parsed p(to_dot(net.g, {.profile = profile}));
  for (const NodeTime& t : profile) {
    CAPTURE(t.node.name());
    CHECK(contains(p.attr(t.node.id(), "label"), "time "));
    CHECK(std::stod(p.attr(t.node.id(), "penwidth")) >= 1.0);
  }
  CHECK(!contains(p.attr(net.x.id(), "label"), "time "));  // inputs have no kernel
  Parsed boxed(to_dot(net.g, {.backward = false, .collapse = {"layer1"}, .profile = profile}));
  CHECK(contains(agget(agnode(boxed.graph, const_cast<char*>("layer0"), 0), const_cast<char*>("label")), "time "));

  Net other;
  CHECK_THROWS_AS(to_dot(other.g, {.profile = profile}), GraphError);
}

TEST_CASE("with a memory plan each op node shows where its value lay, one fill colour per place") {
  Net net;
  Executor<double> ex(net.g, {.threads = 2, .fuse = false});  // every op's value placed
  net.set_weights(ex);
  ex.run({{net.x, Matrix<double>::Ones(64, 3)}}, {net.loss, net.grads[0]});
  const MemoryReport plan = ex.memory_plan();
  REQUIRE(plan.values.size() > 4);
  Parsed p(to_dot(net.g, {.memory = plan}));
  std::set<std::size_t> offsets;
  for (const PlacedValue& v : plan.values) {
    if (v.in_arena) offsets.insert(v.offset);
  }
  std::size_t in_place = 0;
  for (const PlacedValue& v : plan.values) {
    CAPTURE(v.node.name());
    const std::string label = p.attr(v.node.id(), "label");
    if (!v.in_arena) {
      CHECK(contains(label, "own, "));
      CHECK(p.attr(v.node.id(), "fillcolor") == "#ffffff");
      continue;
    }
    CHECK(contains(label, "block @ "));
    if (v.over.valid()) {
      ++in_place;
      CHECK(contains(label, "in place over " + v.over.name()));
      // The same bytes, the same colour, as the value it was written over.
      CHECK(p.attr(v.node.id(), "fillcolor") == p.attr(v.over.id(), "fillcolor"));
    }
    // Twelve colours: distinct while there are at most twelve places.
    for (const PlacedValue& w : plan.values) {
      if (w.in_arena && w.offset != v.offset && offsets.size() <= 12) {
        CHECK(p.attr(v.node.id(), "fillcolor") != p.attr(w.node.id(), "fillcolor"));
      }
    }
  }
  CHECK(in_place > 0);  // tanh over the biased sum, at least
  CHECK(!contains(p.attr(net.x.id(), "label"), "block @"));  // inputs are not planned
  CHECK(contains(label_of(p.graph), "memory plan: "));

  Net other;
  CHECK_THROWS_AS(to_dot(other.g, {.memory = plan}), GraphError);
}

TEST_CASE("with a memory plan each fused group is a cluster inside its scope, its members never stored") {
  Net net;
  Executor<double> ex(net.g, {.threads = 2});
  net.set_weights(ex);
  ex.run({{net.x, Matrix<double>::Ones(64, 3)}}, {net.loss, net.grads[0]});
  const MemoryReport plan = ex.memory_plan();
  // tanh's gradient reads its output, so the biased sum has one reader.
  // (The backward has fused groups too: a gradient summed from two terms.)
  Node biased, root;
  std::vector<NodeId> roots;
  for (const PlacedValue& v : plan.values) {
    if (!v.fused_into.valid()) continue;
    if (v.fused_into.op()->key() == "tanh") biased = v.node, root = v.fused_into;
    if (std::find(roots.begin(), roots.end(), v.fused_into.id()) == roots.end()) roots.push_back(v.fused_into.id());
  }
  REQUIRE(biased.valid());
  CHECK(biased.op()->key() == "add");
  Parsed p(to_dot(net.g, {.memory = plan}));
  CHECK(contains(p.attr(biased.id(), "label"), "fused into " + root.name() + ", never stored"));
  CHECK(p.attr(biased.id(), "fillcolor") == "#eeeeee");
  CHECK(contains(p.attr(root.id(), "label"), "block @ "));
  // The group's cluster sits inside layer1's, and holds both ops.
  Agraph_t* layer1 = nullptr;
  for (Agraph_t* c : clusters(p.graph)) {
    if (contains(label_of(c), "layer1")) layer1 = c;
  }
  REQUIRE(layer1 != nullptr);
  Agraph_t* fused = nullptr;
  for (Agraph_t* c : clusters(layer1)) {
    if (contains(label_of(c), "fused: 2 ops, one pass")) fused = c;
  }
  REQUIRE(fused != nullptr);
  for (Node n : {biased, root}) {
    std::string name = "n";
    name += std::to_string(n.id());
    CHECK(agnode(fused, name.data(), 0) != nullptr);
  }
  CHECK(agnnodes(fused) == 2);
  CHECK(contains(label_of(p.graph), "computed inside " + std::to_string(roots.size()) + " fused group"));
}

TEST_CASE("values from a planned run: fetched nodes show their data, reused ones say so instead of failing") {
  Net net;
  Executor<double> ex(net.g, {.threads = 1});  // plan_memory on, the default
  net.set_weights(ex);
  ex.run({{net.x, Matrix<double>::Ones(2, 3)}}, {net.loss, net.grads[0]});
  std::size_t reused = 0;
  Parsed p(to_dot(net.g, {.values = &ex}));
  for (NodeId id = 0; id < net.g.size(); ++id) {
    const Node n = net.g.node(id);
    CAPTURE(n.name());
    const std::string label = p.attr(id, "label");
    if (ex.value_reused(n)) {
      ++reused;
      CHECK(contains(label, "reused†"));
      CHECK_THROWS_AS(ex.value(n), FeedError);
    } else if (ex.has_value(n)) {
      CHECK(contains(label, "<B>data</B> "));
      CHECK(!contains(label, "reused†"));
    }
  }
  CHECK(reused > 0);
  CHECK(contains(label_of(p.graph), "plan_memory = false"));
  CHECK(contains(p.attr(net.loss.id(), "label"), "<B>data</B> "));  // fetched

  // With the plan off nothing is reused, and the legend does not speak of it.
  Executor<double> whole(net.g, {.threads = 1, .plan_memory = false});
  net.set_weights(whole);
  whole.run({{net.x, Matrix<double>::Ones(2, 3)}}, {net.loss, net.grads[0]});
  const std::string all = to_dot(net.g, {.values = &whole});
  CHECK(!contains(all, "reused"));
}

TEST_CASE("values an earlier run left are not shown beside the last run's") {
  Net net;
  Executor<double> ex(net.g, {.threads = 1, .plan_memory = false});
  net.set_weights(ex);
  std::vector<Node> step{net.loss};
  step.insert(step.end(), net.grads.begin(), net.grads.end());
  ex.run({{net.x, Matrix<double>::Ones(2, 3)}}, step);
  CHECK(!contains(to_dot(net.g, {.values = &ex}), "earlier run"));

  // The forward pass alone, on 5 rows: the gradients the first run left
  // are from other data.
  ex.run({{net.x, Matrix<double>::Ones(5, 3)}}, {net.loss});
  for (const Node g : net.grads) {
    CHECK(ex.has_value(g));
    CHECK(!ex.value_from_last_run(g));
  }
  CHECK(ex.value_from_last_run(net.loss));
  CHECK(ex.value_from_last_run(net.x));
  CHECK(ex.value_from_last_run(net.w1));  // a parameter's value is whatever ran
  Parsed p(to_dot(net.g, {.values = &ex}));
  CHECK(contains(label_of(p.graph), "earlier run‡"));
  const std::string w1 = p.attr(net.w1.id(), "label");
  check_contains(w1, {"<B>data</B> ", "<B>grad</B> earlier run‡"});
  CHECK(contains(p.attr(net.grads[0].id(), "label"), "<B>data</B> earlier run‡"));
  CHECK(contains(p.attr(net.loss.id(), "label"), "<B>data</B> "));
  CHECK(!contains(p.attr(net.loss.id(), "label"), "earlier run"));

  // The whole step again: every value is the last run's.
  ex.run({{net.x, Matrix<double>::Ones(2, 3)}}, step);
  CHECK(!contains(to_dot(net.g, {.values = &ex}), "earlier run"));
}
