// The edit-distance suggester behind "did you mean ...?" for flags (cli)
// and parameter names (grid search).
#include <dagrad/core/closest.hpp>

#include <algorithm>

namespace dagrad {

std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
  // A typo changes a few characters; a prefix ("--hidden") also counts.
  const std::size_t near = std::max<std::size_t>(2, word.size() / 3);
  auto is_prefix_of = [&](const std::string& c) {
    return word.size() >= 4 && c.compare(0, word.size(), word) == 0;
  };
  // The answer is the first candidate at the least distance, if that distance
  // is at most `near` or the candidate extends the word. A candidate that
  // extends the word lies at exactly their length difference, so the answer
  // is never farther than `cap`, and farther distances need not be known; nor
  // need any distance that cannot beat the best so far. A long stray
  // argument or a far candidate then costs next to nothing.
  std::size_t cap = near;
  for (const auto& c : candidates) {
    if (is_prefix_of(c)) cap = std::max(cap, c.size() - word.size());
  }
  // Levenshtein distance if at most `limit`, else limit + 1. Cells farther
  // than `limit` from the diagonal are at least that far, so each row is
  // computed only within that band (Ukkonen), the rest reading as far.
  auto distance = [](const std::string& a, const std::string& b, std::size_t limit) {
    const std::size_t far = limit + 1;
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return far;
    std::vector<std::size_t> prev(b.size() + 1, far), cur(b.size() + 1, far);
    for (std::size_t j = 0; j <= std::min(b.size(), limit); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      const std::size_t lo = i > limit ? i - limit : 0;
      const std::size_t hi = std::min(b.size(), i + limit);
      std::size_t row_min = far;
      if (lo == 0) {
        cur[0] = i;
        row_min = i;
      } else {
        cur[lo - 1] = far;
      }
      for (std::size_t j = std::max<std::size_t>(lo, 1); j <= hi; ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        row_min = std::min(row_min, cur[j]);
      }
      if (row_min > limit) return far;  // no later row comes back within it
      std::swap(prev, cur);
    }
    return std::min(prev[b.size()], far);
  };
  const std::string* best = nullptr;
  std::size_t best_d = cap + 1;
  for (const auto& c : candidates) {
    if (best_d == 0) break;
    const std::size_t d = distance(word, c, best_d - 1);
    if (d < best_d) {
      best = &c;
      best_d = d;
    }
  }
  if (best && (best_d <= near || is_prefix_of(*best))) return *best;
  return std::nullopt;
}

}  // namespace dagrad
