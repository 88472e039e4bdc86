#include "encode.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace playground {

std::string base64(std::span<const std::uint8_t> bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = std::uint32_t(bytes[i]) << 16;
    if (n > 1) v |= std::uint32_t(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += n > 1 ? alphabet[(v >> 6) & 63] : '=';
    out += n > 2 ? alphabet[v & 63] : '=';
  }
  return out;
}

std::string heat_map(const Eigen::Ref<const Eigen::VectorXd>& values) {
  std::vector<std::uint8_t> bytes(std::size_t(values.size()));
  for (Eigen::Index i = 0; i < values.size(); ++i) {
    const double v = std::isnan(values(i)) ? 0.0 : std::clamp(values(i), -1.0, 1.0);
    bytes[std::size_t(i)] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::lround(127 * v)));
  }
  return base64(bytes);
}

json matrix_json(const dagrad::Matrix<double>& m) {
  json rows = json::array();
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      const double v = m(r, c);
      row.push_back(std::isfinite(v) ? json(v) : json(nullptr));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace playground
