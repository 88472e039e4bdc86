// embedding: y(r, :) = table(ids(r), :), the table's rows picked by id.
// dL/dtable(v, :) = sum of dL/dy(r, :) over the rows r with ids(r) = v; ids get no gradient
#include <dagrad/core/detail/ids.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Embedding final : public OpBase<Embedding> {
 public:
  std::string_view key() const override { return "embedding"; }

  Shape infer(std::span<const Shape> in) const override {
    if (in[0].cols != 1) throw ShapeError("the ids must be one column (n × 1), not " + to_string(in[0]));
    if (in[1].rows == batch) throw ShapeError("the table's row count must be known, not " + to_string(in[1]));
    return {in[0].rows, in[1].cols};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& ids = *in[0];
    const ConstView<T>& table = *in[1];
    for (Eigen::Index r = 0; r < ids.rows(); ++r) {
      out.row(r) = table.row(detail::checked_id(ids, r, table.rows(), "the table's rows"));
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // An id picks a row; nudging it does not move the output smoothly.
    if (ctx.needs(0)) no_gradient(ctx, 0);
    std::vector<Node> g(2);
    if (ctx.needs(1)) g[1] = embedding_grad(ctx.input(0), ctx.grad(), ctx.input(1).shape().rows);
    return g;
  }
};

}  // namespace

Node embedding(Node ids, Node table) {
  ids.graph().check_owns(table, "embedding");
  return ids.graph().apply(std::make_shared<Embedding>(), {ids, table});
}

OpEntry detail::registry_entry_embedding() {
  // Five ids over a table of four rows, some repeated, so the gradient sums.
  return {"embedding", Differentiable::twice,
          {binary_example(embedding, {{5, 1}, {.low = 0, .high = 3, .whole = true}, false}, {{4, 3}})},
          rebuild_of(embedding),
          {.operators = "Cast (ids to int64), Reshape, Gather (axis 0)",
           .write = [](OnnxWriter& w) {
             w.node("Gather", {w.in()[1], w.int_ids(w.in()[0])}, w.out()).attr("axis", std::int64_t{0});
           }}};
}

}  // namespace dagrad
