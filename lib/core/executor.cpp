#include <dagrad/core/detail/memory_plan.hpp>
#include <dagrad/core/detail/tsan.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/registry.hpp>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <iomanip>
#include <map>
#include <mutex>
#include <new>
#include <numeric>
#include <sstream>
#include <tuple>
#include <typeindex>
#include <variant>

namespace dagrad {

namespace {

// Clears the upper halves of the vector registers before a kernel runs. In
// the -march=native build the kernels were entered with them dirty (from
// where on the way in is not known), and a kernel so entered runs every
// legacy-SSE instruction it calls into, such as glibc's tanh, at a
// transition penalty: double tanh 17 times slower on an AVX-512 machine
// (docs/benchmarks.md). Built for AVX, one vzeroupper; else nothing.
inline void clean_vector_state() {
#if defined(__AVX__)
  __builtin_ia32_vzeroupper();
#endif
}

template <class Derived>
std::string summarize(const Eigen::MatrixBase<Derived>& m) {
  std::ostringstream s;
  s << m.rows() << "x" << m.cols();
  if (m.size() == 0) return s.str();
  Eigen::Index nonfinite = 0;
  double lo = 0, hi = 0, total = 0;
  bool first = true;
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const double v = static_cast<double>(m.derived().data()[i]);
    if (!std::isfinite(v)) {
      ++nonfinite;
      continue;
    }
    lo = first ? v : std::min(lo, v);
    hi = first ? v : std::max(hi, v);
    total += v;
    first = false;
  }
  if (!first) {
    s << " min " << lo << " mean " << total / static_cast<double>(m.size() - nonfinite)
      << " max " << hi;
  }
  if (nonfinite) s << ", " << nonfinite << " not finite";
  return s.str();
}

// The block of memory planned values share, on Matrix storage's alignment.
struct ArenaFree {
  void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{detail::arena_alignment}); }
};
using ArenaBytes = std::unique_ptr<std::byte[], ArenaFree>;

// Where a node's value lies: its own matrix, or the arena (and whether
// value() has copied it out, or a later value took its bytes).
enum class Storage : char { own, arena, copied, gone };

}  // namespace

template <class T>
struct Executor<T>::Impl {
  // What one set of fetches needs, built once and reused on every run.
  struct Plan {
    std::vector<NodeId> ops;  // in topological order
    std::vector<NodeId> inputs, parameters, constants;
    std::vector<std::vector<const ConstView<T>*>> args;  // per op, its inputs' values
    std::vector<int> task_of;    // per graph node, its op's index in ops, or -1
    // Per graph node, the node whose value it reads as its own: itself, or
    // (options.optimize) the earlier node it repeats. The repeats never run.
    std::vector<NodeId> rep;
    std::vector<NodeId> repeats;
    std::vector<char> fetched;   // per op: fetched, so never in the arena
    std::unique_ptr<detail::Liveness> live;  // the order the flow graph's edges impose
    // Per op: the ops it reads whose bytes it may be written over
    // (Op::in_place_inputs); none with check_numerics, whose report shows
    // the inputs after the kernel ran.
    std::vector<std::vector<std::size_t>> in_place;
    std::vector<Shape> shapes;   // per op, inferred for the fed shapes
    // Per op sizes in bytes (so per batch size): where each value lies.
    std::map<std::vector<std::size_t>, detail::MemoryPlan> layouts;
    // This run's, or none with plan_memory off; kept while the fed shapes
    // stay the same, so a steady run looks nothing up.
    const detail::MemoryPlan* layout = nullptr;
    std::unique_ptr<tbb::flow::graph> flow;
    std::unique_ptr<tbb::flow::broadcast_node<tbb::flow::continue_msg>> start;
    std::deque<tbb::flow::continue_node<tbb::flow::continue_msg>> tasks;
    // The fed shapes its op shapes were last inferred for, and when.
    std::vector<Shape> fed_shapes;
    bool inferred = false;
  };

