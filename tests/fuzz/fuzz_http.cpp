// libFuzzer target: bytes as one HTTP request to the playground, through all
// the server does before a handler runs (examples/playground/request.cpp):
// Beast's parser with the playground's limits, the Host and Origin checks
// (loopback and any-address servers), the route, and the checks of the
// route's JSON body. Whatever the bytes, each step either accepts or yields a
// 4xx answer whose body is a JSON object naming the error; anything else
// (an escaping exception, a 5xx, an answer that is not JSON) aborts.
#include "playground/request.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace playground;

void check_refusal(const Answer& a) {
  if (a.status < 400 || a.status > 499) std::abort();
  const json body = json::parse(a.body);  // strict: throws on bytes that are not UTF-8
  if (!body.is_object() || !body["error"].is_string() || body["error"].get<std::string>().empty()) std::abort();
}

// The body checks of each route, as the server's handlers make them.
void check_body(const Route& r, const std::string& body) {
  switch (r.action) {
    case Action::config: merge(Config{}, parse_object(body)); break;
    case Action::backprop: point_index(parse_object(body)); break;
    case Action::mnist_predict: parse_object(body); break;
    case Action::create_session:
    case Action::close:
    case Action::play:
    case Action::pause:
    case Action::step:
    case Action::reset:
    case Action::mnist_play:
    case Action::mnist_pause:
    case Action::mnist_reset: no_fields(body); break;
    default: break;  // GET: the body is not read
  }
}

void check_request(const Site& site, RequestParser& parser) {
  try {
    const Route r = route(site, parser.get().base());
    if (r.action == Action::asset && r.asset == nullptr) std::abort();
    if (parser.is_done()) check_body(r, parser.get().body());
  } catch (const RequestError& e) {
    check_refusal(error_answer(e));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Any bytes quoted in a message come out valid UTF-8 (dump() is strict).
  (void)json(shown(input, 64)).dump();

  RequestParser parser;
  limit(parser);
  parser.eager(true);
  boost::beast::error_code ec;
  std::string_view rest = input;
  // As the server's reads do: all the bytes there are, again from the first
  // one not consumed, until the parser is done or needs more (here: none
  // will come).
  while (!parser.is_done() && !rest.empty()) {
    rest.remove_prefix(parser.put(boost::asio::buffer(rest.data(), rest.size()), ec));
    if (ec) break;
  }
  // No bytes at all: the server closes without an answer.
  if (!parser.got_some()) return 0;
  if (ec == http::error::need_more || (!ec && !parser.is_done())) {
    ec = {};
    parser.put_eof(ec);  // the connection ends here
  }
  if (ec) {
    check_refusal(unreadable(ec));
    return 0;
  }
  check_request(Site{.loopback = true, .port = 8080}, parser);
  check_request(Site{.loopback = false, .port = 8080}, parser);
  return 0;
}
