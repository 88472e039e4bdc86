// Numeric text tables: one row a line, the numbers split by spaces, tabs or
// commas, read from a plain or gzipped file (scikit-learn's bundled data
// sets are such files).
//   Matrix<double> X = read_table(".../diabetes_data_raw.csv.gz");
#pragma once

#include <dagrad/core/tensor.hpp>

#include <string>

namespace dagrad {

// Every line that holds anything is a row; all rows must have as many
// numbers. Throws DataError naming the file, and the line and field of a
// value that is not a number or a row of another length.
Matrix<double> read_table(const std::string& path);

}  // namespace dagrad
