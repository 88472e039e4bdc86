#include "server.hpp"

#include "../mnist_training.hpp"
#include "assets.hpp"
#include "config.hpp"
#include "mnist_model.hpp"
#include "plane_model.hpp"

#include <dagrad/core/error.hpp>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <vector>

namespace playground {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto frame = std::chrono::milliseconds(33);  // at most 30 state events a second
constexpr auto idle_limit = std::chrono::minutes(10);
constexpr auto ping_every = std::chrono::seconds(15);
constexpr std::size_t max_body = 64 * 1024;
const std::string session_path = R"(/api/sessions/([0-9a-f]{32}))";

// Wakes a session's event streams.
struct Signal {
  std::mutex mutex;
  std::condition_variable cv;
  std::uint64_t count = 0;
  void notify() {
    {
      std::lock_guard lock(mutex);
      ++count;
    }
    cv.notify_all();
  }
};

struct Session {
  std::string id;
  Signal signal;
  std::mutex mutex;  // guards the network, mnist's creation and the fields below
  std::unique_ptr<PlaneModel> model;
  bool playing = false;
  std::uint64_t data_version = 0, state_version = 0;
  Clock::time_point next_epoch{};
  std::unique_ptr<MnistModel> mnist;  // made by the first MNIST request
  std::atomic<Clock::rep> last_used{0};
  std::atomic<int> streams{0};
  std::atomic<bool> closed{false};

