// The op interface. Each op lives in one file under ops/: its shape rule,
// its forward kernel (for float and double), its gradient rule, which adds
// nodes to the graph, and its label. See ops/sigmoid.cpp for a short example.
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dagrad {

// A kernel's inputs, in the node's order: *in[0] is the first input's value.
template <class T>
using Inputs = std::span<const ConstView<T>* const>;

// A setting of an op that is not an input: scale's factor, conv2d's stride.
// Counts, flags and seeds are integers and the rest float64, so that a graph
// file (graph_file.hpp) and an ONNX export carry them exactly.
struct Attribute {
  std::string name;
  std::variant<std::int64_t, double> value;
};
using Attributes = std::vector<Attribute>;

// What a gradient rule sees: the forward node, dL/d(its output), and which
// inputs need a gradient.
class GradContext {
 public:
  GradContext(Node node, Node grad, std::vector<bool> needs)
      : node_(node), grad_(grad), needs_(std::move(needs)) {}
  Node output() const { return node_; }  // the forward node itself (its value is y)
  Node grad() const { return grad_; }    // dL/dy
  Node input(std::size_t i) const { return node_.input(i); }
  bool needs(std::size_t i) const { return needs_[i]; }

 private:
  Node node_;
  Node grad_;
  std::vector<bool> needs_;
};

class Op {
 public:
  virtual ~Op() = default;

  // The op's one word: "matmul".
  virtual std::string_view key() const = 0;

  // The output shape for these input shapes, or ShapeError with the reason.
  // Called when the node is built (open dims are `batch`) and again by
  // run() with concrete shapes, so kernels never meet a bad shape.
  virtual Shape infer(std::span<const Shape> inputs) const = 0;

  // Writes the output into `out`, which the executor has sized by infer()
  // and which holds no value of its own yet (it may hold an earlier value's
  // bytes): a kernel that accumulates first sets it to zero.
  virtual void forward(Inputs<float> in, View<float> out) const = 0;
  virtual void forward(Inputs<double> in, View<double> out) const = 0;

  // One node per input: dL/d(input i) built from ctx, or an invalid Node
  // where !ctx.needs(i). An input with no gradient throws GraphError.
  virtual std::vector<Node> backward(const GradContext& ctx) const = 0;

  // The DOT label: the key plus attributes ("scale ×0.5").
  virtual std::string label() const { return std::string(key()); }

  // Everything besides the inputs that the op was built with, by name, in a
  // fixed order: what its registry entry's rebuild takes back (registry.hpp).
  virtual Attributes attributes() const { return {}; }

  // Inputs that hold state the op keeps rather than learns (batch_norm's
  // running statistics): optimizers train none of them, and after each step
  // give each the value of the node state_update(node, i) builds. None for
  // most ops.
  virtual std::vector<std::size_t> state_inputs() const { return {}; }
  // Builds, beside `node` (a node of this op), the value its state input
  // `input` takes after a training step. Throws GraphError for an input that
  // is not one of state_inputs().
  virtual Node state_update(Node node, std::size_t input) const;

  // The op written with its arguments' names, for traces: "a * b".
  virtual std::string expression(std::span<const std::string> args) const;

  // Inputs whose bytes the output may take (written in place): the kernel
  // reads each element of such an input only to compute the same element of
  // the output, and the input has the output's shape. The memory planner
  // uses one when this node is the input's last reader (docs/design.md).
  // None for most ops; the elementwise families give theirs.
  virtual std::vector<std::size_t> in_place_inputs() const { return {}; }

  // Inputs whose shape alone the kernel uses, never their values
  // (zeros_like's): the node need not wait for them, nor keep them alive.
  virtual std::vector<std::size_t> shape_only_inputs() const { return {}; }

  // Elementwise ops (the unary and binary families, op_family.hpp): the
  // output's element (r, c) comes from each input's element (r, c), or the
  // one a broadcast input repeats there, and forward() is forward_elements()
  // over blocks of elements fixed by the size alone. The executor may then
  // run a chain of such ops as one pass over a block at a time (a fused
  // group, docs/design.md), with the bits each op alone gives.
  virtual bool elementwise() const { return false; }
  // Elements [first, first + count) of the output, in storage order, into
  // out[0, count): in[i] points at input i's element `first` when the input
  // has the output's shape, else at the start of the broadcast input. `shape`
  // is the output's. Only for elementwise() ops; others throw GraphError.
  virtual void forward_elements(std::span<const float* const> in, float* out, Dim first, Dim count,
                                Shape shape) const;
  virtual void forward_elements(std::span<const double* const> in, double* out, Dim first, Dim count,
                                Shape shape) const;

  // Epilogue fusion (ExecutorOptions::fuse). `readers` is a chain of ops
  // after this one: readers[0] reads this op's value at input `slot`,
  // readers[i] reads readers[i - 1]'s, each the only reader of the value
  // before it, none fetched. How many of them, from the first, this op's
  // kernel applies to each element as it writes it (a convolution adds its
  // channel's bias and takes the relu before the store), with the bits the
  // ops give one after another; the executor then runs them as this op's
  // one pass. `inputs` are this op's own input nodes. 0 (most ops): none.
  struct Reader {
    const Op* op;
    std::span<const NodeId> inputs;
    std::size_t slot;
  };
  virtual std::size_t epilogue(std::span<const NodeId> inputs, std::span<const Reader> readers) const;
  // This op's value with the first n readers applied (n from epilogue()):
  // `in` as forward()'s, readers[i] and its inputs' values readers_in[i]
  // (null at its slot), `out` the last of them's value.
  virtual void forward_epilogue(Inputs<float> in, std::span<const Op* const> readers,
                                std::span<const Inputs<float>> readers_in, View<float> out) const;
  virtual void forward_epilogue(Inputs<double> in, std::span<const Op* const> readers,
                                std::span<const Inputs<double>> readers_in, View<double> out) const;
};

// Implements the two virtual forward()s with one member template
// `template <class T> void kernel(Inputs<T>, View<T>) const` in Derived.
template <class Derived>
class OpBase : public Op {
 public:
  void forward(Inputs<float> in, View<float> out) const override {
    static_cast<const Derived*>(this)->kernel(in, out);
  }
  void forward(Inputs<double> in, View<double> out) const override {
    static_cast<const Derived*>(this)->kernel(in, out);
  }
};

// The shape rule of ops whose inputs must agree in shape (an open `batch`
// dim fits any size): the common shape, else ShapeError "row counts differ
// (2 and 3)". Graph::apply adds the op, the nodes and their shapes.
Shape same_shape(Shape a, Shape b);

// Throws ShapeError "<what> must be 1x1, not 2x3" unless s is 1x1 (a `batch`
// dim fits): the incoming gradient of a loss, say.
void check_1x1(Shape s, std::string_view what);

// An epilogue's readers (Op::forward_epilogue's arguments) run by their own
// kernels, one after another, each in place over `out`, which holds the
// value the first of them reads: for a producer's paths that cannot apply
// them as they store. Each reader reads only its own element of that value.
template <class T>
void run_readers_in_place(std::span<const Op* const> readers, std::span<const Inputs<T>> readers_in, View<T> out);

// A throw from an op's gradient rule for an input it cannot differentiate.
[[noreturn]] void no_gradient(const GradContext& ctx, std::size_t input);

// Broadcasting shared by the elementwise binary ops. A dimension broadcasts
// only when it is statically 1 and the other side's is not; decided when the
// node is built so the same rule holds at run time.
struct Broadcast {
  bool rows_a = false, cols_a = false, rows_b = false, cols_b = false;

  static Broadcast of(Shape a, Shape b);
  Shape result(Shape a, Shape b) const;   // throws ShapeError at run time
};

// Sums a gradient back to the shape of a broadcast input: over rows, over
// columns or both, as `rows`/`cols` say. Returns grad itself when neither.
Node unbroadcast(Node grad, bool rows, bool cols);

}  // namespace dagrad
