#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include "../../../lib/nn/update_kernels.hpp"
#include "contains.hpp"
#include "normal_matrix.hpp"
#include "thrown.hpp"

#include <cmath>
#include <random>

using namespace dagrad;

namespace {

// loss = sum((w - c)^2), so dloss/dw = 2 (w - c): a step anyone can check by hand.
struct Quadratic {
  Graph g;
  Node w, c, loss;
  Matrix<double> w0{1, 3}, target{1, 3};
  Quadratic() {
    w0 << 1.0, -2.0, 0.5;
    target << 0.25, 1.0, -1.0;
    w = g.parameter("w", {1, 3});
    c = g.constant(target, "c");
    loss = sum_squares(w - c);
  }
  Matrix<double> grad(const Matrix<double>& at) const { return 2 * (at - target); }
  double value(const Matrix<double>& at) const { return (at - target).squaredNorm(); }
};

void check_close(const Matrix<double>& got, const Matrix<double>& want, double tol = 1e-15) {
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  for (Eigen::Index k = 0; k < got.size(); ++k) {
    CHECK(got.data()[k] == doctest::Approx(want.data()[k]).epsilon(tol));
  }
}

// A least-squares layer large enough that each update is cut into blocks
// shared among threads: loss = mean((x w + b - t)^2).
struct Regression {
  Graph g;
  Node x, t, w, b, loss;
  Matrix<float> X, T, W0, B0;
  Regression() : X(normal_matrix<float>(64, 400, 1)), T(normal_matrix<float>(64, 120, 2)),
                 W0(normal_matrix<float>(400, 120, 3) * 0.05f), B0(normal_matrix<float>(1, 120, 4)) {
    x = g.input("x", {batch, 400});
    t = g.input("t", {batch, 120});
    w = g.parameter("w", {400, 120});
    b = g.parameter("b", {1, 120});
    loss = mean(square(add(matmul(x, w), b) - t));
  }
};

}  // namespace

TEST_CASE("SGD takes the step w - lr g, and returns the loss before it") {
  Quadratic q;
  nn::SGD opt(q.loss, {.learning_rate = 0.1});
  Executor<double> ex(q.g);
  ex.set(q.w, q.w0);
  CHECK(opt.parameters() == std::vector<Node>{q.w});
  const double loss = opt.step(ex);
  CHECK(loss == doctest::Approx(q.value(q.w0)));
  check_close(ex.value(q.w), q.w0 - 0.1 * q.grad(q.w0));
  CHECK(opt.steps() == 1);
}

TEST_CASE("SGD with momentum keeps a velocity; Nesterov looks ahead along it") {
  const double lr = 0.1, mu = 0.9;
  for (bool nesterov : {false, true}) {
    Quadratic q;
    nn::SGD opt(q.loss, {.learning_rate = lr, .momentum = mu, .nesterov = nesterov});
    Executor<double> ex(q.g);
    ex.set(q.w, q.w0);
    Matrix<double> w = q.w0, v = Matrix<double>::Zero(1, 3);
    for (int step = 0; step < 3; ++step) {
      opt.step(ex);
      const Matrix<double> g = q.grad(w);
      v = mu * v - lr * g;
      w += nesterov ? Matrix<double>(mu * v - lr * g) : v;
      check_close(ex.value(q.w), w, 1e-14);
    }
  }
}

TEST_CASE("SGD's weight decay adds weight_decay * w to the gradient") {
  Quadratic q;
  nn::SGD opt(q.loss, {.learning_rate = 0.1, .weight_decay = 0.5});
  Executor<double> ex(q.g);
  ex.set(q.w, q.w0);
  opt.step(ex);
  check_close(ex.value(q.w), q.w0 - 0.1 * (q.grad(q.w0) + 0.5 * q.w0));
}

