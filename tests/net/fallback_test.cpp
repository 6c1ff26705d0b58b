// The fallback walk (net/fallback.hpp, henc.md §11) with scripted steps: order, Happy Eyeballs
// stagger, spares, cancellation and the report. Real Asio timers, no sockets.
#include "net/fallback.hpp"

#include <gtest/gtest.h>

#include "proxy/errc.hpp"
#include "sstp/errc.hpp"

namespace grove::net {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// What happened to one scripted step.
struct Probe {
  bool started = false;
  bool cancelled = false;
  bool closed = false;  // the stream it produced was closed by the walk
};

class FakeStream final : public ByteStream {
 public:
  FakeStream(std::string name, std::shared_ptr<Probe> p) : name_(std::move(name)), p_(p) {}
  awaitable<std::size_t> read_some(std::span<Byte>, std::error_code& ec) override {
    ec = asio::error::eof;
    co_return 0;
  }
  awaitable<void> write_all(ByteView, std::error_code& ec) override {
    ec.clear();
    co_return;
  }
  void close() override { p_->closed = true; }
  std::string describe() const override { return name_; }

 private:
  std::string name_;
  std::shared_ptr<Probe> p_;
};

// A step that is ready (or fails with `error`) after `delay`.
Step scripted(int number, std::string name, milliseconds delay, std::shared_ptr<Probe> p,
              std::error_code error = {}, std::optional<milliseconds> stagger = {}) {
  Step s;
  s.number = number;
  s.name = name;
  s.target = "relay:" + std::to_string(number);
  s.stagger = stagger;
  s.dial = [delay, p, error, name](std::error_code& ec, DialReport& r) -> awaitable<ByteStreamPtr> {
    p->started = true;
    asio::steady_timer t(co_await asio::this_coro::executor, delay);
    auto [wait_ec] = co_await t.async_wait(use_tuple);
    if (wait_ec) {
      p->cancelled = true;
      co_return nullptr;
    }
    if (error) {
      ec = error;
      r.reason = name + " refused";
      co_return nullptr;
    }
    co_return std::make_unique<FakeStream>(name, p);
  };
  return s;
}

// ASSERT_* returns, which a coroutine cannot: fail and co_return instead.
#define CO_ASSERT(cond)                  \
  do {                                   \
    if (!(cond)) {                       \
      ADD_FAILURE() << "failed: " #cond; \
      co_return;                         \
    }                                    \
  } while (0)

// Runs `body` on a fresh io_context; fails the test if it does not finish within 5 s.
template <typename F>
void run(F body) {
  asio::io_context io;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await body(io.get_executor());
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(5s);
  EXPECT_TRUE(done) << "the scenario did not finish";
}

awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  (void)co_await t.async_wait(use_tuple);
}

TEST(Fallback, FirstFailsSecondWorks) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 1ms, p1, asio::error::connection_refused, 1s));
    steps.push_back(scripted(2, "direct443", 1ms, p2));
    FallbackDialer d(ex, std::move(steps));
    auto t = co_await d.next();
    EXPECT_TRUE(t);
    if (!t) co_return;
    EXPECT_EQ(t->step, "direct443");
    d.working();
    Report r = d.report();
    EXPECT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].outcome, Attempt::Outcome::failed);
    EXPECT_EQ(r.attempts[0].reason, "native refused");
    EXPECT_EQ(r.attempts[1].outcome, Attempt::Outcome::working);
    CO_ASSERT(r.winner());
    EXPECT_EQ(r.winner()->step, "direct443");
    EXPECT_FALSE(r.credentials_problem());
    EXPECT_NE(r.attempts[0].line().find("step 1 native relay:1: failed after"), std::string::npos)
        << r.attempts[0].line();
  });
}

// Happy Eyeballs: a hanging first step lets the second start after its stagger; when the second
// works, the first is cancelled.
TEST(Fallback, StaggerStartsSecondWhileFirstHangs) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 10s, p1, {}, 50ms));
    steps.push_back(scripted(2, "direct443", 1ms, p2));
    FallbackDialer d(ex, std::move(steps));
    const auto start = DialClock::now();
    auto t = co_await d.next();
    EXPECT_TRUE(t);
    if (!t) co_return;
    EXPECT_EQ(t->step, "direct443");
    EXPECT_GE(DialClock::now() - start, 50ms);
    EXPECT_LT(DialClock::now() - start, 2s);
    d.working();
    co_await sleep_for(10ms);  // let the cancelled dial unwind
    EXPECT_TRUE(p1->cancelled);
    Report r = d.report();
    CO_ASSERT(r.attempts.size() == 2u);
    EXPECT_EQ(r.attempts[0].outcome, Attempt::Outcome::cancelled);
    EXPECT_EQ(r.attempts[1].outcome, Attempt::Outcome::working);
  });
}

