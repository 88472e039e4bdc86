// A playground in the browser: TensorFlow Playground's networks trained live
// by dagrad's engine, with the real graph's values and gradients, one
// point's backpropagation step by step, the lesson's MNIST network, and the
// network exported as a C++ program.
//   build/examples/playground/playground [--port 8080] [--host 127.0.0.1] [--seed N]
#include "../mnist_flags.hpp"
#include "server.hpp"

#include <dagrad/cli/cli.hpp>
#include <dagrad/io/idx.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace {

int run(int argc, char** argv) {
  dagrad::ArgParser p("playground",
                      "Serves the playground page and its API on this machine; open the URL it prints.");
  p.add("port", "N", "the TCP port (default 8080; 0 picks a free one)");
  p.add("host", "ADDRESS", "the address to listen on (default 127.0.0.1, this machine only)");
  p.add("seed", "N", "new sessions' seed: their points, weights and batches (default 1)");
  p.add("max-sessions", "N", "how many tabs may have a session at once (default 8)");
  p.add("session-grace", "SECONDS",
        "how long a session is kept after its page's event stream closed (default 10; training pauses at once)");
  dagrad::add_mnist_flags(p);
  p.add("threads", "N", "threads for the MNIST network (default 0: every core)");
  const std::optional<dagrad::ParsedArgs> parsed = p.parse_or_help(argc, argv);
  if (!parsed) return 0;
  const dagrad::ParsedArgs& args = *parsed;
  const int port = int(args.get_int("port", 8080, 0, 65535));
  const std::string host = args.get("host", "127.0.0.1");
  if (host.empty()) throw dagrad::UsageError("playground: --host needs an address");
  playground::ServerOptions options{
      .max_sessions = std::size_t(args.get_int("max-sessions", 8, 1, 64)),
      .seed = std::uint32_t(args.get_int("seed", 1, 0, 4294967295L)),
      .mnist_threads = int(args.get_int("threads", 0, 0, 1024)),
      .session_grace = std::chrono::seconds(args.get_int("session-grace", 10, 1, 86400)),
      .mnist_args = args};

  // Ctrl-C and SIGTERM reach one thread, which stops the server; every other
  // thread (the server's pool, training) is started with them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  playground::Server server(options);
  const int bound = server.bind(host, port);
  if (host != "127.0.0.1" && host != "localhost" && host != "::1") {
    std::cerr << "playground: warning: listening on " << host
              << ": other machines can reach this server, which has no password\n";
  }
  // A signal that comes before run() is listening finds nothing to stop yet,
  // so the waiter asks again until run() has returned.
  std::atomic<bool> finished{false};
  std::jthread waiter([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    while (!finished) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::cout << "playground: serving http://" << shown << ":" << bound << "/ (Ctrl-C stops)" << std::endl;
  server.run();
  finished = true;
  std::cout << "playground: stopped" << std::endl;
  // Wakes the waiter if the server stopped without a signal.
  pthread_kill(waiter.native_handle(), SIGTERM);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return dagrad::run_program("playground", [&] { return run(argc, argv); });
}
