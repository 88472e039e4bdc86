#include "request.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/beast/core/string.hpp>

namespace playground {
namespace {

std::string_view view(boost::beast::string_view s) { return {s.data(), s.size()}; }

// A route under /api/sessions/<id>.
struct SessionPath {
  std::string_view suffix;
  http::verb method;
  Action action;
};

constexpr std::array<SessionPath, 15> session_paths{{
    {"/close", http::verb::post, Action::close},
    {"/config", http::verb::post, Action::config},
    {"/play", http::verb::post, Action::play},
    {"/pause", http::verb::post, Action::pause},
    {"/step", http::verb::post, Action::step},
    {"/reset", http::verb::post, Action::reset},
    {"/events", http::verb::get, Action::events},
    {"/graph.svg", http::verb::get, Action::graph_svg},
    {"/backprop", http::verb::post, Action::backprop},
    {"/export.cpp", http::verb::get, Action::export_cpp},
    {"/export.dot", http::verb::get, Action::export_dot},
    {"/mnist/play", http::verb::post, Action::mnist_play},
    {"/mnist/pause", http::verb::post, Action::mnist_pause},
    {"/mnist/reset", http::verb::post, Action::mnist_reset},
    {"/mnist/predict", http::verb::post, Action::mnist_predict},
}};

bool all_of(std::string_view s, int (*test)(int)) {
  return std::all_of(s.begin(), s.end(), [test](char c) { return test(static_cast<unsigned char>(c)) != 0; });
}

int is_lower_hex(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// A host name, an IPv4 address or a bracketed IPv6 one, with an optional port.
int is_host_char(int c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'; }

// The request's one Host, if it names this server; throws RequestError.
std::string checked_host(const Site& site, const http::request_header<>& header) {
  const auto count = header.count(http::field::host);
  if (count == 0) throw RequestError(400, "Host", "the request has no Host header");
  if (count > 1) throw RequestError(400, "Host", "the request has more than one Host header");
  const std::string host(view(header[http::field::host]));
  if (site.loopback) {
    // Listening on this machine only: a page on another site reaching it
    // through a name it points here (DNS rebinding) carries that name.
    const std::string port = ":" + std::to_string(site.port);
    for (const std::string name : {"127.0.0.1", "localhost", "[::1]"}) {
      // Browsers leave out the default port.
      if (host == name + port || (site.port == 80 && host == name)) return host;
    }
    throw RequestError(403, "Host",
                       "Host '" + shown(host, 80) + "' is not this server's address (127.0.0.1" + port +
                           ", localhost" + port + " or [::1]" + port + ")");
  }
  if (host.empty() || host.size() > 255 || !all_of(host, is_host_char)) {
    throw RequestError(400, "Host", "Host '" + shown(host, 80) + "' is not a host name");
  }
  return host;
}

// Browsers send Origin with every POST and every cross-origin request; a
// request from a page of another site (or a sandboxed one, "null") is refused.
void check_origin(const std::string& host, const http::request_header<>& header) {
  const auto count = header.count(http::field::origin);
  if (count == 0) return;  // not from a browser's page, or a same-origin GET
  if (count > 1) throw RequestError(403, "Origin", "the request has more than one Origin header");
  const std::string_view origin = view(header[http::field::origin]);
  if (origin != "http://" + host) {
    throw RequestError(403, "Origin",
                       "Origin '" + shown(origin, 80) + "' is not this server's page (http://" + host +
                           "): requests from other sites are refused");
  }
}

Route allowed(const http::request_header<>& header, std::string_view path, http::verb method, Route r) {
  if (header.method() != method) {
    throw RequestError(405, "", shown(view(header.method_string()), 20) + " " + shown(path, 200) +
                                    ": this path takes " + std::string(view(http::to_string(method))));
  }
  return r;
}

Route find_route(const http::request_header<>& header, std::string_view path) {
  for (const Asset& a : assets()) {
    if (path == a.path || (path == "/" && a.path == "/index.html")) {
      return allowed(header, path, http::verb::get, {.action = Action::asset, .asset = &a});
    }
  }
  if (path == "/api/sessions") return allowed(header, path, http::verb::post, {.action = Action::create_session});
  constexpr std::string_view prefix = "/api/sessions/";
  constexpr std::size_t id_length = 32;
  if (path.starts_with(prefix) && path.size() > prefix.size() + id_length &&
      all_of(path.substr(prefix.size(), id_length), is_lower_hex)) {
    const std::string id(path.substr(prefix.size(), id_length));
    const std::string_view rest = path.substr(prefix.size() + id_length);
    for (const SessionPath& p : session_paths) {
      if (rest == p.suffix) return allowed(header, path, p.method, {.action = p.action, .session = id});
    }
    constexpr std::string_view nodes = "/nodes/";
    const std::string_view number = rest.substr(std::min(rest.size(), nodes.size()));
    if (rest.starts_with(nodes) && !number.empty() && number.size() <= 9 && all_of(number, ::isdigit)) {
      return allowed(header, path, http::verb::get,
                     {.action = Action::node, .session = id, .node = std::stoll(std::string(number))});
    }
  }
  throw RequestError(404, "", "no such path: " + shown(path, 200));
}

}  // namespace

void limit(RequestParser& parser) {
  parser.header_limit(std::uint32_t(max_header));
  parser.body_limit(std::uint64_t(max_body));
}

Answer json_answer(int status, const json& body) {
  // Every string in an answer is valid UTF-8 (shown() quotes request bytes);
  // replacing any other byte keeps a mistake from throwing here.
  return {.status = status,
          .content_type = "application/json",
          .body = body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Answer error_answer(int status, std::string_view message, std::string_view field) {
  return json_answer(status, {{"error", message}, {"field", field.empty() ? json(nullptr) : json(field)}});
}

Answer error_answer(const RequestError& e) { return error_answer(e.status, e.what(), e.field); }

Answer unreadable(boost::beast::error_code ec) {
  if (ec == http::error::body_limit) {
    return error_answer(413, "the request body is over " + std::to_string(max_body) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return error_answer(431, "the request line and header are over " + std::to_string(max_header) + " bytes");
  }
  if (ec == http::error::partial_message) return error_answer(400, "the request ended before it was complete");
  return error_answer(400, "malformed HTTP request: " + ec.message());
}

// The parser reads "chunked" bodies; a body in any other coding it would
// take as empty, so such a request is refused (RFC 9112, 6.1).
void check_coding(const http::request_header<>& header) {
  if (header.count(http::field::transfer_encoding) == 0) return;
  const auto coding = header[http::field::transfer_encoding];
  if (header.count(http::field::transfer_encoding) > 1 || !boost::beast::iequals(coding, "chunked")) {
    throw RequestError(400, "Transfer-Encoding",
                       "Transfer-Encoding '" + shown(view(coding), 80) + "' is not understood (only chunked is)");
  }
}

Route route(const Site& site, const http::request_header<>& header) {
  const std::string host = checked_host(site, header);
  check_origin(host, header);
  check_coding(header);
  const std::string_view target = view(header.target());
  return find_route(header, target.substr(0, target.find('?')));
}

void no_fields(const std::string& body) {
  if (body.empty()) return;
  const json fields = parse_object(body);
  if (!fields.empty()) {
    const std::string key = shown(fields.begin().key(), 40);
    throw RequestError(400, key, key + ": unknown field (this request takes none)");
  }
}

long long point_index(const json& body) {
  const auto it = body.find("point");
  if (it == body.end() || !it->is_number_integer()) {
    throw RequestError(400, "point", "point: must be a whole number, a training point's index");
  }
  // Unsigned numbers past the signed range are out of range too.
  return it->is_number_unsigned() && it->get<std::uint64_t>() > (1ull << 62) ? (1ll << 62) : it->get<long long>();
}

}  // namespace playground
