// The client's transport fallback (henc.md §11): native SSTP on 2492, direct 443, the Secure
// Tunnel through an HTTP proxy, SOCKS; the HTTP encapsulations (steps 5-7) plug in later as
// more Steps. A step works once the SSTP ConnectResponse has arrived over it (§11.2), which
// only the SSTP engine can see, so the walk is a conversation with the caller:
//
//   FallbackDialer dialer(executor, plan_steps(options, ...));
//   while (auto t = co_await dialer.next()) {       // the next transport ready to carry SSTP
//     run the SSTP engine over t->stream; close it at t->deadline unless a ConnectResponse came;
//     when handshake_progress(event) == arrived:  dialer.working();  -> the walk is over
//     when it says failed (or the deadline hit):  dialer.failed(why); and loop
//   }                                               // nullopt: every step failed
//   dialer.report()                                 // every attempt: step, time, outcome, why
//
// Steps may run at once: a step with a `stagger` lets the next one start that long after it
// started if it has not worked yet (Happy Eyeballs; the order of starting stays the plan's).
// The first transport to become ready carries the SSTP Connect; transports that become ready
// meanwhile wait as spares and are handed out if the carrier fails; spares never see an SSTP
// byte and are closed when the walk ends (§11.2 staggered start).
//
// Everything runs on one executor; no locks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "engine/events.hpp"
#include "net/proxy_dial.hpp"
#include "net/stream.hpp"

namespace grove::net {

// One way of reaching the relay (a row of henc.md §11.1).
struct Step {
  int number = 0;      // §11.1 step number, for reports (1 native ... 4 SOCKS, 5-7 HTTP)
  std::string name;    // "native", "direct443", "tunnel", "socks"; also the PathMemory value
  std::string target;  // for humans: "relay:443 via http proxy 10.0.0.1:3128"
  // Opens the transport; nullptr with ec and report.reason on failure. Must honour Asio
  // cancellation (the walk cancels dials that are still running when it ends).
  std::function<awaitable<ByteStreamPtr>(std::error_code& ec, DialReport& report)> dial;
  // Let the next step start this long after this one started, if this one has not worked by
  // then; nullopt: the next step starts once this one failed.
  std::optional<std::chrono::milliseconds> stagger;
  // ConnectionEstablishment (§10): from DialReport::timer_start to the ConnectResponse.
  std::chrono::milliseconds establishment{15000};
};

// The steps §11.1 allows for one relay.
struct FallbackOptions {
  HostPort relay;                // host and native SSTP port (2492): step 1, SOCKS target
  std::uint16_t port_443 = 443;  // step 2 and the CONNECT target of step 3 (§6.1, §8)
  std::uint16_t http_port = 80;  // steps 5-7: the relay's HTTP encapsulation port (§2.1)
  std::optional<HttpProxyConfig> http_proxy;    // step 3 only when set
  std::optional<SocksProxyConfig> socks_proxy;  // step 4 only when set
  // Step names to try, in this order (`grove --path`); empty = every applicable step in the
  // §11.1 order. Names without their proxy configured are skipped (check with step_available).
  std::vector<std::string> only;
  DialTimeouts timeouts;
  // Happy Eyeballs delay between the first step of the walk and the second (RFC 8305 uses
  // 250 ms). Later steps start one after another. [DECIDED here; henc.md §11.2 allows a
  // staggered start]
  std::chrono::milliseconds stagger{250};
};

// §11.1 steps 1-7; the HTTP encapsulations (5-7) go through http_proxy when it is set.
inline constexpr const char* kStepNames[] = {"native",    "direct443", "tunnel", "socks",
                                             "keepalive", "longlived", "polling"};

// True for a step name plan_steps knows.
[[nodiscard]] bool known_step(std::string_view name);
// True when `name` can run with these options (tunnel needs http_proxy, socks needs socks_proxy).
[[nodiscard]] bool step_available(const FallbackOptions& o, std::string_view name);

// Steps 1-7 of §11.1 that apply, in order (or options.only's order). `preferred` (the step that
// last worked for this relay, from PathMemory) moves to the front when it applies (§11.2: the
// step that worked is tried first again). The first step gets options.stagger. `memos` (may be
// null) lets tunnel dials send credentials at once after the first success (§7.1); it must
// outlive the steps; the HTTP encapsulations (5-7) use it too.
[[nodiscard]] std::vector<Step> plan_steps(const FallbackOptions& options, ProxyAuthMemos* memos,
                                           const std::optional<std::string>& preferred = {});

// A transport ready to carry SSTP, handed to the caller by FallbackDialer::next().
struct Transport {
  ByteStreamPtr stream;
  std::string step;  // Step::name
  // ConnectionEstablishment expiry: close the stream and report failed() unless the
  // ConnectResponse arrived by then.
  DialClock::time_point deadline;
};

// How one started step ended, for reports.
struct Attempt {
  enum class Outcome {
    working,    // the ConnectResponse arrived over it
    failed,     // the dial or the SSTP handshake failed
    unused,     // ready, but the walk ended first: closed without an SSTP byte
    cancelled,  // still dialing when the walk ended
  };
  int number = 0;
  std::string step;
  std::string target;
  Outcome outcome = Outcome::cancelled;
  std::chrono::milliseconds elapsed{0};  // from its start to its outcome
  std::string reason;                    // why it failed (empty otherwise)
  std::error_code error;                 // the cause, when there is one
  std::vector<std::string> trace;        // DialReport::trace, for -vv
  std::string warning;                   // DialReport::warning
  // "step 3 tunnel relay:443 via http proxy p:3128: failed after 12 ms: proxy p:3128 forbids..."
  [[nodiscard]] std::string line() const;
};

struct Report {
  std::vector<Attempt> attempts;  // in the order the steps started
  [[nodiscard]] const Attempt* winner() const;
  // True when a step failed because of proxy credentials (rejected, or missing where the proxy
  // wants them): the user must fix a password, not the network (exit code 4 in the CLI).
  [[nodiscard]] bool credentials_problem() const;
};

class FallbackDialer {
 public:
  FallbackDialer(asio::any_io_executor ex, std::vector<Step> steps);
  // Ends the walk: dials still running are cancelled, spares closed.
  ~FallbackDialer();
  FallbackDialer(const FallbackDialer&) = delete;
  FallbackDialer& operator=(const FallbackDialer&) = delete;

