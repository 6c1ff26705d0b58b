// The SSTP connection state machine (sstp.md §7-§9, §12) for both roles, sans-I/O.
//
// Bytes in:   receive(in)  -> bytes consumed; then drain next_event() before the next receive().
// Bytes out:  pending_output() -> write them; consume_output(n) for what was written.
// Time:       on_timer(now) when next_deadline() passes; receive() and on_timer() also tell
//             the engine the current time, which every other call uses.
// End:        finished() -> close the byte stream.
// The engine never reads a socket or a clock and never calls user code. A peer's protocol
// violation becomes a ConnectClose in pending_output() plus a ConnectionClosed event; errors
// returned from the send calls are our own illegal requests.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/grove_auth.hpp"
#include "engine/events.hpp"
#include "sstp/codec.hpp"

namespace grove::engine {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

enum class Role { initiator, acceptor };

// Timers of sstp.md §7.6 / §13; tests shorten them.
struct Timers {
  Duration acknowledgment = std::chrono::seconds(5);
  Duration keep_alive = std::chrono::seconds(45);
  Duration receive_idle = std::chrono::seconds(135);
  Duration handshake = std::chrono::seconds(30);
  Duration open_response = std::chrono::seconds(60);
  Duration linger = std::chrono::seconds(2);
};

struct Options {
  Role role = Role::initiator;
  // Initiator: our DeviceURL (SourceDeviceURLs[0]) and the DeviceURL we expect at the other end.
  std::string local_device_url;
  std::string target_device_url;
  // Acceptor: the DeviceURLs we answer to (LocalDeviceURLs, §7.1). Empty = accept any target.
  std::vector<std::string> local_device_urls;
  // Initiator: the device secret. Set = grove-auth-1 (token type 1, relay proof required).
  // Unset = empty tokens (client-to-client, sstp.md §7.10).
  std::optional<auth::Secret> device_secret;
  // Initiator: accept a ConnectResponse Ok without a token although we sent one (auth.md §5.1 C3).
  bool allow_unauthenticated_peer = false;
  // Acceptor: run grove-auth-1 (expect token type 1 and a ConnectAuthenticate). Off: tokens are
  // ignored and the connection is authenticated once established (§7.5, §7.10).
  bool require_authentication = false;
  // Acceptor: relay semantics (Attach/Register allowed; MultidropSupported).
  bool relay = false;
  // TLS exporter value when this side terminates TLS (auth.md §6).
  std::optional<auth::ChannelBinding> channel_binding;
  std::uint8_t minor_version = sstp::kMinor16;  // version we send / highest we accept
  std::string product_version = "Grove Client 1.0 1";
  Timers timers;
  // CSPRNG for nonces; defaults to auth::random_bytes. Tests inject fixed bytes.
  std::function<bool(std::span<Byte>)> random;
  // Unknown session commands tolerated before TooManyUnknownSessionCmds (§12.2: the 16th closes).
  unsigned max_unknown_session_commands = 15;
  // Complete sequences that are acknowledged at once even without the A bit (0 = only A and
  // the 5 s timer, as §9.4 alone would have it).
  std::size_t ack_batch = 32;
  // ClosedSessionIds kept (§8.6: at least 4096).
  std::size_t closed_session_ids_kept = 4096;
};

// Header fields of an outgoing message (§5.13). Flags E/S/F are set from the optionals.
struct MessageOptions {
  std::uint8_t flags = 0;  // G, A, D bits
  std::string user_ref;
  std::optional<std::uint64_t> expiration_time;
  std::optional<std::uint64_t> total_size;
  std::optional<sstp::FragmentationFields> fragmentation;
};

// Receiver availability for an incoming Open (§8.3, §8.4 step 6).
enum class Availability { ready, not_ready, fault };

class Connection {
 public:
  enum class State { transport_connected, connecting, established, aborting, gone };

  // Initiator: queues the Connect at once (C1). Acceptor: waits for one (C2).
  Connection(Options options, TimePoint now);

