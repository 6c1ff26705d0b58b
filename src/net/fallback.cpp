#include "net/fallback.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "net/henc_stream.hpp"
#include "proxy/errc.hpp"
#include "sstp/errc.hpp"

namespace grove::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

std::string socks_scheme(proxy::SocksVersion v) {
  switch (v) {
    case proxy::SocksVersion::v4a:
      return "socks4a";
    case proxy::SocksVersion::v4:
      return "socks4";
    case proxy::SocksVersion::v5:
      break;
  }
  return "socks5";
}

// The HTTP encapsulation a step name stands for.
std::optional<henc::Mode> henc_mode(std::string_view name) {
  if (name == "keepalive") return henc::Mode::keep_alive;
  if (name == "longlived") return henc::Mode::long_lived;
  if (name == "polling") return henc::Mode::polling;
  return std::nullopt;
}

milliseconds ms_since(DialClock::time_point from, DialClock::time_point to) {
  return std::chrono::duration_cast<milliseconds>(to - from);
}

}  // namespace

bool known_step(std::string_view name) {
  return std::find(std::begin(kStepNames), std::end(kStepNames), name) != std::end(kStepNames);
}

bool step_available(const FallbackOptions& o, std::string_view name) {
  if (name == "native" || name == "direct443") return true;
  if (name == "keepalive" || name == "longlived" || name == "polling") return true;
  if (name == "tunnel") return o.http_proxy.has_value();
  if (name == "socks") return o.socks_proxy.has_value();
  return false;
}

std::vector<Step> plan_steps(const FallbackOptions& o, ProxyAuthMemos* memos,
                             const std::optional<std::string>& preferred) {
  std::vector<std::string> order;
  if (o.only.empty()) {
    order.assign(std::begin(kStepNames), std::end(kStepNames));
  } else {
    order = o.only;
  }
  std::erase_if(order, [&](const std::string& n) { return !step_available(o, n); });
  // §11.2: the step that worked last time for this relay goes first; the rest keep their order.
  if (preferred) {
    auto it = std::find(order.begin(), order.end(), *preferred);
    if (it != order.end()) std::rotate(order.begin(), it, it + 1);
  }

  const HostPort relay = o.relay;
  const HostPort relay_443{o.relay.host, o.port_443};
  const DialTimeouts t = o.timeouts;
  std::vector<Step> steps;
  for (const std::string& name : order) {
    Step s;
    s.name = name;
    s.establishment = t.establishment;
    if (name == "native") {  // §11.1 step 1, sstp.md
      s.number = 1;
      s.target = relay.to_string();
      s.dial = [relay, t](std::error_code& ec, DialReport& r) {
        return dial_direct(relay, "tcp", t, ec, r);
      };
    } else if (name == "direct443") {  // step 2, henc.md §8
      s.number = 2;
      s.target = relay_443.to_string();
      s.dial = [relay_443, t](std::error_code& ec, DialReport& r) {
        return dial_direct(relay_443, "direct443", t, ec, r);
      };
    } else if (name == "tunnel") {  // step 3, henc.md §6
      s.number = 3;
      const HttpProxyConfig p = *o.http_proxy;
      s.target = relay_443.to_string() + " via http proxy " + p.proxy.to_string();
      s.dial = [p, relay_443, t, memos](std::error_code& ec, DialReport& r) {
        return dial_http_connect(p, relay_443, t, ec, r, memos);
      };
    } else if (name == "socks") {  // step 4, henc.md §9
      s.number = 4;
      const SocksProxyConfig p = *o.socks_proxy;
      s.target =
          relay.to_string() + " via " + socks_scheme(p.version) + " proxy " + p.proxy.to_string();
      s.dial = [p, relay, t](std::error_code& ec, DialReport& r) {
        return dial_socks(p, relay, t, ec, r);
      };
    } else if (auto mode = henc_mode(name)) {  // steps 5-7, henc.md §3-§5
      HencDialConfig h;
      h.mode = *mode;
      h.relay = HostPort{o.relay.host, o.http_port};
      h.proxy = o.http_proxy;
      s.number = *mode == henc::Mode::keep_alive ? 5 : *mode == henc::Mode::long_lived ? 6 : 7;
      s.target = h.relay.to_string();
      if (h.proxy) s.target += " via http proxy " + h.proxy->proxy.to_string();
      s.dial = [h, t, memos](std::error_code& ec, DialReport& r) {
        return dial_henc(h, t, ec, r, memos);
      };
    }
    steps.push_back(std::move(s));
  }
  if (steps.size() > 1) steps.front().stagger = o.stagger;
  return steps;
}

// ---------------------------------------------------------------- Attempt, Report

std::string Attempt::line() const {
  std::string head = fmt::format("step {} {} {}: ", number, step, target);
  switch (outcome) {
    case Outcome::working:
      return head + fmt::format("working after {} ms", elapsed.count());
    case Outcome::failed:
      return head + fmt::format("failed after {} ms: {}", elapsed.count(), reason);
    case Outcome::unused:
      return head +
             fmt::format("ready after {} ms, closed unused (another step won)", elapsed.count());
    case Outcome::cancelled:
      break;
  }
  return head + fmt::format("cancelled after {} ms (another step won)", elapsed.count());
}

