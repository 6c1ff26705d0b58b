// One client connection at the relay: the engine, its driver, the inbound message being
// received on each session, and the delivery of the device's queues (sstp.md §10.3, §10.4).
// It lives on one event loop; other loops reach it only through post(), and read only the
// few members marked "any loop".
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "net/driver.hpp"
#include "store/store.hpp"

namespace grove::relay {

class Relay;

// The relay's queue key (sstp.md §10.2): one delivery session per key.
struct QueueKey {
  std::string resource_url, identity_url;
  bool identity_targeted = false;
  auto operator<=>(const QueueKey&) const = default;
};
inline QueueKey queue_key(const store::StoredMessage& m) {
  return {m.resource_url, m.identity_url, m.identity_targeted};
}

// Where an inbound message goes: one device, or (device_url empty) every device registered
// for the identity (sstp.md §8.1, §10.2).
// Ids of copies on the live path; store ids never come near them.
inline constexpr std::uint64_t kLiveIdBase = std::uint64_t{1} << 62;
inline bool is_live(std::uint64_t id) { return id >= kLiveIdBase; }
// The most live bytes held for one device, in delivery windows (max_unacked_delivery_bytes):
// the hard limit of 8 windows waiting unsent, plus the window in flight.
inline constexpr std::uint64_t kLiveWindowsPerDevice = 9;

struct RouteTarget {
  std::string identity_url, device_url;
};

class ClientConn final : public net::ConnectionHandler,
                         public std::enable_shared_from_this<ClientConn> {
 public:
  // `loop` numbers the event loop of `ex` for logs (0 = the main loop).
  ClientConn(Relay& relay, net::ByteStreamPtr stream, const engine::Options& eo,
             asio::any_io_executor ex, std::size_t loop);
  net::awaitable<void> run() { return driver_.run(); }
  const asio::any_io_executor& executor() const { return ex_; }
  // Any loop: runs f(*this) on this connection's loop; the connection lives until then.
  template <typename F>
  void post(F f) {
    asio::post(ex_, [self = shared_from_this(), f = std::move(f)]() mutable { f(*self); });
  }

  void on_event(engine::Connection& c, engine::Event& e) override;
  void on_output_drained(engine::Connection&) override { pump(); }

  // ---- relay -> connection, on this connection's loop (through post()) ----
  void close(sstp::ConnectCloseReason reason, std::uint16_t return_time = 0);
  void deliver_new(store::StoredMessage m);  // a copy for this device was stored
  void queue_grew();  // copies were stored for this device by other means: read them
  // The live path (Relay::route): a copy that is in no store queue, id >= kLiveIdBase. A
  // connection that ended hands it back (Relay::live_failed). Live back-pressure
  // (docs/protocol.md, "Relay"): when at least live_pause_limit() waits unsent here, `sender`
  // is asked to pause and is resumed once that falls below live_resume_limit() or this
  // connection ends.
  void deliver_live(store::StoredMessage m, std::weak_ptr<ClientConn> sender);
  bool drop_unsent_live(std::uint64_t id);  // true when it had not been sent yet
  // On the sender: stops reading its stream (the message in hand and the rest of the current
  // read buffer are still handled). Refused while copies are being delivered to this
  // connection: their acknowledgements arrive on the stream we would stop reading. Reading
  // resumes when the recipient drains, when a delivery for this connection comes up, or after
  // live_timeout at the latest.
  void pause_for_live();
  void resume_reading();
  void start_delivery();
  // §10.4: delivery sessions with nothing queued or in flight since `now - idle` get Close Idle.
  void close_idle_sessions(engine::TimePoint now, engine::Duration idle);
  // auth.md §2.1: closes the connection if it attached, or is attaching, one of `identities`
  // (removed or re-keyed: a proof would be checked against the old secret).
  void close_if_uses(const std::vector<std::string>& identities);

  // ---- any loop ----
  // Set before authenticated() reaches the relay, then never changed.
  [[nodiscard]] const std::string& device_url() const { return device_url_; }
  [[nodiscard]] const std::string& peer() const { return peer_; }
  [[nodiscard]] bool authenticated() const { return authenticated_.load(); }
  // The device secret the connection was accepted with (none when authentication is off);
  // set before authenticated() reaches the relay, then never changed.
  [[nodiscard]] const std::optional<auth::Secret>& secret() const { return secret_; }
  // Identity-targeted copies are delivered only where the identity is attached (§10.4).
  [[nodiscard]] bool identity_attached(const std::string& url) const;
  // Online, caught up, and less than live_hard_limit() waiting unsent here, as published by
  // this connection's loop at its last change (publish_live_state()).
  [[nodiscard]] bool can_take_live() const { return takes_live_.load(); }
  // The connection is over (its live copies are on their way back to the relay).
  [[nodiscard]] bool ended() const { return ended_.load(); }

 private:
  struct Inbound {  // a session the client opened to us (Open or FanoutOpen)
    std::string resource_url;
    std::vector<RouteTarget> targets;  // Open: one; FanoutOpen: its entries, in order
    std::vector<bool> faulted;         // FanoutOpen entries in 'fault' (§10.7)
    bool fanout = false;
    bool receiving = false, too_large = false;
    sstp::Message header;
    std::shared_ptr<Bytes> data;
  };
  struct DeliverySession {
    QueueKey key;
    bool ready = false;
    engine::TimePoint last_used{};  // for Close Idle (§10.4)
  };

  template <typename T>
  void handle(T&) {}
  void handle(engine::ConnectRequested& ev);
  void handle(engine::Established& ev);
  void handle(engine::Authenticated& ev);
  void handle(engine::SessionRequested& ev);
  void handle(engine::FanoutRequested& ev);
  void handle(engine::AttachRequested& ev);
  void handle(engine::AttachResult& ev);
  void handle(engine::RegisterRequested& ev);
  void handle(engine::MessageStarted& ev);
  void handle(engine::MessageData& ev);
  void handle(engine::MessageEnded& ev);
  void handle(engine::MessageAborted& ev);
  void handle(engine::SessionReady& ev);
  void handle(engine::SessionRefused& ev);
  void handle(engine::SessionClosed& ev);
  void handle(engine::Acknowledged& ev);
  void handle(engine::ConnectionClosed& ev);

  void on_authenticated();
  void pump();
  void publish_live_state();
  [[nodiscard]] bool live_backlogged() const;
  void hold_sender(const std::shared_ptr<ClientConn>& sender);
  // Wraps a completion that runs on the main loop (the store's, the relay's) to run f(*this,
  // args...) on this loop instead, if the connection still exists then.
  template <typename F>
  auto here(F f) {
    return [self = weak_from_this(), ex = ex_, f = std::move(f)](auto... a) {
      asio::post(ex, [self, f, ... a = std::move(a)]() mutable {
        if (auto c = self.lock()) f(*c, std::move(a)...);
      });
    };
  }
  void load_more();
  // An identity was attached: its copies passed over so far (ids up to loaded_up_to_) are
  // read again and queued. Only those: they were never sent, so none can go out twice.
  void rescan(const std::string& identity_url);
  void rescan_page();
  bool deliverable(const store::StoredMessage& m) const;
  bool held(std::uint64_t id) const;  // loaded or in flight on this connection
  void stored(std::uint32_t sid, std::uint64_t seq, bool ok, const std::vector<std::size_t>& over);
  bool send_one(const store::StoredMessage& m, std::uint32_t session_id);

  Relay& relay_;
  asio::any_io_executor ex_;
  std::size_t loop_;
  net::ByteStreamPtr stream_;
  engine::Connection conn_;
  net::Driver driver_;
  std::string peer_;
  std::string device_url_;
  std::optional<auth::Secret> secret_;
  std::atomic<bool> authenticated_{false};
  bool closed_ = false;
  std::atomic<bool> takes_live_{false};
  std::atomic<bool> ended_{false};
  mutable std::mutex attached_mu_;
  std::set<std::string> attached_;  // identities attached, for identity_attached()

  std::map<std::uint32_t, Inbound> inbound_;

  // Live back-pressure: senders paused for this recipient; this sender's safety timer.
  std::vector<std::weak_ptr<ClientConn>> held_senders_;
  std::unique_ptr<asio::steady_timer> pause_timer_;
  void release_senders();

  // Delivery (sstp.md §10.4).
  std::deque<store::StoredMessage> pending_;                // loaded, not yet sent, id order
  std::uint64_t pending_bytes_ = 0;                         // data bytes in pending_
  std::map<std::uint64_t, store::StoredMessage> inflight_;  // sent, not yet acknowledged
  std::uint64_t inflight_bytes_ = 0;
  std::uint64_t loaded_up_to_ = 0;
  bool caught_up_ = false, loading_ = false, more_ = false;
  std::deque<std::pair<std::string, std::uint64_t>> rescans_;  // identity, up to this id
  std::uint64_t rescan_after_ = 0;
  bool rescanning_ = false, rescan_waiting_ = false;
  std::map<QueueKey, std::uint32_t> session_of_;
  std::map<std::uint32_t, DeliverySession> delivery_;
  std::map<QueueKey, engine::TimePoint> refused_until_;  // §10.4: 300 s after Unknown/Close
};

}  // namespace grove::relay
