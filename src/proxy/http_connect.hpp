// Secure Tunnel client handshake: HTTP/1.0 CONNECT through an HTTP proxy (henc.md §6, §12.8)
// with proxy authentication (§7). Sans-I/O (style.md rule 2): the caller opens the TCP
// connection to the proxy, constructs this core, writes pending_output(), feeds what it reads to
// receive() and watches the state:
//
//   requested/draining  keep reading and writing
//   reconnect           close this connection, open a new one to the proxy, call reconnected()
//   tunnel              done(): the tunnel is open; the bytes receive() did not consume, and
//                       everything read later, are SSTP
//   failed              failed(): error() names the step failure
//
// receive() never consumes past the end of the response head of a 2xx, so SSTP bytes the proxy
// forwarded in the same read stay with the caller. Nothing is queued after a request until its
// response head has been read (§6.1). The core reads no clock: the caller runs the
// ConnectionEstablishment timer (15 s, §10) and restarts it whenever requests() grows (§7.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "http/head.hpp"
#include "proxy/auth.hpp"
#include "proxy/errc.hpp"
#include "wire/bytes.hpp"

namespace grove::proxy {

struct ConnectOptions {
  std::string host;          // relay host name or IP literal; IPv6 with or without brackets
  std::uint16_t port = 443;  // henc.md §6.1: the relay's 443 listener; configurable for tests
  std::string user_agent = "Grove/1.0";  // §2.3: Grove/<version>, configurable
  AuthOptions auth;
  // §6.2: a response head longer than 8192 bytes fails the step.
  std::size_t max_head_bytes = 8192;
  // A 401/407 body is a short error page; a longer one is not drained: the retry goes on a new
  // connection instead (NTLM, which needs this connection, fails with body_too_large).
  std::size_t max_drain_bytes = 65536;
  // 1xx heads are skipped (§6.2); a proxy sending more than this many is broken.
  unsigned max_interim_responses = 8;
};

class HttpConnect {
 public:
  enum class State { requested, draining, reconnect, tunnel, failed };

  // Queues the first CONNECT (with credentials when AuthOptions::memo says the proxy wants
  // them). Throws std::invalid_argument for configuration errors: empty host, control
  // characters or spaces in host or user agent, and those of Authenticator.
  explicit HttpConnect(ConnectOptions options);

  // Feeds bytes read from the proxy; returns how many belong to the handshake. Reads the
  // response head (and drains a 401/407 body before reusing the connection). Consumes nothing
  // in states reconnect, tunnel and failed. Input is not kept past the call.
  [[nodiscard]] std::size_t receive(ByteView in);
  // The proxy closed the connection (EOF or reset). Before the tunnel opens this fails the step:
  // closed_early, or ntlm_connection_closed in the middle of NTLM. No effect in reconnect,
  // tunnel and failed.
  void receive_eof();

  // Request bytes to write to the proxy; valid until the next non-const call.
  [[nodiscard]] ByteView pending_output() const;
  // Reports that the first n bytes of pending_output() were written.
  void consume_output(std::size_t n);

  // In state reconnect: a new TCP connection to the proxy is up; queues the retry on it.
  void reconnected();

  [[nodiscard]] State state() const { return state_; }
  // "Requested", "Draining", "Reconnect", "Tunnel", "Failed": for the caller's -v logs.
  [[nodiscard]] static std::string_view state_name(State s);
  [[nodiscard]] bool done() const { return state_ == State::tunnel; }
  [[nodiscard]] bool failed() const { return state_ == State::failed; }
  [[nodiscard]] bool needs_new_connection() const { return state_ == State::reconnect; }
  // grove.proxy error once failed(); empty otherwise.
  [[nodiscard]] std::error_code error() const { return error_; }
  // Status code and reason phrase of the last response head (0 and empty before one arrived),
  // for the step-failure message of §6.2 ("(<code> <reason>)").
  [[nodiscard]] int status_code() const { return status_; }
  [[nodiscard]] std::string_view reason_phrase() const { return reason_; }
  // Number of CONNECT requests queued so far (1 after construction).
  [[nodiscard]] unsigned requests() const { return requests_; }
  // What later connections to this proxy should reuse (store it once done()).
  [[nodiscard]] const AuthMemo& auth_memo() const { return auth_.memo(); }
  [[nodiscard]] AuthScheme auth_scheme() const { return auth_.scheme(); }

 private:
  void queue_request(const std::string* authorization);
  void on_head();
  void on_auth_challenge();
  void retry_same_connection();
  void fail(std::error_code e);

  ConnectOptions options_;
  std::string authority_;  // host:port as on the request line, the Digest uri (§7.3)
  Authenticator auth_;
  http::Head head_;
  State state_ = State::requested;
  std::error_code error_;
  Bytes output_;
  std::size_t output_sent_ = 0;
  std::uint64_t drain_left_ = 0;
  unsigned interim_ = 0;
  unsigned requests_ = 0;
  int status_ = 0;
  std::string reason_;
  std::string auth_header_ = "Proxy-Authorization";
};

}  // namespace grove::proxy
