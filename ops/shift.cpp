// shift: y = x + c for a constant c.  dy/dx = 1
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

#include <sstream>

namespace dagrad {
namespace {

struct ShiftRule {
  static constexpr std::string_view key = "shift";
  double offset;
  Attributes attributes() const { return {{"offset", offset}}; }

  template <class X>
  auto operator()(const X& x) const {
    return x + static_cast<typename X::Scalar>(offset);
  }
  Node grad(const GradContext& ctx) const { return ctx.grad(); }

  std::string label() const {
    std::ostringstream s;
    s << "shift " << std::showpos << offset;
    return s.str();
  }
  std::string expression(std::span<const std::string> args) const {
    std::ostringstream s;
    s << args[0] << (offset < 0 ? " - " : " + ") << (offset < 0 ? -offset : offset);
    return s.str();
  }
};

}  // namespace

Node shift(Node x, double offset) { return unary(x, ShiftRule{offset}); }

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_shift(OnnxWriter& w) {
  w.node("Add", {w.in()[0], w.scalar(w.out(), "offset", w.attributes().real("offset"))}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_shift() {
  return {"shift", Differentiable::twice,
          {{.inputs = {{{2, 3}}}, .build = [](const auto& in) { return shift(in[0], 0.75); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            return shift(in[0], a.real("offset"));
          },
          {.operators = "Add (a scalar initializer)",
           .write = onnx_shift}};
}

}  // namespace dagrad
