#include "plane_model.hpp"

#include "encode.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace playground {

using namespace dagrad;

namespace {

nn::Activation activation_of(const std::string& name) {
  if (name == "relu") return nn::Activation::relu;
  if (name == "tanh") return nn::Activation::tanh;
  if (name == "sigmoid") return nn::Activation::sigmoid;
  return nn::Activation::none;  // linear
}

// A row of features per point, and its label.
void fill(const std::vector<Point>& points, const std::vector<std::string>& features, Matrix<double>& X,
          Matrix<double>& Y) {
  X.resize(Eigen::Index(points.size()), Eigen::Index(features.size()));
  Y.resize(Eigen::Index(points.size()), 1);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t f = 0; f < features.size(); ++f) {
      X(Eigen::Index(i), Eigen::Index(f)) = feature_value(features[f], points[i].x1, points[i].x2);
    }
    Y(Eigen::Index(i), 0) = points[i].label;
  }
}

// The grid's cell centres, row by row from the top, as feature rows.
Matrix<double> grid_features(const std::vector<std::string>& features) {
  std::vector<Point> cells;
  const double step = 2 * grid_extent / grid_size;
  for (int r = 0; r < grid_size; ++r) {
    for (int c = 0; c < grid_size; ++c) {
      cells.push_back({-grid_extent + (c + 0.5) * step, grid_extent - (r + 0.5) * step, 0});
    }
  }
  Matrix<double> X, Y;
  fill(cells, features, X, Y);
  return X;
}

json points_json(const std::vector<Point>& points) {
  json out = json::array();
  for (const Point& p : points) out.push_back({p.x1, p.x2, p.label});
  return out;
}

std::string hidden_text(const std::vector<int>& hidden) {
  if (hidden.empty()) return "no hidden layer";
  std::string s;
  for (int n : hidden) s += (s.empty() ? "" : "-") + std::to_string(n);
  return s;
}

// The shortest text that reads back as x (0.03, not 0.029999999999999999).
std::string number(double x) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, x).ptr;
  return std::string(buf, end);
}

}  // namespace

PlaneModel::PlaneModel(const Config& config) : config_(config) {
  std::vector<Point> points = make_points(config_.dataset, config_.noise / 100.0, config_.seed);
  const auto split = std::ptrdiff_t(points.size() * std::size_t(config_.train_ratio) / 100);
  train_.assign(points.begin(), points.begin() + split);
  test_.assign(points.begin() + split, points.end());
  fill(train_, config_.features, X_train_, Y_train_);
  fill(test_, config_.features, X_test_, Y_test_);
  X_grid_ = grid_features(config_.features);
  build();
  record_losses();
}

