// The playground's HTTP server: the embedded page, and the JSON API of
// docs/playground_api.md over per-tab sessions, each with its own network,
// event stream and MNIST model.
//   Server s({.max_sessions = 8});  int port = s.bind("127.0.0.1", 8080);  s.run();
#pragma once

#include <dagrad/cli/cli.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace playground {

struct ServerOptions {
  std::size_t max_sessions = 8;
  std::uint32_t seed = 1;       // new sessions' default seed
  int mnist_threads = 0;        // the MNIST network's executor threads (0: every core)
  // How long a session is kept once its last event stream has closed (its
  // training pauses at once).
  std::chrono::seconds session_grace{10};
  dagrad::ParsedArgs mnist_args;  // --data, --train-rows, --test-rows, read when MNIST is first asked for
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  // Binds host:port (port 0: any free one); returns the port, or throws
  // dagrad::Error naming the address.
  int bind(const std::string& host, int port);
  // Serves until stop() (on this thread: the sockets take one thread, the
  // requests a pool of max_sessions + 2); then closes every session.
  void run();
  // Safe from any thread (a signal-waiting one).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace playground
