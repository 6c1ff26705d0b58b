#include "cli/send.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>

#include "cli/common.hpp"
#include "cli/describe.hpp"
#include "cli/progress.hpp"
#include "cli/sender.hpp"
#include "net/driver.hpp"
#include "net/fallback.hpp"
#include "net/path_memory.hpp"

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

net::FallbackOptions fallback_options(const SendOptions& o) {
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

engine::Options engine_options(const SendOptions& o) {
  engine::Options eo;
  eo.role = engine::Role::initiator;
  eo.local_device_url = o.device_url;
  eo.target_device_url = o.relay_url.empty() ? o.to_url : o.relay_url;
  eo.device_secret = o.secret;
  eo.allow_unauthenticated_peer = o.allow_unauthenticated;
  return eo;
}

struct RunResult {
  bool reached = false;  // a ConnectResponse arrived: the handler saw the connection
  bool interrupted = false;
  bool tls_config_error = false;  // --tls-ca unreadable: nothing was dialed
  net::Report report;
  std::string transport;  // describe() of the stream that carried the connection
};

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

// Opens the connection with the fallback walk and runs `handler` over the transport that
// carried the ConnectResponse, until the connection is over. `interrupt` is called on
// SIGINT/SIGTERM once the connection works; otherwise a signal just stops everything.
// With a `sender`, a lost connection is followed by a back-off (sstp.md §7.8) and a new walk,
// until the sender is done or --retry-for passes without an acknowledgement.
RunResult run_connection(const SendOptions& o, net::ConnectionHandler& handler,
                         const std::function<void(Connection&)>& interrupt,
                         Sender* sender = nullptr) {
  asio::io_context io(1);
  RunResult result;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<net::Driver> driver;
  bool live = false;  // conn and driver carry a working connection

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    spdlog::warn("interrupted: closing the connection");
    if (live) {
      interrupt(*conn);
      driver->kick();
    } else {
      result.interrupted = true;
      io.stop();
    }
  });

  // --limit-rate: the sender pauses and asks to be woken.
  asio::steady_timer wake(io);
  if (sender)
    sender->schedule_wake = [&](std::chrono::milliseconds d) {
      wake.expires_after(d);
      wake.async_wait([&](const std::error_code& ec) {
        if (ec || !live) return;
        sender->wake(*conn);
        driver->kick();
      });
    };

  asio::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        net::ProxyAuthMemos memos;
        net::PathMemory memory(o.path_memory_file);
        // The memory is per relay and per direct port: another --port-443 is another path.
        const std::string relay_key = o.connect.to_string() + "/" + std::to_string(o.port_443);
        std::shared_ptr<net::TlsContext> tls;
        if (o.tls) {
          std::string why;
          tls = net::TlsContext::client(o.tls_config, why);
          if (!tls) {
            spdlog::error("{}", why);
            result.tls_config_error = true;
            co_return;
          }
        }
        Backoff backoff;
        std::mt19937_64 rng(std::random_device{}());
        std::optional<std::chrono::steady_clock::time_point> give_up_at;
        std::size_t confirmed_at_loss = 0;
        asio::steady_timer pause(ex);
        for (int walk = 1;; ++walk) {
          // §11.2: the step that worked last time goes first, unless --path fixes the steps.
          std::optional<std::string> preferred;
          if (o.paths.empty())
            preferred = memory.preferred(relay_key, std::chrono::system_clock::now());
          if (preferred)
            spdlog::info("event=fallback_memory relay={} first={}", relay_key, *preferred);
          net::FallbackDialer dialer(ex, net::plan_steps(fallback_options(o), &memos, preferred));
          spdlog::info("event=dialing target={} walk={}", o.connect.to_string(), walk);
          bool reached = false;
          while (auto t = co_await dialer.next()) {
            spdlog::info("event=transport_ready step={} stream={}", t->step, t->stream->describe());
            if (tls && tls_applies(t->step)) {
              std::error_code ec;
              std::string why;
              auto s = co_await net::tls_connect(std::move(t->stream), tls, o.tls_config,
                                                 t->deadline, ec, why);
              if (!s) {
                spdlog::info("event=step_failed step={} reason=\"{}\"", t->step, why);
                dialer.failed(why, ec);
                continue;
              }
              t->stream = std::move(s);
              spdlog::info("event=tls_established step={} stream={}", t->step,
                           t->stream->describe());
            }
            const std::string described = t->stream->describe();
            engine::Options eo = engine_options(o);
            eo.channel_binding = t->stream->channel_binding();  // auth.md §6
            conn = std::make_unique<Connection>(std::move(eo), engine::Clock::now());
            Attempt attempt(handler, [&, step = t->step] {
              dialer.working();
              live = reached = true;
              result.transport = described;
              result.report = dialer.report();
              for (const auto& a : result.report.attempts) spdlog::info("{}", a.line());
              log_attempt_details(result.report);
              if (o.paths.empty())
                memory.remember(relay_key, step, std::chrono::system_clock::now());
              if (walk > 1)
                spdlog::warn(
                    "reconnected by step {} ({}); sending {} unacknowledged messages again", step,
                    described, sender ? sender->requeued() : 0);
            });
            driver = std::make_unique<net::Driver>(*t->stream, *conn, attempt);
            // henc.md §10 ConnectionEstablishment: no ConnectResponse by the deadline fails the
            // step. The handler may run after this iteration: it only touches `guard`.
            auto guard = std::make_shared<Watchdog>(Watchdog{&attempt, t->stream.get()});
            asio::steady_timer watchdog(ex, t->deadline);
            watchdog.async_wait([guard](const std::error_code& ec) {
              if (ec || guard->attempt == nullptr || guard->attempt->arrived()) return;
              guard->attempt->expire(net::DialTimeouts{}.establishment);
              guard->stream->close();  // the driver's reader sees the close and ends the connection
            });
            co_await driver->run();
            live = false;
            guard->attempt = nullptr;
            watchdog.cancel();
            if (attempt.arrived()) break;
            spdlog::info("event=step_failed step={} reason=\"{}\"", t->step, attempt.failure());
            dialer.failed(attempt.failure(), attempt.error());
            driver.reset();
            conn.reset();
          }
          wake.cancel();
          if (!reached) {
            result.report = dialer.report();
            log_attempt_details(result.report);
          }
          result.reached = result.reached || reached;
          // The first walk's failure is reported by the caller; only a connection that once
          // worked is worth waiting for.
          if (!result.reached || !sender || !sender->wants_reconnect()) break;
          const auto now = std::chrono::steady_clock::now();
          if (!give_up_at || sender->confirmed() > confirmed_at_loss) {
            give_up_at = now + o.retry_for;  // progress was made: a fresh --retry-for window
            confirmed_at_loss = sender->confirmed();
          }
          if (!reached) {
            spdlog::warn("walk {}: no transport reached {}", walk, o.connect.to_string());
            for (const auto& a : result.report.attempts) spdlog::warn("  {}", a.line());
          }
          if (now >= *give_up_at) {
            sender->give_up(fmt::format(
                "gave up reconnecting to {}: no acknowledgement for {} s", o.connect.to_string(),
                std::chrono::duration_cast<std::chrono::seconds>(o.retry_for).count()));
            break;
          }
          const auto wait = std::min<std::chrono::steady_clock::duration>(
              backoff.next(reached ? sender->last_end() : Backoff::Ended{},
                           std::uniform_real_distribution<double>(0.0, 1.0)(rng)),
              *give_up_at - now);
          spdlog::warn("reconnecting in {:.1f} s (walk {})",
                       std::chrono::duration<double>(wait).count(), walk + 1);
          driver.reset();
          conn.reset();
          pause.expires_after(wait);
          (void)co_await pause.async_wait(net::use_tuple);
        }
        live = false;
        signals.cancel();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return result;
}

