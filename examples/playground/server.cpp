#include "server.hpp"

#include "../mnist_training.hpp"
#include "assets.hpp"
#include "config.hpp"
#include "mnist_model.hpp"
#include "plane_model.hpp"
#include "request.hpp"

#include <dagrad/core/error.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

// Sockets: Boost.Beast over Asio on one I/O thread, so that an idle, slow or
// streaming client costs a socket and a few KiB, never a thread. Requests
// then run on a pool, one at a time per session (a strand), so that one
// session's long request (a Graphviz layout, an MNIST reset waiting for its
// epoch) never holds up another's, nor the page's files, which the I/O thread
// serves itself.
namespace playground {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto frame = 33ms;  // at most 30 state events a second
constexpr auto idle_limit = std::chrono::minutes(10);  // a session that never had an event stream
constexpr auto ping_every = 15s;
// A request must arrive whole within this from when the server starts waiting
// for it (an idle keep-alive connection is closed then too), and an answer
// or event be taken by the client within write_deadline.
constexpr auto request_deadline = 15s;
constexpr auto write_deadline = 30s;
constexpr auto linger_time = 1s;
constexpr std::size_t linger_bytes = 4 << 20;
constexpr auto sweep_every = 250ms;
constexpr int streams_per_session = 16;

class EventStream;

struct Session : std::enable_shared_from_this<Session> {
  Session(net::io_context& io, net::thread_pool& pool) : io(io.get_executor()), work(net::make_strand(pool)) {}

  std::string id;
  net::io_context::executor_type io;
  // Runs the session's requests and its streams' updates one at a time: the
  // fields down to `mnist` are only touched there.
  net::strand<net::thread_pool::executor_type> work;
  std::unique_ptr<PlaneModel> model;
  bool playing = false;
  std::uint64_t data_version = 0, state_version = 0;
  Clock::time_point next_epoch{};
  std::unique_ptr<MnistModel> mnist;  // made by the first MNIST request
  std::vector<std::weak_ptr<EventStream>> watchers;  // the I/O thread's
  std::atomic<Clock::rep> last_used{0};
  std::atomic<int> streams{0};
  std::atomic<bool> had_stream{false}, closed{false};

  void touch() { last_used = Clock::now().time_since_epoch().count(); }
  // A session with no stream is closed once untouched for `grace` after its
  // last stream left, or for idle_limit if it never had one.
  bool expired(Clock::time_point now, Clock::duration grace) const {
    if (streams > 0) return false;
    return now - Clock::time_point(Clock::duration(last_used.load())) > (had_stream ? grace : idle_limit);
  }
  // From any thread: the streams look again.
  void changed() {
    net::post(io, [w = weak_from_this()] {
      if (auto s = w.lock()) s->poke_streams();
    });
  }
  void poke_streams();
};

// What one event stream has sent, to send only what is new.
struct StreamState {
  std::uint64_t data = ~0ull, state = ~0ull, mnist = ~0ull;
  int last_epoch = -2;
};

// What a stream sends next, and when to look again if nothing changes.
struct StreamUpdate {
  std::string text;
  Clock::time_point wake;
  bool end = false;
};

std::string event(const char* name, const json& data) {
  return std::string("event: ") + name + "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) +
         "\n\n";
}

std::string new_id() {
  static std::mutex mutex;
  static std::random_device device;
  std::lock_guard lock(mutex);
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", unsigned(device()));
    id += buf;
  }
  return id;
}

RequestError no_session(const std::string& id) {
  return RequestError(404, "session", "no session " + id + " (closed, or the server restarted: reload the page)");
}

Answer asset_answer(const Asset& a) {
  return {.status = 200,
          .content_type = std::string(a.content_type),
          .body = std::string(a.body),
          .headers = {{"Cache-Control", "no-cache"},
                      {"Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'"}}};
}

Answer download(std::string body, const char* type, const char* name) {
  return {.status = 200,
          .content_type = type,
          .body = std::move(body),
          .headers = {{"Content-Disposition", std::string("attachment; filename=\"") + name + "\""}}};
}