  Graph& graph;
  ExecutorOptions options;
  int threads;
  tbb::task_arena arena;
  std::deque<Matrix<T>> values;  // each node's own storage
  // What kernels read: each node's value where it lies, in values or in the
  // arena. A deque, so plans may keep pointers into it.
  std::deque<ConstView<T>> views;
  std::vector<Storage> storage;
  ArenaBytes arena_bytes;
  std::size_t arena_size = 0;
  std::vector<NodeId> in_arena;  // the nodes the last run placed in the arena
  std::vector<char> ready;       // parameter set, or node computed by a run
  std::vector<char> staged;      // input filled in place through input()
  std::vector<char> folded;      // op computed once from constants (options.optimize)
  // With options.profile: kernel seconds and runs per node, each written
  // only by its own node's task.
  std::vector<double> kernel_seconds;
  std::vector<std::uint64_t> kernel_runs;
  std::map<std::vector<NodeId>, std::unique_ptr<Plan>> plans;
  const Plan* last = nullptr;  // the last run's, for memory_plan()

  // A run's failure: of the nodes that fail, the one created first, so the
  // report does not depend on which thread got there first. Once a node has
  // failed, the nodes that depend on it are skipped (`poisoned`, written by
  // a node's own task before its successors start); the others still run,
  // so every node that would fail does, whatever the timing.
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
  NodeId error_node = 0;
  std::vector<char> poisoned;

  Impl(Graph& g, ExecutorOptions o)
      : graph(g),
        options(o),
        threads(o.threads > 0 ? o.threads : tbb::info::default_concurrency()),
        arena(threads) {}

  void grow() {
    while (values.size() < graph.size()) values.emplace_back();
    while (views.size() < graph.size()) views.emplace_back(nullptr, 0, 0);
    storage.resize(graph.size(), Storage::own);
    ready.resize(graph.size(), 0);
    staged.resize(graph.size(), 0);
    folded.resize(graph.size(), 0);
    poisoned.resize(graph.size(), 0);
    kernel_seconds.resize(graph.size(), 0.0);
    kernel_runs.resize(graph.size(), 0);
  }

  Plan& plan_for(const std::vector<Node>& fetches) {
    std::vector<NodeId> key;
    for (const Node& f : fetches) {
      graph.check_owns(f, "run");
      key.push_back(f.id());
    }
    std::sort(key.begin(), key.end());
    key.erase(std::unique(key.begin(), key.end()), key.end());
    auto it = plans.find(key);
    if (it != plans.end()) return *it->second;

    grow();
    auto plan = std::make_unique<Plan>();
    plan->task_of = list_needed(key, *plan);
    plan->fetched.assign(plan->ops.size(), 0);
    // A fetched repeat keeps the value it reads whole.
    for (NodeId f : key) {
      const int task = plan->task_of[plan->rep[f]];
      if (task >= 0) plan->fetched[static_cast<std::size_t>(task)] = 1;
    }
    plan->shapes.resize(plan->ops.size());
    build_flow(*plan, plan->task_of);
    return *plans.emplace(std::move(key), std::move(plan)).first->second;
  }

  // What makes two op nodes the same computation: the op's class and key,
  // its attributes and its inputs (each input's representative).
  struct Signature {
    std::type_index type;
    std::string key;
    std::string attributes;
    std::vector<NodeId> inputs;
    bool operator<(const Signature& o) const {
      return std::tie(type, key, attributes, inputs) < std::tie(o.type, o.key, o.attributes, o.inputs);
    }
  };
  static std::string attribute_text(const Attributes& attributes) {
    std::ostringstream s;
    s.precision(17);
    for (const Attribute& a : attributes) {
      s << a.name << '=';
      std::visit([&](auto v) { s << v << (std::is_same_v<decltype(v), double> ? 'd' : 'i'); }, a.value);
      s << ';';
    }
    return s.str();
  }

