// OnnxWriter's helpers built from its calls (onnx_form.hpp).
#include <dagrad/core/onnx_form.hpp>

namespace dagrad {

std::string OnnxWriter::reshape(const std::string& x, const std::string& what, const std::vector<std::int64_t>& dims) {
  const std::string shape = ints(out(), what + "_shape", dims);
  const std::string y = helper(out(), what);
  node("Reshape", {x, shape}, y);
  return y;
}

void OnnxWriter::reduce(const std::string& type, const std::string& x, const std::vector<std::int64_t>& axes,
                        const std::string& out, bool keep) {
  if (type == "ReduceSum") {  // opset 13 takes its axes as an input
    std::vector<std::string> args{x};
    if (!axes.empty()) args.push_back(ints(out, "axes", axes));
    node(type, args, out).attr("keepdims", std::int64_t{keep});
  } else {
    OnnxNode& n = node(type, {x}, out);
    if (!axes.empty()) n.attr("axes", axes);
    n.attr("keepdims", std::int64_t{keep});
  }
}

std::string OnnxWriter::int_ids(const std::string& ids) {
  const std::string as_int = helper(out(), "ids");
  node("Cast", {ids}, as_int).attr("to", std::int64_t{7});  // TensorProto::INT64
  return reshape(as_int, "flat_ids", {-1});
}

void OnnxWriter::along(const std::string& type, const std::string& x, std::int64_t axis, const std::string& out) {
  node(type, {x}, out).attr("axis", axis);
}

}  // namespace dagrad
