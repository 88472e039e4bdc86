// The model file format of docs/model_format.md: writer and checked reader
// (an MLPClassifier's own part is in mlp_file.cpp); atomic_file.cpp saves. Every count
// and size read from a file is checked against the bytes that remain before
// anything is allocated from it.
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/io/model_file.hpp>

#include <dagrad/io/detail/model_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <variant>

namespace dagrad {

namespace model_file_detail {

constexpr std::array<std::uint8_t, 8> magic{'D', 'A', 'G', 'R', 'A', 'D', 'M', '\0'};
// Bytes before the header body: magic, version, kind, header size.
constexpr std::size_t prefix_bytes = 8 + 4 + 4 + 8;
// A name or a hyperparameter's text is never longer than this.
constexpr std::uint32_t max_text_bytes = 4096;
// No model file dagrad reads may be larger (16 GiB).
constexpr std::uint64_t max_model_bytes = std::uint64_t{1} << 34;
// A graph node's attribute: the type byte before its 8 bytes.
constexpr std::uint8_t attribute_integer = 1;
constexpr std::uint8_t attribute_real = 2;

const std::array<std::uint32_t, 256>& crc_table() {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
      std::uint32_t c = b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[b] = c;
    }
    return t;
  }();
  return table;
}

std::string hex32(std::uint32_t v) {
  char s[11];
  std::snprintf(s, sizeof s, "0x%08X", v);
  return s;
}

