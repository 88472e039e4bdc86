// Character sequences for language models: a vocabulary of a text's
// characters, the text split for training and validation, and batches of
// random windows addressed by (seed, draw), so a resumed run draws the same.
//   nn::CharVocabulary vocab(text);  std::vector<std::int32_t> ids = vocab.encode(text);
//   nn::WindowBatches train(nn::split(ids).train, {.context = 64, .batch_size = 12, .seed = 1});
//   train.draw(step, inputs, targets);  // inputs and targets: 768 x 1 ids
#pragma once

#include <dagrad/core/tensor.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dagrad::nn {

// The sorted distinct characters of a text (nanoGPT's character recipe),
// a character being one byte: id i is the i-th smallest byte of the text.
class CharVocabulary {
 public:
  // Throws DataError if the text is empty.
  explicit CharVocabulary(std::string_view text);
  // From the characters themselves (sorted and distinct, as characters()
  // gives them); throws DataError otherwise.
  static CharVocabulary from_characters(std::string_view characters);

  std::size_t size() const { return characters_.size(); }
  const std::string& characters() const { return characters_; }
  // One id per character. A character not in the vocabulary throws
  // DataError naming it (printable, or as \xNN) and its position.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // Throws DataError naming the position and the id when one is out of range.
  std::string decode(std::span<const std::int32_t> ids) const;

 private:
  CharVocabulary() = default;
  std::string characters_;
  std::array<std::int32_t, 256> id_of_;  // -1: not in the vocabulary
};

// The first floor(train_fraction * n) ids to train on and the rest to
// validate on (nanoGPT's 90/10 cut); views of `ids`, which must outlive them.
struct TextSplit {
  std::span<const std::int32_t> train, validation;
};
TextSplit split(std::span<const std::int32_t> ids, double train_fraction = 0.9);

struct WindowOptions {
  std::size_t context = 64;     // ids a window
  std::size_t batch_size = 12;  // windows a batch
  std::uint64_t seed = 0;
  // Separates the uses of one seed (training batches, each split's loss
  // estimates): the same seed and another stream draw other windows.
  std::uint64_t stream = 0;
};

// Batches of windows of `context` consecutive ids starting anywhere in the
// ids (each start from 0 to size - context - 1 drawn as a 64-bit hash
// modulo their number: equally likely up to a bias of that number / 2^64),
// each with the ids one position on as its targets.
// Batch `draw` depends on (seed, stream, draw) alone: no state, the same
// at any thread count and after a resume.
class WindowBatches {
 public:
  // Views `ids`, which must outlive it. Throws DataError if there are fewer
  // than context + 1 ids (no window with its targets fits), or ShapeError if
  // context or batch_size is 0.
  WindowBatches(std::span<const std::int32_t> ids, WindowOptions options);

  // The starts of batch `draw`'s windows, one per sequence.
  std::vector<std::size_t> starts(std::uint64_t draw) const;
  // inputs and targets become (batch_size * context) x 1 columns, row
  // sequence * context + t holding ids[start + t] and ids[start + t + 1].
  template <class T>
  void draw(std::uint64_t draw, Matrix<T>& inputs, Matrix<T>& targets) const;

  std::size_t rows() const { return options_.batch_size * options_.context; }
  const WindowOptions& options() const { return options_; }

 private:
  std::span<const std::int32_t> ids_;
  WindowOptions options_;
};

// The positions of rows laid out as sequences x context: row r holds
// r mod context. An (sequences * context) x 1 column, for a position
// embedding's ids.
template <class T>
Matrix<T> position_ids(std::size_t sequences, std::size_t context);

extern template void WindowBatches::draw<float>(std::uint64_t, Matrix<float>&, Matrix<float>&) const;
extern template void WindowBatches::draw<double>(std::uint64_t, Matrix<double>&, Matrix<double>&) const;
extern template Matrix<float> position_ids<float>(std::size_t, std::size_t);
extern template Matrix<double> position_ids<double>(std::size_t, std::size_t);

}  // namespace dagrad::nn
