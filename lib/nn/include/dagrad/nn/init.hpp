// Initializers: an Init records how each parameter starts and, seeded, sets
// them all the same way on every apply().
//   nn::Init init(1);  Node w = init.parameter(g, "w", {784, 10}, nn::glorot_uniform());
//   Executor<float> ex(g);  init.apply(ex);
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/tensor.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagrad {
class NumpyRandom;
}

namespace dagrad::nn {

// How one parameter's values are drawn. fan_in and fan_out default to the
// parameter's rows and columns (a dense layer's {inputs, units}); a
// convolution passes channels x kernel area instead.
struct Initializer {
  enum class Kind { glorot_uniform, glorot_normal, he_uniform, he_normal, uniform, normal, constant };
  Kind kind = Kind::glorot_uniform;
  double gain = 1.0;   // multiplies the bound or standard deviation
  double value = 0.0;  // for constant; uniform's bound; normal's standard deviation
  double factor = 6.0;  // glorot_uniform: the numerator of its bound's square root
  std::optional<double> fan_in, fan_out;
};

// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010).
Initializer glorot_uniform(double gain = 1.0);
// scikit-learn's MLP initialization (_init_coef): U(-b, b) with b =
// sqrt(factor / (fan_in + fan_out)), factor 2 when the layers' activation is
// logistic (sigmoid), else 6. scikit-learn draws a layer's bias from its
// weight's bound: give the bias this Initializer with the weight's fan_in
// and fan_out.
Initializer scikit_learn_glorot(bool logistic);
// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
Initializer glorot_normal(double gain = 1.0);
// U(-b, b) with b = gain * sqrt(6 / fan_in) (He et al. 2015, for ReLU layers).
Initializer he_uniform(double gain = 1.0);
// N(0, s^2) with s = gain * sqrt(2 / fan_in).
Initializer he_normal(double gain = 1.0);
// PyTorch's default for nn.Linear and nn.Conv2d (kaiming_uniform_ with
// a = sqrt(5)): U(-b, b) with b = 1 / sqrt(fan_in). PyTorch draws their
// biases from the same bound, the weight's fan_in: nn::dense and nn::conv2d
// give a bias initializer the weight's fans.
Initializer torch_linear();
// U(-bound, bound) whatever the shape (TensorFlow Playground's U(-0.5, 0.5)).
Initializer uniform(double bound);
// N(0, std^2) whatever the shape: GPT-2's 0.02 for weights and embeddings,
// and 0.02 / sqrt(2 * layers) for the projections into the residual stream.
Initializer normal(double std);
Initializer zeros();
Initializer constant(double value);

// The bound (uniform) or standard deviation (normal) `how` gives a parameter
// of this shape; 0 for a constant.
double scale_of(const Initializer& how, Shape shape);

class Init {
 public:
  explicit Init(std::uint32_t seed) : seed_(seed) {}
  // An Init that makes no parameters but finds them: its parameter()
  // returns g's parameter of that name under the current scope, made
  // earlier, and records nothing. Layers built with it under the names of
  // layers built before run over those layers' parameters: a generator
  // beside the training graph, say (TensorFlow 1's variable_scope reuse).
  //   nn::Init shared = nn::Init::reuse();  Node h = nn::dense(x2, 10, shared, "out");  // over out/w, out/b
  static Init reuse();

  // Creates a parameter in g (under g's current scope) and records it. An
  // Init::reuse() returns the existing one instead; it throws GraphError
  // naming the parameter when g has none of that name, and ShapeError
  // with both shapes when its shape is not `shape`.
  Node parameter(Graph& g, std::string name, Shape shape, Initializer how);
  // Records a parameter made elsewhere. Throws GraphError if it is not a
  // parameter node or is recorded already (naming it).
  void add(Node parameter, Initializer how);

  // Every recorded parameter's values, in the order they were recorded, all
  // drawn from one stream seeded by `seed`: the same seed gives the same
  // values on every call, whatever the executor's threads.
  std::vector<Matrix<double>> values() const;
  template <class T>
  void apply(Executor<T>& ex) const;
  // The same, drawn from `rng` in the same order, continuing its stream: for
  // a caller whose one stream draws other things after (scikit-learn's
  // RandomState draws the weights, then the validation split and shuffles).
  // The seed is then unused.
  std::vector<Matrix<double>> values(NumpyRandom& rng) const;
  template <class T>
  void apply(Executor<T>& ex, NumpyRandom& rng) const;

  const std::vector<Node>& parameters() const { return parameters_; }
  std::uint32_t seed() const { return seed_; }

 private:
  std::uint32_t seed_;
  bool reuse_ = false;
  std::vector<Node> parameters_;
  std::vector<Initializer> how_;
};

extern template void Init::apply<float>(Executor<float>&) const;
extern template void Init::apply<double>(Executor<double>&) const;
extern template void Init::apply<float>(Executor<float>&, NumpyRandom&) const;
extern template void Init::apply<double>(Executor<double>&, NumpyRandom&) const;

}  // namespace dagrad::nn
