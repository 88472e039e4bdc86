#include "datasets.hpp"

#include <dagrad/core/random.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <span>
#include <stdexcept>

namespace playground {
namespace {

constexpr double pi = std::numbers::pi;

// Playground's generators (its dataset.ts), restated: the same shapes, sizes
// and noise rules, drawn from dagrad's seeded stream instead of Math.random.
class Draw {
 public:
  explicit Draw(std::uint32_t seed) : rng_(seed) {}
  double uniform(double low, double high) { return rng_.uniform(low, high); }
  double normal(double mean, double variance) { return mean + std::sqrt(variance) * rng_.box_muller_normal(); }
  dagrad::NumpyRandom& rng() { return rng_; }

 private:
  dagrad::NumpyRandom rng_;
};

std::vector<Point> circle(Draw& d, double noise) {
  const int n = 500;
  const double radius = 5;
  std::vector<Point> out;
  auto label = [&](double x, double y) { return std::hypot(x, y) < radius * 0.5 ? 1.0 : -1.0; };
  for (int part = 0; part < 2; ++part) {
    for (int i = 0; i < n / 2; ++i) {
      // Inside: r up to half the radius; outside: a ring from 0.7 to 1.
      const double r = part == 0 ? d.uniform(0, radius * 0.5) : d.uniform(radius * 0.7, radius);
      const double angle = d.uniform(0, 2 * pi);
      const double x = r * std::sin(angle), y = r * std::cos(angle);
      const double nx = d.uniform(-radius, radius) * noise, ny = d.uniform(-radius, radius) * noise;
      out.push_back({x, y, label(x + nx, y + ny)});
    }
  }
  return out;
}

std::vector<Point> xor_points(Draw& d, double noise) {
  const int n = 500;
  const double padding = 0.3;
  std::vector<Point> out;
  for (int i = 0; i < n; ++i) {
    double x = d.uniform(-5, 5);
    x += x > 0 ? padding : -padding;
    double y = d.uniform(-5, 5);
    y += y > 0 ? padding : -padding;
    const double nx = d.uniform(-5, 5) * noise, ny = d.uniform(-5, 5) * noise;
    out.push_back({x, y, (x + nx) * (y + ny) >= 0 ? 1.0 : -1.0});
  }
  return out;
}

std::vector<Point> gauss(Draw& d, double noise) {
  const int n = 500;
  // Variance from 0.5 at no noise to 4 at the most (noise 0.5).
  const double variance = 0.5 + noise / 0.5 * 3.5;
  std::vector<Point> out;
  for (const auto& [cx, cy, label] : {std::array{2.0, 2.0, 1.0}, std::array{-2.0, -2.0, -1.0}}) {
    for (int i = 0; i < n / 2; ++i) {
      const double x = d.normal(cx, variance), y = d.normal(cy, variance);
      out.push_back({x, y, label});
    }
  }
  return out;
}

std::vector<Point> spiral(Draw& d, double noise) {
  const int n = 250;  // per arm
  std::vector<Point> out;
  for (const auto& [delta, label] : {std::array{0.0, 1.0}, std::array{pi, -1.0}}) {
    for (int i = 0; i < n; ++i) {
      const double r = double(i) / n * 5, t = 1.75 * i / n * 2 * pi + delta;
      const double x = r * std::sin(t) + d.uniform(-1, 1) * noise;
      const double y = r * std::cos(t) + d.uniform(-1, 1) * noise;
      out.push_back({x, y, label});
    }
  }
  return out;
}

// Regression: points uniform in [-6, 6]², labelled from a noisy position.
template <class Label>
std::vector<Point> regression(Draw& d, double noise, Label label) {
  const int n = 1200;
  const double radius = 6;
  std::vector<Point> out;
  for (int i = 0; i < n; ++i) {
    const double x = d.uniform(-radius, radius), y = d.uniform(-radius, radius);
    const double nx = d.uniform(-radius, radius) * noise, ny = d.uniform(-radius, radius) * noise;
    out.push_back({x, y, label(x + nx, y + ny)});
  }
  return out;
}

double plane_label(double x, double y) { return (x + y) / 10; }  // [-10, 10] to [-1, 1]

// The signed bump of the strongest of six Gaussians: 1 at a centre, 0 from
// distance 2 on.
double multigauss_label(double x, double y) {
  static constexpr std::array<std::array<double, 3>, 6> centres{{
      {-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}}};
  double label = 0;
  for (const auto& [cx, cy, sign] : centres) {
    const double v = sign * std::clamp(1 - std::hypot(x - cx, y - cy) / 2, 0.0, 1.0);
    if (std::abs(v) > std::abs(label)) label = v;
  }
  return label;
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"circle", "xor", "gauss", "spiral", "plane", "multigauss"};
  return names;
}

bool is_regression(std::string_view dataset) { return dataset == "plane" || dataset == "multigauss"; }

std::vector<Point> make_points(std::string_view dataset, double noise, std::uint32_t seed) {
  Draw d(seed);
  std::vector<Point> out;
  if (dataset == "circle") out = circle(d, noise);
  else if (dataset == "xor") out = xor_points(d, noise);
  else if (dataset == "gauss") out = gauss(d, noise);
  else if (dataset == "spiral") out = spiral(d, noise);
  else if (dataset == "plane") out = regression(d, noise, plane_label);
  else if (dataset == "multigauss") out = regression(d, noise, multigauss_label);
  else throw std::invalid_argument("unknown data set '" + std::string(dataset) + "'");
  d.rng().shuffle(std::span<Point>(out));
  return out;
}

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names{"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"};
  return names;
}

std::string feature_label(std::string_view f) {
  if (f == "x1sq") return "x₁²";
  if (f == "x2sq") return "x₂²";
  if (f == "x1x2") return "x₁x₂";
  if (f == "sinx1") return "sin(x₁)";
  if (f == "sinx2") return "sin(x₂)";
  return f == "x1" ? "x₁" : "x₂";
}

std::string feature_expression(std::string_view f) {
  if (f == "x1sq") return "x1 * x1";
  if (f == "x2sq") return "x2 * x2";
  if (f == "x1x2") return "x1 * x2";
  if (f == "sinx1") return "std::sin(x1)";
  if (f == "sinx2") return "std::sin(x2)";
  return f == "x1" ? "x1" : "x2";
}

double feature_value(std::string_view f, double x1, double x2) {
  if (f == "x1sq") return x1 * x1;
  if (f == "x2sq") return x2 * x2;
  if (f == "x1x2") return x1 * x2;
  if (f == "sinx1") return std::sin(x1);
  if (f == "sinx2") return std::sin(x2);
  return f == "x1" ? x1 : x2;
}

}  // namespace playground
