// Text from a trained language model: one id at a time, each drawn from the
// softmax of the model's logits at the last position (temperature, top-k),
// seeded, then appended to the window the next one sees.
//   nn::LanguageModel<float> model{.ids = ids, .logits = logits, .context = 64, .feeds = {{pos, positions}}};
//   std::vector<std::int32_t> out = nn::sample(ex, model, vocab.encode("And God"), 500, {.top_k = 10, .seed = 1});
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/random.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace dagrad::nn {

struct SampleOptions {
  double temperature = 1.0;  // the logits are divided by it: below 1 sharper, above 1 flatter
  std::size_t top_k = 0;     // draw among the k likeliest ids only; 0: among all
  std::uint32_t seed = 0;
};

// A causal language model as sample() runs it: `ids` is an input taking one
// window of `context` ids as a column, `logits` its context x vocabulary
// output, whose row t scores the id after position t; `feeds` holds what
// else the graph needs for one window (its position ids, say).
template <class T>
struct LanguageModel {
  Node ids;
  Node logits;
  std::size_t context = 0;
  std::vector<Feed<T>> feeds;
};

// One id drawn from softmax(logits / temperature), restricted to the top_k
// largest logits (a tie at the k-th goes to the lower id): the inverse of
// the cumulative distribution, in id order, at one uniform draw of rng.
// Throws Error for a temperature that is not positive and finite.
std::int32_t pick(std::span<const double> logits, const SampleOptions& options, NumpyRandom& rng);

// `count` ids following `prompt` (at least one id, each below the logits'
// columns). Each step runs the model on the last `context` ids so far; a
// shorter window is padded on the right with id 0 and read at its last real
// position. Causal attention makes position t's logits depend on positions
// 0..t alone, so the padding changes nothing that is read. The same seed
// gives the same ids at any thread count. Throws DataError naming the
// position of a prompt id out of range.
template <class T>
std::vector<std::int32_t> sample(Executor<T>& ex, const LanguageModel<T>& model, std::span<const std::int32_t> prompt,
                                 std::size_t count, SampleOptions options = {});

extern template std::vector<std::int32_t> sample<float>(Executor<float>&, const LanguageModel<float>&,
                                                        std::span<const std::int32_t>, std::size_t, SampleOptions);
extern template std::vector<std::int32_t> sample<double>(Executor<double>&, const LanguageModel<double>&,
                                                         std::span<const std::int32_t>, std::size_t, SampleOptions);

}  // namespace dagrad::nn
