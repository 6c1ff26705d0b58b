// The client side of the HTTP encapsulations (henc.md §3.5 LongLived, §4.4 KeepAlive, §5.11
// Polling, §7 proxy authentication, §10 timers), sans-I/O. One object is one virtual
// connection: it names the TCP connections ("slots") it wants, queues request bytes per slot,
// reads the answers, and carries SSTP bytes both ways. The caller owns the sockets and the
// clock:
//
//   ClientCore vc(options, now);
//   for each slot s:  if vc.wants_connect(s): open TCP (to the proxy or relay:80), vc.connected(s)
//                     write vc.output(s), vc.consume(s, n); feed reads to vc.receive(s, ...)
//                     if vc.wants_close(s): close the socket once output is written, vc.closed(s)
//   vc.send(sstp bytes); vc.input() / vc.consume_input(n)
//   LongLived, established: vc.stream_direct(0) / vc.send_direct(n), wrote(1): the caller moves
//   SSTP bytes between the sockets and its own buffers, without copies through the core
//   vc.next_deadline() / vc.on_timer(now)
//   vc.state(): connecting → established → closed (vc.error() says why)
//
// Slots: LongLived and KeepAlive use 0 = GET session, 1 = POST session; Polling uses slot 0
// for every POST (a new TCP connection each time, §5). Proxy authentication is per request
// (proxy::Authenticator), with the memo of an earlier request sent at once (§7.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "henc/errc.hpp"
#include "henc/head.hpp"
#include "henc/messages.hpp"
#include "henc/wire.hpp"
#include "proxy/auth.hpp"

namespace grove::henc {

using ClientClock = std::chrono::steady_clock;
using ClientTime = ClientClock::time_point;

enum class Mode { long_lived, keep_alive, polling };
// "longlived", "keepalive", "polling": step names and --path values.
[[nodiscard]] const char* mode_name(Mode m);

struct ClientOptions {
  Mode mode = Mode::long_lived;
  std::string server_host;  // ServerHost: relay name or IP literal (IPv6 without brackets)
  std::uint16_t http_port = 80;
  bool proxied = false;  // absolute URIs and Proxy-Connection (§2.1, §2.3)
  std::string user_agent = "Grove/1.0";
  proxy::AuthOptions auth;  // credentials, random, clock and the memo of this proxy
  // Fills its argument with CSPRNG bytes (the GUID, §2.2). Required.
  std::function<void(std::span<Byte>)> random;
  std::chrono::milliseconds establishment{15000};  // §10 ConnectionEstablishment
  std::chrono::milliseconds response{60000};       // §10 NetworkReceiveIO (KA, PO)
  std::uint64_t budget = kLongLivedBudget;         // §3.4 ContentLength (tests use less)
  PollParams poll;                                 // §5.8 until the relay sends its own
  std::size_t max_input = 1 << 20;                 // read back-pressure
};

class ClientCore {
 public:
  enum class State { connecting, established, closed };

  // Throws std::invalid_argument for configuration errors (empty host, no random source, those
  // of proxy::Authenticator).
  ClientCore(ClientOptions options, ClientTime now);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  [[nodiscard]] int slots() const { return options_.mode == Mode::polling ? 1 : 2; }
  [[nodiscard]] bool wants_connect(int slot) const;
  void connected(int slot, ClientTime now);
  void connect_failed(int slot, std::error_code ec, ClientTime now);
  [[nodiscard]] ByteView output(int slot) const;
  void consume(int slot, std::size_t n);
  // Swaps all of output(slot) into `into` (the same as output() then consume(), without a
  // copy). The core keeps `into`'s old buffer, cleared, for the slot's next output.
  void take_output(int slot, Bytes& into);
  // The bytes of the last take_output(slot) or send_direct() are written: they no longer count
  // as backlog.
  void wrote(int slot);
  void receive(int slot, ByteView in, ClientTime now);
  void receive_eof(int slot, ClientTime now);
  [[nodiscard]] bool can_receive(int slot) const;
  // Close this slot's socket once its output is written, then call closed().
  [[nodiscard]] bool wants_close(int slot) const;
  void closed(int slot, ClientTime now);

  // SSTP bytes to the relay; queued until Established (§3.3).
  void send(ByteView data, ClientTime now);
  // SSTP bytes queued and not yet written to a socket.
  [[nodiscard]] std::size_t send_backlog() const;
  [[nodiscard]] ByteView input() const;
  void consume_input(std::size_t n);