TEST_CASE("Adam's first two steps follow its formula with the bias correction in the step size") {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Quadratic q;
  nn::Adam opt(q.loss, {.learning_rate = lr});
  Executor<double> ex(q.g);
  ex.set(q.w, q.w0);
  Matrix<double> w = q.w0, m = Matrix<double>::Zero(1, 3), v = m;
  for (int t = 1; t <= 2; ++t) {
    opt.step(ex);
    const Matrix<double> g = q.grad(w);
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseAbs2();
    const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    w.array() -= lr_t * m.array() / (v.array().sqrt() + eps);
    check_close(ex.value(q.w), w, 1e-14);
  }
  // The first step moves each weight by about lr, against its gradient's sign.
  CHECK(((q.w0 - ex.value(q.w)).array().abs() > lr).all());
}

TEST_CASE("Adam's weight decay is an L2 term in the gradient; AdamW's shrinks the weights") {
  const double lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const double lr_t = lr * std::sqrt(1 - b2) / (1 - b1);
  {
    Quadratic q;
    nn::Adam opt(q.loss, {.learning_rate = lr, .weight_decay = wd});
    Executor<double> ex(q.g);
    ex.set(q.w, q.w0);
    opt.step(ex);
    const Matrix<double> g = q.grad(q.w0) + wd * q.w0;
    const Matrix<double> m = (1 - b1) * g, v = (1 - b2) * g.cwiseAbs2();
    check_close(ex.value(q.w), q.w0.array() - lr_t * m.array() / (v.array().sqrt() + eps));
  }
  {
    Quadratic q;
    nn::AdamW opt(q.loss, {.learning_rate = lr, .weight_decay = wd});
    Executor<double> ex(q.g);
    ex.set(q.w, q.w0);
    opt.step(ex);
    const Matrix<double> g = q.grad(q.w0);
    const Matrix<double> m = (1 - b1) * g, v = (1 - b2) * g.cwiseAbs2();
    check_close(ex.value(q.w), q.w0.array() * (1 - lr * wd) - lr_t * m.array() / (v.array().sqrt() + eps));
  }
}

TEST_CASE("Adam in float32 gives the bits of its update written out element by element") {
  // Every instruction set's build of the update (lib/nn/update_kernels.cpp)
  // rounds as this scalar loop does: a correctly rounded sqrt (not Eigen's
  // faster approximation), no fused multiply-adds.
  Regression r;
  nn::Adam opt(r.loss, {.learning_rate = 1e-3});
  Executor<float> ex(r.g, {.threads = 2});
  ex.set(r.w, r.W0);
  ex.set(r.b, r.B0);
  // The step size in double, the rest in float.
  std::vector<Matrix<float>> w{r.W0, r.B0}, m, v;
  for (const auto& p : w) {
    m.push_back(Matrix<float>::Zero(p.rows(), p.cols()));
    v.push_back(Matrix<float>::Zero(p.rows(), p.cols()));
  }
  const double beta_1 = 0.9, beta_2 = 0.999;
  for (std::uint64_t t = 1; t <= 5; ++t) {
    opt.step(ex, {{r.x, r.X}, {r.t, r.T}});
    const double lr = 1e-3 * std::sqrt(1 - std::pow(beta_2, double(t))) / (1 - std::pow(beta_1, double(t)));
    const float b1 = float(beta_1), b2 = float(beta_2), step = float(lr), eps = float(1e-8);
    for (std::size_t k = 0; k < 2; ++k) {
      const Matrix<float>& g = ex.value(opt.gradients()[k]);
      for (Eigen::Index i = 0; i < g.size(); ++i) {
        float& mi = m[k].data()[i];
        float& vi = v[k].data()[i];
        const float gi = g.data()[i];
        mi = b1 * mi + (1.0f - b1) * gi;
        vi = b2 * vi + (1.0f - b2) * (gi * gi);
        w[k].data()[i] -= step * mi / (std::sqrt(vi) + eps);
      }
      CHECK(ex.value(opt.parameters()[k]) == w[k]);
    }
  }
}