// Without a stagger the next step waits for the previous one to fail.
TEST(Fallback, NoStaggerMeansSequential) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(3, "tunnel", 100ms, p1, proxy::errc::proxy_forbidden));
    steps.push_back(scripted(4, "socks", 1ms, p2));
    FallbackDialer d(ex, std::move(steps));
    std::optional<std::string> got;
    asio::co_spawn(
        ex,
        [&]() -> awaitable<void> {
          auto t = co_await d.next();
          got = t ? t->step : "none";
        },
        asio::detached);
    co_await sleep_for(50ms);
    EXPECT_TRUE(p1->started);
    EXPECT_FALSE(p2->started);
    while (!got) co_await sleep_for(5ms);
    EXPECT_EQ(*got, "socks");
    d.working();
  });
}

// A transport that becomes ready while the carrier's handshake runs waits as a spare; it is
// used when the carrier fails, and never sees SSTP otherwise.
TEST(Fallback, SpareIsUsedWhenCarrierFails) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 1ms, p1, {}, 20ms));
    steps.push_back(scripted(2, "direct443", 1ms, p2));
    FallbackDialer d(ex, std::move(steps));
    auto t1 = co_await d.next();
    EXPECT_TRUE(t1 && t1->step == "native");
    co_await sleep_for(100ms);  // the "handshake" takes longer than the stagger
    EXPECT_TRUE(p2->started);
    d.failed("the peer closed the byte stream", sstp::errc::connection_closed);
    auto t2 = co_await d.next();
    EXPECT_TRUE(t2 && t2->step == "direct443");
    d.working();
    EXPECT_FALSE(p2->closed);  // handed out, now the caller's
    Report r = d.report();
    CO_ASSERT(r.attempts.size() == 2u);
    EXPECT_EQ(r.attempts[0].outcome, Attempt::Outcome::failed);
    EXPECT_EQ(r.attempts[0].reason, "the peer closed the byte stream");
    EXPECT_EQ(r.attempts[1].outcome, Attempt::Outcome::working);
  });
}

TEST(Fallback, SpareIsClosedUnusedWhenCarrierWorks) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 1ms, p1, {}, 20ms));
    steps.push_back(scripted(2, "direct443", 1ms, p2));
    FallbackDialer d(ex, std::move(steps));
    auto t1 = co_await d.next();
    EXPECT_TRUE(t1 && t1->step == "native");
    co_await sleep_for(100ms);
    d.working();
    EXPECT_TRUE(p2->closed);
    Report r = d.report();
    CO_ASSERT(r.attempts.size() == 2u);
    EXPECT_EQ(r.attempts[1].outcome, Attempt::Outcome::unused);
  });
}

// henc.md §6.2: a tunnel closed before the ConnectResponse gets the TLS-inspection hint.
TEST(Fallback, TunnelClosedAfterConnectHint) {
  auto p = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(3, "tunnel", 1ms, p));
    FallbackDialer d(ex, std::move(steps));
    auto t = co_await d.next();
    EXPECT_TRUE(t);
    d.failed("the peer closed the byte stream without ConnectClose", sstp::errc::connection_closed);
    EXPECT_FALSE(co_await d.next());
    Report r = d.report();
    CO_ASSERT(r.attempts.size() == 1u);
    EXPECT_EQ(r.attempts[0].reason, "tunnel closed after CONNECT; the proxy may inspect TLS");
  });
}

TEST(Fallback, AllFailedAndCredentialsProblem) {
  auto p1 = std::make_shared<Probe>(), p2 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 1ms, p1, asio::error::connection_refused, 250ms));
    steps.push_back(scripted(3, "tunnel", 1ms, p2, proxy::errc::proxy_auth_failed));
    FallbackDialer d(ex, std::move(steps));
    EXPECT_FALSE(co_await d.next());
    EXPECT_FALSE(co_await d.next());  // stays over
    Report r = d.report();
    CO_ASSERT(r.attempts.size() == 2u);
    EXPECT_FALSE(r.winner());
    EXPECT_TRUE(r.credentials_problem());
  });
}