const Attempt* Report::winner() const {
  for (const Attempt& a : attempts)
    if (a.outcome == Attempt::Outcome::working) return &a;
  return nullptr;
}

bool Report::credentials_problem() const {
  using proxy::errc;
  for (const Attempt& a : attempts) {
    if (a.outcome != Attempt::Outcome::failed) continue;
    const std::error_code e = a.error;
    if (e == errc::proxy_auth_failed || e == errc::proxy_auth_required ||
        e == errc::invalid_credentials || e == errc::socks_auth_rejected ||
        e == errc::socks_auth_required)
      return true;
  }
  return false;
}

HandshakeProgress handshake_progress(const engine::Event& e) {
  if (std::holds_alternative<engine::Established>(e)) return HandshakeProgress::arrived;
  const auto* c = std::get_if<engine::ConnectionClosed>(&e);
  if (c == nullptr) return HandshakeProgress::pending;
  // A refusal is a ConnectResponse; bad_version and authentication_failed are raised by the
  // initiator's checks of a received ConnectResponse (sstp.md §7.3.2, auth.md §5.1 C3-C4).
  if (c->refused || c->error == sstp::errc::bad_version ||
      c->error == sstp::errc::authentication_failed)
    return HandshakeProgress::arrived;
  return HandshakeProgress::failed;
}

// ---------------------------------------------------------------- FallbackDialer

struct FallbackDialer::Shared {
  enum class State { idle, dialing, ready, in_use, failed, working, unused, cancelled };
  struct Slot {
    State state = State::idle;
    DialClock::time_point started{}, ready_at{}, ended{};
    ByteStreamPtr stream;
    DialReport report;
    std::string reason;
    std::error_code error;
  };

  Shared(asio::any_io_executor e, std::vector<Step> s)
      : ex(e),
        steps(std::move(s)),
        slots(steps.size()),
        stop_signal(e),
        wake_next(e),
        wake_scheduler(e) {
    stop_signal.expires_at(DialClock::time_point::max());
  }

  asio::any_io_executor ex;
  std::vector<Step> steps;
  std::vector<Slot> slots;  // one per step, same index; never resized
  std::size_t started = 0;  // steps start in plan order: slots [0, started) have started
  std::optional<std::size_t> in_use;
  bool walking = false;
  bool over = false;
  asio::steady_timer stop_signal;  // expires (time_point::min) when the walk ends
  asio::steady_timer wake_next;    // cancelled on every slot change: wakes next()
  asio::steady_timer wake_scheduler;

  void notify() {
    wake_next.cancel();
    wake_scheduler.cancel();
  }

  bool all_failed() const {
    if (started < steps.size()) return false;
    return std::none_of(slots.begin(), slots.end(), [](const Slot& s) {
      return s.state == State::dialing || s.state == State::ready || s.state == State::in_use;
    });
  }

  void end_walk() {
    if (over) return;
    over = true;
    // Dials still running see their stop branch complete and are cancelled; later waits on
    // the expired timer complete at once.
    stop_signal.expires_at(DialClock::time_point::min());
    const auto now = DialClock::now();
    for (Slot& s : slots) {
      if (s.state == State::ready) {  // §11.2: a spare is closed without any SSTP byte
        s.stream->close();
        s.stream.reset();
        s.state = State::unused;
        s.ended = now;
      } else if (s.state == State::dialing) {
        s.state = State::cancelled;
        s.ended = now;
      }
    }
    notify();
  }
};

namespace {

using Shared = FallbackDialer::Shared;

awaitable<void> wait_stop(std::shared_ptr<Shared> s) {
  (void)co_await s->stop_signal.async_wait(use_tuple);
}

// A dial that throws (a bug, or the random source failing) fails its step instead of the walk.
awaitable<ByteStreamPtr> guarded_dial(const Step& step, std::error_code& ec, DialReport& r) {
  try {
    co_return co_await step.dial(ec, r);
  } catch (const std::exception& e) {
    if (!ec) ec = std::make_error_code(std::errc::io_error);
    if (r.reason.empty()) r.reason = e.what();
  }
  co_return nullptr;
}

awaitable<void> run_step(std::shared_ptr<Shared> s, std::size_t i) {
  std::error_code ec;
  DialReport report;
  auto result = co_await (guarded_dial(s->steps[i], ec, report) || wait_stop(s));
  Shared::Slot& slot = s->slots[i];
  slot.report = std::move(report);
  ByteStreamPtr stream = result.index() == 0 ? std::move(std::get<0>(result)) : nullptr;
  if (s->over) {  // the walk ended while this step was dialing
    if (stream) stream->close();
    co_return;
  }
  slot.ended = DialClock::now();
  if (stream) {
    slot.stream = std::move(stream);
    slot.state = Shared::State::ready;
    slot.ready_at = slot.ended;
  } else {
    slot.state = Shared::State::failed;
    slot.error = ec;
    slot.reason = slot.report.reason.empty() ? ec.message() : slot.report.reason;
  }
  s->notify();
}

void start_step(const std::shared_ptr<Shared>& s) {
  const std::size_t i = s->started++;
  s->slots[i].state = Shared::State::dialing;
  s->slots[i].started = DialClock::now();
  asio::co_spawn(s->ex, run_step(s, i), [](std::exception_ptr) {});
}

// Starts steps in plan order: the next one once the previous failed, or after the previous
// one's stagger while it has not worked yet.
awaitable<void> schedule(std::shared_ptr<Shared> s) {
  while (!s->over && s->started < s->steps.size()) {
    const std::size_t j = s->started;
    auto due = DialClock::time_point::max();
    if (j == 0 || s->slots[j - 1].state == Shared::State::failed) {
      start_step(s);
      continue;
    }
    if (const auto& stagger = s->steps[j - 1].stagger) {
      due = s->slots[j - 1].started + *stagger;
      if (DialClock::now() >= due) {
        start_step(s);
        continue;
      }
    }
    s->wake_scheduler.expires_at(due);
    (void)co_await s->wake_scheduler.async_wait(use_tuple);
  }
}

}  // namespace

