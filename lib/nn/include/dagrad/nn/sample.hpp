// Text from a trained language model: one id at a time, each drawn from the
// softmax of the model's logits at the last position (temperature, top-k),
// seeded, then appended to the window the next one sees. Either the whole
// window is run for each id (LanguageModel), or each id's row alone over a
// key/value cache of the earlier ones (CachedLanguageModel).
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
  // The cached sampler's context shift: when the window is full, the
  // latest `keep` ids go on at positions 0 .. keep-1; 0 means half the
  // context (rounded up).
  std::size_t keep = 0;
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

// A causal language model built for generation with a key/value cache:
// its layers twice over the same parameters, each run on rows of one
// sequence. `prefill` runs rows from position 0; `step` runs rows after p
// positions whose keys and values each block reads from its `past` input
// (p x 2 width, [K | V]). In each, `ids` and `positions` are inputs taking a
// column of ids and of their positions, `logits` scores the id after each
// row, and `qkv` holds each block's rows' Q | K | V (rows x 3 width), whose
// K | V columns the cache keeps; `feeds` holds what else the graph needs.
// `context` is the most positions the model knows (its position table's).
// nn::transformer_block_cached and Init::reuse() build one over a trained
// model (examples/char_gpt.cpp).
struct CachedPass {
  Node ids, positions, logits;
  std::vector<Node> past, qkv;
};
template <class T>
struct CachedLanguageModel {
  CachedPass prefill, step;
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

// `count` ids following `prompt`, as sample() above but with each id's row
// run alone over the cached keys and values of the ids before it, so that a
// step costs one row instead of a window. Positions are absolute, so the
// cache cannot slide: when the window is full, the latest options.keep ids
// (half the context by default) are run again from position 0, a prefill
// that refills the cache, and generation goes on from there (the context
// shift llama.cpp makes). Each id is drawn seeing the last keep to context
// ids, where sample() above sees the last context. Until the window first
// fills (prompt and ids at most context), the two agree but for rounding.
// The prompt is run as one prefill of its last context ids. The same seed
// gives the same ids at any thread count. Throws DataError naming the
// position of a prompt id out of range, Error for an empty prompt or a keep
// past the context, and GraphError for a model whose passes do not match.
template <class T>
std::vector<std::int32_t> sample(Executor<T>& ex, const CachedLanguageModel<T>& model,
                                 std::span<const std::int32_t> prompt, std::size_t count, SampleOptions options = {});

extern template std::vector<std::int32_t> sample<float>(Executor<float>&, const LanguageModel<float>&,
                                                        std::span<const std::int32_t>, std::size_t, SampleOptions);
extern template std::vector<std::int32_t> sample<double>(Executor<double>&, const LanguageModel<double>&,
                                                         std::span<const std::int32_t>, std::size_t, SampleOptions);
extern template std::vector<std::int32_t> sample<float>(Executor<float>&, const CachedLanguageModel<float>&,
                                                        std::span<const std::int32_t>, std::size_t, SampleOptions);
extern template std::vector<std::int32_t> sample<double>(Executor<double>&, const CachedLanguageModel<double>&,
                                                         std::span<const std::int32_t>, std::size_t, SampleOptions);

}  // namespace dagrad::nn
