#include "cli/runner.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "cli/common.hpp"
#include "cli/describe.hpp"
#include "net/path_memory.hpp"
#include "net/tls_stream.hpp"

namespace grove::cli {
namespace {

using engine::Connection;

// Passes the engine's events to the command's handler once the connection counts as working
// (the ConnectResponse arrived, henc.md §11.2). Before that, a ConnectionClosed is a failed
// fallback step, not a result: it is kept for the report and the next step is tried.
class Attempt final : public net::ConnectionHandler {
 public:
  Attempt(net::ConnectionHandler& inner, std::function<void()> on_arrived)
      : inner_(inner), on_arrived_(std::move(on_arrived)) {}

  void on_event(Connection& c, engine::Event& e) override {
    if (!arrived_) {
      switch (net::handshake_progress(e)) {
        case net::HandshakeProgress::arrived:
          arrived_ = true;
          on_arrived_();
          break;
        case net::HandshakeProgress::failed: {
          const auto& closed = std::get<engine::ConnectionClosed>(e);
          if (failure_.empty()) {
            failure_ = describe(closed);
            error_ = closed.error;
          }
          return;
        }
        case net::HandshakeProgress::pending:
          break;
      }
    }
    inner_.on_event(c, e);
  }
  void on_output_drained(Connection& c) override {
    if (arrived_) inner_.on_output_drained(c);
  }

  // The ConnectionEstablishment timer (henc.md §10) expired before the ConnectResponse.
  void expire(std::chrono::milliseconds limit) {
    if (arrived_ || !failure_.empty()) return;
    failure_ = fmt::format("no SSTP ConnectResponse within {} s of the step's start",
                           std::chrono::duration_cast<std::chrono::seconds>(limit).count());
    error_ = asio::error::timed_out;
  }
  bool arrived() const { return arrived_; }
  const std::string& failure() const { return failure_; }
  std::error_code error() const { return error_; }