FallbackDialer::FallbackDialer(asio::any_io_executor ex, std::vector<Step> steps)
    : s_(std::make_shared<Shared>(ex, std::move(steps))) {}

FallbackDialer::~FallbackDialer() { s_->end_walk(); }

awaitable<std::optional<Transport>> FallbackDialer::next() {
  std::shared_ptr<Shared> s = s_;
  if (s->in_use) failed("abandoned before its ConnectResponse");
  if (!s->walking) {
    s->walking = true;
    asio::co_spawn(s->ex, schedule(s), [](std::exception_ptr) {});
  }
  for (;;) {
    if (s->over) co_return std::nullopt;
    std::optional<std::size_t> pick;
    for (std::size_t i = 0; i < s->slots.size(); ++i) {
      const Shared::Slot& slot = s->slots[i];
      if (slot.state == Shared::State::ready && (!pick || slot.ready_at < s->slots[*pick].ready_at))
        pick = i;
    }
    if (pick) {
      Shared::Slot& slot = s->slots[*pick];
      slot.state = Shared::State::in_use;
      s->in_use = *pick;
      Transport t;
      t.stream = std::move(slot.stream);
      t.step = s->steps[*pick].name;
      t.deadline = slot.report.timer_start + s->steps[*pick].establishment;
      co_return t;
    }
    if (s->all_failed()) {
      s->end_walk();
      co_return std::nullopt;
    }
    s->wake_next.expires_at(DialClock::time_point::max());
    (void)co_await s->wake_next.async_wait(use_tuple);
  }
}

void FallbackDialer::working() {
  if (!s_->in_use) return;
  Shared::Slot& slot = s_->slots[*s_->in_use];
  slot.state = Shared::State::working;
  slot.ended = DialClock::now();
  s_->in_use.reset();
  s_->end_walk();
}

void FallbackDialer::failed(std::string reason, std::error_code ec) {
  if (!s_->in_use) return;
  const std::size_t i = *s_->in_use;
  Shared::Slot& slot = s_->slots[i];
  slot.state = Shared::State::failed;
  slot.ended = DialClock::now();
  slot.error = ec;
  if (s_->steps[i].name == "tunnel" && ec == sstp::errc::connection_closed) {
    // henc.md §6.2: a 2xx followed by a close before the ConnectResponse.
    slot.reason = "tunnel closed after CONNECT; the proxy may inspect TLS";
  } else {
    slot.reason = std::move(reason);
  }
  s_->in_use.reset();
  s_->notify();
}

void FallbackDialer::stop() { s_->end_walk(); }

Report FallbackDialer::report() const {
  Report r;
  const auto now = DialClock::now();
  for (std::size_t i = 0; i < s_->slots.size(); ++i) {
    const Shared::Slot& slot = s_->slots[i];
    if (slot.state == Shared::State::idle) continue;
    Attempt a;
    a.number = s_->steps[i].number;
    a.step = s_->steps[i].name;
    a.target = s_->steps[i].target;
    switch (slot.state) {
      case Shared::State::working:
        a.outcome = Attempt::Outcome::working;
        break;
      case Shared::State::failed:
        a.outcome = Attempt::Outcome::failed;
        break;
      case Shared::State::unused:
        a.outcome = Attempt::Outcome::unused;
        break;
      default:
        a.outcome = Attempt::Outcome::cancelled;
        break;
    }
    const bool ended = slot.state == Shared::State::working ||
                       slot.state == Shared::State::failed || slot.state == Shared::State::unused ||
                       slot.state == Shared::State::cancelled;
    a.elapsed = ms_since(slot.started, ended ? slot.ended : now);
    if (slot.state == Shared::State::unused) a.elapsed = ms_since(slot.started, slot.ready_at);
    a.reason = slot.reason;
    a.error = slot.error;
    a.trace = slot.report.trace;
    a.warning = slot.report.warning;
    r.attempts.push_back(std::move(a));
  }
  return r;
}

}  // namespace grove::net
