// What every request to the playground passes before its handler runs: the
// parser's size limits, the Host and Origin checks, the route, and error
// answers that are valid JSON whatever bytes they quote. No sockets, so a
// fuzzer drives it as the server does:
//   RequestParser p;  limit(p);  p.put(bytes, ec);  Route r = route(site, p.get().base());
#pragma once

#include "assets.hpp"
#include "config.hpp"

#include <boost/beast/http.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace playground {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using RequestParser = http::request_parser<http::string_body>;

constexpr std::size_t max_body = 64 * 1024;    // the largest request body (a drawn digit is ~8 KiB)
constexpr std::size_t max_header = 16 * 1024;  // request line and header fields together

// Sets the limits above on a parser: a body over max_body, declared or
// chunked, stops it with http::error::body_limit as soon as it is seen.
void limit(RequestParser& parser);

// What the server sends back.
struct Answer {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
};

Answer json_answer(int status, const json& body);
// {"error": message, "field": field or null}.
Answer error_answer(int status, std::string_view message, std::string_view field = {});
Answer error_answer(const RequestError& e);
// The answer to bytes the HTTP parser refused: 413 (body too large), 431
// (header too large), 400 (anything else), naming what was wrong.
Answer unreadable(boost::beast::error_code ec);

// The server's address, which decides the Host names a request may carry.
struct Site {
  bool loopback = true;  // listening on 127.0.0.1, localhost or ::1
  int port = 0;
};

enum class Action {
  asset, create_session, close, config, play, pause, step, reset, events, graph_svg, node, backprop,
  export_cpp, export_dot, mnist_play, mnist_pause, mnist_reset, mnist_predict,
};

struct Route {
  Action action = Action::asset;
  const Asset* asset = nullptr;  // for Action::asset
  std::string session;           // 32 hex digits, for the session's routes
  long long node = -1;           // for Action::node
};

// Checks the request's Host and Origin (same origin only: Origin, when a
// browser sends one, must be http://<Host>), then finds its route. Throws
// RequestError: 400 (no or malformed Host), 403 (a Host that is not this
// server's, a foreign Origin), 404 (no such path), 405 (wrong method).
Route route(const Site& site, const http::request_header<>& header);

// A request that takes no fields: an empty body or an empty JSON object;
// otherwise RequestError 400 naming the first field.
void no_fields(const std::string& body);
// The training point `{"point": i}` names (range-checked by the model).
long long point_index(const json& body);

}  // namespace playground
