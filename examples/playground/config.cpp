#include "config.hpp"

#include "datasets.hpp"

#include <dagrad/core/closest.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace playground {
namespace {

const std::vector<std::string> fields{"dataset", "noise", "train_ratio", "batch_size", "features",
                                      "hidden", "activation", "learning_rate", "regularization",
                                      "regularization_rate", "seed"};

[[noreturn]] void refuse(const std::string& field, const std::string& message) {
  throw RequestError(400, field, field + ": " + message);
}

std::string listed(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", \"" : "\"") + names[i] + "\"";
  return s;
}

std::string one_of(const json& v, const std::string& field, const std::vector<std::string>& names) {
  if (!v.is_string()) refuse(field, "must be a string, one of " + listed(names));
  const std::string s = v.get<std::string>();
  if (std::find(names.begin(), names.end(), s) == names.end()) {
    refuse(field, "must be one of " + listed(names) + ", not \"" + shown(s, 40) + "\"");
  }
  return s;
}

long long whole(const json& v, const std::string& field, long long low, long long high) {
  const std::string range = "a whole number from " + std::to_string(low) + " to " + std::to_string(high);
  if (!v.is_number_integer()) refuse(field, "must be " + range);
  // Unsigned JSON numbers above the signed range read as out of range too.
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(high)) {
    refuse(field, "must be " + range + ", not " + v.dump());
  }
  const long long x = v.get<long long>();
  if (x < low || x > high) refuse(field, "must be " + range + ", not " + std::to_string(x));
  return x;
}

double number(const json& v, const std::string& field, double low, double high, bool low_open) {
  const std::string range = std::string(low_open ? "greater than " : "from ") + json(low).dump() +
                            (low_open ? " and at most " : " to ") + json(high).dump();
  if (!v.is_number()) refuse(field, "must be a number " + range);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x > high || x < low || (low_open && x == low)) {
    refuse(field, "must be a number " + range + ", not " + v.dump());
  }
  return x;
}

// The length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, low = 0xA0;
  else if (c == 0xED) n = 3, high = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, low = 0x90;
  else if (c == 0xF4) n = 4, high = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    if (d < (k == 1 ? low : 0x80) || d > (k == 1 ? high : 0xBF)) return 0;
  }
  return n;
}

}  // namespace

std::string shown(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = utf8_length(bytes, i);
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    std::string piece;
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F))) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      piece = hex;
    } else {
      piece = bytes.substr(i, n);
    }
    if (out.size() + piece.size() > max_bytes) return out + "...";
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

json parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw RequestError(400, "", "the body is not JSON");
  if (!j.is_object()) throw RequestError(400, "", "the body must be a JSON object");
  return j;
}

Config merge(const Config& base, const json& patch) {
  if (!patch.is_object()) throw RequestError(400, "", "the config must be a JSON object");
  Config c = base;
  for (const auto& [key, v] : patch.items()) {
    if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
      const auto near = dagrad::closest(key, fields);
      refuse(shown(key, 40), "unknown field" + (near ? "; did you mean \"" + *near + "\"?" : ""));
    }
    if (key == "dataset") c.dataset = one_of(v, key, dataset_names());
    else if (key == "noise") c.noise = int(whole(v, key, 0, 50));
    else if (key == "train_ratio") c.train_ratio = int(whole(v, key, 10, 90));
    else if (key == "batch_size") c.batch_size = int(whole(v, key, 1, 30));
    else if (key == "activation") c.activation = one_of(v, key, {"relu", "tanh", "sigmoid", "linear"});
    else if (key == "learning_rate") c.learning_rate = number(v, key, 0, 10, true);
    else if (key == "regularization") c.regularization = one_of(v, key, {"none", "l1", "l2"});
    else if (key == "regularization_rate") c.regularization_rate = number(v, key, 0, 10, false);
    else if (key == "seed") c.seed = std::uint32_t(whole(v, key, 0, 4294967295LL));
    else if (key == "features") {
      if (!v.is_array() || v.empty() || v.size() > feature_names().size()) {
        refuse(key, "must be a non-empty list of " + listed(feature_names()));
      }
      std::vector<char> on(feature_names().size(), 0);
      for (const json& f : v) {
        const std::string name = one_of(f, key, feature_names());
        const auto at = std::size_t(std::find(feature_names().begin(), feature_names().end(), name) -
                                    feature_names().begin());
        if (on[at]) refuse(key, "lists \"" + name + "\" twice");
        on[at] = 1;
      }
      c.features.clear();  // in the canonical order, whatever the request's
      for (std::size_t i = 0; i < on.size(); ++i) {
        if (on[i]) c.features.push_back(feature_names()[i]);
      }
    } else if (key == "hidden") {
      if (!v.is_array() || v.size() > 6) refuse(key, "must be a list of 0 to 6 layer sizes");
      c.hidden.clear();
      for (const json& n : v) c.hidden.push_back(int(whole(n, key, 1, 8)));
    }
  }
  return c;
}

json to_json(const Config& c) {
  return {{"dataset", c.dataset},
          {"noise", c.noise},
          {"train_ratio", c.train_ratio},
          {"batch_size", c.batch_size},
          {"features", c.features},
          {"hidden", c.hidden},
          {"activation", c.activation},
          {"learning_rate", c.learning_rate},
          {"regularization", c.regularization},
          {"regularization_rate", c.regularization_rate},
          {"seed", c.seed}};
}

}  // namespace playground