  // The nodes the fetches need, sorted into the plan by kind (constants get
  // their values now); returns each op node's task index, -1 for the rest.
  // With options.optimize, a repeat of an earlier node is listed in
  // plan.repeats and reads that node's value; an op of constants alone
  // (a registered op: its attributes say all it does) is computed now.
  std::vector<int> list_needed(const std::vector<NodeId>& fetches, Plan& plan) {
    std::vector<char> needed(graph.size(), 0);
    for (NodeId f : fetches) needed[f] = 1;
    for (NodeId n = static_cast<NodeId>(graph.size()); n-- > 0;) {
      if (!needed[n]) continue;
      for (NodeId in : graph.info(n).inputs) needed[in] = 1;
    }
    plan.rep.resize(graph.size());
    std::iota(plan.rep.begin(), plan.rep.end(), NodeId{0});
    std::map<Signature, NodeId> seen;
    std::vector<int> task_of(graph.size(), -1);
    for (NodeId n = 0; n < graph.size(); ++n) {
      if (!needed[n]) continue;
      const NodeInfo& info = graph.info(n);
      switch (info.kind) {
        case NodeKind::input: plan.inputs.push_back(n); break;
        case NodeKind::parameter: plan.parameters.push_back(n); break;
        case NodeKind::constant:
          values[n] = info.value.template cast<T>();
          ready[n] = 1;
          plan.constants.push_back(n);
          break;
        case NodeKind::op: {
          if (options.optimize && find_op(info.op->key())) {
            const Op& op = *info.op;
            Signature sig{typeid(op), std::string(op.key()), attribute_text(op.attributes()), {}};
            for (NodeId in : info.inputs) sig.inputs.push_back(plan.rep[in]);
            const auto [at, first] = seen.emplace(std::move(sig), n);
            if (!first) {
              plan.rep[n] = at->second;
              task_of[n] = task_of[at->second];
              plan.repeats.push_back(n);
              break;
            }
            if (fold(n, plan.rep)) {
              plan.constants.push_back(n);
              break;
            }
          }
          task_of[n] = static_cast<int>(plan.ops.size());
          plan.ops.push_back(n);
          std::vector<const ConstView<T>*> args;
          for (NodeId in : info.inputs) args.push_back(&views[plan.rep[in]]);
          plan.args.push_back(std::move(args));
          break;
        }
      }
    }
    return task_of;
  }

  // Computes op node n now when every input is a constant or an op computed
  // so, as a run would: its value is then kept as a constant's is. Returns
  // whether it did. Its inputs are representatives (list_needed).
  bool fold(NodeId n, const std::vector<NodeId>& rep) {
    if (folded[n]) return true;
    const NodeInfo& info = graph.info(n);
    std::vector<Shape> shapes;
    std::vector<ConstView<T>> inputs;
    for (NodeId input : info.inputs) {
      const NodeId in = rep[input];
      const NodeInfo& from = graph.info(in);
      if (from.kind != NodeKind::constant && !folded[in]) return false;
      if (from.kind == NodeKind::constant) values[in] = from.value.template cast<T>();
      shapes.push_back(shape_of(values[in]));
      inputs.emplace_back(values[in].data(), values[in].rows(), values[in].cols());
    }
    if (info.inputs.empty()) return false;
    std::vector<const ConstView<T>*> args;
    for (const ConstView<T>& v : inputs) args.push_back(&v);
    const Shape s = info.op->infer(shapes);
    values[n].resize(s.rows, s.cols);
    View<T> out(values[n].data(), s.rows, s.cols);
    clean_vector_state();
    try {
      info.op->forward(Inputs<T>(args.data(), args.size()), out);
    } catch (const std::exception& e) {
      throw ExecutionError(std::string(info.op->key()) + " node '" + info.name + "' failed: " + e.what());
    }
    folded[n] = 1;
    ready[n] = 1;
    return true;
  }

  // One flow-graph task per op node, an edge from each op it reads; ops
  // that read only inputs, parameters and constants hang off `start`. The
  // memory planner is given the same edges.
  void build_flow(Plan& p, const std::vector<int>& task_of) {
    Plan* const plan = &p;
    std::vector<std::vector<std::size_t>> preds_of(plan->ops.size());
    // The flow graph is built inside the arena so its tasks run there.
    arena.execute([&] {
      plan->flow = std::make_unique<tbb::flow::graph>();
      plan->start =
          std::make_unique<tbb::flow::broadcast_node<tbb::flow::continue_msg>>(*plan->flow);
      for (std::size_t k = 0; k < plan->ops.size(); ++k) {
        const NodeId n = plan->ops[k];
        const ConstView<T>* const* args = plan->args[k].data();
        const std::size_t nargs = plan->args[k].size();
        plan->tasks.emplace_back(*plan->flow, [this, n, args, nargs](tbb::flow::continue_msg) {
          run_node(n, Inputs<T>(args, nargs));
        });
      }
      for (std::size_t k = 0; k < plan->ops.size(); ++k) {
        std::vector<int> preds;
        const NodeInfo& info = graph.info(plan->ops[k]);
        const std::vector<std::size_t> shape_only = info.op->shape_only_inputs();
        for (std::size_t i = 0; i < info.inputs.size(); ++i) {
          // An input whose shape alone is used need not be waited for.
          if (std::find(shape_only.begin(), shape_only.end(), i) != shape_only.end()) continue;
          if (task_of[info.inputs[i]] >= 0) preds.push_back(task_of[info.inputs[i]]);
        }
        std::sort(preds.begin(), preds.end());
        preds.erase(std::unique(preds.begin(), preds.end()), preds.end());
        if (preds.empty()) tbb::flow::make_edge(*plan->start, plan->tasks[k]);
        for (int p : preds) {
          tbb::flow::make_edge(plan->tasks[p], plan->tasks[k]);
          preds_of[k].push_back(static_cast<std::size_t>(p));
        }
      }
    });
    plan->live = std::make_unique<detail::Liveness>(preds_of);
    plan->in_place.assign(plan->ops.size(), {});
    if (options.check_numerics) return;
    for (std::size_t k = 0; k < plan->ops.size(); ++k) {
      const NodeInfo& info = graph.info(plan->ops[k]);
      for (std::size_t i : info.op->in_place_inputs()) {
        const int task = i < info.inputs.size() ? task_of[info.inputs[i]] : -1;
        if (task >= 0) plan->in_place[k].push_back(static_cast<std::size_t>(task));
      }
    }
  }