  // Feeds received bytes. Returns how many were consumed; may be fewer than given (call again
  // with the rest after draining events). After the connection closed, input is discarded.
  [[nodiscard]] std::size_t receive(ByteView in, TimePoint now);
  // The peer closed the byte stream (C13).
  void receive_eof();

  std::optional<Event> next_event();
  [[nodiscard]] ByteView pending_output() const { return ByteView(out_).subspan(out_pos_); }
  void consume_output(std::size_t n);
  // Hands all pending output to the caller without copying: `into` receives the bytes (its
  // old contents are dropped, its capacity may be reused by the engine). Use this instead of
  // pending_output() when the bytes must outlive later engine calls (an async write).
  void take_output(Bytes& into);

  void on_timer(TimePoint now);
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  // True once the byte stream should be closed: gone, or aborting with nothing left to send
  // (or the linger time passed).
  [[nodiscard]] bool finished() const;

  // ---- acceptor handshake ----
  // Answers a ConnectRequested. `secret` is the device's K_dev when authentication is required.
  [[nodiscard]] std::error_code accept_connection(const std::optional<auth::Secret>& secret = {});
  [[nodiscard]] std::error_code refuse_connection(sstp::ConnectResponseId id,
                                                  std::uint16_t retry_time = 0);

  // ---- sessions we originate ----
  // Sends Open; the result is a SessionReady / SessionPaused / SessionRefused event.
  [[nodiscard]] std::error_code open_session(std::string resource_url, std::string identity_url,
                                             std::string device_url, std::uint32_t& session_id);
  [[nodiscard]] std::error_code begin_message(std::uint32_t session_id,
                                              const MessageOptions& options);
  // Appends Data commands (split at 2048 bytes) for the message in progress.
  [[nodiscard]] std::error_code send_data(std::uint32_t session_id, ByteView data);
  // EndMessage; `cookie` comes back in Acknowledged or in the unacknowledged lists.
  [[nodiscard]] std::error_code end_message(std::uint32_t session_id, std::uint64_t cookie);
  // Convenience: begin_message + send_data + end_message.
  [[nodiscard]] std::error_code send_message(std::uint32_t session_id,
                                             const MessageOptions& options, ByteView data,
                                             std::uint64_t cookie);

  // Sends FanoutOpen (§8.5) to several recipients through the relay.
  [[nodiscard]] std::error_code open_fanout(std::string resource_url,
                                            std::vector<sstp::FanoutDeviceEntry> entries,
                                            std::uint32_t& session_id);

  // ---- sessions the peer originated ----
  [[nodiscard]] std::error_code respond_open(std::uint32_t session_id, Availability availability);
  // The message with this seq (from MessageEnded) has been handled; it may be acknowledged.
  void message_processed(std::uint64_t seq);

  // Relay: answers a FanoutRequested (§10.7 steps 9-10). Entries listed in `faulted` get a
  // SessionStatus LockedOut after the OpenResponse; when every entry is faulted the answer is
  // Unknown and the session is removed.
  [[nodiscard]] std::error_code respond_fanout(std::uint32_t session_id, Availability availability,
                                               const std::vector<std::uint16_t>& faulted);
  // Relay: fanout entries that failed during the session (§10.7: QuotaWouldBeExceeded or
  // LockedOut); sends SessionStatus form B on 1.6 connections, form A on 1.5.
  [[nodiscard]] std::error_code report_fanout_status(std::uint32_t session_id,
                                                     sstp::StatusId status,
                                                     const std::vector<std::uint16_t>& entries);

