// The model file format's encoder, checked decoder and checksum, private
// to the library: model_file.cpp (parameters, tensors) and mlp_file.cpp (an
// MLPClassifier or MLPRegressor, in the ml library) share them, and the tests craft files
// with crc32c. docs/model_format.md is the spec.
#pragma once

#include <dagrad/core/op.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dagrad::model_file_detail {

constexpr std::uint32_t kind_mlp = 1;
constexpr std::uint32_t kind_parameters = 2;
constexpr std::uint32_t kind_graph = 3;
constexpr std::uint32_t kind_mlp_regressor = 4;
constexpr std::uint32_t kind_mlp_multilabel = 5;  // an MLPClassifier fitted on multi-label targets

struct Tensor {
  std::string name;
  Matrix<double> value;
};

// A graph file's record of one node (graph_file.cpp builds and reads them;
// decode checks only that the fields are well formed).
struct NodeRecord {
  std::uint8_t kind = 0;  // NodeKind: input, parameter, constant, op
  std::uint8_t role = 0;  // Role: forward, backward
  std::string name, scope;
  std::int64_t rows = 0, cols = 0;
  std::string op;  // the op's key; empty for the other kinds
  Attributes attributes;
  std::vector<std::uint32_t> inputs;
  std::uint32_t grad_of = 0;  // 1 + the node whose gradient this is; 0: none
};

// Graph::cached_gradients(): grad is d y / d x.
struct GradientRecord {
  std::uint32_t y = 0, x = 0, grad = 0;
};

struct Contents {
  std::uint32_t kind = 0;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<int> classes;
  std::uint64_t n_features = 0;
  std::int32_t n_iter = 0;
  std::vector<Tensor> tensors;
  // kind_graph only.
  std::vector<NodeRecord> nodes;
  std::vector<GradientRecord> gradients;
};

// CRC-32C (Castagnoli polynomial, reflected 0x82F63B78): crc32c("123456789")
// is 0xE3069283. Pass a previous result as `crc` to continue over more bytes.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

std::vector<std::uint8_t> encode(const Contents& c);
// Checks everything that does not depend on what the tensors must be;
// throws DataError starting with `name`.
Contents decode(std::span<const std::uint8_t> bytes, const std::string& name, std::uint32_t want_kind);
// As decode, for a reader that takes any of these kinds (the first is the
// one an error names as expected).
Contents decode(std::span<const std::uint8_t> bytes, const std::string& name,
                std::initializer_list<std::uint32_t> want_kinds);
std::vector<std::uint8_t> read_file(const std::string& path);
// False, with the first non-finite value's row and column, if there is one.
bool all_finite(const Matrix<double>& m, std::size_t& row, std::size_t& col);
std::string shape_text(std::uint64_t rows, std::uint64_t cols);

}  // namespace dagrad::model_file_detail
