// A playground network's settings (TensorFlow Playground's controls), read
// from a request's JSON with every field checked.
//   Config c;  c = merge(c, json::parse(body));  // throws FieldError naming the field
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace playground {

using json = nlohmann::json;

// A request the server refuses: HTTP `status` with {"error": what(), "field": field}.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, std::string field, const std::string& message)
      : std::runtime_error(message), status(status), field(std::move(field)) {}
  int status;
  std::string field;  // empty: not about one field
};

// Untrusted bytes as a message may quote them: at most `max_bytes`, cut at a
// character boundary (then "..."), with every byte that is not valid UTF-8,
// and every control character, written as \xHH. The result is always valid
// UTF-8, so any JSON answer holding it can be written.
std::string shown(std::string_view bytes, std::size_t max_bytes);

struct Config {
  std::string dataset = "circle";
  int noise = 0;          // percent, 0 to 50
  int train_ratio = 50;   // percent, 10 to 90
  int batch_size = 10;    // 1 to 30
  std::vector<std::string> features{"x1", "x2"};
  std::vector<int> hidden{4, 2};  // 0 to 6 layers of 1 to 8
  std::string activation = "tanh";  // relu, tanh, sigmoid, linear
  double learning_rate = 0.03;      // (0, 10]
  std::string regularization = "none";  // none, l1, l2
  double regularization_rate = 0;       // [0, 10]
  std::uint32_t seed = 1;

  bool operator==(const Config&) const = default;
  // The settings that decide the points.
  bool same_data(const Config& o) const {
    return dataset == o.dataset && noise == o.noise && train_ratio == o.train_ratio && seed == o.seed;
  }
};

// `base` with the fields `patch` (a JSON object) sets; throws RequestError
// (400) naming the first field that is unknown, of the wrong type or out of
// range, and what it accepts.
Config merge(const Config& base, const json& patch);
json to_json(const Config& c);

// The body as a JSON object, or RequestError 400 saying why not.
json parse_object(const std::string& body);

}  // namespace playground