  // ---- identities (sstp.md §8.7, §11; auth.md §5.2, §5.3) ----
  // Client: authenticates an identity with its K_id on a new attach session; an AttachResult
  // event tells the outcome. One attach or register session at a time.
  [[nodiscard]] std::error_code attach(std::string identity_url, const auth::Secret& k_id,
                                       std::uint32_t& event_id);
  // Client: asks the relay to deliver the identity's identity-targeted messages to this device
  // (the identity must be attached); a RegisterResult event carries the answer.
  [[nodiscard]] std::error_code register_identity(std::string identity_url,
                                                  std::uint32_t& event_id);
  // Relay: answers an AttachRequested with the identity's secret; nullopt = unknown identity.
  [[nodiscard]] std::error_code answer_attach(std::uint32_t event_id,
                                              const std::optional<auth::Secret>& k_id);
  // Relay: answers a RegisterRequested (R1), then closes the register session.
  [[nodiscard]] std::error_code respond_register(std::uint32_t event_id,
                                                 sstp::AttachResponseId answer);
  [[nodiscard]] bool identity_attached(const std::string& identity_url) const {
    return attached_.count(identity_url) != 0;
  }
  // Relay: an Attach for this identity is under way (its secret is held for the proof still to
  // come). A rotated identity must end such a connection too (auth.md §2.1).
  [[nodiscard]] bool identity_attaching(const std::string& identity_url) const {
    return attach_ && attach_->identity_url == identity_url;
  }

  // ---- either ----
  [[nodiscard]] std::error_code close_session(
      std::uint32_t session_id, sstp::CloseReason reason = sstp::CloseReason::NoReason);
  // Sends ConnectClose (C11) and starts closing.
  void close(sstp::ConnectCloseReason reason = sstp::ConnectCloseReason::NoReason,
             std::uint16_t return_time = 0);

  // ---- queries ----
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] bool established() const { return state_ == State::established; }
  [[nodiscard]] bool authenticated() const { return authenticated_; }
  [[nodiscard]] bool can_send() const { return state_ == State::established && authenticated_; }
  [[nodiscard]] std::uint8_t minor_version() const { return minor_; }
  [[nodiscard]] const std::string& peer_device_url() const { return peer_device_url_; }
  [[nodiscard]] std::size_t unacknowledged_count() const { return outbound_.size(); }
  [[nodiscard]] bool session_ready(std::uint32_t session_id) const;
  static const char* state_name(State s);

 private:
  enum class SessionState { opening, ready, suspended, blocked };
  enum class ReceiverState { waiting, ready, buffering };
  struct Session {
    bool originated = false;
    SessionState state = SessionState::opening;
    std::optional<TimePoint> open_deadline;  // originator, while 'opening'
    bool sending = false;                    // originator: a sequence is in progress
    ReceiverState receiver = ReceiverState::waiting;
    bool answered = false;             // receiver: OpenResponse sent
    std::uint8_t message_flags = 0;    // receiver: flags of the sequence in progress
    std::uint64_t expected_total = 0;  // receiver: S TotalSize
    std::uint64_t received_bytes = 0;
    bool data_sent = false;  // originator: a Data went out in this sequence
    struct FanoutEntry {
      std::string identity_url, device_url, relay_url;
      bool failed = false;
    };
    std::vector<FanoutEntry> fanout;  // FanoutOpen (sent or served): entries in order
  };
  struct Inbound {
    bool complete = false;
    bool acknowledge_immediately = false;
  };
  struct Outbound {
    std::uint32_t session_id;
    std::uint64_t cookie;
  };

  void handle(const sstp::Command& cmd, ByteView frame);
  void on_connect(const sstp::Connect& c);
  void on_connect_response(const sstp::ConnectResponse& r);
  void on_connect_authenticate(const sstp::ConnectAuthenticate& a);
  void on_connect_close(const sstp::ConnectClose& c);
  void on_open(const sstp::Open& o);
  void on_fanout_open(const sstp::FanoutOpen& f);
  void on_open_response(const sstp::OpenResponse& r);
  void on_session_status(const sstp::SessionStatus& s);
  void on_close(const sstp::Close& c);
  void on_message(const sstp::Message& m);
  void on_data(const sstp::Data& d);
  void on_end_message(const sstp::EndMessage& e);
  void on_noop(const sstp::Noop& n);
  void on_attach(const sstp::Attach& a);
  void on_attach_response(const sstp::AttachResponse& r);
  void on_attach_authenticate(const sstp::AttachAuthenticate& a);
  void on_register(const sstp::Register& r);
  void on_register_response(const sstp::RegisterResponse& r);
  // Close on an attach or register session; false when `id` is neither.
  bool close_identity_session(std::uint32_t id, std::uint8_t reason_id);
  // Ends an attach session we serve or run: Close (when `send_close`), event, forget.
  void finish_attach(std::uint32_t id, bool attached, sstp::CloseReason reason, bool send_close);
  void expire_attach_waits();
  bool id_in_use(std::uint32_t id) const;
  bool is_local_url(const std::string& url) const;