// Counts an open socket against the server's limit while it lives.
class Slot {
 public:
  explicit Slot(std::atomic<std::size_t>& open) : open_(&open) { ++open; }
  Slot(Slot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot() { release(); }
  void release() {
    if (open_) --*std::exchange(open_, nullptr);
  }

 private:
  std::atomic<std::size_t>* open_;
};

// As many sockets as the descriptor limit allows (raised to its hard limit),
// less a reserve for the program's own files.
std::size_t connection_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 256;
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max == RLIM_INFINITY ? 65536 : std::min<rlim_t>(r.rlim_max, 65536);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  const rlim_t usable = r.rlim_cur == RLIM_INFINITY ? 65536 : r.rlim_cur;
  return std::clamp<std::size_t>(usable > 128 ? usable - 128 : 16, 16, 10000);
}

class Playground;

// One connection reading requests and writing answers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Playground& server, tcp::socket socket, Slot slot)
      : server_(server), stream_(std::move(socket)), slot_(std::move(slot)) {}
  void read();
  void answer(Answer a, bool keep_alive);
  // Closes it now: the server is full and it has waited longest for a request.
  void evict();
  // Hands the socket to an event stream.
  beast::tcp_stream take_stream() { return std::move(stream_); }
  Slot take_slot() { return std::move(slot_); }

  std::list<std::weak_ptr<Connection>>::iterator waiting;  // where in the server's list, when in it
  bool is_waiting = false;

 private:
  void on_header(beast::error_code ec);
  void on_body(beast::error_code ec);
  void refuse(beast::error_code ec);
  void linger();
  void drain();

  Playground& server_;
  beast::tcp_stream stream_;
  Slot slot_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Route route_;
  std::size_t drained_ = 0;
};

// One open event stream: the I/O thread's, but for its updates, which run on
// its session's strand.
class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(Playground& server, beast::tcp_stream stream, Slot slot, std::shared_ptr<Session> session)
      : server_(server), stream_(std::move(stream)), slot_(std::move(slot)), session_(std::move(session)),
        timer_(stream_.get_executor()) {}
  void start();
  // Something changed: look now (or as soon as the update in flight is sent).
  void poke();
  void finish();

 private:
  void update();
  void send(StreamUpdate u);
  void idle(Clock::time_point wake);
  void watch_close();

  Playground& server_;
  beast::tcp_stream stream_;
  Slot slot_;
  std::shared_ptr<Session> session_;
  StreamState state_;  // its session strand's
  net::steady_timer timer_;
  std::string out_;
  char byte_ = 0;
  bool busy_ = true, dirty_ = false, ended_ = false;
  Clock::time_point last_sent_{};
};

class Playground {
 public:
  explicit Playground(ServerOptions o)
      : options(std::move(o)), pool(options.max_sessions + 2), max_connections(connection_limit()) {}
  int bind(const std::string& host, int port);
  void run();
  void stop() {
    stopping = true;
    io.stop();
  }

  // For connections and streams, on the I/O thread.
  void dispatch(std::shared_ptr<Connection> c, Route route, Request request);
  void start_waiting(const std::shared_ptr<Connection>& c);
  void stop_waiting(Connection& c);
  void stream_ended(const std::shared_ptr<Session>& s);
  // On the session's strand.
  StreamUpdate update(Session& s, StreamState& st, Clock::time_point last_sent);

  const ServerOptions options;
  Site site;
  std::atomic<bool> stopping{false};
  // Declared in this order so that the I/O context's pending handlers (which
  // hold sessions, whose strands belong to the pool) go first, then the pool.
  net::thread_pool pool;
  std::atomic<std::size_t> open{0};
  const std::size_t max_connections;
  std::size_t streams_open = 0;  // the I/O thread's
  net::io_context io{1};

 private:
  void accept();
  void admit(tcp::socket socket);
  void sweep();
  void open_stream(const std::shared_ptr<Connection>& c, std::shared_ptr<Session> s, bool keep_alive);
  void reply(std::shared_ptr<Connection> c, Answer a, bool keep_alive);
  template <class F>
  Answer guarded(F&& f);
  Answer create_session();
  Answer act(Session& s, const Route& r, const Request& req);
  Answer configure(Session& s, const json& patch);
  template <class F>
  Answer control(Session& s, const Request& req, F&& f);
  MnistModel& mnist_of(Session& s);
  std::shared_ptr<Session> find(const std::string& id);
  void forget(const std::string& id);
  static void close(Session& s);

  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io}, sweeper{io};
  std::list<std::weak_ptr<Connection>> waiting_;  // connections waiting for a request, longest first
  std::mutex sessions_mutex;
  std::map<std::string, std::shared_ptr<Session>> sessions;
  std::mutex mnist_mutex;
  std::shared_ptr<const dagrad::Mnist> mnist_data;
};