 private:
  net::ConnectionHandler& inner_;
  std::function<void()> on_arrived_;
  bool arrived_ = false;
  std::string failure_;
  std::error_code error_;
};

// What the ConnectionEstablishment timer of one attempt may touch; cleared when the attempt ends.
struct Watchdog {
  Attempt* attempt;
  net::ByteStream* stream;
};

net::FallbackOptions fallback_options(const DialOptions& o) {
  net::FallbackOptions f;
  f.relay = o.connect;
  f.port_443 = o.port_443;
  f.http_port = o.http_port;
  f.http_proxy = o.http_proxy;
  f.socks_proxy = o.socks_proxy;
  f.only = o.paths;
  f.timeouts.tcp_connect = o.connect_timeout;
  return f;
}

// henc.md §8: TLS wraps steps 1-4 only; the HTTP encapsulations have no single TLS stream.
bool tls_applies(const std::string& step) {
  return step == "native" || step == "direct443" || step == "tunnel" || step == "socks";
}

void log_attempt_details(const net::Report& report) {
  for (const auto& a : report.attempts) {
    for (const auto& t : a.trace) spdlog::debug("step {} {}: {}", a.number, a.step, t);
    if (!a.warning.empty()) spdlog::warn("{}", a.warning);
  }
}

}  // namespace

bool Runner::act(const std::function<void(Connection&)>& fn) {
  if (!live_) return false;
  fn(*conn_);
  driver_->kick();
  return true;
}

RunResult Runner::run(const engine::Options& eo, net::ConnectionHandler& handler,
                      const RunHooks& hooks) {
  RunResult result;
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    spdlog::warn("interrupted: closing the connection");
    const bool closing = act([&](Connection& c) {
      if (hooks.interrupt)
        hooks.interrupt(c);
      else
        c.close();
    });
    if (!closing) {
      result.interrupted = true;
      io_.stop();
    }
  });
  asio::co_spawn(
      io_,
      [&]() -> net::awaitable<void> {
        co_await walk_loop(eo, handler, hooks, result);
        signals.cancel();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io_.run();
  return result;
}

net::awaitable<void> Runner::walk_loop(const engine::Options& base, net::ConnectionHandler& handler,
                                       const RunHooks& hooks, RunResult& result) {
  auto ex = co_await asio::this_coro::executor;
  net::ProxyAuthMemos memos;
  net::PathMemory memory(o_.path_memory_file);
  // The memory is per relay and per direct port: another --port-443 is another path.
  const std::string relay_key = o_.connect.to_string() + "/" + std::to_string(o_.port_443);
  std::shared_ptr<net::TlsContext> tls;
  if (o_.tls) {
    std::string why;
    tls = net::TlsContext::client(o_.tls_config, why);
    if (!tls) {
      spdlog::error("{}", why);
      result.tls_config_error = true;
      co_return;
    }
  }
  asio::steady_timer pause(ex);
  for (int walk = 1;; ++walk) {
    // §11.2: the step that worked last time goes first, unless --path fixes the steps.
    std::optional<std::string> preferred;
    if (o_.paths.empty()) preferred = memory.preferred(relay_key, std::chrono::system_clock::now());
    if (preferred) spdlog::info("event=fallback_memory relay={} first={}", relay_key, *preferred);
    net::FallbackDialer dialer(ex, net::plan_steps(fallback_options(o_), &memos, preferred));
    spdlog::info("event=dialing target={} walk={}", o_.connect.to_string(), walk);
    bool reached = false;
    while (auto t = co_await dialer.next()) {
      spdlog::info("event=transport_ready step={} stream={}", t->step, t->stream->describe());
      if (tls && tls_applies(t->step)) {
        std::error_code ec;
        std::string why;
        auto s = co_await net::tls_connect(std::move(t->stream), tls, o_.tls_config, t->deadline,
                                           ec, why);
        if (!s) {
          spdlog::info("event=step_failed step={} reason=\"{}\"", t->step, why);
          dialer.failed(why, ec);
          continue;
        }
        t->stream = std::move(s);
        spdlog::info("event=tls_established step={} stream={}", t->step, t->stream->describe());
      }
      const std::string described = t->stream->describe();
      engine::Options eo = base;
      eo.channel_binding = t->stream->channel_binding();  // auth.md §6
      conn_ = std::make_unique<Connection>(std::move(eo), engine::Clock::now());
      Attempt attempt(handler, [&, step = t->step] {
        dialer.working();
        live_ = reached = true;
        result.transport = described;
        result.report = dialer.report();
        for (const auto& a : result.report.attempts) spdlog::info("{}", a.line());
        log_attempt_details(result.report);
        if (o_.paths.empty()) memory.remember(relay_key, step, std::chrono::system_clock::now());
        if (walk > 1 && hooks.reconnect) hooks.reconnect->reconnected(step, described);
        if (hooks.working) hooks.working();
      });
      driver_ = std::make_unique<net::Driver>(*t->stream, *conn_, attempt);
      // henc.md §10 ConnectionEstablishment: no ConnectResponse by the deadline fails the
      // step. The handler may run after this iteration: it only touches `guard`.
      auto guard = std::make_shared<Watchdog>(Watchdog{&attempt, t->stream.get()});
      asio::steady_timer watchdog(ex, t->deadline);
      watchdog.async_wait([guard](const std::error_code& ec) {
        if (ec || guard->attempt == nullptr || guard->attempt->arrived()) return;
        guard->attempt->expire(net::DialTimeouts{}.establishment);
        guard->stream->close();  // the driver's reader sees the close and ends the connection
      });
      co_await driver_->run();
      live_ = false;
      guard->attempt = nullptr;
      watchdog.cancel();
      if (attempt.arrived()) break;
      spdlog::info("event=step_failed step={} reason=\"{}\"", t->step, attempt.failure());
      dialer.failed(attempt.failure(), attempt.error());
      driver_.reset();
      conn_.reset();
    }
    if (hooks.over) hooks.over();
    if (!reached) {
      result.report = dialer.report();
      log_attempt_details(result.report);
    }
    result.reached = result.reached || reached;
    // The first walk's failure is reported by the caller; only a connection that once
    // worked is worth waiting for.
    if (!result.reached || hooks.reconnect == nullptr) break;
    const auto wait = hooks.reconnect->next_walk(walk, reached, result.report);
    if (!wait) break;
    spdlog::warn("reconnecting in {:.1f} s (walk {})", std::chrono::duration<double>(*wait).count(),
                 walk + 1);
    driver_.reset();
    conn_.reset();
    pause.expires_after(*wait);
    (void)co_await pause.async_wait(net::use_tuple);
  }
}

bool certificate_problem(const net::Report& report) {
  for (const auto& a : report.attempts)
    if (net::is_certificate_error(a.error)) return true;
  return false;
}

int report_unreachable(const DialOptions& o, const RunResult& r) {
  spdlog::error("cannot connect to {}: no transport reached it", o.connect.to_string());
  for (const auto& a : r.report.attempts) spdlog::error("  {}", a.line());
  if (r.report.credentials_problem()) return kRefused;
  if (certificate_problem(r.report)) return kRefused;
  return kUnreachable;
}

}  // namespace grove::cli