  void touch() { last_used = Clock::now().time_since_epoch().count(); }
  bool idle(Clock::time_point now) const {
    return streams == 0 && now - Clock::time_point(Clock::duration(last_used.load())) > idle_limit;
  }
  // Whatever happened, the streams look again.
  void changed() { signal.notify(); }
};

// What one event stream has sent, to send only what is new.
struct StreamState {
  std::uint64_t data = ~0ull, state = ~0ull, mnist = ~0ull;
  int last_epoch = -2;
};

std::string event(const char* name, const json& data) {
  return std::string("event: ") + name + "\ndata: " + data.dump() + "\n\n";
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

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& field = "") {
  send_json(res, status, {{"error", message}, {"field", field.empty() ? json(nullptr) : json(field)}});
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  httplib::Server http;
  std::string host;
  int port = 0;
  std::atomic<bool> stopping{false};

  std::mutex sessions_mutex;
  std::map<std::string, std::shared_ptr<Session>> sessions;

  std::mutex mnist_mutex;
  std::shared_ptr<const dagrad::Mnist> mnist_data;

  explicit Impl(ServerOptions o) : options(std::move(o)) { routes(); }

  // Runs a handler, answering a RequestError with its status and JSON, and
  // anything else with 500, so that no request can stop the server.
  template <class F>
  void api(httplib::Response& res, F&& f) {
    try {
      f();
    } catch (const RequestError& e) {
      send_error(res, e.status, e.what(), e.field);
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    }
  }

  std::shared_ptr<Session> session(const httplib::Request& req) {
    const std::string id = req.matches[1];
    std::lock_guard lock(sessions_mutex);
    const auto it = sessions.find(id);
    if (it == sessions.end()) {
      throw RequestError(404, "session", "no session " + id + " (closed, or the server restarted: reload the page)");
    }
    it->second->touch();
    return it->second;
  }

  std::shared_ptr<Session> create_session() {
    auto s = std::make_shared<Session>();
    s->id = new_id();
    s->touch();
    s->model = std::make_unique<PlaneModel>(Config{.seed = options.seed});
    // Closed sessions end here, after the lock: ending one waits for its
    // MNIST epoch to finish.
    std::vector<std::shared_ptr<Session>> closed;
    std::lock_guard lock(sessions_mutex);
    const auto now = Clock::now();
    for (auto it = sessions.begin(); it != sessions.end() && sessions.size() >= options.max_sessions;) {
      if (it->second->idle(now)) {
        close(*it->second);
        closed.push_back(std::move(it->second));
        it = sessions.erase(it);
      } else {
        ++it;
      }
    }
    if (sessions.size() >= options.max_sessions) {
      throw RequestError(503, "", "the playground has its " + std::to_string(options.max_sessions) +
                                      " sessions open (--max-sessions): close a tab and reload");
    }
    sessions[s->id] = s;
    return s;
  }

  static void close(Session& s) {
    s.closed = true;
    MnistModel* mnist = nullptr;
    {
      std::lock_guard lock(s.mutex);
      s.playing = false;
      mnist = s.mnist.get();
    }
    if (mnist) mnist->pause();
    s.changed();
  }

  MnistModel& mnist_of(Session& s) {
    std::lock_guard lock(s.mutex);
    if (!s.mnist) {
      std::shared_ptr<const dagrad::Mnist> data;
      {
        std::lock_guard data_lock(mnist_mutex);
        if (!mnist_data) {
          try {
            mnist_data = std::make_shared<const dagrad::Mnist>(dagrad::load_mnist_rows(options.mnist_args));
          } catch (const std::exception& e) {
            throw RequestError(503, "", std::string(e.what()) +
                                            " (fetch MNIST with scripts/setup.sh --data-only, or start the "
                                            "playground with --data DIR)");
          }
        }
        data = mnist_data;
      }
      Session* raw = &s;
      s.mnist = std::make_unique<MnistModel>(data, options.mnist_threads, [raw] { raw->changed(); });
    }
    return *s.mnist;
  }

  // One call of the event stream's provider: sends what changed, training an
  // epoch first when playing and due, or waits for a change.
  bool pump(Session& s, StreamState& st, httplib::DataSink& sink) {
    if (stopping || s.closed) return false;
    std::uint64_t seen;
    {
      std::lock_guard lock(s.signal.mutex);
      seen = s.signal.count;
    }
    std::string out;
    bool playing = false;
    Clock::time_point wake = Clock::now() + ping_every;
    MnistModel* mnist = nullptr;
    {
      std::lock_guard lock(s.mutex);
      playing = s.playing;
      if (playing) {
        const auto now = Clock::now();
        if (now >= s.next_epoch) {
          s.model->epoch();
          ++s.state_version;
          s.next_epoch = now + frame;
        }
        wake = s.next_epoch;
      }
      if (st.data != s.data_version) {
        out += event("data", s.model->data());
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
        out += event("state", state);
        st.state = s.state_version;
        st.last_epoch = s.model->epochs();
      }
      mnist = s.mnist.get();
    }
    if (mnist && mnist->version() != st.mnist) {
      st.mnist = mnist->version();
      out += event("mnist", mnist->state());
    }
    if (!out.empty()) return sink.write(out.data(), out.size());

    std::unique_lock lock(s.signal.mutex);
    const bool woken = s.signal.cv.wait_until(lock, wake, [&] { return s.signal.count != seen || stopping; });
    lock.unlock();
    if (!woken && !playing) {
      static const std::string ping = ": ping\n\n";
      return sink.write(ping.data(), ping.size());
    }
    return true;
  }

  void wake_all() {
    std::lock_guard lock(sessions_mutex);
    for (auto& [id, s] : sessions) s->changed();
  }

  // A request that takes no fields: an empty body or an empty JSON object.
  static void no_fields(const httplib::Request& req) {
    if (req.body.empty()) return;
    const json body = parse_object(req.body);
    if (!body.empty()) {
      throw RequestError(400, body.begin().key().substr(0, 40),
                         body.begin().key().substr(0, 40) + ": unknown field (this request takes none)");
    }
  }

  // Set the training's state and wake the streams.
  template <class F>
  void control(const httplib::Request& req, httplib::Response& res, F&& f) {
    api(res, [&] {
      auto s = session(req);
      no_fields(req);
      {
        std::lock_guard lock(s->mutex);
        f(*s);
        ++s->state_version;
      }
      s->changed();
      send_json(res, 200, json::object());
    });
  }

  template <class F>
  void mnist_control(const httplib::Request& req, httplib::Response& res, F&& f) {
    api(res, [&] {
      auto s = session(req);
      no_fields(req);
      f(mnist_of(*s));
      send_json(res, 200, json::object());
    });
  }

  void routes();
};

void Server::Impl::routes() {
  http.set_payload_max_length(max_body);
  const std::size_t threads = options.max_sessions * 2 + 8;  // an event stream holds a thread
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  // A page on another site must not reach a server bound to this machine
  // through a name it points here (DNS rebinding): the Host must be this one.
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (host != "127.0.0.1" && host != "localhost" && host != "::1") return httplib::Server::HandlerResponse::Unhandled;
    if (!req.has_header("Host")) return httplib::Server::HandlerResponse::Unhandled;
    const std::string h = req.get_header_value("Host"), p = ":" + std::to_string(port);
    if (h == "127.0.0.1" + p || h == "localhost" + p || h == "[::1]" + p) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    send_error(res, 403, "Host '" + h.substr(0, 80) + "' is not this server's address", "Host");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a handler's own answer
    switch (res.status) {
      case 404: send_error(res, 404, "no such path: " + req.path.substr(0, 200)); break;
      case 413: send_error(res, 413, "the request body is over " + std::to_string(max_body) + " bytes"); break;
      default: send_error(res, res.status, "bad request (HTTP " + std::to_string(res.status) + ")"); break;
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });

  // The page.
  for (const Asset& a : assets()) {
    auto serve = [&a](const httplib::Request&, httplib::Response& res) {
      res.set_content(a.body.data(), a.body.size(), std::string(a.content_type).c_str());
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'");
    };
    http.Get(std::regex_replace(std::string(a.path), std::regex(R"(\.)"), R"(\.)"), serve);
    if (a.path == "/index.html") http.Get("/", serve);
  }