TEST_CASE_TEMPLATE("every instruction set's update loops give the same bits", T, float, double) {
  // A portable library carries them for SSE2, AVX2 and AVX-512; each must
  // round exactly as the baseline does, whatever the CPU picks.
  const std::int64_t n = 1003;  // not a whole number of registers
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::vector<T> g0(n), w0(n), m0(n), v0(n);
  for (std::int64_t i = 0; i < n; ++i) {
    g0[i] = T(normal(rng)), w0[i] = T(normal(rng)), m0[i] = T(0.1 * normal(rng));
    v0[i] = T(std::abs(normal(rng)));
  }
  const nn::detail::AdamStep<T> adam{.beta_1 = T(0.9), .beta_2 = T(0.999), .step = T(1e-3), .epsilon = T(1e-8),
                                     .shrink = T(0.999), .decoupled = true};
  const nn::detail::SgdStep<T> sgd{.momentum = T(0.9), .step = T(0.01), .nesterov = true};
  std::vector<std::vector<T>> results;
  for (detail::Isa isa : detail::isas_available()) {
    CAPTURE(detail::isa_name(isa));
    const auto& table = nn::detail::update_kernels_for(isa);
    const nn::detail::UpdateKernels<T>& k = [&]() -> const nn::detail::UpdateKernels<T>& {
      if constexpr (std::is_same_v<T, float>) {
        return table.f32;
      } else {
        return table.f64;
      }
    }();
    std::vector<T> w = w0, m = m0, v = v0, w2 = w0, velocity = m0;
    k.adam(w.data(), g0.data(), m.data(), v.data(), n, adam);
    k.sgd(w2.data(), g0.data(), velocity.data(), n, sgd);
    std::vector<T> all = w;
    for (const auto* part : {&m, &v, &w2, &velocity}) all.insert(all.end(), part->begin(), part->end());
    // The first element, written out: AdamW's shrink, then Adam's rule.
    T m_0 = adam.beta_1 * m0[0] + (T(1) - adam.beta_1) * g0[0];
    T v_0 = adam.beta_2 * v0[0] + (T(1) - adam.beta_2) * (g0[0] * g0[0]);
    T w_0 = w0[0] * adam.shrink;
    w_0 -= adam.step * m_0 / (std::sqrt(v_0) + adam.epsilon);
    CHECK(w[0] == w_0);
    results.push_back(std::move(all));
  }
  for (std::size_t i = 1; i < results.size(); ++i) CHECK(results[i] == results[0]);
}

TEST_CASE("updates give the same bits at 1, 2 and 8 threads, with clipping and weight decay") {
  std::vector<Matrix<float>> results;
  std::vector<double> norms;
  for (int threads : {1, 2, 8}) {
    Regression r;
    nn::AdamW opt(r.loss, {.learning_rate = 1e-2, .weight_decay = 0.01, .clip_norm = 0.1});
    nn::SGD sgd(r.loss, {.learning_rate = 1e-2, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3,
                         .clip_norm = 0.1});
    Executor<float> ex(r.g, {.threads = threads});
    ex.set(r.w, r.W0);
    ex.set(r.b, r.B0);
    for (int step = 0; step < 4; ++step) {
      opt.step(ex, {{r.x, r.X}, {r.t, r.T}});
      sgd.step(ex, {{r.x, r.X}, {r.t, r.T}});
    }
    results.push_back(ex.value(r.w));
    norms.push_back(*opt.last_gradient_norm());
  }
  CHECK(results[0] == results[1]);
  CHECK(results[0] == results[2]);
  CHECK(norms[0] == norms[1]);
  CHECK(norms[0] == norms[2]);
  CHECK(norms[0] > 0.1);  // so the clipping was at work
}

TEST_CASE("clipping scales the gradients to the global norm clip_norm, and only above it") {
  Graph g;
  Node a = g.parameter("a", {1, 2}), b = g.parameter("b", {2, 1});
  Node loss = add(sum(a), sum(b));  // every gradient element is 1: the norm is 2
  Matrix<double> zeros_a = Matrix<double>::Zero(1, 2), zeros_b = Matrix<double>::Zero(2, 1);
  {
    nn::SGD opt(loss, {.learning_rate = 1.0, .clip_norm = 0.5});
    Executor<double> ex(g);
    ex.set(a, zeros_a);
    ex.set(b, zeros_b);
    opt.step(ex);
    CHECK(*opt.last_gradient_norm() == doctest::Approx(2.0));
    CHECK((ex.value(a).array() == -0.25).all());  // 1 * 0.5 / 2
    CHECK((ex.value(b).array() == -0.25).all());
  }
  {
    nn::SGD opt(loss, {.learning_rate = 1.0, .clip_norm = 3.0});
    Executor<double> ex(g);
    ex.set(a, zeros_a);
    ex.set(b, zeros_b);
    opt.step(ex);
    CHECK((ex.value(a).array() == -1.0).all());
  }
  nn::SGD unclipped(loss, {.learning_rate = 1.0});
  CHECK_FALSE(unclipped.last_gradient_norm());
}

