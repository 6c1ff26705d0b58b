// The connection of a grove command (`send`, `connect`, `receive`): opened with the transport
// fallback of henc.md §11 (net/fallback.hpp), TLS where it applies (§8) and the path memory
// (§11.2), then the SSTP engine run over the transport that carried the ConnectResponse.
//
//   Runner runner(options);                        // set timers up on runner.io() first
//   RunResult r = runner.run(engine_options, handler, hooks);
//   if (!r.reached) return report_unreachable(options, r);
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/dial_options.hpp"
#include "engine/connection.hpp"
#include "net/asio.hpp"
#include "net/driver.hpp"
#include "net/fallback.hpp"

namespace grove::cli {

// What a command decides once a connection that worked is over (grove send: walk again after
// a back-off and send what was not acknowledged; without one, the run ends).
class Reconnect {
 public:
  virtual ~Reconnect() = default;
  // Walk `walk` ended (`reached`: a step worked in it; `report`: its attempts). Returns the
  // wait before the next walk, or nullopt to end the run.
  virtual std::optional<std::chrono::milliseconds> next_walk(int walk, bool reached,
                                                             const net::Report& report) = 0;
  // A step worked again after a loss.
  virtual void reconnected(const std::string& step, const std::string& transport) = 0;
};

struct RunHooks {
  // SIGINT/SIGTERM while a connection works: close it (the runner then flushes). A signal
  // during a walk or a back-off ends the run at once (RunResult::interrupted).
  std::function<void(engine::Connection&)> interrupt;
  // A step worked: the handler sees the connection from now on.
  std::function<void()> working;
  // The connection of a walk is over: cancel the timers that act on it.
  std::function<void()> over;
  Reconnect* reconnect = nullptr;  // may be null: no reconnecting
};

struct RunResult {
  bool reached = false;  // a ConnectResponse arrived: the handler saw the connection
  bool interrupted = false;
  bool tls_config_error = false;  // --tls-ca unreadable: nothing was dialed
  net::Report report;             // the attempts of the last walk
  std::string transport;          // describe() of the stream that carried the connection
};

class Runner {
 public:
  explicit Runner(const DialOptions& o) : o_(o) {}
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // The loop everything runs on: the command's timers go here.
  asio::io_context& io() { return io_; }

  // Runs `fn` on the connection that works now and lets the driver write what it queued.
  // False (and `fn` not called) during a walk or a back-off.
  [[nodiscard]] bool act(const std::function<void(engine::Connection&)>& fn);

  // Walks the transports and runs `handler` over the one that carried the ConnectResponse,
  // until the connection is over (and, with hooks.reconnect, the reconnecting too). Every
  // attempt is logged at info level (-v) once a step worked; -vv adds each dial's trace. Runs
  // io() until nothing is left on it. Call once.
  RunResult run(const engine::Options& eo, net::ConnectionHandler& handler, const RunHooks& hooks);

 private:
  net::awaitable<void> walk_loop(const engine::Options& eo, net::ConnectionHandler& handler,
                                 const RunHooks& hooks, RunResult& result);

  const DialOptions& o_;
  asio::io_context io_{1};
  std::unique_ptr<engine::Connection> conn_;
  std::unique_ptr<net::Driver> driver_;
  bool live_ = false;  // conn_ and driver_ carry a working connection
};

// The walk failed: says why, step by step, on stderr (whatever the verbosity). Returns the exit
// code: 4 when a step failed on proxy credentials or on a certificate that is not the relay's
// (a password or a CA to fix, not a network), else 3.
[[nodiscard]] int report_unreachable(const DialOptions& o, const RunResult& r);

// True when a step reached a TLS server whose certificate is not the relay's.
[[nodiscard]] bool certificate_problem(const net::Report& report);

}  // namespace grove::cli
