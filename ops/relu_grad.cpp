// relu_grad: z = dy where x > 0, else 0.  dz/dx = 0 (almost everywhere), dz/d(dy) = [x > 0]
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

#include <bit>
#include <cstdint>
#include <type_traits>

namespace dagrad {
namespace {

Dim same_dim(Dim a, Dim b, const char* what) {
  if (a == batch) return b;
  if (b == batch || a == b) return a;
  throw ShapeError(std::string(what) + " differ (" + std::to_string(a) + " and " +
                   std::to_string(b) + ")");
}

class ReluGrad final : public OpBase<ReluGrad> {
 public:
  std::string_view key() const override { return "relu_grad"; }
  Shape infer(std::span<const Shape> in) const override {
    return {same_dim(in[0].rows, in[1].rows, "row counts"),
            same_dim(in[0].cols, in[1].cols, "column counts")};
  }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    // dy's bits where x > 0, else +0, as an AND with a compare mask: Eigen
    // 3.4's select() is scalar code with a branch per element, which only
    // an AVX-512 compiler turns into vector code; this is vector code for
    // SSE2 too (docs/benchmarks.md).
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const T* x = in[0]->data();
    const T* dy = in[1]->data();
    out.resize(in[0]->rows(), in[0]->cols());
    T* z = out.data();
    for (Eigen::Index i = 0, n = out.size(); i < n; ++i) {
      const Bits keep = Bits{0} - static_cast<Bits>(x[i] > T(0));
      z[i] = std::bit_cast<T>(std::bit_cast<Bits>(dy[i]) & keep);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const Node x = ctx.input(0);
    std::vector<Node> g(2);
    // The step in x is flat except at 0: its true derivative, declared explicitly.
    if (ctx.needs(0)) g[0] = zeros_like(x);
    if (ctx.needs(1)) g[1] = relu_grad(x, ctx.grad());
    return g;
  }
};

}  // namespace

Node relu_grad(Node x, Node dy) {
  x.graph().check_owns(dy, "relu_grad");
  return x.graph().apply(std::make_shared<ReluGrad>(), {x, dy});
}

}  // namespace dagrad