void Session::poke_streams() {
  std::erase_if(watchers, [](const std::weak_ptr<EventStream>& w) { return w.expired(); });
  for (const auto& w : watchers) {
    if (auto stream = w.lock()) stream->poke();
  }
}

void Connection::read() {
  parser_.emplace();
  limit(*parser_);
  stream_.expires_after(request_deadline);
  server_.start_waiting(shared_from_this());
  http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_header(ec);
  });
}

void Connection::on_header(beast::error_code ec) {
  if (ec) return refuse(ec);
  try {
    route_ = route(server_.site, parser_->get().base());
  } catch (const RequestError& e) {
    // Refused before its body is read: the connection closes after the answer.
    server_.stop_waiting(*this);
    return answer(error_answer(e), false);
  }
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Connection::on_body(beast::error_code ec) {
  if (ec) return refuse(ec);
  server_.stop_waiting(*this);
  stream_.expires_never();
  server_.dispatch(shared_from_this(), std::move(route_), parser_->release());
}

// Bytes the parser refused get a 4xx answer; a client that left, sent
// nothing, was too slow (the stream closed itself) or was evicted gets none.
void Connection::refuse(beast::error_code ec) {
  server_.stop_waiting(*this);
  const bool http_error = ec.category() == http::make_error_code(http::error::end_of_stream).category();
  if (http_error && parser_->got_some() && stream_.socket().is_open()) return answer(unreadable(ec), false);
  stream_.close();
}

void Connection::answer(Answer a, bool keep_alive) {
  auto res = std::make_shared<http::response<http::string_body>>();
  res->version(11);
  res->result(unsigned(a.status));
  res->set(http::field::content_type, a.content_type);
  res->set("X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : a.headers) res->set(name, value);
  res->body() = std::move(a.body);
  res->keep_alive(keep_alive && !server_.stopping);
  res->prepare_payload();
  stream_.expires_after(write_deadline);
  http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
    if (ec) return self->stream_.close();
    if (res->keep_alive()) return self->read();
    self->linger();
  });
}

// Closes after the last answer without resetting the connection: a close
// with unread bytes (a refused body still arriving) sends a reset, which can
// destroy the answer before the client reads it. So the server stops
// sending, then reads and drops what comes for up to a second.
void Connection::linger() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(linger_time);
  drain();
}

void Connection::drain() {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(16 * 1024),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > linger_bytes) return self->stream_.close();
                            self->drain();
                          });
}

void Connection::evict() {
  is_waiting = false;
  slot_.release();
  stream_.close();
}

void EventStream::start() {
  ++session_->streams;
  session_->had_stream = true;
  session_->watchers.push_back(weak_from_this());
  ++server_.streams_open;
  out_ =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\nTransfer-Encoding: chunked\r\n\r\n";
  stream_.expires_after(write_deadline);
  net::async_write(stream_, net::buffer(out_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->finish();
    self->last_sent_ = Clock::now();
    self->update();
  });
  watch_close();
}

// A page sends nothing on its stream: bytes, or the end of the connection,
// end it at once (and with the last one, the session's training).
void EventStream::watch_close() {
  stream_.socket().async_read_some(net::buffer(&byte_, 1),
                                   [self = shared_from_this()](beast::error_code, std::size_t) { self->finish(); });
}

void EventStream::poke() {
  if (ended_) return;
  if (busy_) {
    dirty_ = true;
  } else {
    timer_.cancel();  // its wait ends now and updates
  }
}

void EventStream::update() {
  busy_ = true;
  net::post(session_->work, [self = shared_from_this(), last_sent = last_sent_] {
    StreamUpdate u = self->server_.update(*self->session_, self->state_, last_sent);
    net::post(self->timer_.get_executor(), [self, u = std::move(u)]() mutable { self->send(std::move(u)); });
  });
}

