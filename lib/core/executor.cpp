#include <dagrad/core/detail/memory_plan.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/detail/tsan.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/registry.hpp>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
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
// A fused group's member never has a value of its own (fused).
enum class Storage : char { own, arena, copied, gone, fused };

// A fused group's values are computed a tile of elements at a time; the
// tiles are whole numbers of 16-element groups, as parallel_elements' blocks
// are, so each op sees its elements cut at the same places.
constexpr Dim fused_tile = 1024;
// At most this many ops in one group (the root's tiles stay in L1/L2).
constexpr std::size_t fused_members = 16;

// Each thread's tiles for fused groups, 64-byte aligned, grown once.
template <class T>
T* fused_scratch(std::size_t tiles) {
  thread_local std::vector<T> scratch;
  const std::size_t need = tiles * fused_tile + 64 / sizeof(T);
  if (scratch.size() < need) scratch.resize(need);
  const auto address = reinterpret_cast<std::uintptr_t>(scratch.data());
  return scratch.data() + ((64 - address % 64) % 64) / sizeof(T);
}

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
    // Fused groups (ExecutorOptions::fuse): chains of elementwise ops whose
    // values no one else reads run as one task, their root's (the last op),
    // a block of elements at a time through tiles, never stored whole.
    struct Arg {
      const ConstView<T>* value;  // an op outside the group, or...
      int tile;                   // ...the member computed into this tile (-1: outside)
      bool whole;                 // outside: of the output's shape (else broadcast)
    };
    struct Group {
      std::vector<std::size_t> members;    // ops, in topological order, the root last
      std::vector<const Op*> op;           // per member, its op (looked up once, not per tile)
      std::vector<std::vector<Arg>> args;  // per member, per input
      // An epilogue (Op::epilogue): members[0] is an op that is not
      // elementwise, and its kernel applies the others as it writes the
      // root's value. `views` holds each member's inputs' values (null where
      // it reads the member before it).
      bool epilogue = false;
      std::vector<std::vector<const ConstView<T>*>> views;
    };
    std::vector<Group> groups;
    std::vector<int> group_of;  // per op: its group's index when it is a root, else -1
    std::vector<int> fused_into;  // per op: its group's root when it is a member, else -1
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
  // Kept from run to run, so that a run at settled shapes allocates
  // nothing of its own: the fetch set's key, and each input's feed.
  std::vector<NodeId> fetch_key;
  std::vector<const Feed<T>*> feed_of;
  // compute(..., ready): the callback while a run lasts (else null), and per
  // task the fetches its end makes final (announce_fetch from
  // announce_first[k] to announce_first[k + 1]).
  using Ready = typename Executor<T>::Ready;
  const Ready* on_ready = nullptr;
  std::vector<std::uint32_t> announce_first, announce_at, announce_fetch;
  std::vector<int> announce_task;

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
    std::vector<NodeId>& key = fetch_key;
    key.clear();
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
    fuse(*plan);
    build_flow(*plan, plan->task_of);
    return *plans.emplace(key, std::move(plan)).first->second;
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

  // Groups the plan's chains of elementwise ops (Op::elementwise): an op
  // joins the op that reads it when that is its only reader, reads it at a
  // side of its own shape, and it is not fetched. Off with plan_memory off
  // (every value kept) and with check_numerics (each node checked).
  void fuse(Plan& plan) {
    const std::size_t n = plan.ops.size();
    plan.group_of.assign(n, -1);
    plan.fused_into.assign(n, -1);
    if (!options.fuse || !options.plan_memory || options.check_numerics) return;
    // Each op's readers among the ops (one count per reader).
    std::vector<int> readers(n, 0), reader(n, -1);
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<int> read;
      for (NodeId in : graph.info(plan.ops[k]).inputs) {
        const int t = plan.task_of[in];
        if (t >= 0 && std::find(read.begin(), read.end(), t) == read.end()) read.push_back(t);
      }
      for (int t : read) {
        ++readers[static_cast<std::size_t>(t)];
        reader[static_cast<std::size_t>(t)] = static_cast<int>(k);
      }
    }
    auto op_of = [&](std::size_t k) -> const Op& { return *graph.info(plan.ops[k]).op; };
    const std::vector<char> taken = fuse_epilogues(plan, readers, reader);
    // Latest first, so a reader's root and group size are known.
    std::vector<std::size_t> root(n), size(n, 1);
    std::iota(root.begin(), root.end(), std::size_t{0});
    for (std::size_t p = n; p-- > 0;) {
      if (readers[p] != 1 || plan.fetched[p] || !op_of(p).elementwise() || taken[p]) continue;
      const auto c = static_cast<std::size_t>(reader[p]);
      if (taken[c]) continue;
      const Op& consumer = op_of(c);
      if (!consumer.elementwise() || size[root[c]] >= fused_members) continue;
      const NodeInfo& info = graph.info(plan.ops[c]);
      const std::vector<std::size_t> whole = consumer.in_place_inputs();
      bool at_whole_side = true;
      for (std::size_t i = 0; i < info.inputs.size(); ++i) {
        if (plan.task_of[info.inputs[i]] == static_cast<int>(p) &&
            std::find(whole.begin(), whole.end(), i) == whole.end()) {
          at_whole_side = false;
        }
      }
      if (!at_whole_side) continue;
      root[p] = root[c];
      ++size[root[c]];
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (root[k] == k && size[k] > 1) {
        plan.group_of[k] = static_cast<int>(plan.groups.size());
        plan.groups.emplace_back();
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (size[root[k]] < 2) continue;
      typename Plan::Group& group = plan.groups[static_cast<std::size_t>(plan.group_of[root[k]])];
      if (root[k] != k) plan.fused_into[k] = static_cast<int>(root[k]);
      const NodeInfo& info = graph.info(plan.ops[k]);
      const std::vector<std::size_t> whole = info.op->in_place_inputs();
      std::vector<typename Plan::Arg> args;
      for (std::size_t i = 0; i < info.inputs.size(); ++i) {
        const int t = plan.task_of[info.inputs[i]];
        int tile = -1;
        for (std::size_t j = 0; t >= 0 && j < group.members.size(); ++j) {
          if (group.members[j] == static_cast<std::size_t>(t)) tile = static_cast<int>(j);
        }
        const bool at_whole = std::find(whole.begin(), whole.end(), i) != whole.end();
        args.push_back({tile >= 0 ? nullptr : plan.args[k][i], tile, at_whole});
      }
      group.members.push_back(k);
      group.op.push_back(info.op.get());
      group.args.push_back(std::move(args));
    }
  }

  // Epilogue groups (Op::epilogue): an op that is not elementwise, and the
  // chain of single readers after it that its kernel applies as it writes.
  // Returns, per op, whether it is in one (elementwise groups leave those).
  std::vector<char> fuse_epilogues(Plan& plan, const std::vector<int>& readers, const std::vector<int>& reader) {
    const std::size_t n = plan.ops.size();
    std::vector<char> taken(n, 0);
    // Each node's inputs by their representatives (options.optimize), so a
    // repeat of a node counts as the node.
    auto inputs_of = [&](std::size_t k) {
      std::vector<NodeId> in = graph.info(plan.ops[k]).inputs;
      for (NodeId& i : in) i = plan.rep[i];
      return in;
    };
    for (std::size_t p = 0; p < n; ++p) {
      const Op& producer = *graph.info(plan.ops[p]).op;
      if (taken[p] || producer.elementwise()) continue;
      std::vector<std::size_t> chain;
      std::vector<std::vector<NodeId>> chain_inputs;
      std::vector<std::size_t> slots;
      for (std::size_t at = p; chain.size() < 4 && readers[at] == 1 && !plan.fetched[at];) {
        const auto r = static_cast<std::size_t>(reader[at]);
        const NodeInfo& info = graph.info(plan.ops[r]);
        std::size_t slot = 0, reads = 0;
        for (std::size_t i = 0; i < info.inputs.size(); ++i) {
          if (plan.task_of[info.inputs[i]] == static_cast<int>(at)) {
            slot = i;
            ++reads;
          }
        }
        if (reads != 1 || taken[r]) break;
        chain.push_back(r);
        chain_inputs.push_back(inputs_of(r));
        slots.push_back(slot);
        at = r;
      }
      if (chain.empty()) continue;
      std::vector<Op::Reader> list;
      for (std::size_t j = 0; j < chain.size(); ++j) {
        list.push_back({graph.info(plan.ops[chain[j]]).op.get(), chain_inputs[j], slots[j]});
      }
      const std::vector<NodeId> own = inputs_of(p);
      const std::size_t length = std::min(producer.epilogue(own, list), chain.size());
      if (length == 0) continue;
      chain.resize(length);
      const std::size_t root = chain.back();
      plan.group_of[root] = static_cast<int>(plan.groups.size());
      typename Plan::Group& group = plan.groups.emplace_back();
      group.epilogue = true;
      std::vector<std::size_t> members{p};
      members.insert(members.end(), chain.begin(), chain.end());
      for (std::size_t j = 0; j < members.size(); ++j) {
        const std::size_t k = members[j];
        taken[k] = 1;
        if (k != root) plan.fused_into[k] = static_cast<int>(root);
        std::vector<const ConstView<T>*> values = plan.args[k];
        if (j > 0) values[slots[j - 1]] = nullptr;
        group.members.push_back(k);
        group.op.push_back(graph.info(plan.ops[k]).op.get());
        group.args.emplace_back();
        group.views.push_back(std::move(values));
      }
    }
    return taken;
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
        const int group = plan->group_of[k];
        if (plan->fused_into[k] >= 0) {
          plan->tasks.emplace_back(*plan->flow, [this, n, args, nargs](tbb::flow::continue_msg) {
            pass_on(n, Inputs<T>(args, nargs));
          });
        } else if (group >= 0) {
          plan->tasks.emplace_back(*plan->flow, [this, plan, n, k, group](tbb::flow::continue_msg) {
            run_group(*plan, n, plan->groups[static_cast<std::size_t>(group)]);
            announce(n, k);
          });
        } else {
          plan->tasks.emplace_back(*plan->flow, [this, n, k, args, nargs](tbb::flow::continue_msg) {
            run_node(n, Inputs<T>(args, nargs));
            announce(n, k);
          });
        }
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
    // A group's root task reads what its members read: the planner sees
    // those reads as the root's, so no value they read ends before it.
    for (const typename Plan::Group& group : plan->groups) {
      std::vector<std::size_t>& reads = preds_of[group.members.back()];
      for (std::size_t m : group.members) reads.insert(reads.end(), preds_of[m].begin(), preds_of[m].end());
      std::sort(reads.begin(), reads.end());
      reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    }
    plan->live = std::make_unique<detail::Liveness>(preds_of);
    plan->in_place.assign(plan->ops.size(), {});
    if (options.check_numerics) return;
    for (std::size_t k = 0; k < plan->ops.size(); ++k) {
      if (plan->fused_into[k] >= 0) continue;
      if (plan->group_of[k] >= 0) {
        plan->in_place[k] = group_in_place(*plan, plan->groups[static_cast<std::size_t>(plan->group_of[k])]);
        continue;
      }
      const NodeInfo& info = graph.info(plan->ops[k]);
      for (std::size_t i : info.op->in_place_inputs()) {
        const int task = i < info.inputs.size() ? task_of[info.inputs[i]] : -1;
        if (task >= 0) plan->in_place[k].push_back(static_cast<std::size_t>(task));
      }
    }
  }

  // The ops a group's root may be written over: an op outside the group
  // that every member reading it reads at a side of the output's shape, so
  // each block of it is read before that block of the output is written.
  std::vector<std::size_t> group_in_place(const Plan& plan, const typename Plan::Group& group) const {
    // An epilogue's kernel is not elementwise: its value takes no input's bytes.
    if (group.epilogue) return {};
    std::vector<std::size_t> whole, broadcast;
    for (std::size_t j = 0; j < group.members.size(); ++j) {
      const NodeInfo& info = graph.info(plan.ops[group.members[j]]);
      for (std::size_t i = 0; i < info.inputs.size(); ++i) {
        const int t = plan.task_of[info.inputs[i]];
        if (t < 0 || group.args[j][i].tile >= 0) continue;
        (group.args[j][i].whole ? whole : broadcast).push_back(static_cast<std::size_t>(t));
      }
    }
    std::vector<std::size_t> out;
    for (std::size_t t : whole) {
      if (std::find(broadcast.begin(), broadcast.end(), t) == broadcast.end() &&
          std::find(out.begin(), out.end(), t) == out.end()) {
        out.push_back(t);
      }
    }
    return out;
  }

  // A fused member's task: its group's root computes it. It passes on a
  // failure upstream, and its inputs' readiness to ThreadSanitizer.
  void pass_on(NodeId n, Inputs<T> args) {
    tsan::acquire(this);
    for (const ConstView<T>* a : args) tsan::acquire(a);
    if (failed.load(std::memory_order_relaxed)) {
      for (NodeId in : graph.info(n).inputs) {
        if (poisoned[in]) poisoned[n] = 1;
      }
    }
    tsan::release(&views[n]);
  }

  // A group's root task: every member over each block of elements that
  // parallel_elements cuts from the root's size, a tile at a time, each
  // member's tile from the tiles before it, the root's into its value.
  void run_group(const Plan& plan, NodeId root, const typename Plan::Group& group) {
    tsan::acquire(this);
    for (std::size_t m : group.members) tsan::acquire(&views[plan.ops[m]]);
    for (const auto& args : group.args) {
      for (const typename Plan::Arg& a : args) {
        if (a.value) tsan::acquire(a.value);
      }
    }
    const tsan::ReleaseAtExit done{&views[root]};
    const NodeInfo& info = graph.info(root);
    if (failed.load(std::memory_order_relaxed)) {
      for (std::size_t m : group.members) {
        for (NodeId in : graph.info(plan.ops[m]).inputs) {
          if (poisoned[in]) {
            poisoned[root] = 1;
            return;
          }
        }
      }
    }
    T* const out = const_cast<T*>(views[root].data());
    const Shape shape{views[root].rows(), views[root].cols()};
    const std::size_t members = group.members.size();
    auto epilogue = [&] {
      std::array<const Op*, 4> ops{};
      std::array<Inputs<T>, 4> readers_in{};
      for (std::size_t j = 1; j < members; ++j) {
        ops[j - 1] = group.op[j];
        readers_in[j - 1] = Inputs<T>(group.views[j].data(), group.views[j].size());
      }
      group.op[0]->forward_epilogue(Inputs<T>(group.views[0].data(), group.views[0].size()),
                                    std::span<const Op* const>(ops.data(), members - 1),
                                    std::span<const Inputs<T>>(readers_in.data(), members - 1),
                                    View<T>(out, shape.rows, shape.cols));
    };
    auto blocks = [&] {
      if (group.epilogue) return epilogue();
      detail::parallel_elements(shape.size(), [&](Dim first, Dim count) {
        T* const tiles = fused_scratch<T>(members - 1);
        for (Dim at = first, end = first + count; at < end; at += fused_tile) {
          const Dim len = std::min(fused_tile, end - at);
          for (std::size_t j = 0; j < members; ++j) {
            const T* in[2] = {nullptr, nullptr};
            const auto& args = group.args[j];
            for (std::size_t i = 0; i < args.size() && i < 2; ++i) {
              const typename Plan::Arg& a = args[i];
              in[i] = a.tile >= 0 ? tiles + a.tile * fused_tile : a.value->data() + (a.whole ? at : 0);
            }
            T* const into = j + 1 == members ? out + at : tiles + static_cast<Dim>(j) * fused_tile;
            group.op[j]->forward_elements(std::span<const T* const>(in, args.size()), into, at, len, shape);
          }
        }
      });
    };
    clean_vector_state();
    try {
      if (options.profile) {
        const auto start = std::chrono::steady_clock::now();
        blocks();
        kernel_seconds[root] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++kernel_runs[root];
      } else {
        blocks();
      }
    } catch (const std::exception& e) {
      fail(root, std::string(info.op->key()) + " node '" + info.name + "' (a fused group) failed: " + e.what());
    }
  }

  void run_node(NodeId n, Inputs<T> args) {
    // The feeds and each input's value are ready: say so to ThreadSanitizer,
    // which cannot see the flow graph's own ordering (detail/tsan.hpp).
    tsan::acquire(this);
    for (const ConstView<T>* a : args) tsan::acquire(a);
    const tsan::ReleaseAtExit done{&views[n]};
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

  void compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches, const Ready* ready = nullptr) {
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
    if (ready) list_announcements(plan, fetches, *ready);
    struct Quiet {  // no announcement outlives the call, even one that throws
      const Ready*& on;
      ~Quiet() { on = nullptr; }
    } quiet{on_ready};
    on_ready = ready;
    run_plan(plan);
  }

  // For compute(..., ready): which fetches each task's end makes final
  // (announce_first/announce_fetch, kept from run to run); a fetch no task
  // computes (an input, a parameter, a constant or a folded op) is announced
  // here, before the run starts.
  void list_announcements(const Plan& plan, const std::vector<Node>& fetches, const Ready& ready) {
    announce_first.assign(plan.ops.size() + 1, 0);
    announce_task.assign(fetches.size(), -1);
    for (std::size_t i = 0; i < fetches.size(); ++i) {
      int task = plan.task_of[plan.rep[fetches[i].id()]];
      if (task >= 0 && plan.fused_into[static_cast<std::size_t>(task)] >= 0) {
        task = plan.fused_into[static_cast<std::size_t>(task)];  // computed by its group's root
      }
      announce_task[i] = task;
      if (task >= 0) ++announce_first[static_cast<std::size_t>(task) + 1];
    }
    for (std::size_t k = 0; k < plan.ops.size(); ++k) announce_first[k + 1] += announce_first[k];
    announce_fetch.resize(fetches.size());
    announce_at.assign(announce_first.begin(), announce_first.end() - 1);
    for (std::size_t i = 0; i < fetches.size(); ++i) {
      const int task = announce_task[i];
      if (task < 0) {
        try {
          ready(i, views[plan.rep[fetches[i].id()]]);
        } catch (const std::exception& e) {  // as a task's callback fails the run
          throw ExecutionError("the ready callback for fetch " + std::to_string(i) + " ('" + fetches[i].name() +
                               "') threw: " + e.what());
        }
      } else {
        announce_fetch[announce_at[static_cast<std::size_t>(task)]++] = static_cast<std::uint32_t>(i);
      }
    }
  }

  // After task k (node n) ends: the fetches it made final, to compute()'s
  // `ready`, unless it failed or was skipped for an input that failed.
  void announce(NodeId n, std::size_t k) {
    // What this reads (on_ready, the lists) is read after run_node's
    // release: say so again, for ThreadSanitizer, as the task ends.
    const tsan::ReleaseAtExit done{&views[n]};
    if (!on_ready || poisoned[n]) return;
    for (std::uint32_t j = announce_first[k]; j < announce_first[k + 1]; ++j) {
      try {
        (*on_ready)(announce_fetch[j], views[n]);
      } catch (const std::exception& e) {
        fail(n, "the ready callback for fetch " + std::to_string(announce_fetch[j]) + " ('" + graph.info(n).name +
                    "') threw: " + e.what());
        return;
      }
    }
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
      if (plan.fused_into[k] >= 0) {
        v.fused_into = graph.node(plan.ops[static_cast<std::size_t>(plan.fused_into[k])]);
        v.bytes = static_cast<std::size_t>(plan.shapes[k].size()) * sizeof(T);
      } else if (layout && layout->offset[k] != detail::not_planned) {
        v.in_arena = true;
        v.offset = layout->offset[k];
        v.bytes = layout->bytes[k];
        if (layout->in_place_of[k] != detail::not_planned) v.over = graph.node(plan.ops[layout->in_place_of[k]]);
        report.planned_bytes += v.bytes;
      } else if (layout && layout->into[k] != detail::not_planned) {
        v.into = graph.node(plan.ops[layout->into[k]]);
        v.bytes = layout->bytes[k];
        report.planned_bytes += v.bytes;
      } else {
        v.bytes = static_cast<std::size_t>(plan.shapes[k].size()) * sizeof(T);
        if (layout && layout->in_place_of[k] != detail::not_planned) v.over = graph.node(plan.ops[layout->in_place_of[k]]);
        report.own_bytes += v.bytes;
      }
      report.values.push_back(v);
    }
    return report;
  }

  // Every input the plan needs, from its feed or as staged through input(),
  // checked against its declared shape.
  void take_inputs(Plan& plan, const std::vector<Feed<T>>& feeds) {
    feed_of.assign(graph.size(), nullptr);
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
      bytes[k] = plan.fused_into[k] >= 0 ? 0 : static_cast<std::size_t>(plan.shapes[k].size()) * sizeof(T);
    }
    auto it = plan.layouts.find(bytes);
    if (it != plan.layouts.end()) return it->second;
    // The fetched values keep buffers of their own, which a value they read
    // last and write over may be computed into.
    std::vector<char> planned(plan.ops.size()), kept(plan.ops.size());
    for (std::size_t k = 0; k < plan.ops.size(); ++k) {
      planned[k] = !plan.fetched[k] && plan.fused_into[k] < 0;
      kept[k] = plan.fetched[k] && plan.fused_into[k] < 0;
    }
    detail::MemoryPlan layout = detail::plan_memory(*plan.live, bytes, planned, plan.in_place, kept);
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
      if (plan.fused_into[k] >= 0) {  // computed a tile at a time by its group's root
        values[n] = Matrix<T>();
        point(n, nullptr, s.rows, s.cols);
        storage[n] = Storage::fused;
      } else if (layout && layout->offset[k] != detail::not_planned) {
        values[n] = Matrix<T>();
        point(n, reinterpret_cast<const T*>(arena_bytes.get() + layout->offset[k]), s.rows, s.cols);
        storage[n] = Storage::arena;
        in_arena.push_back(n);
      } else if (layout && layout->into[k] != detail::not_planned) {
        // In the buffer of the fetched op that reads it last (later in the
        // order, so sized here first; the same shape, so not again there).
        const std::size_t r = layout->into[k];
        Matrix<T>& kept = values[plan.ops[r]];
        kept.resize(plan.shapes[r].rows, plan.shapes[r].cols);
        values[n] = Matrix<T>();
        point(n, kept.data(), s.rows, s.cols);
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
      if (storage[plan.rep[n]] == Storage::fused) {
        storage[n] = Storage::fused;
        continue;
      }
      storage[n] = Storage::arena;
      in_arena.push_back(n);
    }
  }

  // Buffers follow the batch: the arena grows to what a run needs, and
  // shrinks when a run needs less than half of it; so do the threads'
  // scratch arenas, given back to be taken anew at this run's sizes.
  void fit_arena(std::size_t bytes) {
    if (bytes <= arena_size && bytes >= arena_size / 2) return;
    if (bytes < arena_size) detail::release_scratch();
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
    if (storage[n] == Storage::fused) {
      throw FeedError("value: node '" + node.name() +
                      "' was not fetched, and it was computed inside a fused group (a chain of elementwise ops, "
                      "or an op and the ops its kernel applies after it), never stored whole; fetch it to read "
                      "it (or set ExecutorOptions::fuse to false)");
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
  bool value_reused(NodeId n) const {
    return has_value(n) && (storage[n] == Storage::gone || storage[n] == Storage::fused);
  }
  // Parameters and constants hold one value whatever ran; an op's or an
  // input's is the last run's when that run's plan computed or fed it.
  bool value_from_last_run(NodeId n) const {
    if (!has_value(n)) return false;
    const NodeKind kind = graph.info(n).kind;
    if (kind == NodeKind::parameter || kind == NodeKind::constant || folded[n]) return true;
    if (!last || n >= last->task_of.size()) return false;
    const auto in = [n](const std::vector<NodeId>& list) {
      return std::find(list.begin(), list.end(), n) != list.end();
    };
    return last->task_of[n] >= 0 || in(last->repeats) || in(last->inputs);
  }

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
    detail::release_scratch();
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
  std::size_t arena = 0, in_place = 0, fused = 0, into = 0;
  std::vector<NodeId> roots;
  for (const PlacedValue& v : report.values) {
    arena += v.in_arena;
    into += v.into.valid();
    in_place += v.over.valid();
    if (v.fused_into.valid()) {
      ++fused;
      if (std::find(roots.begin(), roots.end(), v.fused_into.id()) == roots.end()) roots.push_back(v.fused_into.id());
    }
  }
  s << "; the " << arena + into << " not fetched ";
  if (into > 0) s << "(" << into << " computed into the fetched value that reads them) ";
  s << "share a " << mib(report.arena_bytes) << " block (one buffer each: " << mib(report.planned_bytes);
  if (report.planned_bytes > 0) {
    s << ", ratio " << std::setprecision(3) << std::fixed
      << static_cast<double>(report.arena_bytes) / static_cast<double>(report.planned_bytes);
  }
  s << "), " << in_place << " written in place over their input; ";
  if (fused > 0) {
    s << fused << " computed inside " << roots.size() << " fused group" << (roots.size() == 1 ? "" : "s")
      << ", never stored; ";
  }
  s << "the " << report.values.size() - arena - into - fused << " fetched hold " << mib(report.own_bytes)
    << " of their own";
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
void Executor<T>::compute(const std::vector<Feed<T>>& feeds, const std::vector<Node>& fetches, const Ready& ready) {
  if (!ready) throw Error("compute: the ready callback is empty");
  impl_->compute(feeds, fetches, &ready);
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
bool Executor<T>::value_from_last_run(Node node) const {
  impl_->graph.check_owns(node, "value_from_last_run");
  return impl_->value_from_last_run(node.id());
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
void Executor<T>::run_within(const std::function<void()>& f) {
  impl_->arena.execute(f);
}

template <class T>
Graph& Executor<T>::graph() const {
  return impl_->graph;
}

template <class T>
std::vector<NodeTime> Executor<T>::profile() const {
  std::vector<NodeTime> out;
  // Each group root's members, over every plan (a root's group is the
  // same in each plan that has it, unless a fetch keeps a member apart).
  std::map<NodeId, std::vector<Node>> with;
  for (const auto& [key, plan] : impl_->plans) {
    for (const auto& group : plan->groups) {
      const NodeId root = plan->ops[group.members.back()];
      std::vector<Node>& members = with[root];
      for (std::size_t j = 0; j + 1 < group.members.size(); ++j) {
        const Node m = impl_->graph.node(plan->ops[group.members[j]]);
        if (std::find(members.begin(), members.end(), m) == members.end()) members.push_back(m);
      }
    }
  }
  for (NodeId n = 0; n < impl_->kernel_runs.size(); ++n) {
    if (impl_->kernel_runs[n] > 0) {
      const auto it = with.find(n);
      out.push_back({impl_->graph.node(n), impl_->kernel_seconds[n], impl_->kernel_runs[n],
                     it == with.end() ? std::vector<Node>{} : it->second});
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
