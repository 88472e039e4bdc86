// Every op by its key, with what a generic test needs to exercise it: example
// inputs (shapes, and values kept clear of kinks and poles), how to build the
// op on them, and how many times it can be differentiated.
//   for (const OpEntry& op : op_registry()) for (const OpExample& e : op.examples) ...
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/core/onnx_form.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace dagrad {

// Where an example input's values lie: spread over [low, high], those within
// `gap` of 0 moved `gap` further out (clear of relu's kink, or of 1/x's pole);
// with whole, whole numbers from low to high, repeats included (ids); or,
// with rows_sum_to_one, positive rows that are probability distributions
// (labels), whatever low and high say.
struct Domain {
  double low = -2.0, high = 2.0;
  double gap = 0.0;
  bool rows_sum_to_one = false;
  bool whole = false;

  // Varied values, the same on every run; `salt` makes two inputs differ.
  Matrix<double> sample(Shape shape, int salt) const;
};

struct ExampleInput {
  Shape shape;
  Domain domain = {};
  bool differentiable = true;  // false where the op declares no gradient (labels)
};

struct OpExample {
  std::vector<ExampleInput> inputs;
  std::function<Node(const std::vector<Node>&)> build;  // the op on nodes of those shapes
  // The most rows the thread-count test scales a batch input to (0: as many
  // as the parallel cut needs), for an op whose work grows faster than its
  // rows: attention over one sequence, quadratic in it.
  Dim max_scaled_rows = 0;
};

// How many times the op's gradient rule chain can be applied:
// softmax_cross_entropy_grad declares no gradient; softmax_cross_entropy's
// gradient is that op, so it is differentiable once; the rest twice (relu
// and relu_grad almost everywhere).
enum class Differentiable { no, once, twice };

// A stored op's attributes, handed to its rebuild: each is read once, by
// name and kind. Throws GraphError naming the attribute that is missing, of
// the other kind, or out of range; finish() names one that was never read.
class AttributeReader {
 public:
  explicit AttributeReader(Attributes attributes);
  double real(std::string_view name);
  // A whole number in [low, high].
  std::int64_t integer(std::string_view name, std::int64_t low = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t high = std::numeric_limits<std::int64_t>::max());
  bool flag(std::string_view name) { return integer(name, 0, 1) != 0; }
  void finish() const;

 private:
  const Attribute& find(std::string_view name);
  Attributes attributes_;
  std::vector<bool> read_;
};

// Builds the op again on new input nodes from the attributes of a node it
// built (Op::attributes()): how a graph file comes back. Throws GraphError
// for the wrong number of inputs and whatever the op throws for bad shapes
// or attributes.
using Rebuild = std::function<Node(std::span<const Node> inputs, AttributeReader& attributes)>;

struct OpEntry {
  std::string_view key;
  Differentiable order = Differentiable::twice;
  std::vector<OpExample> examples;
  Rebuild rebuild;
  OnnxForm onnx = {};  // how an export writes it (none for the backward ops)
};

// Throws GraphError unless there are n inputs ("takes 2 inputs, not 3").
void expect_inputs(std::span<const Node> inputs, std::size_t n);
// The rebuild of an op without attributes, from its function.
Rebuild rebuild_of(Node (*op)(Node));
Rebuild rebuild_of(Node (*op)(Node, Node));
Rebuild rebuild_of(Node (*op)(Node, Node, Node));
Rebuild rebuild_of(Node (*op)(const std::vector<Node>&));  // any number, at least one

// Helpers for the entries. One input of `shape` in `domain`, given to op:
OpExample unary_example(Node (*op)(Node), Domain domain = {}, Shape shape = {2, 3});
// Inputs a and b, given to op:
OpExample binary_example(Node (*op)(Node, Node), ExampleInput a, ExampleInput b);
// The elementwise binary ops': one shape, then a row, a column and a 1x1 on
// either side (the kernels' every path); b's values from `b_domain`.
std::vector<OpExample> broadcast_examples(Node (*op)(Node, Node), Domain b_domain = {});

// Adds an op of the user's own (made with unary() from op_family.hpp, or an
// OpBase of theirs) to the registry, so that find_op finds it and a graph
// file holding its nodes loads: load_graph rebuilds each with entry.rebuild.
// Register before loading such a file, as a program links its own ops in.
// Throws GraphError for a key that is empty, not lowercase letters, digits
// and '_', or already taken (by a built-in op or an earlier registration),
// and for an entry without a rebuild. Safe to call from any thread.
//   register_op({.key = "user_rsqrt", .examples = {unary_example(user_rsqrt)}, .rebuild = rebuild_of(user_rsqrt)});
void register_op(OpEntry entry);

// All built-in ops, in key order. The list is explicit (lib/core/include/dagrad/core/detail/op_list.hpp),
// each entry defined beside its op in ops/<key>.cpp. register_op's are not in it.
const std::vector<OpEntry>& op_registry();

// The entry with this key, built in or registered, or nullptr.
const OpEntry* find_op(std::string_view key);

}  // namespace dagrad