std::string shape_text(std::uint64_t rows, std::uint64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

class Writer {
 public:
  std::vector<std::uint8_t> bytes;

  void u8(std::uint8_t v) { le(v, 1); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i32(std::int32_t v) { le(static_cast<std::uint32_t>(v), 4); }
  void text(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void raw(std::span<const std::uint8_t> b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
  void put_u32_at(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void put_u64_at(std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }

 private:
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
};

namespace {

// One tensor's record: its name, shape and values, and their checksum.
void append_tensor(Writer& w, const std::string& name, const Matrix<double>& value) {
  const std::size_t start = w.bytes.size();
  w.text(name);
  w.u64(static_cast<std::uint64_t>(value.rows()));
  w.u64(static_cast<std::uint64_t>(value.cols()));
  for (Eigen::Index k = 0; k < value.size(); ++k) w.u64(std::bit_cast<std::uint64_t>(value.data()[k]));
  w.u32(crc32c(std::span(w.bytes).subspan(start)));
}

// Everything before the tensors' records, which `tensors` of follow.
void encode_head(Writer& w, const Contents& c, std::size_t tensors) {
  w.raw(magic);
  w.u32(c.kind == kind_graph ? 2 : 1);
  w.u32(c.kind);
  const std::size_t size_at = w.bytes.size();
  w.u64(0);
  w.u32(static_cast<std::uint32_t>(c.params.size()));
  for (const auto& [name, value] : c.params) {
    w.text(name);
    w.text(value);
  }
  w.u32(static_cast<std::uint32_t>(c.classes.size()));
  for (int k : c.classes) w.i32(k);
  w.u64(c.n_features);
  w.i32(c.n_iter);
  w.u32(static_cast<std::uint32_t>(tensors));
  if (c.kind == kind_graph) {
    w.u32(static_cast<std::uint32_t>(c.nodes.size()));
    for (const NodeRecord& n : c.nodes) {
      w.u8(n.kind);
      w.u8(n.role);
      w.text(n.name);
      w.text(n.scope);
      w.u64(static_cast<std::uint64_t>(n.rows));
      w.u64(static_cast<std::uint64_t>(n.cols));
      w.text(n.op);
      w.u32(static_cast<std::uint32_t>(n.attributes.size()));
      for (const Attribute& a : n.attributes) {
        w.text(a.name);
        if (const auto* i = std::get_if<std::int64_t>(&a.value)) {
          w.u8(attribute_integer);
          w.u64(static_cast<std::uint64_t>(*i));
        } else {
          w.u8(attribute_real);
          w.u64(std::bit_cast<std::uint64_t>(std::get<double>(a.value)));
        }
      }
      w.u32(static_cast<std::uint32_t>(n.inputs.size()));
      for (std::uint32_t i : n.inputs) w.u32(i);
      w.u32(n.grad_of);
    }
    w.u32(static_cast<std::uint32_t>(c.gradients.size()));
    for (const GradientRecord& g : c.gradients) {
      w.u32(g.y);
      w.u32(g.x);
      w.u32(g.grad);
    }
  }
  w.put_u64_at(size_at, w.bytes.size() - prefix_bytes);
  w.u32(crc32c(w.bytes));
}

}  // namespace

std::vector<std::uint8_t> encode(const Contents& c) {
  Writer w;
  encode_head(w, c, c.tensors.size());
  for (const Tensor& t : c.tensors) append_tensor(w, t.name, t.value);
  return w.bytes;
}

// Reads fields in order, checking each against the bytes that remain.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  [[noreturn]] void fail(const std::string& problem) const { throw DataError(name_ + ": " + problem); }
  const std::string& name() const { return name_; }

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return bytes_.size() - pos_; }

  // The next n bytes; `what` names them in the truncation message.
  std::span<const std::uint8_t> take(std::uint64_t n, const std::string& what) {
    if (n > remaining()) {
      fail("truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(pos_) + ", found " + std::to_string(remaining()) + " (the file has " +
           std::to_string(bytes_.size()) + " bytes)");
    }
    auto s = bytes_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::uint64_t le(int n, const std::string& what) {
    auto b = take(static_cast<std::uint64_t>(n), what);
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[static_cast<std::size_t>(i)];
    return v;
  }
  std::uint8_t u8(const std::string& what) { return static_cast<std::uint8_t>(le(1, what)); }
  std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(le(4, what)); }
  std::uint64_t u64(const std::string& what) { return le(8, what); }
  std::int32_t i32(const std::string& what) { return static_cast<std::int32_t>(u32(what)); }
  std::string text(const std::string& what) {
    const std::uint32_t n = u32(what + "'s length");
    if (n > max_text_bytes) {
      fail(what + " is " + std::to_string(n) + " bytes long, more than the limit of " +
           std::to_string(max_text_bytes));
    }
    auto b = take(n, what);
    return std::string(b.begin(), b.end());
  }
  // A count of items each at least item_bytes long, checked against what remains.
  std::uint64_t count(std::uint64_t n, std::uint64_t item_bytes, const std::string& what) {
    if (n > remaining() / item_bytes) {
      fail("truncated or corrupt: the header declares " + std::to_string(n) + " " + what +
           ", which need at least " + std::to_string(n * item_bytes) + " bytes, found " +
           std::to_string(remaining()));
    }
    return n;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

const char* kind_name(std::uint32_t kind) {
  return kind == kind_mlp              ? "an MLPClassifier"
         : kind == kind_parameters     ? "executor parameters"
         : kind == kind_graph          ? "a graph"
         : kind == kind_mlp_regressor  ? "an MLPRegressor"
         : kind == kind_mlp_multilabel ? "a multi-label MLPClassifier"
                                       : "unknown";
}

// A graph file's node records and gradient records, from the header. Each
// record is checked to be well formed (kinds, an input or gradient naming
// an earlier node); what the nodes mean is graph_file.cpp's to check.
void decode_nodes(Reader& h, Contents& c) {
  // A node takes at least: kind, role, 3 text lengths, rows, cols, 2 counts, grad_of.
  const std::uint64_t n_nodes = h.count(h.u32("the node count"), 1 + 1 + 4 * 3 + 8 + 8 + 4 * 3, "nodes");
  c.nodes.reserve(static_cast<std::size_t>(n_nodes));
  for (std::uint64_t id = 0; id < n_nodes; ++id) {
    NodeRecord n;
    const std::string label = "node " + std::to_string(id);
    n.kind = h.u8(label + "'s kind");
    n.role = h.u8(label + "'s role");
    n.name = h.text(label + "'s name");
    const std::string nn = "node " + std::to_string(id) + " '" + n.name + "'";
    if (n.kind > 3) h.fail(nn + " has kind " + std::to_string(n.kind) + " (0-3: input, parameter, constant, op)");
    if (n.role > 1) h.fail(nn + " has role " + std::to_string(n.role) + " (0: forward, 1: backward)");
    n.scope = h.text(nn + "'s scope");
    n.rows = static_cast<std::int64_t>(h.u64(nn + "'s row count"));
    n.cols = static_cast<std::int64_t>(h.u64(nn + "'s column count"));
    n.op = h.text(nn + "'s op");
    const std::uint64_t n_attributes = h.count(h.u32(nn + "'s attribute count"), 4 + 1 + 8, "attributes");
    for (std::uint64_t i = 0; i < n_attributes; ++i) {
      Attribute a;
      a.name = h.text(nn + "'s attribute " + std::to_string(i + 1) + "'s name");
      const std::string an = nn + "'s attribute '" + a.name + "'";
      const std::uint8_t type = h.u8(an + "'s type");
      const std::uint64_t bits = h.u64(an + "'s value");
      if (type == attribute_integer) {
        a.value = static_cast<std::int64_t>(bits);
      } else if (type == attribute_real) {
        a.value = std::bit_cast<double>(bits);
      } else {
        h.fail(an + " has type " + std::to_string(type) + " (1: integer, 2: real)");
      }
      n.attributes.push_back(std::move(a));
    }
    const std::uint64_t n_inputs = h.count(h.u32(nn + "'s input count"), 4, "inputs");
    for (std::uint64_t i = 0; i < n_inputs; ++i) {
      const std::uint32_t input = h.u32(nn + "'s input " + std::to_string(i + 1));
      if (input >= id) {
        h.fail(nn + "'s input " + std::to_string(i + 1) + " is node " + std::to_string(input) +
               ", not an earlier node");
      }
      n.inputs.push_back(input);
    }
    n.grad_of = h.u32(nn + "'s gradient link");
    if (n.grad_of > id) {
      h.fail(nn + " is the gradient of node " + std::to_string(n.grad_of - 1) + ", not of an earlier node");
    }
    c.nodes.push_back(std::move(n));
  }
  const std::uint64_t n_gradients = h.count(h.u32("the gradient count"), 12, "gradients");
  for (std::uint64_t i = 0; i < n_gradients; ++i) {
    GradientRecord g{h.u32("a gradient's node"), h.u32("a gradient's variable"), h.u32("a gradient's result")};
    if (g.y >= n_nodes || g.x >= n_nodes || g.grad >= n_nodes) {
      h.fail("gradient " + std::to_string(i + 1) + " names a node past the last (" + std::to_string(n_nodes) +
             " nodes)");
    }
    c.gradients.push_back(g);
  }
}

// Parameters and graphs are no estimator: the format fixes their
// hyperparameters and classes at none, their features and n_iter at 0.
void check_no_estimator(const Reader& in, const Contents& c) {
  const std::string holds = c.kind == kind_graph ? "a graph file has " : "a parameters file has ";
  if (!c.params.empty()) {
    in.fail(holds + "no hyperparameters, but the header lists " + std::to_string(c.params.size()) + " ('" +
            c.params.front().first + "', ...)");
  }
  if (!c.classes.empty()) {
    in.fail(holds + "no classes, but the header lists " + std::to_string(c.classes.size()));
  }
  if (c.n_features != 0) in.fail(holds + "no features, but the header declares " + std::to_string(c.n_features));
  if (c.n_iter != 0) in.fail(holds + "no n_iter, but the header holds " + std::to_string(c.n_iter));
}

// Checks everything that does not depend on what the tensors must be.
Contents decode(std::span<const std::uint8_t> bytes, const std::string& name, std::uint32_t want_kind) {
  return decode(bytes, name, {want_kind});
}

// The prefix: magic bytes, a version this dagrad reads, a wanted kind, and a
// header size that fits, with the header's checksum. Returns the header
// (prefix included) and the kind.
std::span<const std::uint8_t> decode_prefix(Reader& in, std::span<const std::uint8_t> bytes,
                                            std::initializer_list<std::uint32_t> want_kinds, std::uint32_t& kind,
                                            std::uint32_t& version) {
  if (bytes.size() > max_model_bytes) {
    in.fail("the file has " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
            std::to_string(max_model_bytes));
  }
  auto m = in.take(magic.size(), "the magic bytes");
  if (!std::equal(m.begin(), m.end(), magic.begin())) {
    std::string got;
    for (std::uint8_t b : m) {
      if (!got.empty()) got += ' ';
      got += hex32(b).substr(8);
    }
    in.fail("not a dagrad model file: wrong magic bytes " + got + ", expected \"DAGRADM\\0\"");
  }
  version = in.u32("the format version");
  if (version == 0) in.fail("format version 0 is not a valid version");
  if (version > model_format_version) {
    in.fail("format version " + std::to_string(version) + " is newer than this dagrad reads (" +
            std::to_string(model_format_version) + "); a newer dagrad wrote it");
  }
  kind = in.u32("the file kind");
  if (std::find(want_kinds.begin(), want_kinds.end(), kind) == want_kinds.end()) {
    in.fail("the file holds " + std::string(kind_name(kind)) + " (kind " + std::to_string(kind) + "), not " +
            kind_name(*want_kinds.begin()));
  }
  const std::uint64_t header_size = in.u64("the header size");
  if (header_size > in.remaining() || in.remaining() - header_size < 4) {
    in.fail("truncated: the header declares " + std::to_string(header_size) + " bytes plus a 4-byte "
            "checksum after offset " + std::to_string(prefix_bytes) + ", found " +
            std::to_string(in.remaining()));
  }
  const auto header = bytes.subspan(0, prefix_bytes + static_cast<std::size_t>(header_size));
  Reader crc_in(bytes.subspan(header.size(), 4), in.name());
  const std::uint32_t stored = crc_in.u32("the header checksum");
  const std::uint32_t computed = crc32c(header);
  if (stored != computed) {
    in.fail("header checksum mismatch: stored " + hex32(stored) + ", computed " + hex32(computed) +
            " (the header is corrupt)");
  }
  return header;
}

// The header's fields after the prefix; returns the tensor count.
std::uint32_t decode_header(const Reader& in, Reader& h, std::uint32_t version, std::uint64_t header_size,
                            Contents& c) {
  const std::uint64_t n_params = h.count(h.u32("the hyperparameter count"), 8, "hyperparameters");
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < n_params; ++i) {
    std::string key = h.text("hyperparameter " + std::to_string(i + 1) + "'s name");
    std::string value = h.text("hyperparameter '" + key + "''s value");
    if (!seen.insert(key).second) in.fail("hyperparameter '" + key + "' appears twice");
    c.params.emplace_back(std::move(key), std::move(value));
  }
  const std::uint64_t n_classes = h.count(h.u32("the class count"), 4, "classes");
  for (std::uint64_t i = 0; i < n_classes; ++i) c.classes.push_back(h.i32("a class"));
  c.n_features = h.u64("the feature count");
  c.n_iter = h.i32("n_iter");
  const std::uint32_t n_tensors = h.u32("the tensor count");
  if (c.kind == kind_graph) {
    if (version < 2) in.fail("a graph needs format version 2, but the file says " + std::to_string(version));
    decode_nodes(h, c);
  }
  if (h.remaining() != 0) {
    in.fail("the header declares " + std::to_string(header_size) + " bytes but its fields end " +
            std::to_string(h.remaining()) + " bytes early");
  }
  if (c.n_iter < 0) in.fail("n_iter is " + std::to_string(c.n_iter) + "; it must be >= 0");
  if (c.kind == kind_parameters || c.kind == kind_graph) check_no_estimator(in, c);
  return n_tensors;
}

// One tensor record: name, shape, float64 data and its checksum.
Tensor decode_tensor(Reader& in, std::span<const std::uint8_t> bytes, std::uint32_t index) {
  const std::size_t start = in.offset();
  Tensor t;
  t.name = in.text("tensor " + std::to_string(index + 1) + "'s name");
  const std::string tn = "tensor '" + t.name + "'";
  const std::uint64_t rows = in.u64(tn + "'s row count");
  const std::uint64_t cols = in.u64(tn + "'s column count");
  // rows * cols * 8 bytes, compared by division so that nothing overflows.
  const bool overflows = cols != 0 && rows > (~std::uint64_t{0} / 8) / cols;
  if (overflows || rows * cols * 8 > in.remaining()) {
    in.fail("truncated or corrupt: " + tn + " declares " + shape_text(rows, cols) + " float64 values, which need " +
            (overflows ? std::string("more than 2^64") : std::to_string(rows * cols * 8)) + " bytes at offset " +
            std::to_string(in.offset()) + ", found " + std::to_string(in.remaining()));
  }
  if (rows > static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max()) ||
      cols > static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max())) {
    in.fail(tn + " declares the shape " + shape_text(rows, cols) + ", too large");
  }
  auto data = in.take(rows * cols * 8, tn + "'s data (" + shape_text(rows, cols) + " float64)");
  const std::size_t end = in.offset();
  const std::uint32_t stored = in.u32(tn + "'s checksum");
  const std::uint32_t computed = crc32c(bytes.subspan(start, end - start));
  if (stored != computed) {
    in.fail("checksum mismatch in " + tn + ": stored " + hex32(stored) + ", computed " + hex32(computed) +
            " (the tensor is corrupt)");
  }
  t.value.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t k = 0; k < rows * cols; ++k) {
    std::uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | data[8 * k + static_cast<std::size_t>(b)];
    t.value.data()[k] = std::bit_cast<double>(v);
  }
  return t;
}

Contents decode(std::span<const std::uint8_t> bytes, const std::string& name,
                std::initializer_list<std::uint32_t> want_kinds) {
  Reader in(bytes, name);
  Contents c;
  std::uint32_t version = 0;
  const auto header = decode_prefix(in, bytes, want_kinds, c.kind, version);
  const std::uint64_t header_size = header.size() - prefix_bytes;
  Reader h(header.subspan(prefix_bytes), name);
  const std::uint32_t n_tensors = decode_header(in, h, version, header_size, c);

  in.take(header_size + 4, "the header");
  // A tensor takes at least its name's length, rows, cols and checksum.
  in.count(n_tensors, 4 + 8 + 8 + 4, "tensors");
  for (std::uint32_t i = 0; i < n_tensors; ++i) c.tensors.push_back(decode_tensor(in, bytes, i));
  if (in.remaining() != 0) {
    in.fail(std::to_string(in.remaining()) + " trailing bytes after the last tensor (offset " +
            std::to_string(in.offset()) + ")");
  }
  return c;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  auto fail = [&](const std::string& problem) -> void { throw DataError(path + ": " + problem); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("cannot open: not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_model_bytes) {
    fail("the file has " + std::to_string(size) + " bytes, more than the limit of " +
         std::to_string(max_model_bytes));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  std::size_t have = 0;
  while (have < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + have, bytes.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(std::string("read error: ") + std::strerror(errno));
    if (got == 0) break;
    have += static_cast<std::size_t>(got);
  }
  bytes.resize(have);  // a file that shrank while being read is judged as found
  return bytes;
}

bool all_finite(const Matrix<double>& m, std::size_t& row, std::size_t& col) {
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    if (!std::isfinite(m.data()[k])) {
      row = static_cast<std::size_t>(k / m.cols());
      col = static_cast<std::size_t>(k % m.cols());
      return false;
    }
  }
  return true;
}

std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  const auto& table = crc_table();
  std::uint32_t c = ~crc;
  for (const std::uint8_t b : bytes) c = table[(c ^ b) & 0xFFu] ^ (c >> 8);
  return ~c;
}

}  // namespace model_file_detail

using namespace model_file_detail;

template <class T>
void load_parameters(Executor<T>& ex, const std::vector<Node>& nodes, const std::string& path) {
  parse_parameters(ex, nodes, read_file(path), path);
}

template <class T>
void parse_parameters(Executor<T>& ex, const std::vector<Node>& nodes, std::span<const std::uint8_t> bytes,
                      const std::string& name) {
  Contents c = decode(bytes, name, kind_parameters);
  auto fail = [&](const std::string& problem) -> void { throw DataError(name + ": " + problem); };
  std::map<std::string, Matrix<double>*> by_name;
  for (Tensor& t : c.tensors) {
    if (!by_name.emplace(t.name, &t.value).second) fail("tensor '" + t.name + "' appears twice");
  }
  for (const Node& n : nodes) {
    if (!by_name.count(n.name())) fail("holds no tensor '" + n.name() + "'");
  }
  for (const auto& entry : by_name) {
    const std::string& name = entry.first;
    const Matrix<double>* value = entry.second;
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name() == name; });
    if (it == nodes.end()) fail("tensor '" + name + "' is not among the nodes to load");
    const Shape s = it->shape();
    if (shape_of(*value) != s) {
      fail("tensor '" + name + "' has shape " + to_string(shape_of(*value)) + " but the node is " +
           to_string(s));
    }
    if (std::size_t r, k; !all_finite(*value, r, k)) {
      fail("tensor '" + name + "' holds a value that is not finite at row " + std::to_string(r) +
           ", column " + std::to_string(k));
    }
  }
  for (const Node& n : nodes) ex.set(n, by_name[n.name()]->template cast<T>());
}

