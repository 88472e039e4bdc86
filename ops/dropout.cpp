// dropout: y = x * keep / (1 - rate) while training (step >= 0), y = x at
// inference (step < 0). keep is 0 or 1 per element, drawn with probability
// 1 - rate from a counter-based generator keyed by (seed, step, element
// index), so a mask depends on nothing but those three: the same at any
// thread count, and the same again when the gradient asks for it.
//   dy/dx = keep / (1 - rate): dropout of the gradient with the same key.
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/random.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace dagrad {
namespace {

class Dropout final : public OpBase<Dropout> {
 public:
  Dropout(double rate, std::uint64_t seed) : rate_(rate), seed_(seed) {
    // An element is kept when its hash's top 32 bits fall below this.
    keep_below_ = static_cast<std::uint64_t>(std::ldexp(1.0 - rate, 32));
  }
  std::string_view key() const override { return "dropout"; }
  Shape infer(std::span<const Shape> in) const override {
    if (!(in[1] == Shape{1, 1}) && in[1].known()) {
      throw ShapeError("the step must be 1x1, not " + to_string(in[1]));
    }
    return in[0];
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    const double step = static_cast<double>((*in[1])(0, 0));
    if (step < 0 || rate_ == 0) {  // inference: the identity
      out = x;
      return;
    }
    const std::uint64_t key = mix64(seed_ ^ mix64(static_cast<std::uint64_t>(step) + 0x9e3779b97f4a7c15ULL));
    const T factor = T(1.0 / (1.0 - rate_));
    const T* src = x.data();
    T* dst = out.data();
    detail::parallel_elements(out.size(), [&](std::int64_t first, std::int64_t count) {
      for (std::int64_t i = first; i < first + count; ++i) {
        const bool keep = (mix64(key + static_cast<std::uint64_t>(i)) >> 32) < keep_below_;
        dst[i] = keep ? src[i] * factor : T(0);
      }
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    if (ctx.needs(1)) no_gradient(ctx, 1);  // the step is a counter, not a variable
    return {dropout(ctx.grad(), ctx.input(1), {.rate = rate_, .seed = seed_}), Node()};
  }

  // The seed's 64 bits travel as a signed integer's.
  Attributes attributes() const override {
    return {{"rate", rate_}, {"seed", std::bit_cast<std::int64_t>(seed_)}};
  }

  std::string label() const override {
    std::ostringstream s;
    s << "dropout " << rate_;
    return s.str();
  }

 private:
  double rate_;
  std::uint64_t seed_;
  std::uint64_t keep_below_;
};

}  // namespace

Node dropout(Node x, Node step, DropoutOptions options) {
  x.graph().check_owns(step, "dropout");
  if (!(options.rate >= 0 && options.rate < 1)) {
    std::ostringstream s;
    s << "dropout of '" << x.name() << "': the rate must be in [0, 1), not " << options.rate;
    throw ShapeError(s.str());
  }
  return x.graph().apply(std::make_shared<Dropout>(options.rate, options.seed), {x, step});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_dropout(OnnxWriter& w) {
  w.node("Identity", w.in(), w.out());
  w.attributes().real("rate");
  w.attributes().integer("seed");
}

}  // namespace

OpEntry detail::registry_entry_dropout() {
  // A training step (3) with a mask over 40 elements, and inference (-1);
  // the step is a counter, not differentiated.
  auto example = [](double step) {
    return OpExample{.inputs = {{{5, 8}}, {{1, 1}, {.low = step, .high = step}, false}},
                     .build = [](const auto& in) { return dropout(in[0], in[1], {.rate = 0.4, .seed = 5}); }};
  };
  return {"dropout", Differentiable::twice, {example(3), example(-1)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            const double rate = a.real("rate");
            const auto seed = std::bit_cast<std::uint64_t>(a.integer("seed"));
            return dropout(in[0], in[1], {.rate = rate, .seed = seed});
          },
          {.operators = "Identity (inference: dropout is off)",
           .write = onnx_dropout,
           .inputs = 1}};
}

}  // namespace dagrad
