// TensorFlow Playground's data sets in the plane [-6, 6]², drawn from a seed,
// and the input features a network may take of a point.
//   std::vector<Point> pts = make_points("spiral", 0.1, 1);  // 500 points, labels -1 / +1
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace playground {

struct Point {
  double x1, x2, label;  // label: -1 or +1 (classification), in [-1, 1] (regression)
};

// "circle", "xor", "gauss", "spiral" (classification, 500 points) and
// "plane", "multigauss" (regression, 1,200 points), in that order.
const std::vector<std::string>& dataset_names();
bool is_regression(std::string_view dataset);

// The points of `dataset` with noise in [0, 0.5] (Playground's slider / 100),
// in Playground's order of generation, shuffled by `seed`: the first part is
// the training set. Throws std::invalid_argument for an unknown name.
std::vector<Point> make_points(std::string_view dataset, double noise, std::uint32_t seed);

// "x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2", in that order.
const std::vector<std::string>& feature_names();
// The label Playground shows for each ("x₁²", ...), and the expression the
// exported C++ uses ("x1 * x1", ...).
std::string feature_label(std::string_view feature);
std::string feature_expression(std::string_view feature);
double feature_value(std::string_view feature, double x1, double x2);

}  // namespace playground