// The network as the exported program builds it (export_cpp() writes these
// same calls): dense layers of Playground's initial weights, a tanh output for
// classification (linear for regression), half the mean squared error, and
// the penalty over the weights.
void PlaneModel::build() {
  Graph& g = graph_;
  const auto features = Dim(config_.features.size());
  x_ = g.input("x", {batch, features});
  y_ = g.input("y", {batch, 1});
  init_ = std::make_unique<nn::Init>(config_.seed);
  nn::DenseOptions layer{.activation = activation_of(config_.activation),
                         .weights = nn::uniform(0.5),
                         .bias_init = nn::constant(0.1)};
  Node h = x_;
  for (std::size_t k = 0; k < config_.hidden.size(); ++k) {
    const std::string name = "hidden" + std::to_string(k + 1);
    h = nn::dense(h, config_.hidden[k], *init_, name, layer);
    layer_outputs_.push_back(h);
    weights_.push_back(*g.find(name + "/w"));
    biases_.push_back(*g.find(name + "/b"));
  }
  layer.activation = is_regression(config_.dataset) ? nn::Activation::none : nn::Activation::tanh;
  output_ = nn::dense(h, 1, *init_, "output", layer);
  weights_.push_back(*g.find("output/w"));
  biases_.push_back(*g.find("output/b"));
  {
    auto scope = g.scope("loss");
    data_loss_ = scale(mse_loss(output_, y_), 0.5);
    g.rename(data_loss_, "loss/data");
  }
  loss_ = data_loss_;
  if (config_.regularization != "none") {
    auto scope = g.scope("penalty");
    std::vector<Node> terms;
    for (Node w : weights_) terms.push_back(config_.regularization == "l1" ? sum(abs(w)) : sum_squares(w));
    Node total = terms.size() == 1 ? terms[0] : add_n(terms);
    const double factor = config_.regularization == "l1" ? config_.regularization_rate
                                                         : config_.regularization_rate / 2;
    Node penalty = scale(total, factor);
    g.rename(penalty, "penalty/penalty");
    auto loss_scope = g.scope_path("loss");
    loss_ = add(data_loss_, penalty);
    g.rename(loss_, "loss/total");
  }

  // The drawings and the node inspector read any node of these two.
  train_ex_ = std::make_unique<Executor<double>>(g, ExecutorOptions{.threads = 1, .plan_memory = false});
  eval_ex_ = std::make_unique<Executor<double>>(g, ExecutorOptions{.threads = 1});
  trace_ex_ = std::make_unique<Executor<double>>(g, ExecutorOptions{.threads = 1, .plan_memory = false});
  init_->apply(*train_ex_);
  sgd_ = std::make_unique<nn::SGD>(loss_, nn::SGDOptions{.learning_rate = config_.learning_rate});
  trainer_ = std::make_unique<nn::Trainer<double>>(
      *train_ex_, *sgd_, x_, y_,
      nn::TrainOptions{.epochs = 1, .batch_size = std::size_t(config_.batch_size), .seed = config_.seed});
}

void PlaneModel::copy_parameters(Executor<double>& to) const {
  for (Node p : init_->parameters()) to.set(p, train_ex_->value(p));
}

void PlaneModel::record_losses() {
  copy_parameters(*eval_ex_);
  train_loss_.push_back(eval_ex_->run({{x_, X_train_}, {y_, Y_train_}}, {data_loss_})[0](0, 0));
  test_loss_.push_back(eval_ex_->run({{x_, X_test_}, {y_, Y_test_}}, {data_loss_})[0](0, 0));
}

void PlaneModel::epoch() {
  trainer_->options().epochs = epochs() + 1;
  trainer_->fit(Features(X_train_), Features(Y_train_));
  record_losses();
}

json PlaneModel::data() const {
  json layers = json::array();
  json labels = json::array();
  for (const std::string& f : config_.features) labels.push_back(feature_label(f));
  layers.push_back({{"name", "input"}, {"units", config_.features.size()}, {"labels", labels}});
  for (std::size_t k = 0; k < config_.hidden.size(); ++k) {
    layers.push_back({{"name", "hidden" + std::to_string(k + 1)}, {"units", config_.hidden[k]}});
  }
  layers.push_back({{"name", "output"}, {"units", 1}});
  return {{"config", to_json(config_)},
          {"problem", is_regression(config_.dataset) ? "regression" : "classification"},
          {"train", points_json(train_)},
          {"test", points_json(test_)},
          {"grid", {{"size", grid_size}, {"extent", grid_extent}}},
          {"layers", layers}};
}