  void run_node(NodeId n, Inputs<T> args) {
    // The feeds and each input's value are ready: say so to ThreadSanitizer,
    // which cannot see the flow graph's own ordering (detail/tsan.hpp).
    tsan::acquire(this);
    for (const ConstView<T>* a : args) tsan::acquire(a);
    struct Done {
      const void* token;
      ~Done() { tsan::release(token); }
    } done{&views[n]};
    const NodeInfo& info = graph.info(n);
    if (failed.load(std::memory_order_relaxed)) {
      for (NodeId in : info.inputs) {
        if (poisoned[in]) {
          poisoned[n] = 1;
          return;
        }
      }
    }
    const ConstView<T>& where = views[n];
    View<T> out(const_cast<T*>(where.data()), where.rows(), where.cols());
    clean_vector_state();
    try {
      if (options.profile) {
        const auto start = std::chrono::steady_clock::now();
        info.op->forward(args, out);
        kernel_seconds[n] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++kernel_runs[n];
      } else {
        info.op->forward(args, out);
      }
      if (options.check_numerics && !out.allFinite()) fail(n, not_finite(info, args, out));
    } catch (const std::exception& e) {
      fail(n, std::string(info.op->key()) + " node '" + info.name + "' failed: " + e.what());
    } catch (...) {
      fail(n, std::string(info.op->key()) + " node '" + info.name + "' failed with an unknown error");
    }
  }

  // What check_numerics reports: the node, its op, and each input's summary.
  std::string not_finite(const NodeInfo& info, Inputs<T> args, const View<T>& out) const {
    std::string msg = "numeric check: " + std::string(info.op->key()) + " node '" + info.name +
                      "' produced a value that is not finite (" + summarize(out) + "); its inputs:";
    for (std::size_t i = 0; i < info.inputs.size(); ++i) {
      msg += "\n  '" + graph.info(info.inputs[i]).name + "': " + summarize(*args[i]);
    }
    return msg;
  }

  // A Map is pointed elsewhere by being constructed anew (its operator=
  // copies coefficients).
  void point(NodeId n, const T* data, Eigen::Index rows, Eigen::Index cols) {
    new (&views[n]) ConstView<T>(data, rows, cols);
  }

  void fail(NodeId n, std::string message) {
    poisoned[n] = 1;
    std::lock_guard lock(error_mutex);
    if (!failed.load() || n < error_node) {
      error = std::move(message);
      error_node = n;
      failed.store(true);
    }
  }