// A step reached a TLS server whose certificate is not the relay's: a wrong relay, CA, pin or
// name, not a network problem (exit code 4).
bool certificate_problem(const net::Report& report) {
  for (const auto& a : report.attempts)
    if (net::is_certificate_error(a.error)) return true;
  return false;
}

// The walk failed: say why, step by step, on stderr (whatever the verbosity).
int report_unreachable(const SendOptions& o, const RunResult& r) {
  spdlog::error("cannot connect to {}: no transport reached it", o.connect.to_string());
  for (const auto& a : r.report.attempts) spdlog::error("  {}", a.line());
  if (r.report.credentials_problem()) return kRefused;
  if (certificate_problem(r.report)) return kRefused;
  return kUnreachable;
}

// `grove connect`: the handshake only.
class Probe final : public net::ConnectionHandler {
 public:
  int result() const { return result_; }
  const std::string& summary() const { return summary_; }

  void on_event(Connection& c, engine::Event& e) override {
    if (auto* ev = std::get_if<engine::Established>(&e)) {
      result_ = kOk;
      summary_ = fmt::format("ConnectResponse Ok: SSTP 1.{}, peer {}, {}", ev->minor_version,
                             ev->peer_device_url,
                             ev->authenticated ? "relay proof checked" : "unauthenticated");
      c.close();
    } else if (auto* closed = std::get_if<engine::ConnectionClosed>(&e)) {
      if (result_ != -1) return;
      const bool refused =
          closed->refused || closed->reason == sstp::ConnectCloseReason::DeviceAuthenticationFailed;
      result_ = refused ? kRefused : kUnreachable;
      summary_ = describe(*closed);
    }
  }
  void interrupt(Connection& c) {
    if (result_ == -1) result_ = kInterrupted;
    c.close();
  }

 private:
  int result_ = -1;
  std::string summary_;
};

}  // namespace

int run_send(const SendOptions& o) {
  std::uint64_t total_bytes = 0;
  std::vector<Outgoing> queue;
  try {
    queue = plan(o, total_bytes);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  if (queue.empty()) {
    spdlog::error("nothing to send: give a message, --file, --lines or pipe data into stdin");
    return kUsage;
  }
  Sender sender(o, std::move(queue), total_bytes);
  RunResult r = run_connection(
      o, sender, [&](Connection& c) { sender.interrupt(c); }, &sender);
  if (r.interrupted && sender.result() == -1) return kInterrupted;  // during a walk or back-off
  if (r.tls_config_error) return kUsage;
  if (!r.reached) return report_unreachable(o, r);
  return sender.result() == -1 ? kUnreachable : sender.result();
}

int run_connect(const SendOptions& o) {
  Probe probe;
  RunResult r = run_connection(o, probe, [&](Connection& c) { probe.interrupt(c); });
  if (r.tls_config_error) return kUsage;
  std::cout << "relay " << o.connect.to_string() << "\n";
  for (const auto& a : r.report.attempts) std::cout << "  " << a.line() << "\n";
  if (r.interrupted && !r.reached) return kInterrupted;
  if (!r.reached) {
    std::cout << "result: no transport reached the relay\n";
    return r.report.credentials_problem() || certificate_problem(r.report) ? kRefused
                                                                           : kUnreachable;
  }
  const auto* w = r.report.winner();
  std::cout << "result: " << (w ? w->step : std::string("?")) << " (" << r.transport
            << "): " << probe.summary() << "\n";
  return probe.result() == -1 ? kUnreachable : probe.result();
}

}  // namespace grove::cli
