// One playground network on one data set: built as a dagrad graph from a
// Config, trained an epoch at a time by nn's Trainer (SGD), and described
// as the page draws it: losses, heat maps, weights, the graph, one point's
// backpropagation, and a C++ program that does the same.
//   PlaneModel m(config);  m.epoch();  json state = m.state();
#pragma once

#include "config.hpp"
#include "datasets.hpp"

#include <dagrad/dagrad.hpp>

#include <memory>
#include <string>
#include <vector>

namespace playground {

// The heat maps' grid: size x size cell centres over [-extent, extent]².
inline constexpr int grid_size = 50;
inline constexpr double grid_extent = 6;

class PlaneModel {
 public:
  explicit PlaneModel(const Config& config);
  PlaneModel(const PlaneModel&) = delete;
  PlaneModel& operator=(const PlaneModel&) = delete;

  const Config& config() const { return config_; }
  int epochs() const { return int(train_loss_.size()) - 1; }

  // One epoch of mini-batch SGD over the training points, then both losses.
  void epoch();

  // The `data` and `state` events of docs/playground_api.md.
  json data() const;
  json state();
  // The graph with the last training step's values and gradients.
  std::string graph_svg() const;
  std::string graph_dot() const;
  // One node in full; RequestError 404 for an id the graph does not have.
  json node(long long id) const;
  // The graph run forward and backward on training point `index`, traced.
  json backprop(long long index);
  // A program using dagrad's API that builds, trains and reports this network.
  std::string export_cpp() const;

  // The data losses after each epoch (index 0: before training).
  const std::vector<double>& train_losses() const { return train_loss_; }
  const std::vector<double>& test_losses() const { return test_loss_; }

 private:
  void build();
  void record_losses();
  void copy_parameters(dagrad::Executor<double>& to) const;

  Config config_;
  std::vector<Point> train_, test_;
  dagrad::Matrix<double> X_train_, Y_train_, X_test_, Y_test_, X_grid_;

  dagrad::Graph graph_;
  dagrad::Node x_, y_, output_, data_loss_, loss_;
  std::vector<dagrad::Node> layer_outputs_;  // each hidden layer's activations
  std::vector<dagrad::Node> weights_, biases_;  // per layer, the output's last
  std::unique_ptr<dagrad::nn::Init> init_;
  std::unique_ptr<dagrad::Executor<double>> train_ex_, eval_ex_, trace_ex_;
  std::unique_ptr<dagrad::nn::SGD> sgd_;
  std::unique_ptr<dagrad::nn::Trainer<double>> trainer_;
  std::vector<double> train_loss_, test_loss_;
};

}  // namespace playground