void EventStream::send(StreamUpdate u) {
  if (ended_) return;
  if (u.end) return finish();
  if (u.text.empty()) return idle(u.wake);
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", u.text.size());
  out_ = size + u.text + "\r\n";  // one chunk of the chunked body
  stream_.expires_after(write_deadline);
  net::async_write(stream_, net::buffer(out_),
                   [self = shared_from_this(), wake = u.wake](beast::error_code ec, std::size_t) {
                     if (ec) return self->finish();
                     self->last_sent_ = Clock::now();
                     self->idle(wake);
                   });
}

void EventStream::idle(Clock::time_point wake) {
  busy_ = false;
  if (dirty_ || wake <= Clock::now()) {
    dirty_ = false;
    return update();
  }
  timer_.expires_at(wake);
  timer_.async_wait([self = shared_from_this()](beast::error_code) {
    if (!self->ended_ && !self->busy_) self->update();
  });
}

void EventStream::finish() {
  if (ended_) return;
  ended_ = true;
  timer_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  slot_.release();
  --server_.streams_open;
  server_.stream_ended(session_);
}

int Playground::bind(const std::string& host, int port) {
  site.loopback = host == "127.0.0.1" || host == "localhost" || host == "::1";
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  for (const auto& entry : endpoints) {
    acceptor.open(entry.endpoint().protocol(), ec);
    if (ec) continue;
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    acceptor.bind(entry.endpoint(), ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) {
      site.port = acceptor.local_endpoint().port();
      return site.port;
    }
    acceptor.close(ec);
  }
  throw dagrad::Error("cannot listen on " + host + ":" + std::to_string(port) +
                      " (in use, or not an address of this machine)");
}

void Playground::run() {
  accept();
  sweep();
  io.run();
  // Stopped: the pool finishes the requests it holds (their answers go
  // nowhere), then every session closes, its MNIST thread with it.
  pool.join();
  std::lock_guard lock(sessions_mutex);
  for (auto& [id, s] : sessions) close(*s);
  sessions.clear();
}

void Playground::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      accept_retry.expires_after(100ms);
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

// A full server makes room by closing the connection that has waited longest
// for its request (idle or slow), so that idle sockets cannot lock out a
// real client; only when every connection is busy or a stream is the new
// one closed.
void Playground::admit(tcp::socket socket) {
  while (open >= max_connections && !waiting_.empty()) {
    const auto oldest = waiting_.front().lock();
    waiting_.pop_front();
    if (oldest) oldest->evict();
  }
  if (open >= max_connections) return;
  std::make_shared<Connection>(*this, std::move(socket), Slot(open))->read();
}

void Playground::start_waiting(const std::shared_ptr<Connection>& c) {
  c->waiting = waiting_.insert(waiting_.end(), c);
  c->is_waiting = true;
}

void Playground::stop_waiting(Connection& c) {
  if (!c.is_waiting) return;
  waiting_.erase(c.waiting);
  c.is_waiting = false;
}