TEST_CASE("schedules give the learning rate at each t") {
  const double lr = 0.1;
  CHECK(nn::constant_schedule().at(lr, 7) == lr);
  const auto step = nn::step_decay(3, 0.5);
  CHECK(step.at(lr, 0) == lr);
  CHECK(step.at(lr, 2) == lr);
  CHECK(step.at(lr, 3) == doctest::Approx(0.05));
  CHECK(step.at(lr, 7) == doctest::Approx(0.025));
  CHECK(nn::exponential_decay(0.9).at(lr, 2) == doctest::Approx(0.081));
  // scikit-learn's invscaling after 100 samples: 0.1 / 101^0.5.
  CHECK(nn::inverse_scaling(0.5).at(lr, 100) == lr / std::pow(101.0, 0.5));
  const auto cosine = nn::cosine_decay(10, 0.01);
  CHECK(cosine.at(lr, 0) == doctest::Approx(lr));
  CHECK(cosine.at(lr, 5) == doctest::Approx(0.055));
  CHECK(cosine.at(lr, 10) == doctest::Approx(0.01));
  CHECK(cosine.at(lr, 20) == doctest::Approx(0.01));
}

TEST_CASE("a schedule's clock counts steps, epochs or samples") {
  Quadratic q;
  Executor<double> ex(q.g);
  ex.set(q.w, q.w0);
  nn::SGD per_step(q.loss, {.learning_rate = 0.1, .schedule = nn::exponential_decay(0.5, nn::Schedule::Unit::step)});
  per_step.step(ex);
  per_step.step(ex);
  CHECK(per_step.learning_rate() == doctest::Approx(0.025));
  per_step.epoch_ends(100);
  CHECK(per_step.schedule_time() == 2);

  nn::SGD per_epoch(q.loss, {.learning_rate = 0.1, .schedule = nn::step_decay(1, 0.1)});
  per_epoch.step(ex);
  CHECK(per_epoch.learning_rate() == 0.1);
  per_epoch.epoch_ends(100);
  CHECK(per_epoch.learning_rate() == doctest::Approx(0.01));

  nn::SGD per_sample(q.loss, {.learning_rate = 0.1, .schedule = nn::inverse_scaling(0.5)});
  per_sample.epoch_ends(3);
  CHECK(per_sample.learning_rate() == 0.1 / 2.0);
  // The step uses the scheduled rate.
  ex.set(q.w, q.w0);
  per_sample.step(ex);
  check_close(ex.value(q.w), q.w0 - 0.05 * q.grad(q.w0));
  per_sample.set_learning_rate(0.2);
  CHECK(per_sample.learning_rate() == 0.1);
}