  // Session-id checks for commands that open a session (§8.4 steps 1-4); false = closed.
  bool check_new_session_id(std::uint32_t id);
  bool is_peer_parity(std::uint32_t id) const;
  void count_unknown_session_command();
  [[nodiscard]] bool process_message_count(std::uint32_t n);
  std::uint32_t take_message_count();
  void after_processed();
  void remember_closed(std::uint32_t id, ReceiverState leftover);
  void expire_open_waits();
  [[nodiscard]] std::error_code allocate_session(std::uint32_t& id);
  Session* receiving_session(std::uint32_t id, bool& leftover);
  void remove_session(std::uint32_t id);

  std::error_code send(const sstp::Command& cmd);
  void send_refusal(sstp::ConnectResponseId id, std::uint16_t retry_time);
  void send_connect();
  void send_connect_response(sstp::ConnectResponseId id, std::uint16_t retry_time, Bytes token);
  // Protocol error by the peer: ConnectClose with `reason`, event, 'aborting'.
  void fail(sstp::ConnectCloseReason reason, sstp::errc why);
  void abort_stream(std::error_code why);  // close without ConnectClose
  void enter_closed(ConnectionClosed ev);
  void become_established(std::uint8_t minor);
  std::string capabilities() const;
  bool draw(std::span<Byte> out);

  Options opt_;
  State state_;
  TimePoint now_;
  sstp::FrameReader reader_;
  std::deque<Event> events_;
  Bytes out_;
  std::size_t out_pos_ = 0;

  std::uint8_t minor_ = sstp::kMinor16;
  bool authenticated_ = false;
  bool awaiting_authenticate_ = false;  // acceptor sent a type-2 token
  bool awaiting_decision_ = false;      // acceptor: ConnectRequested not answered yet
  std::string peer_device_url_;
  std::string connect_target_;
  std::string connect_caps_;
  std::string peer_product_version_;
  Bytes peer_token_;
  auth::Nonce client_nonce_{};
  auth::Nonce relay_nonce_{};
  std::optional<auth::Secret> peer_secret_;

  // Attach and register sessions (AttachSessionIds, RegisterSessionIds of §8.7): at most one
  // of each at a time, so a single slot each.
  struct AttachSession {
    std::uint32_t id = 0;
    std::string identity_url;
    std::optional<auth::Secret> secret;  // client: K_id until the proof is sent; relay: K_id
    auth::Nonce client_nonce{};
    auth::Nonce relay_nonce{};
    bool answered = false;          // relay: AttachResponse sent / client: proof sent
    std::optional<TimePoint> wait;  // relay: the 30 s AttachAuthenticate wait (§11 A2)
  };
  struct RegisterSession {
    std::uint32_t id = 0;
    std::string identity_url;
    bool answered = false;
  };
  std::optional<AttachSession> attach_;
  std::optional<RegisterSession> register_;
  std::set<std::string> attached_;  // AttachedIdentities

  std::unordered_map<std::uint32_t, Session> sessions_;
  std::unordered_set<std::uint32_t> closed_ids_;
  std::deque<std::uint32_t> closed_order_;
  // MessageReceiver states of closed sessions that still see traffic (§8.6).
  std::unordered_map<std::uint32_t, ReceiverState> leftover_;
  std::set<std::pair<TimePoint, std::uint32_t>> open_waits_;  // OpenResponse waits (§7.6)
  std::uint64_t next_session_id_;
  unsigned unknown_session_commands_ = 0;

  std::deque<Outbound> outbound_;
  std::deque<Inbound> inbound_;
  std::uint64_t inbound_base_ = 0;  // seq of inbound_.front()

  std::optional<TimePoint> handshake_deadline_;
  std::optional<TimePoint> ack_deadline_;
  std::optional<TimePoint> linger_deadline_;
  TimePoint last_send_;
  TimePoint last_receive_;
};

}  // namespace grove::engine