// Written a record at a time, as encode() lays them out: a checkpoint's
// tensors are not copied, and its bytes never all held at once.
void save_tensors(const std::vector<std::pair<std::string, Matrix<double>>>& tensors,
                  const std::string& path) {
  Contents c;
  c.kind = kind_parameters;
  std::set<std::string> names;
  for (const auto& [name, value] : tensors) {
    if (!names.insert(name).second) throw Error(path + ": '" + name + "' is listed twice");
  }
  AtomicFile file(path);
  Writer w;
  encode_head(w, c, tensors.size());
  file.write(w.bytes);
  for (const auto& [name, value] : tensors) {
    w.bytes.clear();
    append_tensor(w, name, value);
    file.write(w.bytes);
  }
  file.commit();
}

template <class T>
void save_parameters(const Executor<T>& ex, const std::vector<Node>& nodes, const std::string& path) {
  std::vector<std::pair<std::string, Matrix<double>>> tensors;
  for (const Node& n : nodes) {
    if (!ex.has_value(n)) throw Error(path + ": cannot save '" + n.name() + "', which has no value");
    tensors.emplace_back(n.name(), ex.value(n).template cast<double>());
  }
  save_tensors(tensors, path);
}

std::vector<std::pair<std::string, Matrix<double>>> parse_tensors(std::span<const std::uint8_t> bytes,
                                                                  const std::string& name) {
  Contents c = decode(bytes, name, kind_parameters);
  std::set<std::string> names;
  std::vector<std::pair<std::string, Matrix<double>>> out;
  for (Tensor& t : c.tensors) {
    if (!names.insert(t.name).second) throw DataError(name + ": tensor '" + t.name + "' appears twice");
    out.emplace_back(std::move(t.name), std::move(t.value));
  }
  return out;
}

std::vector<std::pair<std::string, Matrix<double>>> load_tensors(const std::string& path) {
  return parse_tensors(read_file(path), path);
}

template void save_parameters<float>(const Executor<float>&, const std::vector<Node>&, const std::string&);
template void save_parameters<double>(const Executor<double>&, const std::vector<Node>&, const std::string&);
template void load_parameters<float>(Executor<float>&, const std::vector<Node>&, const std::string&);
template void load_parameters<double>(Executor<double>&, const std::vector<Node>&, const std::string&);
template void parse_parameters<float>(Executor<float>&, const std::vector<Node>&,
                                      std::span<const std::uint8_t>, const std::string&);
template void parse_parameters<double>(Executor<double>&, const std::vector<Node>&,
                                       std::span<const std::uint8_t>, const std::string&);

}  // namespace dagrad
