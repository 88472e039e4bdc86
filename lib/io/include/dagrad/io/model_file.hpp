// Model files: an executor's parameter values, or any named tensors, in a
// checksummed, versioned binary format (docs/model_format.md), saved
// atomically. The estimators' files (ml/mlp_file.hpp) use the same records.
//   save_parameters(ex, {w, b}, "net.dagradm");  load_parameters(ex, {w, b}, "net.dagradm");
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/executor.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dagrad {

// The newest format version this dagrad writes; it reads this one and older
// ones. A file carries the lowest version that holds its contents: 1 for
// an estimator or parameters, 2 for a whole graph (graph_file.hpp).
inline constexpr std::uint32_t model_format_version = 2;

// The values of parameter nodes, stored by node name (a model file of kind
// "parameters"). Loading needs every node's name in the file with the node's
// shape, and nothing else in it; values are stored as float64.
template <class T>
void save_parameters(const Executor<T>& ex, const std::vector<Node>& nodes, const std::string& path);
template <class T>
void load_parameters(Executor<T>& ex, const std::vector<Node>& nodes, const std::string& path);
// As load_parameters, from bytes in memory; `name` stands for the path in messages.
template <class T>
void parse_parameters(Executor<T>& ex, const std::vector<Node>& nodes, std::span<const std::uint8_t> bytes,
                      const std::string& name);

// Named float64 tensors in their order, as a file of kind "parameters": what
// save_parameters writes, and what a checkpoint (parameters and training
// state) holds. Names must be distinct; loading checks the file's format
// and checksums, and leaves judging the names and shapes to the caller.
void save_tensors(const std::vector<std::pair<std::string, Matrix<double>>>& tensors,
                  const std::string& path);
std::vector<std::pair<std::string, Matrix<double>>> load_tensors(const std::string& path);
// As load_tensors, from bytes in memory; `name` stands for the path in messages.
std::vector<std::pair<std::string, Matrix<double>>> parse_tensors(std::span<const std::uint8_t> bytes,
                                                                  const std::string& name);

extern template void save_parameters<float>(const Executor<float>&, const std::vector<Node>&,
                                            const std::string&);
extern template void save_parameters<double>(const Executor<double>&, const std::vector<Node>&,
                                             const std::string&);
extern template void load_parameters<float>(Executor<float>&, const std::vector<Node>&,
                                            const std::string&);
extern template void load_parameters<double>(Executor<double>&, const std::vector<Node>&,
                                             const std::string&);
extern template void parse_parameters<float>(Executor<float>&, const std::vector<Node>&,
                                             std::span<const std::uint8_t>, const std::string&);
extern template void parse_parameters<double>(Executor<double>&, const std::vector<Node>&,
                                              std::span<const std::uint8_t>, const std::string&);

}  // namespace dagrad
