#include <dagrad/core/op.hpp>

#include <array>
#include <dagrad/core/ops.hpp>

namespace dagrad {

std::string Op::expression(std::span<const std::string> args) const {
  std::string s(key());
  s += '(';
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i) s += ", ";
    s += args[i];
  }
  s += ')';
  return s;
}

Node Op::state_update(Node node, std::size_t input) const {
  throw GraphError(std::string(key()) + " node '" + node.name() + "' keeps no state in its input " +
                   std::to_string(input));
}

void Op::forward_elements(std::span<const float* const>, float*, Dim, Dim, Shape) const {
  throw GraphError(std::string(key()) + " is not an elementwise op: it has no forward_elements");
}
void Op::forward_elements(std::span<const double* const>, double*, Dim, Dim, Shape) const {
  throw GraphError(std::string(key()) + " is not an elementwise op: it has no forward_elements");
}

std::size_t Op::epilogue(std::span<const NodeId>, std::span<const Reader>) const { return 0; }
void Op::forward_epilogue(Inputs<float>, std::span<const Op* const>, std::span<const Inputs<float>>,
                          View<float>) const {
  throw GraphError(std::string(key()) + " applies no epilogue: it has no forward_epilogue");
}
void Op::forward_epilogue(Inputs<double>, std::span<const Op* const>, std::span<const Inputs<double>>,
                          View<double>) const {
  throw GraphError(std::string(key()) + " applies no epilogue: it has no forward_epilogue");
}

template <class T>
void run_readers_in_place(std::span<const Op* const> readers, std::span<const Inputs<T>> readers_in, View<T> out) {
  const ConstView<T> value(out.data(), out.rows(), out.cols());
  for (std::size_t j = 0; j < readers.size(); ++j) {
    // The reader's inputs, the value it reads at its slot (null there).
    std::array<const ConstView<T>*, 4> args{};
    if (readers_in[j].size() > args.size()) {
      throw GraphError(std::string(readers[j]->key()) + ": an epilogue's reader takes at most 4 inputs");
    }
    for (std::size_t i = 0; i < readers_in[j].size(); ++i) args[i] = readers_in[j][i] ? readers_in[j][i] : &value;
    readers[j]->forward(Inputs<T>(args.data(), readers_in[j].size()), out);
  }
}
template void run_readers_in_place<float>(std::span<const Op* const>, std::span<const Inputs<float>>, View<float>);
template void run_readers_in_place<double>(std::span<const Op* const>, std::span<const Inputs<double>>,
                                           View<double>);

void no_gradient(const GradContext& ctx, std::size_t input) {
  const Node n = ctx.output();
  throw GraphError(std::string(n.op()->key()) + " node '" + n.name() +
                   "' has no gradient with respect to its input " + std::to_string(input) +
                   " ('" + n.input(input).name() + "')");
}

namespace {

Dim same_dim(Dim a, Dim b, const char* what) {
  if (a == batch) return b;
  if (b == batch || a == b) return a;
  throw ShapeError(std::string(what) + " differ (" + std::to_string(a) + " and " +
                   std::to_string(b) + ")");
}

}  // namespace

Shape same_shape(Shape a, Shape b) {
  return {same_dim(a.rows, b.rows, "row counts"), same_dim(a.cols, b.cols, "column counts")};
}

void check_1x1(Shape s, std::string_view what) {
  if ((s.rows != 1 && s.rows != batch) || (s.cols != 1 && s.cols != batch)) {
    throw ShapeError(std::string(what) + " must be 1x1, not " + to_string(s));
  }
}

namespace {

// One axis: a dim broadcasts when statically 1 and the other's is not.
// Mismatches are reported by result(), which runs inside Graph::apply so the
// error names the op and its inputs.
void axis(Dim a, Dim b, bool& bcast_a, bool& bcast_b) {
  if (a == b) return;
  if (a == 1) {
    bcast_a = true;
  } else if (b == 1) {
    bcast_b = true;
  }
}

Dim pick(Dim a, Dim b, bool bcast_a, bool bcast_b, const char* what) {
  if (bcast_a) return b;
  if (bcast_b) return a;
  if (a == batch) return b;
  if (b == batch) return a;
  if (a != b) {
    throw ShapeError(std::string(what) + " differ (" + std::to_string(a) + " and " +
                     std::to_string(b) + ") and neither is 1");
  }
  return a;
}

}  // namespace

Broadcast Broadcast::of(Shape a, Shape b) {
  Broadcast r;
  axis(a.rows, b.rows, r.rows_a, r.rows_b);
  axis(a.cols, b.cols, r.cols_a, r.cols_b);
  return r;
}

Shape Broadcast::result(Shape a, Shape b) const {
  return {pick(a.rows, b.rows, rows_a, rows_b, "row counts"),
          pick(a.cols, b.cols, cols_a, cols_b, "column counts")};
}

Node unbroadcast(Node grad, bool rows, bool cols) {
  if (rows && cols) return sum(grad);
  if (rows) return sum_rows(grad);
  if (cols) return sum_cols(grad);
  return grad;
}

}  // namespace dagrad