  void compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches) {
    if (fetches.empty()) throw FeedError("run: no nodes to fetch");
    Plan& plan = plan_for(fetches);
    take_inputs(plan, feeds);
    check_parameters(plan);
    for (const auto* list : {&plan.inputs, &plan.parameters, &plan.constants}) {
      for (NodeId n : *list) point(n, values[n].data(), values[n].rows(), values[n].cols());
    }
    last = nullptr;
    infer_shapes(plan);
    place_values(plan);
    last = &plan;
    run_plan(plan);
  }

  MemoryReport memory_plan() const {
    MemoryReport report;
    if (!last) return report;
    const Plan& plan = *last;
    const detail::MemoryPlan* layout = plan.layout;
    report.planned = layout != nullptr;
    if (layout) report.arena_bytes = layout->arena_bytes;
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
      PlacedValue v{.node = graph.node(plan.ops[k])};
      if (layout && layout->offset[k] != detail::not_planned) {
        v.in_arena = true;
        v.offset = layout->offset[k];
        v.bytes = layout->bytes[k];
        if (layout->in_place_of[k] != detail::not_planned) v.over = graph.node(plan.ops[layout->in_place_of[k]]);
        report.planned_bytes += v.bytes;
      } else {
        v.bytes = static_cast<std::size_t>(plan.shapes[k].size()) * sizeof(T);
        report.own_bytes += v.bytes;
      }
      report.values.push_back(v);
    }
    return report;
  }

  // Every input the plan needs, from its feed or as staged through input(),
  // checked against its declared shape.
  void take_inputs(Plan& plan, const std::vector<Feed<T>>& feeds) {
    std::vector<const Feed<T>*> feed_of(graph.size(), nullptr);
    for (const Feed<T>& f : feeds) {
      graph.check_owns(f.node, "run (feed)");
      const NodeInfo& info = graph.info(f.node.id());
      if (info.kind != NodeKind::input) {
        throw FeedError("run: a feed was given for '" + info.name + "', which is " +
                        (info.kind == NodeKind::parameter ? "a parameter (use Executor::set)"
                                                          : "not an input (it is a " +
                                                                std::string(to_string(info.kind)) +
                                                                " node)"));
      }
      if (feed_of[f.node.id()]) throw FeedError("run: input '" + info.name + "' is fed twice");
      const Shape got{static_cast<Dim>(f.value.rows()), static_cast<Dim>(f.value.cols())};
      if (!fits(got, info.shape) || got.rows == 0) {
        throw FeedError("run: input '" + info.name + "' expects shape " + to_string(info.shape) +
                        " but was fed " + to_string(got));
      }
      feed_of[f.node.id()] = &f;
    }

    for (NodeId n : plan.inputs) {
      if (const Feed<T>* f = feed_of[n]) {
        values[n] = f->value;
      } else if (staged[n]) {
        const NodeInfo& info = graph.info(n);
        const Shape got = shape_of(values[n]);
        if (!fits(got, info.shape) || got.rows == 0) {
          throw FeedError("run: input '" + info.name + "' expects shape " + to_string(info.shape) +
                          " but was filled in place with " + to_string(got));
        }
      } else {
        throw FeedError("run: input '" + graph.info(n).name +
                        "' is needed by the fetched nodes but was not fed");
      }
      ready[n] = 1;
    }
    // Staged inputs serve one run: the next must fill (or feed) them again.
    std::fill(staged.begin(), staged.end(), 0);
  }

  // Executor::parameter hands out the value itself, which a caller could
  // resize: every run checks it still has the parameter's shape.
  void check_parameters(const Plan& plan) const {
    for (NodeId n : plan.parameters) {
      const NodeInfo& info = graph.info(n);
      if (!ready[n]) throw FeedError("run: parameter '" + info.name + "' has no value; give it one with Executor::set");
      if (shape_of(values[n]) != info.shape) {
        throw FeedError("run: parameter '" + info.name + "' has shape " + to_string(info.shape) +
                        " but its value is " + to_string(shape_of(values[n])));
      }
    }
  }

  // Shapes left open at build time are fixed by the feeds: infer every op's
  // concrete shape before anything runs, so no kernel meets a bad shape.
  // Skipped when the plan was inferred before for the same fed shapes.
  void infer_shapes(Plan& plan) {
    if (plan.inferred) {
      bool same = true;
      for (std::size_t i = 0; i < plan.inputs.size() && same; ++i) {
        same = shape_of(values[plan.inputs[i]]) == plan.fed_shapes[i];
      }
      if (same) return;
    }
    plan.layout = nullptr;
    std::vector<Shape> fed_shapes;
    fed_shapes.reserve(plan.inputs.size());
    for (NodeId n : plan.inputs) fed_shapes.push_back(shape_of(values[n]));
    std::vector<Shape> shapes;
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
      const NodeInfo& info = graph.info(plan.ops[k]);
      shapes.clear();
      for (NodeId in : info.inputs) {
        const int task = plan.task_of[in];
        shapes.push_back(task >= 0 ? plan.shapes[static_cast<std::size_t>(task)] : shape_of(values[plan.rep[in]]));
      }
      try {
        plan.shapes[k] = info.op->infer(shapes);
      } catch (const ShapeError& e) {
        plan.inferred = false;
        std::string msg = std::string(info.op->key()) + " node '" + info.name + "' at run time: ";
        for (std::size_t i = 0; i < shapes.size(); ++i) {
          if (i) msg += i + 1 == shapes.size() ? " and " : ", ";
          msg += "'" + graph.info(info.inputs[i]).name + "' (" + to_string(shapes[i]) + ")";
        }
        msg += " do not fit: ";
        msg += e.what();
        throw ShapeError(msg);
      }
    }
    plan.fed_shapes = std::move(fed_shapes);
    plan.inferred = true;
  }

  // The memory plan for these shapes, made and checked the first time.
  const detail::MemoryPlan& layout_for(Plan& plan) {
    std::vector<std::size_t> bytes(plan.ops.size());
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
      bytes[k] = static_cast<std::size_t>(plan.shapes[k].size()) * sizeof(T);
    }
    auto it = plan.layouts.find(bytes);
    if (it != plan.layouts.end()) return it->second;
    std::vector<char> planned(plan.ops.size());
    for (std::size_t k = 0; k < plan.ops.size(); ++k) planned[k] = !plan.fetched[k];
    detail::MemoryPlan layout = detail::plan_memory(*plan.live, bytes, planned, plan.in_place);
    std::vector<std::string> names;
    names.reserve(plan.ops.size());
    for (NodeId n : plan.ops) names.push_back(graph.info(n).name);
    detail::check_memory_plan(*plan.live, layout, plan.in_place, names);
    return plan.layouts.emplace(std::move(bytes), std::move(layout)).first->second;
  }

  // Gives each op's value its storage for this run: its place in the arena
  // when planned, else its own matrix, sized by the inferred shape. The
  // values the last run left in the arena are gone from here on.
  void place_values(Plan& plan) {
    for (NodeId n : in_arena) {
      // A repeat last run may be a folded constant now, in another fetch
      // set (its first computation was not needed there): keep its value.
      if (folded[n]) {
        storage[n] = Storage::own;
        continue;
      }
      storage[n] = Storage::gone;
      values[n] = Matrix<T>();
    }
    in_arena.clear();
    if (options.plan_memory && !plan.layout) plan.layout = &layout_for(plan);
    const detail::MemoryPlan* layout = plan.layout;
    if (layout) fit_arena(layout->arena_bytes);
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
      const NodeId n = plan.ops[k];
      const Shape s = plan.shapes[k];
      if (layout && layout->offset[k] != detail::not_planned) {
        values[n] = Matrix<T>();
        point(n, reinterpret_cast<const T*>(arena_bytes.get() + layout->offset[k]), s.rows, s.cols);
        storage[n] = Storage::arena;
        in_arena.push_back(n);
      } else {
        values[n].resize(s.rows, s.cols);
        point(n, values[n].data(), s.rows, s.cols);
        storage[n] = Storage::own;
      }
    }
    // A repeat reads its representative's value where it lies, as a value
    // in the arena is read: copied out by value(), gone after the next run.
    for (NodeId n : plan.repeats) {
      if (folded[n]) {  // folded in another fetch set: its own value, the same bits
        point(n, values[n].data(), values[n].rows(), values[n].cols());
        storage[n] = Storage::own;
        continue;
      }
      const ConstView<T>& from = views[plan.rep[n]];
      values[n] = Matrix<T>();
      point(n, from.data(), from.rows(), from.cols());
      storage[n] = Storage::arena;
      in_arena.push_back(n);
    }
  }

  // Buffers follow the batch: the arena grows to what a run needs, and
  // shrinks when a run needs less than half of it.
  void fit_arena(std::size_t bytes) {
    if (bytes <= arena_size && bytes >= arena_size / 2) return;
    arena_bytes.reset();
    arena_size = 0;
    if (bytes == 0) return;
    arena_bytes.reset(new (std::align_val_t{detail::arena_alignment}) std::byte[bytes]);
    arena_size = bytes;
  }

  // Runs the plan's flow graph in the arena; a failure, if any, arrives as
  // ExecutionError naming its node (the first created of those that fail).
  void run_plan(Plan& plan) {
    for (NodeId n : plan.ops) ready[n] = poisoned[n] = 0;

    failed.store(false);
    error.clear();
    tsan::release(this);
    arena.execute([&] {
      plan.start->try_put(tbb::flow::continue_msg());
      plan.flow->wait_for_all();
    });
    for (NodeId n : plan.ops) tsan::acquire(&views[n]);
    if (failed.load()) throw ExecutionError(error);
    for (NodeId n : plan.ops) ready[n] = 1;
    for (std::size_t k = 0; plan.layout && k < plan.ops.size(); ++k) {
      if (plan.layout->overwritten[k]) storage[plan.ops[k]] = Storage::gone;
    }
    for (NodeId n : plan.repeats) {
      ready[n] = 1;
      if (storage[plan.rep[n]] == Storage::gone) storage[n] = Storage::gone;
    }
  }

  // A node's value; one in the arena is copied out once, to be read as a
  // matrix until the next run.
  const Matrix<T>& value(Node node) {
    graph.check_owns(node, "value");
    const NodeId n = node.id();
    if (n >= ready.size() || !ready[n]) {
      throw FeedError("value: node '" + node.name() + "' has no value yet (not computed by a run" +
                      (node.kind() == NodeKind::parameter ? ", nor set)" : ")"));
    }
    if (storage[n] == Storage::gone) {
      throw FeedError("value: node '" + node.name() +
                      "' was not fetched, and a later value took its memory; fetch it to read it (or set "
                      "ExecutorOptions::plan_memory to false)");
    }
    if (storage[n] == Storage::arena) {
      values[n] = views[n];
      storage[n] = Storage::copied;
    }
    return values[n];
  }

  bool has_value(NodeId n) const { return n < ready.size() && ready[n]; }
  bool value_reused(NodeId n) const { return has_value(n) && storage[n] == Storage::gone; }

  std::size_t memory() const {
    std::size_t bytes = arena_size;
    for (const Matrix<T>& m : values) bytes += static_cast<std::size_t>(m.size()) * sizeof(T);
    return bytes;
  }

  void trim() {
    grow();
    for (NodeId n = 0; n < graph.size(); ++n) {
      const NodeKind kind = graph.info(n).kind;
      if (kind == NodeKind::parameter || kind == NodeKind::constant || folded[n] ||
          (kind == NodeKind::input && staged[n])) {
        continue;
      }
      values[n] = Matrix<T>();
      point(n, nullptr, 0, 0);
      storage[n] = Storage::own;
      ready[n] = 0;
    }
    in_arena.clear();
    arena_bytes.reset();
    arena_size = 0;
    last = nullptr;
  }
};

