// Ids carried as matrix entries (embedding's rows, cross_entropy's classes):
// each must be a whole number in [0, count), checked as the kernel reads it,
// since ids are data.
//   const Eigen::Index v = detail::checked_id(ids, r, table.rows(), "the table's rows");
#pragma once

#include <dagrad/core/error.hpp>
#include <dagrad/core/tensor.hpp>

#include <cmath>
#include <sstream>
#include <string_view>

namespace dagrad::detail {

// ids(row, 0) as an index, or Error naming the row and the value, and what
// [0, count) counts ("the classes"); the executor adds the node's name.
template <class T>
Eigen::Index checked_id(const ConstView<T>& ids, Eigen::Index row, Eigen::Index count, std::string_view range) {
  const T v = ids(row, 0);
  if (std::floor(v) == v && v >= T(0) && v < static_cast<T>(count)) return static_cast<Eigen::Index>(v);
  std::ostringstream s;
  s.precision(17);
  s << "row " << row << " of the ids holds " << v;
  if (std::floor(v) != v) {
    s << ", which is not a whole number";
  } else {
    s << ", outside " << range << " [0, " << count << ")";
  }
  throw Error(s.str());
}

}  // namespace dagrad::detail
