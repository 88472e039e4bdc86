// How an op is written as ONNX operators (opset 13): each op's file says it
// beside its kernel and gradient (OpEntry::onnx), and the onnx part
// (dagrad/onnx/export.hpp) writes it with protobuf. The core only
// describes: it neither links ONNX nor writes files.
//   {.operators = "Relu"}                        one operator of the same meaning
//   {.operators = "Sqrt, Reciprocal", .write = [](OnnxWriter& w) {
//      const std::string root = w.helper(w.out(), "sqrt");
//      w.node("Sqrt", w.in(), root);
//      w.node("Reciprocal", {root}, w.out());
//    }}
#pragma once

#include <dagrad/core/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dagrad {

class AttributeReader;

// An ONNX node being written: its attributes, by ONNX's names.
class OnnxNode {
 public:
  virtual OnnxNode& attr(const std::string& name, std::int64_t value) = 0;
  virtual OnnxNode& attr(const std::string& name, float value) = 0;
  virtual OnnxNode& attr(const std::string& name, const std::string& value) = 0;
  virtual OnnxNode& attr(const std::string& name, const std::vector<std::int64_t>& value) = 0;
  // A one-element float tensor (ConstantOfShape's value).
  virtual OnnxNode& tensor_attr(const std::string& name, float value) = 0;

 protected:
  ~OnnxNode() = default;
};

// One dagrad node being written as ONNX nodes. Tensor names are strings:
// in() are the node's inputs', out() the name its last ONNX node must
// write; helper tensors are named "<base>#<what>".
class OnnxWriter {
 public:
  virtual const std::vector<std::string>& in() const = 0;
  virtual const std::string& out() const = 0;
  virtual Shape input_shape(std::size_t i) const = 0;
  virtual Shape shape() const = 0;  // the node's own (rows, cols)
  // The node's attributes, each to be read once (the writer checks).
  virtual AttributeReader& attributes() = 0;

  virtual OnnxNode& node(const std::string& type, const std::vector<std::string>& in, const std::string& out) = 0;
  // A tensor name of the model's own, "<base>#<what>" (numbered if taken).
  virtual std::string helper(const std::string& base, const std::string& what) = 0;
  // Initializers under helper names: a float scalar, a 1-D int64 list, a
  // 0-d int64, a float matrix.
  virtual std::string scalar(const std::string& base, const std::string& what, double value) = 0;
  virtual std::string ints(const std::string& base, const std::string& what, const std::vector<std::int64_t>& v) = 0;
  virtual std::string index(const std::string& base, const std::string& what, std::int64_t value) = 0;
  virtual std::string matrix(const std::string& base, const std::string& what, const Matrix<double>& value) = 0;

  // Built from the above. x reshaped to dims, under the helper name
  // "<out>#<what>".
  std::string reshape(const std::string& x, const std::string& what, const std::vector<std::int64_t>& dims);
  // A reduction over `axes` (all when empty), kept as dims unless !keep.
  void reduce(const std::string& type, const std::string& x, const std::vector<std::int64_t>& axes,
              const std::string& out, bool keep = true);
  // A column of ids (n x 1 floats, as dagrad keeps them) as the n int64s
  // that Gather and SoftmaxCrossEntropyLoss index with.
  std::string int_ids(const std::string& ids);
  // ONNX node `type` on x whose only attribute is `axis`.
  void along(const std::string& type, const std::string& x, std::int64_t axis, const std::string& out);

 protected:
  ~OnnxWriter() = default;
};

struct OnnxForm {
  // What the op becomes, in docs/onnx.md's words; empty: no ONNX form.
  std::string operators;
  // Writes the node; none: one operator named `operators` on all inputs.
  void (*write)(OnnxWriter&) = nullptr;
  // The inputs ONNX takes, the first ones (dropout's and batch_norm's step
  // input only picks inference, which is what an export is).
  std::size_t inputs = std::numeric_limits<std::size_t>::max();
};

}  // namespace dagrad
