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
#include "cli/runner.hpp"
#include "cli/sender.hpp"

namespace grove::cli {
namespace {

using engine::Connection;

engine::Options engine_options(const SendOptions& o) {
  engine::Options eo;
  eo.role = engine::Role::initiator;
  eo.local_device_url = o.device_url;
  eo.target_device_url = o.relay_url.empty() ? o.to_url : o.relay_url;
  eo.device_secret = o.secret;
  eo.allow_unauthenticated_peer = o.allow_unauthenticated;
  return eo;
}

// After a lost connection: a back-off (sstp.md §7.8) and a new walk, until the sender is done
// or --retry-for passes without an acknowledgement.
class SendReconnect final : public Reconnect {
 public:
  SendReconnect(const SendOptions& o, Sender& sender)
      : o_(o), sender_(sender), rng_(std::random_device{}()) {}

  std::optional<std::chrono::milliseconds> next_walk(int walk, bool reached,
                                                     const net::Report& report) override {
    if (!sender_.wants_reconnect()) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (!give_up_at_ || sender_.confirmed() > confirmed_at_loss_) {
      give_up_at_ = now + o_.retry_for;  // progress was made: a fresh --retry-for window
      confirmed_at_loss_ = sender_.confirmed();
    }
    if (!reached) {
      spdlog::warn("walk {}: no transport reached {}", walk, o_.connect.to_string());
      for (const auto& a : report.attempts) spdlog::warn("  {}", a.line());
    }
    if (now >= *give_up_at_) {
      sender_.give_up(fmt::format(
          "gave up reconnecting to {}: no acknowledgement for {} s", o_.connect.to_string(),
          std::chrono::duration_cast<std::chrono::seconds>(o_.retry_for).count()));
      return std::nullopt;
    }
    const auto wait = std::min<std::chrono::steady_clock::duration>(
        backoff_.next(reached ? sender_.last_end() : Backoff::Ended{},
                      std::uniform_real_distribution<double>(0.0, 1.0)(rng_)),
        *give_up_at_ - now);
    return std::chrono::duration_cast<std::chrono::milliseconds>(wait);
  }

  void reconnected(const std::string& step, const std::string& transport) override {
    spdlog::warn("reconnected by step {} ({}); sending {} unacknowledged messages again", step,
                 transport, sender_.requeued());
  }

 private:
  const SendOptions& o_;
  Sender& sender_;
  Backoff backoff_;
  std::mt19937_64 rng_;
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;
  std::size_t confirmed_at_loss_ = 0;
};

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
  Runner runner(o);
  // --limit-rate: the sender pauses and asks to be woken.
  asio::steady_timer wake(runner.io());
  sender.schedule_wake = [&](std::chrono::milliseconds d) {
    wake.expires_after(d);
    wake.async_wait([&](const std::error_code& ec) {
      if (!ec) (void)runner.act([&](Connection& c) { sender.wake(c); });
    });
  };
  SendReconnect reconnect(o, sender);
  RunHooks hooks;
  hooks.interrupt = [&](Connection& c) { sender.interrupt(c); };
  hooks.over = [&] { wake.cancel(); };
  hooks.reconnect = &reconnect;
  const RunResult r = runner.run(engine_options(o), sender, hooks);
  if (r.interrupted && sender.result() == -1) return kInterrupted;  // during a walk or back-off
  if (r.tls_config_error) return kUsage;
  if (!r.reached) return report_unreachable(o, r);
  return sender.result() == -1 ? kUnreachable : sender.result();
}

int run_connect(const SendOptions& o) {
  Probe probe;
  Runner runner(o);
  RunHooks hooks;
  hooks.interrupt = [&](Connection& c) { probe.interrupt(c); };
  const RunResult r = runner.run(engine_options(o), probe, hooks);
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