  // The next transport ready to carry SSTP; starts the walk on the first call. nullopt when
  // every step failed or the walk is over. The caller owns the stream and must answer with
  // working() or failed() before calling next() again (an unanswered one counts as failed).
  awaitable<std::optional<Transport>> next();
  // The ConnectResponse arrived over the transport last handed out: the walk is over.
  void working();
  // The transport last handed out failed before the ConnectResponse (EOF, error, deadline).
  void failed(std::string reason, std::error_code ec = {});
  // Ends the walk now (interrupted); next() returns nullopt.
  void stop();

  // Attempts so far; complete once next() returned nullopt or working() was called.
  [[nodiscard]] Report report() const;

  // The walk's state, shared with the coroutines dialing the steps so that they may outlive
  // the dialer; defined in fallback.cpp.
  struct Shared;

 private:
  std::shared_ptr<Shared> s_;
};

// What an engine event says about the SSTP handshake on the transport it rides (§11.2).
enum class HandshakeProgress {
  pending,  // nothing decided yet
  arrived,  // a ConnectResponse arrived (Ok or not): the step works, stop walking
  failed,   // the connection ended before any ConnectResponse: try the next step
};
// Established, a refusal, and the initiator's checks of a received ConnectResponse (version,
// grove-auth-1 relay proof) count as arrived; any other ConnectionClosed before them as failed.
[[nodiscard]] HandshakeProgress handshake_progress(const engine::Event& e);

}  // namespace grove::net
