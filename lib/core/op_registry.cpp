#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/registry.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

namespace dagrad {

Matrix<double> Domain::sample(Shape shape, int salt) const {
  Matrix<double> m(shape.rows, shape.cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    // A step of 0.37 around [0, 1) visits it evenly without repeating soon.
    const double u = std::fmod(0.13 * (salt + 1) + 0.37 * static_cast<double>(k), 1.0);
    double x = low + (high - low) * u;
    if (std::abs(x) < gap) x += x < 0 ? -gap : gap;
    if (whole) x = std::min(std::floor(low + (high - low + 1.0) * u), high);
    m(k / m.cols(), k % m.cols()) = rows_sum_to_one ? 0.1 + u : x;
  }
  if (rows_sum_to_one) {
    const Eigen::ArrayXd sums = m.array().rowwise().sum();
    m.array().colwise() /= sums;
  }
  return m;
}

OpExample unary_example(Node (*op)(Node), Domain domain, Shape shape) {
  return {{{shape, domain}}, [op](const std::vector<Node>& in) { return op(in[0]); }};
}

OpExample binary_example(Node (*op)(Node, Node), ExampleInput a, ExampleInput b) {
  return {{a, b}, [op](const std::vector<Node>& in) { return op(in[0], in[1]); }};
}

std::vector<OpExample> broadcast_examples(Node (*op)(Node, Node), Domain b_domain) {
  const Shape pairs[][2] = {
      {{2, 3}, {2, 3}}, {{2, 3}, {1, 3}}, {{1, 3}, {2, 3}}, {{2, 3}, {2, 1}},
      {{2, 1}, {1, 3}}, {{2, 3}, {1, 1}}, {{1, 1}, {2, 3}},
  };
  std::vector<OpExample> examples;
  for (const auto& p : pairs) {
    examples.push_back(binary_example(op, {p[0]}, {p[1], b_domain}));
  }
  return examples;
}

AttributeReader::AttributeReader(Attributes attributes)
    : attributes_(std::move(attributes)), read_(attributes_.size(), false) {}

const Attribute& AttributeReader::find(std::string_view name) {
  for (std::size_t i = 0; i < attributes_.size(); ++i) {
    if (attributes_[i].name != name) continue;
    read_[i] = true;
    return attributes_[i];
  }
  throw GraphError("attribute '" + std::string(name) + "' is missing");
}

double AttributeReader::real(std::string_view name) {
  const Attribute& a = find(name);
  const double* v = std::get_if<double>(&a.value);
  if (!v) throw GraphError("attribute '" + a.name + "' must be a real number, not an integer");
  return *v;
}

std::int64_t AttributeReader::integer(std::string_view name, std::int64_t low, std::int64_t high) {
  const Attribute& a = find(name);
  const std::int64_t* v = std::get_if<std::int64_t>(&a.value);
  if (!v) throw GraphError("attribute '" + a.name + "' must be an integer, not a real number");
  if (*v < low || *v > high) {
    throw GraphError("attribute '" + a.name + "' is " + std::to_string(*v) + ", outside [" + std::to_string(low) +
                     ", " + std::to_string(high) + "]");
  }
  return *v;
}

void AttributeReader::finish() const {
  for (std::size_t i = 0; i < attributes_.size(); ++i) {
    if (!read_[i]) throw GraphError("unknown attribute '" + attributes_[i].name + "'");
  }
}

void expect_inputs(std::span<const Node> inputs, std::size_t n) {
  if (inputs.size() != n) {
    throw GraphError("takes " + std::to_string(n) + (n == 1 ? " input" : " inputs") + ", not " +
                     std::to_string(inputs.size()));
  }
}

Rebuild rebuild_of(Node (*op)(Node)) {
  return [op](std::span<const Node> in, AttributeReader&) {
    expect_inputs(in, 1);
    return op(in[0]);
  };
}

Rebuild rebuild_of(Node (*op)(Node, Node)) {
  return [op](std::span<const Node> in, AttributeReader&) {
    expect_inputs(in, 2);
    return op(in[0], in[1]);
  };
}

Rebuild rebuild_of(Node (*op)(Node, Node, Node)) {
  return [op](std::span<const Node> in, AttributeReader&) {
    expect_inputs(in, 3);
    return op(in[0], in[1], in[2]);
  };
}

Rebuild rebuild_of(Node (*op)(const std::vector<Node>&)) {
  return [op](std::span<const Node> in, AttributeReader&) {
    if (in.empty()) throw GraphError("takes at least 1 input, not 0");
    return op(std::vector<Node>(in.begin(), in.end()));
  };
}

const std::vector<OpEntry>& op_registry() {
#define DAGRAD_REGISTRY_ENTRY(key) detail::registry_entry_##key(),
  static const std::vector<OpEntry> all = {DAGRAD_FOR_EACH_OP(DAGRAD_REGISTRY_ENTRY)};
#undef DAGRAD_REGISTRY_ENTRY
  return all;
}

namespace {
// Ops registered at run time, each with its own copy of its key (an entry's
// key is a view). A deque, so found entries stay where they are.
struct UserOps {
  std::mutex mutex;
  std::deque<std::pair<std::string, OpEntry>> entries;
};
UserOps& user_ops() {
  static UserOps ops;
  return ops;
}

const OpEntry* find_built_in(std::string_view key) {
  const auto& all = op_registry();
  const auto it = std::lower_bound(all.begin(), all.end(), key, [](const OpEntry& e, std::string_view k) { return e.key < k; });
  return it != all.end() && it->key == key ? &*it : nullptr;
}
}  // namespace

void register_op(OpEntry entry) {
  const std::string key(entry.key);
  const bool word = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!word) throw GraphError("register_op: '" + key + "' is not an op key (lowercase letters, digits and '_')");
  if (!entry.rebuild) throw GraphError("register_op: op '" + key + "' has no rebuild");
  if (find_built_in(key)) throw GraphError("register_op: '" + key + "' is a built-in op");
  UserOps& ops = user_ops();
  std::lock_guard lock(ops.mutex);
  for (const auto& [k, e] : ops.entries) {
    if (k == key) throw GraphError("register_op: op '" + key + "' is registered already");
  }
  auto& [stored_key, stored] = ops.entries.emplace_back(key, std::move(entry));
  stored.key = stored_key;
}

const OpEntry* find_op(std::string_view key) {
  if (const OpEntry* e = find_built_in(key)) return e;
  UserOps& ops = user_ops();
  std::lock_guard lock(ops.mutex);
  for (const auto& [k, e] : ops.entries) {
    if (k == key) return &e;
  }
  return nullptr;
}

}  // namespace dagrad