namespace {

std::string mib(std::size_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

}  // namespace

std::string plan_summary(const MemoryReport& report) {
  if (report.values.empty()) return "memory plan: no run yet";
  std::ostringstream s;
  s << "memory plan: " << report.values.size() << " op values";
  if (!report.planned) {
    s << ", one buffer each (ExecutorOptions::plan_memory is off): " << mib(report.own_bytes);
    return s.str();
  }
  std::size_t arena = 0, in_place = 0;
  for (const PlacedValue& v : report.values) {
    arena += v.in_arena;
    in_place += v.over.valid();
  }
  s << "; the " << arena << " not fetched share a " << mib(report.arena_bytes) << " block (one buffer each: "
    << mib(report.planned_bytes);
  if (report.planned_bytes > 0) {
    s << ", ratio " << std::setprecision(3) << std::fixed
      << static_cast<double>(report.arena_bytes) / static_cast<double>(report.planned_bytes);
  }
  s << "), " << in_place << " written in place over their input; the " << report.values.size() - arena
    << " fetched hold " << mib(report.own_bytes) << " of their own";
  return s.str();
}

namespace {
// oneTBB's task_arena crashes or stalls on absurd counts; 1024 is far above
// any machine this runs on. Checked before the arena is made.
ExecutorOptions checked(ExecutorOptions options) {
  if (options.threads < 0 || options.threads > 1024) {
    throw Error("Executor: threads must be 0 (all cores) or 1 to 1024, got " +
                std::to_string(options.threads));
  }
  return options;
}
}  // namespace

template <class T>
Executor<T>::Executor(Graph& graph, ExecutorOptions options)
    : impl_(std::make_unique<Impl>(graph, checked(options))) {}

template <class T>
Executor<T>::~Executor() = default;
template <class T>
Executor<T>::Executor(Executor&&) noexcept = default;

template <class T>
void Executor<T>::set(Node p, const Matrix<T>& value) {
  impl_->graph.check_owns(p, "set");
  const NodeInfo& info = impl_->graph.info(p.id());
  if (info.kind != NodeKind::parameter) {
    throw FeedError("set: '" + info.name + "' is " +
                    (info.kind == NodeKind::input ? std::string("an input; feed it to run()")
                                                  : "not a parameter"));
  }
  if (!(shape_of(value) == info.shape)) {
    throw FeedError("set: parameter '" + info.name + "' has shape " + to_string(info.shape) +
                    " but the value is " + to_string(shape_of(value)));
  }
  impl_->grow();
  impl_->values[p.id()] = value;
  impl_->ready[p.id()] = 1;
}

template <class T>
Matrix<T>& Executor<T>::parameter(Node p) {
  impl_->graph.check_owns(p, "parameter");
  if (p.kind() != NodeKind::parameter) {
    throw FeedError("parameter: '" + p.name() + "' is not a parameter");
  }
  impl_->grow();
  if (!impl_->ready[p.id()]) {
    throw FeedError("parameter: '" + p.name() + "' has no value; give it one with Executor::set");
  }
  return impl_->values[p.id()];
}

template <class T>
Matrix<T>& Executor<T>::input(Node node) {
  impl_->graph.check_owns(node, "input");
  if (node.kind() != NodeKind::input) {
    throw FeedError("input: '" + node.name() + "' is not an input (it is a " +
                    std::string(to_string(node.kind())) + " node)");
  }
  impl_->grow();
  impl_->staged[node.id()] = 1;
  return impl_->values[node.id()];
}

template <class T>
bool Executor<T>::has_value(Node node) const {
  impl_->graph.check_owns(node, "has_value");
  return impl_->has_value(node.id());
}

template <class T>
std::vector<Matrix<T>> Executor<T>::run(const std::vector<Feed<T>>& feeds,
                                        const std::vector<Node>& fetches) {
  impl_->compute(feeds, fetches);
  std::vector<Matrix<T>> out;
  out.reserve(fetches.size());
  for (const Node& f : fetches) out.push_back(impl_->value(f));
  return out;
}

template <class T>
void Executor<T>::compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches) {
  impl_->compute(feeds, fetches);
}