  http.Post("/api/sessions", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      no_fields(req);
      auto s = create_session();
      std::lock_guard lock(s->mutex);
      send_json(res, 201, {{"id", s->id}, {"config", to_json(s->model->config())}});
    });
  });
  http.Post(session_path + "/close", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      no_fields(req);
      {
        std::lock_guard lock(sessions_mutex);
        sessions.erase(s->id);
      }
      close(*s);
      send_json(res, 200, json::object());
    });
  });
  http.Post(session_path + "/config", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      const json patch = parse_object(req.body);
      json answer;
      {
        std::lock_guard lock(s->mutex);
        const Config c = merge(s->model->config(), patch);
        if (!(c == s->model->config())) {
          s->model = std::make_unique<PlaneModel>(c);
          ++s->data_version;
          ++s->state_version;
        }
        answer = {{"config", to_json(c)}};
      }
      s->changed();
      send_json(res, 200, answer);
    });
  });
  http.Post(session_path + "/play", [this](const httplib::Request& req, httplib::Response& res) {
    control(req, res, [](Session& s) { s.playing = true; });
  });
  http.Post(session_path + "/pause", [this](const httplib::Request& req, httplib::Response& res) {
    control(req, res, [](Session& s) { s.playing = false; });
  });
  http.Post(session_path + "/step", [this](const httplib::Request& req, httplib::Response& res) {
    control(req, res, [](Session& s) {
      if (s.playing) throw RequestError(409, "", "training is playing: pause before stepping");
      s.model->epoch();
    });
  });
  http.Post(session_path + "/reset", [this](const httplib::Request& req, httplib::Response& res) {
    control(req, res, [](Session& s) { s.model = std::make_unique<PlaneModel>(s.model->config()); });
  });

  http.Get(session_path + "/events", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      ++s->streams;
      auto st = std::make_shared<StreamState>();
      res.set_header("Cache-Control", "no-store");
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, s, st](std::size_t, httplib::DataSink& sink) {
            s->touch();
            return pump(*s, *st, sink);
          },
          [s](bool) {
            --s->streams;
            s->touch();
          });
    });
  });

  http.Get(session_path + "/graph.svg", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      std::lock_guard lock(s->mutex);
      res.set_content(s->model->graph_svg(), "image/svg+xml");
    });
  });
  http.Get(session_path + R"(/nodes/([0-9]{1,9}))", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      std::lock_guard lock(s->mutex);
      send_json(res, 200, s->model->node(std::stoll(req.matches[2])));
    });
  });
  http.Post(session_path + "/backprop", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      const json body = parse_object(req.body);
      const auto it = body.find("point");
      if (it == body.end() || !it->is_number_integer()) {
        throw RequestError(400, "point", "point: must be a whole number, a training point's index");
      }
      const long long index = it->is_number_unsigned() && it->get<std::uint64_t>() > (1ull << 62)
                                  ? (1ll << 62)
                                  : it->get<long long>();
      std::lock_guard lock(s->mutex);
      send_json(res, 200, s->model->backprop(index));
    });
  });
  http.Get(session_path + "/export.cpp", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      std::lock_guard lock(s->mutex);
      res.set_content(s->model->export_cpp(), "text/x-c++src; charset=utf-8");
      res.set_header("Content-Disposition", "attachment; filename=\"network.cpp\"");
    });
  });
  http.Get(session_path + "/export.dot", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      std::lock_guard lock(s->mutex);
      res.set_content(s->model->graph_dot(), "text/vnd.graphviz; charset=utf-8");
      res.set_header("Content-Disposition", "attachment; filename=\"network.dot\"");
    });
  });

  http.Post(session_path + "/mnist/play", [this](const httplib::Request& req, httplib::Response& res) {
    mnist_control(req, res, [](MnistModel& m) { m.play(); });
  });
  http.Post(session_path + "/mnist/pause", [this](const httplib::Request& req, httplib::Response& res) {
    mnist_control(req, res, [](MnistModel& m) { m.pause(); });
  });
  http.Post(session_path + "/mnist/reset", [this](const httplib::Request& req, httplib::Response& res) {
    mnist_control(req, res, [](MnistModel& m) { m.reset(); });
  });
  http.Post(session_path + "/mnist/predict", [this](const httplib::Request& req, httplib::Response& res) {
    api(res, [&] {
      auto s = session(req);
      const json body = parse_object(req.body);
      send_json(res, 200, mnist_of(*s).predict(body));
    });
  });
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) {
  impl_->host = host;
  const int bound = port == 0 ? impl_->http.bind_to_any_port(host) : (impl_->http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    throw dagrad::Error("cannot listen on " + host + ":" + std::to_string(port) +
                        " (in use, or not an address of this machine)");
  }
  impl_->port = bound;
  return bound;
}

void Server::run() {
  impl_->http.listen_after_bind();
  // Every stream has ended; the sessions' MNIST threads stop with them.
  std::lock_guard lock(impl_->sessions_mutex);
  for (auto& [id, s] : impl_->sessions) Impl::close(*s);
  impl_->sessions.clear();
}

void Server::stop() {
  impl_->stopping = true;
  impl_->wake_all();
  impl_->http.stop();
}

}  // namespace playground
