// How the playground sends numbers to the page: heat maps as base64 signed
// bytes, images as base64 unsigned bytes, matrices as nested JSON arrays.
#pragma once

#include "config.hpp"

#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace playground {

std::string base64(std::span<const std::uint8_t> bytes);

// round(127 * clamp(v, -1, 1)) for each v, as signed bytes, in base64.
std::string heat_map(const Eigen::Ref<const Eigen::VectorXd>& values);

// [[row 0], [row 1], ...]; NaN and infinities as null (JSON has no such numbers).
json matrix_json(const dagrad::Matrix<double>& m);

}  // namespace playground