void Playground::sweep() {
  sweeper.expires_after(sweep_every);
  sweeper.async_wait([this](beast::error_code ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Session>> gone;
    {
      const auto now = Clock::now();
      std::lock_guard lock(sessions_mutex);
      for (auto it = sessions.begin(); it != sessions.end();) {
        if (it->second->expired(now, options.session_grace)) {
          gone.push_back(std::move(it->second));
          it = sessions.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& s : gone) net::post(s->work, [s] { close(*s); });
    sweep();
  });
}

// The last stream of a session left: its page is gone, or going. Training
// pauses; the session is closed after its grace period unless a stream
// comes back.
void Playground::stream_ended(const std::shared_ptr<Session>& s) {
  s->touch();
  if (--s->streams > 0) return;
  net::post(s->work, [s] {
    if (s->streams > 0 || s->closed) return;
    s->playing = false;
    if (s->mnist) s->mnist->pause();
  });
}

void Playground::dispatch(std::shared_ptr<Connection> c, Route route, Request request) {
  const bool keep_alive = request.keep_alive();
  if (route.action == Action::asset) return c->answer(asset_answer(*route.asset), keep_alive);
  if (route.action == Action::create_session) {
    net::post(pool, [this, c, body = std::move(request.body()), keep_alive] {
      reply(c, guarded([&] {
              no_fields(body);
              return create_session();
            }),
            keep_alive);
    });
    return;
  }
  std::shared_ptr<Session> s = find(route.session);
  if (!s) return c->answer(error_answer(no_session(route.session)), keep_alive);
  if (route.action == Action::events) return open_stream(c, std::move(s), keep_alive);
  net::post(s->work, [this, c, s, route = std::move(route), request = std::move(request), keep_alive] {
    reply(c, guarded([&] { return act(*s, route, request); }), keep_alive);
  });
}

void Playground::reply(std::shared_ptr<Connection> c, Answer a, bool keep_alive) {
  net::post(io, [c = std::move(c), a = std::move(a), keep_alive]() mutable { c->answer(std::move(a), keep_alive); });
}

void Playground::open_stream(const std::shared_ptr<Connection>& c, std::shared_ptr<Session> s, bool keep_alive) {
  if (s->streams >= streams_per_session || streams_open >= max_connections / 2) {
    return c->answer(error_answer(503, "too many event streams are open (" + std::to_string(streams_per_session) +
                                           " a session): close some tabs"),
                     keep_alive);
  }
  std::make_shared<EventStream>(*this, c->take_stream(), c->take_slot(), std::move(s))->start();
}

// Runs a handler, answering a RequestError with its status and JSON, and
// anything else with 500, so that no request can stop the server.
template <class F>
Answer Playground::guarded(F&& f) {
  try {
    return f();
  } catch (const RequestError& e) {
    return error_answer(e);
  } catch (const std::exception& e) {
    return error_answer(500, "internal error: " + shown(e.what(), 200));
  } catch (...) {
    return error_answer(500, "internal error");
  }
}

std::shared_ptr<Session> Playground::find(const std::string& id) {
  std::lock_guard lock(sessions_mutex);
  const auto it = sessions.find(id);
  if (it == sessions.end()) return nullptr;
  it->second->touch();
  return it->second;
}

void Playground::forget(const std::string& id) {
  std::lock_guard lock(sessions_mutex);
  sessions.erase(id);
}

Answer Playground::create_session() {
  const auto refuse_if_full = [this] {
    if (sessions.size() >= options.max_sessions) {
      throw RequestError(503, "", "the playground has its " + std::to_string(options.max_sessions) +
                                      " sessions open (--max-sessions): close a tab and reload");
    }
  };
  {
    std::lock_guard lock(sessions_mutex);
    refuse_if_full();  // before building a network that would be thrown away
  }
  auto s = std::make_shared<Session>(io, pool);
  s->id = new_id();
  s->touch();
  s->model = std::make_unique<PlaneModel>(Config{.seed = options.seed});
  const json config = to_json(s->model->config());
  std::lock_guard lock(sessions_mutex);
  refuse_if_full();
  sessions[s->id] = s;
  return json_answer(201, {{"id", s->id}, {"config", config}});
}

// On the session's strand (or once the server has stopped): ends its streams
// and its MNIST thread, waiting for the running epoch.
void Playground::close(Session& s) {
  s.closed = true;
  s.playing = false;
  s.mnist.reset();
  s.changed();
}

MnistModel& Playground::mnist_of(Session& s) {
  if (!s.mnist) {
    std::shared_ptr<const dagrad::Mnist> data;
    {
      std::lock_guard data_lock(mnist_mutex);
      if (!mnist_data) {
        try {
          mnist_data = std::make_shared<const dagrad::Mnist>(dagrad::load_mnist_rows(options.mnist_args));
        } catch (const std::exception& e) {
          throw RequestError(503, "", shown(e.what(), 400) +
                                          " (fetch MNIST with scripts/setup.sh --data-only, or start the "
                                          "playground with --data DIR)");
        }
      }
      data = mnist_data;
    }
    // The model is closed (its thread joined) before the session ends.
    Session* raw = &s;
    s.mnist = std::make_unique<MnistModel>(data, options.mnist_threads, [raw] { raw->changed(); });
  }
  return *s.mnist;
}

Answer Playground::configure(Session& s, const json& patch) {
  const Config c = merge(s.model->config(), patch);
  if (!(c == s.model->config())) {
    s.model = std::make_unique<PlaneModel>(c);
    ++s.data_version;
    ++s.state_version;
  }
  s.changed();
  return json_answer(200, {{"config", to_json(c)}});
}

// Sets the training's state and wakes the streams.
template <class F>
Answer Playground::control(Session& s, const Request& req, F&& f) {
  no_fields(req.body());
  f(s);
  ++s.state_version;
  s.changed();
  return json_answer(200, json::object());
}

// A session's request, on its strand.
Answer Playground::act(Session& s, const Route& r, const Request& req) {
  if (s.closed) throw no_session(s.id);
  const auto mnist_control = [&](void (MnistModel::*f)()) {
    no_fields(req.body());
    (mnist_of(s).*f)();
    return json_answer(200, json::object());
  };
  switch (r.action) {
    case Action::close:
      no_fields(req.body());
      forget(s.id);
      close(s);
      return json_answer(200, json::object());
    case Action::config: return configure(s, parse_object(req.body()));
    case Action::play: return control(s, req, [](Session& t) { t.playing = true; });
    case Action::pause: return control(s, req, [](Session& t) { t.playing = false; });
    case Action::step:
      return control(s, req, [](Session& t) {
        if (t.playing) throw RequestError(409, "", "training is playing: pause before stepping");
        t.model->epoch();
      });
    case Action::reset:
      return control(s, req, [](Session& t) { t.model = std::make_unique<PlaneModel>(t.model->config()); });
    case Action::graph_svg: return {.status = 200, .content_type = "image/svg+xml", .body = s.model->graph_svg()};
    case Action::node: return json_answer(200, s.model->node(r.node));
    case Action::backprop: return json_answer(200, s.model->backprop(point_index(parse_object(req.body()))));
    case Action::export_cpp: return download(s.model->export_cpp(), "text/x-c++src; charset=utf-8", "network.cpp");
    case Action::export_dot: return download(s.model->graph_dot(), "text/vnd.graphviz; charset=utf-8", "network.dot");
    case Action::mnist_play: return mnist_control(&MnistModel::play);
    case Action::mnist_pause: return mnist_control(&MnistModel::pause);
    case Action::mnist_reset: return mnist_control(&MnistModel::reset);
    case Action::mnist_predict: return json_answer(200, mnist_of(s).predict(parse_object(req.body())));
    case Action::asset:
    case Action::create_session:
    case Action::events: break;  // answered on the I/O thread
  }
  throw std::logic_error("no handler for this route");
}

// One look at the session for a stream: trains an epoch first when playing
// and due, then sends what changed since the stream last looked.
StreamUpdate Playground::update(Session& s, StreamState& st, Clock::time_point last_sent) {
  if (stopping || s.closed) return {.end = true};
  s.touch();
  const auto now = Clock::now();
  StreamUpdate u{.wake = last_sent + ping_every};
  if (s.playing) {
    if (now >= s.next_epoch) {
      s.model->epoch();
      ++s.state_version;
      s.next_epoch = now + frame;
    }
    u.wake = s.next_epoch;
  }
  if (st.data != s.data_version) {
    u.text += event("data", s.model->data());
    st.data = s.data_version;
    st.state = ~0ull;
    st.last_epoch = -2;
  }
  if (st.state != s.state_version) {
    // The whole history when the stream has missed an epoch (its first
    // event, a reset); else the page appends this epoch's losses.
    const bool history = s.model->epochs() != st.last_epoch + 1;
    json state = s.model->state();
    if (!history) state.erase("history");
    state["playing"] = s.playing;
    u.text += event("state", state);
    st.state = s.state_version;
    st.last_epoch = s.model->epochs();
  }
  if (s.mnist && s.mnist->version() != st.mnist) {
    st.mnist = s.mnist->version();
    u.text += event("mnist", s.mnist->state());
  }
  if (u.text.empty() && !s.playing && now >= last_sent + ping_every) u.text = ": ping\n\n";
  return u;
}

}  // namespace

struct Server::Impl : Playground {
  using Playground::Playground;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) { return impl_->bind(host, port); }

void Server::run() { impl_->run(); }

void Server::stop() { impl_->stop(); }

}  // namespace playground