  // LongLived once Established: the GET body is nothing but SSTP bytes and the POST body
  // nothing but what send() would queue, so the caller may skip the core's buffers.
  // True when `slot` is the GET session streaming SSTP: the caller may stop calling receive()
  // for it and read the socket straight into its own buffer once input() is empty (EOF still
  // goes to receive_eof()).
  [[nodiscard]] bool stream_direct(int slot) const;
  // Asks to write `n` SSTP bytes on the POST session straight from the caller's buffer. True
  // when nothing is queued or being written there and the budget allows `n` (§3.4): the bytes
  // are counted as sent, and as backlog until wrote(1). False otherwise: use send(), which
  // queues them after the others or renews the virtual connection.
  [[nodiscard]] bool send_direct(std::size_t n);

  [[nodiscard]] ClientTime next_deadline() const;
  void on_timer(ClientTime now);
  // The SSTP connection ended: Polling still sends what is queued (§5.11 row 9), the others
  // close at once after their output.
  void close(ClientTime now);

  [[nodiscard]] State state() const { return state_; }
  // Ready to carry SSTP: LongLived and KeepAlive once Established; Polling once its probe was
  // answered (its handshake completes with the first SSTP bytes, §5.6).
  [[nodiscard]] bool ready() const {
    if (state_ == State::closed) return false;
    return state_ == State::established ||
           (options_.mode == Mode::polling && poll_state_ != Poll::probing);
  }
  [[nodiscard]] std::error_code error() const { return error_; }
  [[nodiscard]] const std::string& guid() const { return guid_; }
  [[nodiscard]] Mode mode() const { return options_.mode; }
  // The last HTTP status seen and its reason phrase, for the step report (§11.2).
  [[nodiscard]] int last_status() const { return last_status_; }
  [[nodiscard]] const std::string& last_reason() const { return last_reason_; }
  // What later connections to the proxy reuse (§7.1).
  [[nodiscard]] const proxy::AuthMemo& auth_memo() const { return memo_; }
  [[nodiscard]] proxy::AuthScheme auth_scheme() const { return memo_.scheme; }
  [[nodiscard]] const PollParams& poll_params() const { return poll_; }
  // The current poll interval (§5.8), for tests.
  [[nodiscard]] std::chrono::milliseconds poll_interval() const { return interval_; }
  // Requests written so far, for tests and reports.
  [[nodiscard]] unsigned requests() const { return requests_; }
  // State changes for -vv logs.
  [[nodiscard]] const std::vector<std::string>& trace() const { return trace_; }

  struct Slot;

 private:
  // Common request machinery (client_core.cpp).
  void start_request(int slot, std::string method, Bytes body, bool open_ended, ClientTime now);
  void queue_request(Slot& s, ClientTime now);
  void on_head(int slot, ClientTime now);
  void on_auth(int slot, ClientTime now);
  // Sends the request in flight again: on this connection after its answer's body, or on a
  // new one (henc.md §7.1 reuse rule).
  void retry_request(int slot, ClientTime now);
  void finish_response(int slot, ClientTime now);
  void fail(std::error_code e);
  void note(std::string line);
  std::string target() const;
  // Mode handlers (client_modes.cpp).
  void start(ClientTime now);
  void on_response_head(int slot, ClientTime now);
  void on_stream(int slot, ByteView in, ClientTime now);
  void on_body(int slot, ByteView body, ClientTime now);
  void pump(ClientTime now);
  void polling_post(ClientTime now);
  void polling_answer(ByteView body, ClientTime now);
  void refresh_poll(const Head& h);

  ClientOptions options_;
  std::string guid_;
  std::string server_name_;  // Relay-Server-Name / Relay-Server-URL
  State state_ = State::connecting;
  std::error_code error_;
  ClientTime establishment_deadline_;
  std::vector<std::unique_ptr<Slot>> slots_;
  proxy::AuthMemo memo_;
  Bytes send_queue_;
  std::size_t send_pos_ = 0;
  Bytes input_;
  std::size_t input_pos_ = 0;
  int last_status_ = 0;
  std::string last_reason_;
  unsigned requests_ = 0;
  std::vector<std::string> trace_;
  bool closing_ = false;
  // LongLived.
  std::uint64_t post_sent_ = 0;
  bool get_ready_ = false;
  bool post_written_ = false;
  std::size_t echo_seen_ = 0;
  // KeepAlive.
  bool ka_post_ready_ = false;
  // Polling.
  enum class Poll { probing, probed, connecting, established } poll_state_ = Poll::probing;
  std::uint32_t request_seq_ = 0;
  std::uint32_t response_seq_ = 0;
  bool last_had_data_ = false;
  bool last_was_noop_ = false;
  unsigned empty_run_ = 0;
  PollParams poll_;
  std::chrono::milliseconds interval_{250};
  ClientTime poll_due_ = ClientTime::max();
};

}  // namespace grove::henc