json PlaneModel::state() {
  copy_parameters(*eval_ex_);
  std::vector<Node> fetches{output_};
  fetches.insert(fetches.end(), layer_outputs_.begin(), layer_outputs_.end());
  const std::vector<Matrix<double>> grid = eval_ex_->run({{x_, X_grid_}}, fetches);

  json neurons = json::array();
  json inputs = json::array();
  for (Eigen::Index f = 0; f < X_grid_.cols(); ++f) inputs.push_back(heat_map(X_grid_.col(f)));
  neurons.push_back(inputs);
  for (std::size_t k = 1; k < grid.size(); ++k) {
    json layer = json::array();
    for (Eigen::Index j = 0; j < grid[k].cols(); ++j) layer.push_back(heat_map(grid[k].col(j)));
    neurons.push_back(layer);
  }
  json weights = json::array();
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    const Matrix<double>& b = train_ex_->value(biases_[k]);
    weights.push_back({{"w", matrix_json(train_ex_->value(weights_[k]))},
                       {"b", std::vector<double>(b.data(), b.data() + b.size())}});
  }
  return {{"epoch", epochs()},
          {"train_loss", train_loss_.back()},
          {"test_loss", test_loss_.back()},
          {"history", {{"train", train_loss_}, {"test", test_loss_}}},
          {"heatmaps", {{"output", heat_map(grid[0].col(0))}, {"neurons", neurons}}},
          {"weights", weights}};
}

std::string PlaneModel::graph_dot() const {
  const std::string title = "playground: " + config_.dataset + ", " + hidden_text(config_.hidden) + ", " +
                            config_.activation + ", epoch " + std::to_string(epochs());
  return to_dot(graph_, {.values = train_ex_.get(), .title = title});
}

std::string PlaneModel::graph_svg() const { return render_data(graph_dot(), "svg"); }

json PlaneModel::node(long long id) const {
  if (id < 0 || std::size_t(id) >= graph_.size()) {
    throw RequestError(404, "id", "the graph has no node " + std::to_string(id) + " (it has 0 to " +
                                      std::to_string(graph_.size() - 1) + ")");
  }
  const auto nid = NodeId(id);
  const NodeInfo& info = graph_.info(nid);
  auto value_of = [&](NodeId n) -> json {
    Graph& g = const_cast<Graph&>(graph_);
    const Node node = g.node(n);
    if (train_ex_->has_value(node)) return matrix_json(train_ex_->value(node));
    if (g.info(n).kind == NodeKind::constant) return matrix_json(g.info(n).value);
    return nullptr;
  };
  std::vector<std::string> args;
  for (NodeId in : info.inputs) args.push_back(graph_.info(in).name);
  json out{{"id", id},
           {"name", info.name},
           {"op", info.kind == NodeKind::op ? std::string(info.op->key()) : std::string(to_string(info.kind))},
           {"role", info.role == Role::backward ? "backward" : "forward"},
           {"expression", info.kind == NodeKind::op ? info.op->expression(args) : ""},
           {"shape", {info.shape.rows, info.shape.cols}},
           {"inputs", info.inputs},
           {"value", value_of(nid)},
           {"grad", nullptr}};
  std::optional<NodeId> grad = graph_.cached_gradient(loss_.id(), nid);
  for (NodeId n = 0; !grad && n < graph_.size(); ++n) {
    if (graph_.info(n).grad_of == nid) grad = n;
  }
  if (grad) out["grad"] = {{"id", *grad}, {"name", graph_.info(*grad).name}, {"value", value_of(*grad)}};
  return out;
}

json PlaneModel::backprop(long long index) {
  if (index < 0 || std::size_t(index) >= train_.size()) {
    throw RequestError(400, "point", "point: must be a training point's index from 0 to " +
                                         std::to_string(train_.size() - 1) + ", not " + std::to_string(index));
  }
  copy_parameters(*trace_ex_);
  const auto i = Eigen::Index(index);
  const Matrix<double> x = X_train_.row(i), y = Y_train_.row(i);
  trace_ex_->compute({{x_, x}, {y_, y}}, sgd_->fetches());
  json steps = json::array();
  for (const TraceLine& line : trace_lines(*trace_ex_, loss_, sgd_->gradients())) {
    steps.push_back({{"node", line.node.id()},
                     {"name", line.node.name()},
                     {"pass", line.pass == Role::backward ? "backward" : "forward"},
                     {"text", line.text}});
  }
  const Point& p = train_[std::size_t(index)];
  const std::string title = "one point: (" + format_value(Matrix<double>::Constant(1, 1, p.x1)) + ", " +
                            format_value(Matrix<double>::Constant(1, 1, p.x2)) + "), label " +
                            format_value(Matrix<double>::Constant(1, 1, p.label));
  return {{"point", {p.x1, p.x2, p.label}},
          {"svg", render_data(to_dot(graph_, {.values = trace_ex_.get(), .title = title}), "svg")},
          {"steps", steps}};
}