TEST_CASE("an adaptive schedule divides the rate at each plateau until it is too small; others stop") {
  Quadratic q;
  nn::SGD opt(q.loss, {.learning_rate = 0.1, .schedule = nn::adaptive(5, 1e-3)});
  CHECK(opt.learning_rate() == 0.1);
  opt.epoch_ends(100);  // no clock: epochs and samples leave the rate alone
  CHECK(opt.learning_rate() == 0.1);
  // scikit-learn's adaptive: 0.1 / 5 / 5 / 5 = 0.0008, then at or below 1e-3 it says stop.
  CHECK(opt.plateau());
  CHECK(opt.learning_rate() == 0.1 / 5);
  CHECK(opt.plateau());
  CHECK(opt.plateau());
  CHECK(opt.learning_rate() == 0.1 / 5 / 5 / 5);
  CHECK_FALSE(opt.plateau());
  CHECK(opt.learning_rate() == 0.1 / 5 / 5 / 5);
  // The lowered rate is state: a resumed optimizer keeps it.
  nn::SGD resumed(q.loss, {.learning_rate = 0.1, .schedule = nn::adaptive(5, 1e-3)});
  resumed.set_state<double>(opt.state());
  CHECK(resumed.learning_rate() == opt.learning_rate());
  for (const nn::Schedule& other : {nn::constant_schedule(), nn::inverse_scaling(0.5), nn::cosine_decay(10)}) {
    nn::SGD stops(q.loss, {.learning_rate = 0.1, .schedule = other});
    CHECK_FALSE(stops.plateau());
    CHECK(stops.learning_rate() == 0.1);
  }
  CHECK_THROWS_WITH(nn::SGD(q.loss, {.schedule = nn::adaptive(0.5)}), doctest::Contains("divisor 0.5"));
  CHECK_THROWS_WITH(nn::SGD(q.loss, {.schedule = nn::adaptive(5, -1)}), doctest::Contains("min_learning_rate -1"));
}

TEST_CASE("by default an optimizer trains every parameter the loss depends on, in creation order") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node unused = g.parameter("unused", {2, 2});
  Node w2 = g.parameter("w2", {2, 1});
  Node w1 = g.parameter("w1", {2, 2});
  Node loss = mean(matmul(matmul(x, w1), w2));
  nn::Adam opt(loss);
  CHECK(opt.parameters() == std::vector<Node>{w2, w1});
  CHECK(nn::parameters_of(loss) == std::vector<Node>{w2, w1});
  REQUIRE(opt.gradients().size() == 2);
  CHECK(opt.fetches().front() == loss);
  (void)unused;
}

TEST_CASE("an optimizer given a node that is no parameter, or a bad setting, says which") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node w = g.parameter("w", {2, 1});
  Node other = g.parameter("other", {1, 1});
  Node loss = mean(matmul(x, w));
  std::string what = thrown<Error>([&] { nn::SGD opt(loss, {}, {x}); });
  check_contains(what, {"nn::SGD", "'x' is input node, not a parameter"});
  what = thrown<Error>([&] { nn::Adam opt(loss, {}, {w, w}); });
  CHECK(contains(what, "'w' is listed twice"));
  CHECK_THROWS_WITH_AS(nn::Adam(loss, {}, {other}), doctest::Contains("'other' does not reach"), GraphError);
  Graph h;
  Node stranger = h.parameter("stranger", {1, 1});
  CHECK_THROWS_WITH_AS(nn::Adam(loss, {}, {stranger}), doctest::Contains("'stranger' belongs to another graph"),
                       GraphError);
  CHECK_THROWS_WITH(nn::SGD(loss, {.learning_rate = -1}), doctest::Contains("learning_rate -1"));
  CHECK_THROWS_WITH(nn::SGD(loss, {.momentum = 1.5}), doctest::Contains("momentum 1.5 is outside [0, 1]"));
  CHECK_THROWS_WITH(nn::Adam(loss, {.beta_2 = 1.5}), doctest::Contains("beta_2 1.5"));
  CHECK_THROWS_WITH(nn::AdamW(loss, {.epsilon = 0}), doctest::Contains("epsilon 0"));
  CHECK_THROWS_WITH(nn::Adam(loss, {.clip_norm = 0.0}), doctest::Contains("clip_norm 0"));
  CHECK_THROWS_WITH(nn::SGD(loss, {.schedule = nn::step_decay(0, 0.5)}), doctest::Contains("step_size"));
  CHECK_THROWS_WITH(nn::SGD(loss, {.schedule = nn::exponential_decay(2)}), doctest::Contains("gamma 2"));
  Node constant_loss = sum(g.constant(Matrix<double>::Ones(1, 1)));
  CHECK_THROWS_WITH(nn::SGD(constant_loss, {}), doctest::Contains("depends on no parameter"));

  nn::SGD opt(loss);
  Executor<double> elsewhere(h);
  CHECK_THROWS_WITH_AS(opt.step(elsewhere), doctest::Contains("another graph"), GraphError);
}