TEST(Fallback, EmptyPlanFailsAtOnce) {
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    FallbackDialer d(ex, {});
    EXPECT_FALSE(co_await d.next());
    EXPECT_TRUE(d.report().attempts.empty());
  });
}

TEST(Fallback, StopCancelsEverything) {
  auto p1 = std::make_shared<Probe>();
  run([&](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<Step> steps;
    steps.push_back(scripted(1, "native", 10s, p1));
    FallbackDialer d(ex, std::move(steps));
    asio::steady_timer t(ex, 20ms);
    t.async_wait([&](std::error_code) { d.stop(); });
    EXPECT_FALSE(co_await d.next());
    co_await sleep_for(10ms);
    EXPECT_TRUE(p1->cancelled);
  });
}

// ---------------------------------------------------------------- plan_steps

std::vector<std::string> names(const std::vector<Step>& steps) {
  std::vector<std::string> n;
  for (const auto& s : steps) n.push_back(s.name);
  return n;
}

TEST(PlanSteps, OrderAndAvailability) {
  FallbackOptions o;
  o.relay = HostPort{"relay.example", 2492};
  using V = std::vector<std::string>;
  EXPECT_EQ(names(plan_steps(o, nullptr)),
            (V{"native", "direct443", "keepalive", "longlived", "polling"}));
  o.socks_proxy = SocksProxyConfig{};
  o.socks_proxy->proxy = HostPort{"socks", 1080};
  o.http_proxy = HttpProxyConfig{};
  o.http_proxy->proxy = HostPort{"proxy", 3128};
  auto steps = plan_steps(o, nullptr);
  EXPECT_EQ(names(steps),
            (V{"native", "direct443", "tunnel", "socks", "keepalive", "longlived", "polling"}));
  EXPECT_EQ(steps[0].stagger, o.stagger);
  EXPECT_FALSE(steps[1].stagger);
  EXPECT_EQ(steps[2].number, 3);
  EXPECT_EQ(steps[2].target, "relay.example:443 via http proxy proxy:3128");
  EXPECT_EQ(steps[3].target, "relay.example:2492 via socks5 proxy socks:1080");
  // The remembered step goes first and gets the stagger.
  steps = plan_steps(o, nullptr, std::string("tunnel"));
  EXPECT_EQ(names(steps),
            (V{"tunnel", "native", "direct443", "socks", "keepalive", "longlived", "polling"}));
  // Steps 5-7 (henc.md §11.1) go through the HTTP proxy when there is one.
  EXPECT_EQ(steps[4].number, 5);
  EXPECT_EQ(steps[4].target, "relay.example:80 via http proxy proxy:3128");
  EXPECT_EQ(steps[6].number, 7);
  EXPECT_EQ(steps[0].stagger, o.stagger);
  // --path: only these, in this order; an unknown or unavailable memory is ignored.
  o.only = {"socks", "tunnel"};
  EXPECT_EQ(names(plan_steps(o, nullptr, std::string("native"))), (V{"socks", "tunnel"}));
  o.http_proxy.reset();
  EXPECT_EQ(names(plan_steps(o, nullptr)), (V{"socks"}));
  EXPECT_TRUE(known_step("direct443"));
  EXPECT_TRUE(known_step("polling"));
  EXPECT_FALSE(known_step("carrier-pigeon"));
}

// ---------------------------------------------------------------- handshake_progress

TEST(HandshakeProgress, WhatCountsAsArrived) {
  EXPECT_EQ(handshake_progress(engine::Established{}), HandshakeProgress::arrived);
  engine::ConnectionClosed refused;
  refused.refused = sstp::ConnectResponseId::AuthenticationFailed;
  EXPECT_EQ(handshake_progress(refused), HandshakeProgress::arrived);
  engine::ConnectionClosed proof;
  proof.error = sstp::errc::authentication_failed;
  EXPECT_EQ(handshake_progress(proof), HandshakeProgress::arrived);
  engine::ConnectionClosed eof;
  eof.by_peer = true;
  eof.error = sstp::errc::connection_closed;
  EXPECT_EQ(handshake_progress(eof), HandshakeProgress::failed);
  engine::ConnectionClosed timeout;
  timeout.error = sstp::errc::handshake_timeout;
  EXPECT_EQ(handshake_progress(timeout), HandshakeProgress::failed);
  EXPECT_EQ(handshake_progress(engine::Acknowledged{}), HandshakeProgress::pending);
}

}  // namespace
}  // namespace grove::net
