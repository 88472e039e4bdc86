#include <dagrad/core/error.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/nn/sequence.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dagrad::nn {

namespace {

// 'a', or \xNN for a byte that does not print.
std::string shown(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + char(c) + "'";
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\x%02x", unsigned(c));
  return hex;
}

}  // namespace

CharVocabulary::CharVocabulary(std::string_view text) {
  if (text.empty()) throw DataError("nn::CharVocabulary: the text is empty");
  std::array<bool, 256> seen{};
  for (const char c : text) seen[static_cast<unsigned char>(c)] = true;
  id_of_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    if (!seen[std::size_t(b)]) continue;
    id_of_[std::size_t(b)] = std::int32_t(characters_.size());
    characters_.push_back(char(b));
  }
}

CharVocabulary CharVocabulary::from_characters(std::string_view characters) {
  for (std::size_t i = 1; i < characters.size(); ++i) {
    if (static_cast<unsigned char>(characters[i - 1]) >= static_cast<unsigned char>(characters[i])) {
      throw DataError("nn::CharVocabulary: the characters are not sorted and distinct at position " +
                      std::to_string(i) + " (" + shown(static_cast<unsigned char>(characters[i])) + ")");
    }
  }
  return CharVocabulary(characters);
}

std::vector<std::int32_t> CharVocabulary::encode(std::string_view text) const {
  std::vector<std::int32_t> ids(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    ids[i] = id_of_[c];
    if (ids[i] < 0) {
      throw DataError("the character " + shown(c) + " at position " + std::to_string(i) +
                      " is not in the vocabulary of " + std::to_string(size()) + " characters");
    }
  }
  return ids;
}

std::string CharVocabulary::decode(std::span<const std::int32_t> ids) const {
  std::string text(ids.size(), '\0');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || std::size_t(ids[i]) >= size()) {
      throw DataError("id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                      " is not in the vocabulary of " + std::to_string(size()) + " characters");
    }
    text[i] = characters_[std::size_t(ids[i])];
  }
  return text;
}

TextSplit split(std::span<const std::int32_t> ids, double train_fraction) {
  if (!(train_fraction >= 0 && train_fraction <= 1)) {
    throw Error("nn::split: train_fraction " + std::to_string(train_fraction) + " is not in [0, 1]");
  }
  const auto cut = static_cast<std::size_t>(std::floor(train_fraction * double(ids.size())));
  return {ids.first(cut), ids.subspan(cut)};
}

WindowBatches::WindowBatches(std::span<const std::int32_t> ids, WindowOptions options)
    : ids_(ids), options_(options) {
  if (options.context == 0 || options.batch_size == 0) {
    throw ShapeError("nn::WindowBatches: context " + std::to_string(options.context) + " and batch_size " +
                     std::to_string(options.batch_size) + " must both be positive");
  }
  if (ids.size() < options.context + 1) {
    throw DataError("nn::WindowBatches: " + std::to_string(ids.size()) + " ids, fewer than context + 1 = " +
                    std::to_string(options.context + 1) + " (a window and its next id)");
  }
}

std::vector<std::size_t> WindowBatches::starts(std::uint64_t draw) const {
  const std::uint64_t windows = ids_.size() - options_.context;
  const std::uint64_t key =
      mix64(mix64(options_.seed) ^ mix64(options_.stream + 0x9e3779b97f4a7c15ULL) ^ mix64(~draw));
  std::vector<std::size_t> out(options_.batch_size);
  for (std::size_t s = 0; s < out.size(); ++s) out[s] = std::size_t(mix64(key + s) % windows);
  return out;
}

template <class T>
void WindowBatches::draw(std::uint64_t draw, Matrix<T>& inputs, Matrix<T>& targets) const {
  const auto n = static_cast<Eigen::Index>(rows());
  inputs.resize(n, 1);
  targets.resize(n, 1);
  const std::vector<std::size_t> first = starts(draw);
  Eigen::Index r = 0;
  for (const std::size_t start : first) {
    for (std::size_t t = 0; t < options_.context; ++t, ++r) {
      inputs(r, 0) = static_cast<T>(ids_[start + t]);
      targets(r, 0) = static_cast<T>(ids_[start + t + 1]);
    }
  }
}

template <class T>
Matrix<T> position_ids(std::size_t sequences, std::size_t context) {
  if (context == 0) throw ShapeError("nn::position_ids: context 0; it must be positive");
  Matrix<T> out(static_cast<Eigen::Index>(sequences * context), 1);
  for (Eigen::Index r = 0; r < out.rows(); ++r) out(r, 0) = static_cast<T>(std::size_t(r) % context);
  return out;
}

template void WindowBatches::draw<float>(std::uint64_t, Matrix<float>&, Matrix<float>&) const;
template void WindowBatches::draw<double>(std::uint64_t, Matrix<double>&, Matrix<double>&) const;
template Matrix<float> position_ids<float>(std::size_t, std::size_t);
template Matrix<double> position_ids<double>(std::size_t, std::size_t);

}  // namespace dagrad::nn
