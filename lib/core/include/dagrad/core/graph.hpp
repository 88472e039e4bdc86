// The computation graph: inputs, parameters, constants and op nodes, stored
// in a Boost.Graph adjacency_list. Nodes are built through Graph and the op
// functions in ops.hpp; a Node is a light handle (graph pointer + index).
//   Graph g; Node x = g.input("x", {batch, 3}); Node y = sigmoid(x);
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad {

class Graph;
class Op;

using NodeId = std::uint32_t;

enum class NodeKind { input, parameter, constant, op };
// Forward nodes compute the model; backward nodes were added by gradients().
enum class Role { forward, backward };

std::string_view to_string(NodeKind kind);

class Node {
 public:
  Node() = default;
  Node(Graph* graph, NodeId id) : graph_(graph), id_(id) {}

  bool valid() const { return graph_ != nullptr; }
  explicit operator bool() const { return valid(); }
  Graph& graph() const;
  NodeId id() const { return id_; }

  // Shortcuts into the graph's record of this node.
  Shape shape() const;
  std::string name() const;  // a copy: the graph's storage moves as it grows
  NodeKind kind() const;
  const Op* op() const;
  Node input(std::size_t i) const;
  std::size_t num_inputs() const;

  friend bool operator==(const Node& a, const Node& b) {
    return a.graph_ == b.graph_ && a.id_ == b.id_;
  }

 private:
  Graph* graph_ = nullptr;
  NodeId id_ = 0;
};

struct NodeInfo {
  NodeKind kind = NodeKind::op;
  Role role = Role::forward;
  std::string name;   // unique in the graph; "node_N" when the user gave none
  std::string scope;  // "layer1" for a node built under g.scope("layer1"); "" at top
  Shape shape;        // build-time shape; an open row count is `batch`
  std::shared_ptr<const Op> op;  // null unless kind == op
  std::vector<NodeId> inputs;    // in argument order
  Matrix<double> value;          // a constant's value
  std::optional<NodeId> grad_of; // set on the node holding dL/d(that node)
};

class Graph {
 public:
  Graph();
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // A value fed at run time. Rows may be `batch` (fixed by the feed).
  Node input(std::string name, Shape shape);
  // A trainable tensor; its value lives in the executor (Executor::set).
  Node parameter(std::string name, Shape shape);
  // A fixed value held by the graph.
  Node constant(Matrix<double> value, std::string name = "");

  // Adds an op node: infers its shape (throwing ShapeError that names the op,
  // the input nodes and their shapes) and records it. Op functions call this.
  Node apply(std::shared_ptr<const Op> op, const std::vector<Node>& inputs,
             std::string name = "");

  // Names nodes built while the returned guard lives "name/...", and groups
  // them in a DOT cluster. Scopes nest: "loss/l2".
  class ScopeGuard {
   public:
    ScopeGuard(ScopeGuard&&) noexcept;
    ScopeGuard& operator=(ScopeGuard&&) = delete;
    ~ScopeGuard();

   private:
    friend class Graph;
    ScopeGuard(Graph* g, std::vector<std::string> saved) : graph_(g), saved_(std::move(saved)) {}
    Graph* graph_;
    std::vector<std::string> saved_;  // the scopes to restore
  };
  [[nodiscard]] ScopeGuard scope(std::string name);
  // Replaces the whole scope path ("layer1/inner", or "" for the top) while
  // the guard lives; gradients() puts each backward node in its forward
  // node's scope this way.
  [[nodiscard]] ScopeGuard scope_path(const std::string& path);
  std::string current_scope() const;

  // Marks nodes built while the guard lives as backward (gradient) nodes.
  class RoleGuard {
   public:
    ~RoleGuard();
    RoleGuard(const RoleGuard&) = delete;
    RoleGuard& operator=(const RoleGuard&) = delete;

   private:
    friend class Graph;
    RoleGuard(Graph* g, Role previous) : graph_(g), previous_(previous) {}
    Graph* graph_;
    Role previous_;
  };
  [[nodiscard]] RoleGuard role(Role r);

  std::size_t size() const;
  const NodeInfo& info(NodeId id) const;
  Node node(NodeId id);
  std::optional<Node> find(std::string_view name);
  void rename(Node n, std::string name);
  void set_grad_of(Node grad, Node of);

  // All nodes, each after its inputs (Boost.Graph's topological_sort).
  std::vector<NodeId> topological_order() const;

  // Memo of gradients(y, x) so repeated calls reuse the nodes already built.
  std::optional<NodeId> cached_gradient(NodeId y, NodeId x) const;
  void cache_gradient(NodeId y, NodeId x, NodeId grad);
  // The whole memo, ordered by (y, x): what a graph file keeps of it.
  struct CachedGradient {
    NodeId y, x, grad;
  };
  std::vector<CachedGradient> cached_gradients() const;

  // Checks that n belongs to this graph; `what` names the caller in the error.
  void check_owns(Node n, std::string_view what) const;

  // A unique name derived from `base` (adds _1, _2, ... on collision).
  std::string unique_name(std::string base) const;

  struct Impl;

 private:
  NodeId add_node(NodeInfo info);
  // An input or a parameter, its shape already checked.
  Node leaf(NodeKind kind, std::string name, Shape shape);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagrad
