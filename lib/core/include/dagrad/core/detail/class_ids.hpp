// What cross_entropy and its gradient share: the shape rule for logits and
// a column of class ids, each row's class read once (ignored rows marked),
// and the options as attributes.
//   detail::Scratch scratch;
//   const detail::RowClasses rows = detail::row_classes(ids, logits.cols(), options, scratch);
#pragma once

#include <dagrad/core/detail/ids.hpp>
#include <dagrad/core/detail/scratch.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/registry.hpp>

#include <span>
#include <string>

namespace dagrad::detail {

// ShapeError unless logits are n x V with V known and ids n x 1.
inline void check_class_ids(Shape logits, Shape ids) {
  if (ids.cols != 1) throw ShapeError("the ids must be one column (n × 1), not " + to_string(ids));
  if (logits.cols == batch) throw ShapeError("the class count (the logits' columns) must be known");
  if (logits.rows != batch && ids.rows != batch && logits.rows != ids.rows) {
    throw ShapeError("the logits have " + std::to_string(logits.rows) + " rows but the ids have " +
                     std::to_string(ids.rows));
  }
}

// Each row's class, or -1 where the row's id is the ignore index, and how
// many rows are not ignored (of_row in the caller's scratch frame).
struct RowClasses {
  std::span<Eigen::Index> of_row;
  Eigen::Index count = 0;
};

// Read in row order on one thread, so the first bad id is the one reported
// (Error naming its row and value; the executor adds the node's name).
template <class T>
RowClasses row_classes(const ConstView<T>& ids, Eigen::Index classes, const CrossEntropyOptions& options,
                       Scratch& scratch) {
  RowClasses c;
  c.of_row = {scratch.take<Eigen::Index>(ids.rows()), static_cast<std::size_t>(ids.rows())};
  for (Eigen::Index r = 0; r < ids.rows(); ++r) {
    const bool ignored = options.ignore_index && ids(r, 0) == static_cast<T>(*options.ignore_index);
    c.of_row[static_cast<std::size_t>(r)] = ignored ? -1 : checked_id(ids, r, classes, "the classes");
    if (!ignored) ++c.count;
  }
  return c;
}

inline Attributes cross_entropy_attributes(const CrossEntropyOptions& options) {
  return {{"ignore", std::int64_t{options.ignore_index.has_value()}},
          {"ignore_index", std::int64_t{options.ignore_index.value_or(0)}}};
}

inline CrossEntropyOptions cross_entropy_options_of(AttributeReader& a) {
  const bool ignore = a.flag("ignore");
  const std::int64_t index = a.integer("ignore_index");
  return ignore ? CrossEntropyOptions{index} : CrossEntropyOptions{};
}

// "cross_entropy", or "cross_entropy ignore -100" with an ignore index.
inline std::string cross_entropy_label(std::string_view key, const CrossEntropyOptions& options) {
  std::string s(key);
  if (options.ignore_index) s += " ignore " + std::to_string(*options.ignore_index);
  return s;
}

}  // namespace dagrad::detail
