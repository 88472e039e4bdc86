// Runs a graph on oneTBB: only the nodes the fetches need, each as soon as
// its inputs are ready, independent nodes at once, at most `threads` at a time.
//   Executor<double> ex(g, {.threads = 2});
//   ex.set(w, W);
//   auto out = ex.run({{x, X}}, {loss});
#pragma once

#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <type_traits>
#include <vector>

namespace dagrad {

struct ExecutorOptions {
  // How many nodes may run at once; 0 means one per hardware thread.
  int threads = 0;
  // Stop at the first NaN or infinity a node produces, naming the node, its
  // op and its inputs with a summary of their values.
  bool check_numerics = false;
  // Time each op node's kernel (two clock reads a node) for profile(). A
  // fused group's time is its root's (ExecutorOptions::fuse), which names
  // the group's other ops (NodeTime::with).
  bool profile = false;
  // Values a run needs only for a while share one block of memory, planned
  // by liveness (docs/design.md): a value's bytes go to a later value once
  // every node that reads it has finished, or to the elementwise node that
  // reads it last, written in place. The fetched nodes, inputs and
  // parameters keep their own storage. Off, every node keeps its value.
  bool plan_memory = true;
  // Before the first run of a fetch set, a node that repeats an earlier one
  // (the same op, attributes and inputs) takes that node's value instead of
  // computing it again, and an op whose inputs are all constants is
  // computed once, as a constant (docs/design.md). Every value is the bits
  // the graph as built gives; off, every node runs as built.
  bool optimize = true;
  // With plan_memory, a chain of elementwise ops (bias add then relu, say)
  // whose inner values nothing else reads runs as one task, a tile of
  // elements at a time through every op of the chain, so those values are
  // never stored whole (docs/design.md). Each element has the bits the
  // unfused chain gives. An op that takes an epilogue (Op::epilogue: a
  // convolution its bias add and relu, a max pool's gradient its relu's
  // gradient) applies the ops after it as it writes. Off, and with
  // check_numerics, each op runs alone.
  bool fuse = true;
};

// One op node's kernel time, summed over the runs that computed it.
struct NodeTime {
  Node node;
  double seconds = 0;
  std::uint64_t runs = 0;
  // When the node is a fused group's root: the other ops its task computed
  // with it, whose time is in `seconds` (a convolution, say, whose kernel
  // applied this relu), in the order they run.
  std::vector<Node> with;
};

// Where the last run kept one op node's value (Executor::memory_plan()).
struct PlacedValue {
  Node node;
  std::size_t bytes = 0;   // its size; in the arena, rounded up to 64 bytes
  bool in_arena = false;   // planned (not fetched): in the shared block
  std::size_t offset = 0;  // in the arena: where it starts
  Node over;               // valid when written in place over this input's value
  // Valid when the value was computed inside a fused group whose last op
  // (its root) is this node: it was never stored, and bytes is its size.
  Node fused_into;
  // Valid when the value was computed into the own buffer of this fetched
  // node, which reads it last and was then written over it in place (its
  // `over`): it takes no bytes of the arena.
  Node into;
};

// The last run's memory: every op node it computed, in topological order.
struct MemoryReport {
  std::vector<PlacedValue> values;
  bool planned = false;           // ExecutorOptions::plan_memory
  std::size_t arena_bytes = 0;    // the shared block: the planned values' peak
  // The planned values (in the arena, or computed into a fetched value's
  // buffer), their sizes summed: what one buffer each would take.
  std::size_t planned_bytes = 0;
  std::size_t own_bytes = 0;      // the values kept in their own storage (fetched, or all unplanned)
};

// The report in a few lines: the block's size against one buffer per value,
// how many values were written in place, what the fetched values hold.
//   memory plan: 41 op values; the 35 not fetched share a 12.44 MiB block
//     (one buffer each: 35.12 MiB, ratio 0.354), 14 written in place; ...
// Values computed into a fetched value's buffer count among those not
// fetched, and take none of the block.
std::string plan_summary(const MemoryReport& report);

// An input's value for one run. A matrix the caller names (or a row block
// of one, a Map, a Ref) is read in place, without a copy, and must outlive
// the runs that use the feed. A temporary matrix is moved into the feed and
// any other expression (a cast, a product) is evaluated into it, so such a
// feed, and every copy of it, holds its value for as long as it lives:
//   std::vector<Feed<float>> feeds = {{x, X.cast<float>()}, {y, Y}};  // X's copy kept, Y read in place
template <class T>
struct Feed {
  using View = Eigen::Map<const Matrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

  Feed(Node n, const Matrix<T>& m) : node(n), value(m.data(), m.rows(), m.cols(), Eigen::OuterStride<>(m.cols())) {}
  Feed(Node n, Matrix<T>&& m) : node(n), owned(std::make_shared<const Matrix<T>>(std::move(m))), value(view(*owned)) {}
  // A temporary matrix of another Eigen type (Rows4(X), a row's eval()) is
  // held as a temporary Matrix<T> is: read in place, it would be gone
  // before the run.
  template <class Derived>
  Feed(Node n, Eigen::PlainObjectBase<Derived>&& m)
      : node(n), owned(std::make_shared<const Matrix<T>>(m)), value(view(*owned)) {}
  template <class Derived>
  Feed(Node n, const Eigen::MatrixBase<Derived>& e)
      : node(n),
        owned(readable_in_place(e) ? nullptr : std::make_shared<const Matrix<T>>(e)),
        value(owned ? view(*owned) : view(e)) {}