template <class T>
const Matrix<T>& Executor<T>::value(Node node) const {
  return impl_->value(node);
}

template <class T>
bool Executor<T>::value_reused(Node node) const {
  impl_->graph.check_owns(node, "value_reused");
  return impl_->value_reused(node.id());
}

template <class T>
std::size_t Executor<T>::memory() const {
  return impl_->memory();
}

template <class T>
MemoryReport Executor<T>::memory_plan() const {
  return impl_->memory_plan();
}

template <class T>
void Executor<T>::trim() {
  impl_->trim();
}

template <class T>
void Executor<T>::within(const std::function<void()>& f) {
  impl_->arena.execute(f);
}

template <class T>
Graph& Executor<T>::graph() const {
  return impl_->graph;
}

template <class T>
std::vector<NodeTime> Executor<T>::profile() const {
  std::vector<NodeTime> out;
  for (NodeId n = 0; n < impl_->kernel_runs.size(); ++n) {
    if (impl_->kernel_runs[n] > 0) {
      out.push_back({impl_->graph.node(n), impl_->kernel_seconds[n], impl_->kernel_runs[n]});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const NodeTime& a, const NodeTime& b) { return a.seconds > b.seconds; });
  return out;
}

template <class T>
void Executor<T>::set_profiling(bool on) {
  impl_->options.profile = on;
}

template <class T>
void Executor<T>::clear_profile() {
  std::fill(impl_->kernel_seconds.begin(), impl_->kernel_seconds.end(), 0.0);
  std::fill(impl_->kernel_runs.begin(), impl_->kernel_runs.end(), 0);
}

template <class T>
int Executor<T>::threads() const {
  return impl_->threads;
}

template <class T>
const ExecutorOptions& Executor<T>::options() const {
  return impl_->options;
}

template class Executor<float>;
template class Executor<double>;

}  // namespace dagrad
