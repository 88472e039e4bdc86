// The files of scikit-learn's estimators: a trained MLPClassifier or
// MLPRegressor in dagrad's model format (docs/model_format.md, kinds 1, 4
// and 5), written through io's checksummed records, saved atomically.
//   save(mlp, "mnist.dagradm");  MLPClassifier again = load_mlp("mnist.dagradm");
#pragma once

#include <dagrad/ml/mlp.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace dagrad {

// Writes through write_file_atomically (atomic_file.hpp): a crash leaves the
// old file or the new one, whole.
// Throws Error naming the path (an unfitted model, an I/O failure).
void save(const MLPClassifier& mlp, const std::string& path);
void save(const MLPRegressor& mlp, const std::string& path);

// Throws DataError naming the path and the problem: wrong magic, a newer
// version, truncation (bytes expected and found), a checksum mismatch (which
// tensor), a shape that disagrees with the hyperparameters and classes, sizes
// larger than the file, unknown or invalid hyperparameters.
MLPClassifier load_mlp(const std::string& path);
// As load_mlp, from bytes in memory; `name` stands for the path in messages.
MLPClassifier parse_mlp(std::span<const std::uint8_t> bytes, const std::string& name);
// The same for an MLPRegressor's file (a classifier's file is refused, and
// the other way round, naming what the file holds).
MLPRegressor load_mlp_regressor(const std::string& path);
MLPRegressor parse_mlp_regressor(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace dagrad