namespace {

// The exported program's opening comment, includes and the points it trains on.
void export_data(std::ostream& o, const Config& c, const std::vector<Point>& train, const std::vector<Point>& test) {
  o << "// A network from dagrad's playground, as a program: the same data set,\n"
       "// network and training, so it prints the losses the page drew.\n"
    << "//   data set " << c.dataset << " (noise " << c.noise << "%, " << c.train_ratio
    << "% for training), features";
  for (const std::string& f : c.features) o << ' ' << f;
  o << ",\n//   " << hidden_text(c.hidden) << ", " << c.activation << ", learning rate " << number(c.learning_rate)
    << ", regularization " << c.regularization << " " << number(c.regularization_rate) << ", batch size "
    << c.batch_size << ", seed " << c.seed << ".\n"
    << "// Build against an installed dagrad and run for 100 epochs:\n"
       "//   c++ -std=c++20 -O2 network.cpp $(pkg-config --cflags --libs dagrad) -o network\n"
       "//   ./network 100\n"
       "#include <dagrad/dagrad.hpp>\n\n"
       "#include <cmath>\n#include <cstdio>\n#include <cstdlib>\n#include <iterator>\n\n"
       "using namespace dagrad;\n\n"
       "struct Point {\n  double x1, x2, label;\n};\n\n"
    << "// The training points, then the test points.\n"
    << "const std::size_t train_count = " << train.size() << ";\n"
    << "const Point points[] = {\n";
  for (const auto* set : {&train, &test}) {
    for (const Point& p : *set) o << "    {" << number(p.x1) << ", " << number(p.x2) << ", " << number(p.label) << "},\n";
  }
  o << "};\n\n"
    << "// Each point's inputs: ";
  for (std::size_t f = 0; f < c.features.size(); ++f) o << (f ? ", " : "") << feature_expression(c.features[f]);
  o << ".\nvoid fill(std::size_t first, std::size_t count, Matrix<double>& X, Matrix<double>& Y) {\n"
    << "  X.resize(Eigen::Index(count), " << c.features.size() << ");\n"
    << "  Y.resize(Eigen::Index(count), 1);\n"
    << "  for (std::size_t i = 0; i < count; ++i) {\n"
    << "    const auto r = Eigen::Index(i);\n"
    << "    const double x1 = points[first + i].x1, x2 = points[first + i].x2;\n";
  o << "    X.row(r) << ";
  for (std::size_t f = 0; f < c.features.size(); ++f) o << (f ? ", " : "") << feature_expression(c.features[f]);
  o << ";\n"
    << "    Y(r, 0) = points[first + i].label;\n"
    << "  }\n}\n\n";
}

// main's first half: the data, the dense layers and the loss with its penalty.
void export_network(std::ostream& o, const Config& c) {
  o << "int main(int argc, char** argv) {\n"
    << "  const int epochs = argc > 1 ? std::atoi(argv[1]) : 100;\n"
    << "  Matrix<double> X_train, Y_train, X_test, Y_test;\n"
    << "  fill(0, train_count, X_train, Y_train);\n"
    << "  fill(train_count, std::size(points) - train_count, X_test, Y_test);\n\n"
    << "  // The network: each dense layer a name scope (a cluster in the graph's picture).\n"
    << "  Graph g;\n"
    << "  Node x = g.input(\"x\", {batch, " << c.features.size() << "});\n"
    << "  Node y = g.input(\"y\", {batch, 1});\n"
    << "  nn::Init init(" << c.seed << ");\n"
    << "  nn::DenseOptions layer{.activation = nn::Activation::"
    << (c.activation == "linear" ? "none" : c.activation)
    << ", .weights = nn::uniform(0.5), .bias_init = nn::constant(0.1)};\n"
    << "  Node h = x;\n";
  for (std::size_t k = 0; k < c.hidden.size(); ++k) {
    o << "  h = nn::dense(h, " << c.hidden[k] << ", init, \"hidden" << k + 1 << "\", layer);\n";
  }
  o << "  layer.activation = nn::Activation::" << (is_regression(c.dataset) ? "none" : "tanh") << ";\n"
    << "  Node output = nn::dense(h, 1, init, \"output\", layer);\n\n"
    << "  // Half the mean squared error";
  if (c.regularization != "none") o << ", plus the " << (c.regularization == "l1" ? "L1" : "L2") << " penalty";
  o << ".\n  Node data_loss;\n"
    << "  {\n    auto scope = g.scope(\"loss\");\n"
    << "    data_loss = scale(mse_loss(output, y), 0.5);\n"
    << "    g.rename(data_loss, \"loss/data\");\n  }\n"
    << "  Node loss = data_loss;\n";
  if (c.regularization != "none") {
    const bool l1 = c.regularization == "l1";
    o << "  {\n    auto scope = g.scope(\"penalty\");\n"
      << "    std::vector<Node> terms;\n"
      << "    for (const char* w : {";
    for (std::size_t k = 0; k < c.hidden.size(); ++k) o << "\"hidden" << k + 1 << "/w\", ";
    o << "\"output/w\"}) terms.push_back(" << (l1 ? "sum(abs(*g.find(w)))" : "sum_squares(*g.find(w))") << ");\n"
      << "    Node penalty = scale(" << (c.hidden.empty() ? "terms[0]" : "add_n(terms)") << ", "
      << number(l1 ? c.regularization_rate : c.regularization_rate / 2) << ");\n"
      << "    g.rename(penalty, \"penalty/penalty\");\n"
      << "    auto loss_scope = g.scope_path(\"loss\");\n"
      << "    loss = add(data_loss, penalty);\n"
      << "    g.rename(loss, \"loss/total\");\n  }\n";
  }
}

// main's second half: SGD, the Trainer and a line of losses an epoch.
void export_training(std::ostream& o, const Config& c) {
  o << "\n  // Training: SGD adds the gradient nodes; the Trainer shuffles and batches.\n"
    << "  Executor<double> ex(g, {.threads = 1});\n"
    << "  init.apply(ex);\n"
    << "  nn::SGD sgd(loss, {.learning_rate = " << number(c.learning_rate) << "});\n"
    << "  nn::Trainer<double> trainer(ex, sgd, x, y, {.epochs = 1, .batch_size = " << c.batch_size
    << ", .seed = " << c.seed << "});\n"
    << "  auto report = [&](int epoch) {\n"
    << "    const double train = ex.run({{x, X_train}, {y, Y_train}}, {data_loss})[0](0, 0);\n"
    << "    const double test = ex.run({{x, X_test}, {y, Y_test}}, {data_loss})[0](0, 0);\n"
    << "    std::printf(\"epoch %d: train loss %.17g, test loss %.17g\\n\", epoch, train, test);\n"
    << "  };\n"
    << "  report(0);\n"
    << "  for (int epoch = 1; epoch <= epochs; ++epoch) {\n"
    << "    trainer.options().epochs = epoch;\n"
    << "    trainer.fit(Features(X_train), Features(Y_train));\n"
    << "    report(epoch);\n"
    << "  }\n"
    << "}\n";
}

}  // namespace

// The program export_cpp() writes builds and trains the network with the same
// calls as build() and epoch() above.
std::string PlaneModel::export_cpp() const {
  std::ostringstream o;
  export_data(o, config_, train_, test_);
  export_network(o, config_);
  export_training(o, config_);
  return o.str();
}

}  // namespace playground