  Node node;
  std::shared_ptr<const Matrix<T>> owned;  // the value, when the feed holds it
  View value;                              // what a run reads

 private:
  template <class Derived>
  static constexpr bool row_major_storage = std::is_same_v<typename Derived::Scalar, T> &&
                                            (Derived::Flags & Eigen::DirectAccessBit) != 0 &&
                                            (Derived::Flags & Eigen::RowMajorBit) != 0;
  template <class Derived>
  static bool readable_in_place(const Eigen::MatrixBase<Derived>& e) {
    if constexpr (row_major_storage<Derived>) {
      return e.derived().innerStride() == 1;
    } else {
      return false;
    }
  }
  template <class Derived>
  static View view(const Eigen::MatrixBase<Derived>& e) {
    if constexpr (row_major_storage<Derived>) {
      return View(e.derived().data(), e.rows(), e.cols(), Eigen::OuterStride<>(e.derived().outerStride()));
    } else {
      return View(nullptr, 0, 0, Eigen::OuterStride<>(0));  // not reached: such values are owned
    }
  }
};

template <class T>
class Executor {
 public:
  explicit Executor(Graph& graph, ExecutorOptions options = {});
  ~Executor();
  Executor(Executor&&) noexcept;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Sets a parameter's value; its shape must fit the parameter's.
  void set(Node parameter, const Matrix<T>& value);
  // The stored value of a parameter, for an optimizer to update in place.
  Matrix<T>& parameter(Node parameter);
  bool has_value(Node node) const;

  // Feeds the inputs, runs what the fetches need and returns their values.
  // Checks: every needed input fed, feeds only for inputs, shapes fit, every
  // needed parameter set. A kernel's exception arrives as ExecutionError
  // naming the node.
  std::vector<Matrix<T>> run(const std::vector<Feed<T>>& feeds,
                             const std::vector<Node>& fetches);
  // As run(), leaving the results in place for value() instead of copying.
  void compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches);
  // As compute(), telling the caller of each fetched value as soon as it is
  // final, while the rest of the graph still runs: ready(i, value) for
  // fetches[i], once for each i, from the thread that computed it (a oneTBB
  // worker; for a fetch the run does not compute, such as a parameter, the
  // calling thread before the run starts). `value` stays as it is until the
  // next run. This is how a data-parallel step sends one layer's gradients
  // while backward computes the next (nn::Trainer with a ShardGroup).
  // ready runs inside a task: it should be quick (hand the value on), and
  // must not throw or use this executor. A run that fails throws as
  // compute() does, having announced only values it finished before.
  using Ready = std::function<void(std::size_t fetch, const ConstView<T>& value)>;
  void compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches, const Ready& ready);

  // The storage an input is read from, for the caller to fill in place
  // instead of passing a Feed: the next run takes it as fed, with the same
  // shape checks, and no copy. The input must be staged again for each run;
  // a Feed for it in that run takes precedence.
  //   X.gather(rows, ex.input(x));  ex.compute({}, {loss});
  Matrix<T>& input(Node input);

  // A node's value from the last run that computed it (or a parameter's).
  // With options().plan_memory, a node the run did not fetch may have had
  // its bytes taken by a later value: value() then throws FeedError naming
  // it (fetch it, or turn plan_memory off); one still intact is copied out.
  const Matrix<T>& value(Node node) const;
  // True when the last run computed `node` but a later value of that run
  // took its bytes (plan_memory), so value() would throw: a drawing shows
  // such a node as reused rather than failing.
  bool value_reused(Node node) const;
  // True when `node` holds a value the last run computed or was fed (a
  // parameter's or a constant's always counts); false for one an earlier
  // run left, as a run of other fetches leaves the values it did not
  // need: a drawing then does not show it beside the last run's.
  bool value_from_last_run(Node node) const;

  // Bytes of values held: the shared block of planned values, and every
  // node's own storage (parameters, inputs, fetched values).
  std::size_t memory() const;
  // Where the last run kept each op node's value (none before a run or
  // after trim()): for plan_summary() and DotOptions::memory.
  MemoryReport memory_plan() const;
  // Frees the shared block and every stored value of a node that is neither
  // a parameter nor an input staged for the next run, keeping the plans,
  // and gives the kernels' per-thread scratch back (each thread's when it
  // next runs a kernel); the next run allocates what it needs again.
  void trim();

  // Runs f in the executor's task arena: parallel work inside f (a batch
  // gathered by Features::gather, say) uses at most `threads` threads.
  // (f is passed on by reference, as a std::function small enough to hold
  // it without allocating: an optimizer's step calls this every step.)
  template <class F>
  void within(F&& f) {
    run_within([&f] { f(); });
  }

  // With options().profile: every op node that has run, most time first.
  // Nodes run at once overlap, so the times may add up to more than the
  // runs took. clear_profile() starts the sums again.
  std::vector<NodeTime> profile() const;
  void clear_profile();
  // Switches options().profile on or off between runs.
  void set_profiling(bool on);

  Graph& graph() const;
  int threads() const;
  const ExecutorOptions& options() const;

 private:
  void run_within(const std::function<void()>& f);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class Executor<float>;
extern template class Executor<double>;

}  // namespace dagrad