TEST_CASE("an optimizer's state, restored into a fresh one, continues with the same bits") {
  Regression r;
  nn::Adam first(r.loss, {.learning_rate = 1e-2, .schedule = nn::exponential_decay(0.9, nn::Schedule::Unit::step)});
  Executor<float> ex(r.g);
  ex.set(r.w, r.W0);
  ex.set(r.b, r.B0);
  for (int i = 0; i < 3; ++i) first.step(ex, {{r.x, r.X}, {r.t, r.T}});
  const nn::NamedTensors state = first.state();
  const Matrix<float> w = ex.value(r.w), b = ex.value(r.b);
  first.step(ex, {{r.x, r.X}, {r.t, r.T}});
  const Matrix<float> expected = ex.value(r.w);

  nn::Adam second(r.loss, {.learning_rate = 1e-2, .schedule = nn::exponential_decay(0.9, nn::Schedule::Unit::step)});
  second.set_state<float>(state);
  CHECK(second.steps() == 3);
  CHECK(second.learning_rate() == first.schedule().at(1e-2, 3));
  ex.set(r.w, w);
  ex.set(r.b, b);
  second.step(ex, {{r.x, r.X}, {r.t, r.T}});
  CHECK(ex.value(r.w) == expected);

  // Another optimizer's state does not fit.
  nn::SGD sgd(r.loss);
  CHECK_THROWS_WITH_AS(sgd.set_state<float>(state), doctest::Contains("state:sgd/steps"), DataError);
  nn::NamedTensors wrong = state;
  for (auto& [name, value] : wrong) {
    if (name == "state:adam/m/w") value = Matrix<double>::Zero(3, 3);
  }
  CHECK_THROWS_WITH_AS(second.set_state<float>(wrong), doctest::Contains("'state:adam/m/w' is 3x3 in the saved state but 400x120"),
                       DataError);
  CHECK(second.steps() == 4);  // unchanged by the refused state
}

TEST_CASE("both apply_gradients overloads refuse a gradient or a value of another size, naming the parameter") {
  Quadratic q;
  nn::Adam opt(q.loss, {.learning_rate = 0.1});
  Executor<double> ex(q.g);
  ex.set(q.w, q.w0);
  CHECK_THROWS_WITH_AS(opt.apply_gradients(ex, std::vector<Matrix<double>>{Matrix<double>::Zero(1, 2)}),
                       "nn::adam: the gradient for 'w' is 1x2, the parameter 1x3", ShapeError);
  ex.compute({}, {q.loss, opt.gradients()[0]});
  // Executor::parameter hands out the value itself; one resized behind the
  // optimizer's back is refused by the update and by the next run.
  ex.parameter(q.w).resize(1, 2);
  CHECK_THROWS_WITH_AS(opt.apply_gradients(ex), "nn::adam: the value of 'w' is 1x2, the parameter 1x3", ShapeError);
  CHECK_THROWS_WITH_AS(ex.run({}, {q.loss}), "run: parameter 'w' has shape 1x3 but its value is 1x2", FeedError);
  CHECK(opt.steps() == 0);
}

TEST_CASE("a graph refuses a cached gradient or a gradient link of another shape") {
  Quadratic q;
  const Node other = q.g.constant(Matrix<double>::Zero(1, 2), "other");
  CHECK_THROWS_WITH_AS(q.g.cache_gradient(q.loss.id(), q.w.id(), other.id()),
                       "cache_gradient: 'other' is 1x2, but the gradient of 'w' must be 1x3", ShapeError);
  CHECK_THROWS_WITH_AS(q.g.cache_gradient(q.w.id(), q.w.id(), q.w.id()),
                       "cache_gradient: 'w' has shape 1x3; only a 1x1 node has gradients", ShapeError);
  CHECK_THROWS_WITH_AS(q.g.set_grad_of(other, q.w), "set_grad_of: 'other' (1x2) cannot hold the gradient of 'w' (1x3)",
                       ShapeError);
  CHECK(!q.g.cached_gradient(q.loss.id(), q.w.id()));
}
