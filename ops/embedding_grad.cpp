// embedding_grad: z(v, :) = sum of dy(r, :) over the rows r with ids(r) = v, for
// v in [0, rows).  dz/d(dy) is embedding's gather: dL/d(dy) = embedding(ids, dL/dz); ids get no gradient
#include <dagrad/core/detail/ids.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class EmbeddingGrad final : public OpBase<EmbeddingGrad> {
 public:
  explicit EmbeddingGrad(Dim rows) : rows_(rows) {}
  std::string_view key() const override { return "embedding_grad"; }

  Shape infer(std::span<const Shape> in) const override {
    if (in[0].cols != 1) throw ShapeError("the ids must be one column (n × 1), not " + to_string(in[0]));
    if (in[0].rows != batch && in[1].rows != batch && in[0].rows != in[1].rows) {
      throw ShapeError("the ids have " + std::to_string(in[0].rows) + " rows but dy has " +
                       std::to_string(in[1].rows));
    }
    return {rows_, in[1].cols};
  }

  // One pass in row order, by one thread: each table row's sum is added in
  // the same order whatever the thread count, so the bits never change.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& ids = *in[0];
    const ConstView<T>& dy = *in[1];
    out.setZero();
    for (Eigen::Index r = 0; r < ids.rows(); ++r) {
      out.row(detail::checked_id(ids, r, rows_, "the table's rows")) += dy.row(r);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    if (ctx.needs(0)) no_gradient(ctx, 0);
    std::vector<Node> g(2);
    if (ctx.needs(1)) g[1] = embedding(ctx.input(0), ctx.grad());
    return g;
  }

  std::string label() const override { return "embedding_grad rows " + std::to_string(rows_); }
  Attributes attributes() const override { return {{"rows", std::int64_t{rows_}}}; }

 private:
  Dim rows_;
};

}  // namespace

Node embedding_grad(Node ids, Node dy, Dim rows) {
  if (rows <= 0) {
    throw GraphError("embedding_grad of '" + dy.name() + "': the table's row count must be positive, not " +
                     std::to_string(rows));
  }
  ids.graph().check_owns(dy, "embedding_grad");
  return ids.graph().apply(std::make_shared<EmbeddingGrad>(rows), {ids, dy});
}

OpEntry detail::registry_entry_embedding_grad() {
  return {"embedding_grad", Differentiable::twice,
          {{.inputs = {{{5, 1}, {.low = 0, .high = 3, .whole = true}, false}, {{5, 3}}},
            .build = [](const auto& in) { return embedding_grad(in[0], in[1], 4); }}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 2);
            return embedding_grad(in[0], in[1], a.integer("rows", 1));
          }};
}

}  // namespace dagrad
