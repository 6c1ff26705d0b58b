// groved's shared state on its main event loop: the device table, which connection serves
// which device, routing of stored copies, listeners, and shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "net/asio.hpp"
#include "net/stream.hpp"
#include "net/tls_stream.hpp"
#include "relay/client_conn.hpp"
#include "relay/loops.hpp"
#include "relay/metrics.hpp"
#include "relay/options.hpp"
#include "store/store.hpp"

namespace grove::relay {

// A message to route (Relay::route): what the sender's session holds, copied out of it.
struct RouteRequest {
  std::weak_ptr<ClientConn> from;
  std::string from_device;
  std::string resource_url;
  std::vector<RouteTarget> targets;
  sstp::Message header;
  std::shared_ptr<Bytes> data;
  bool fanout = false;
  // Called on the main loop with whether every copy is durable or delivered, and the indexes
  // of targets refused for quota (§10.8); the caller moves it to its own loop.
  std::function<void(bool ok, std::vector<std::size_t> over_quota)> done;
};

// Threads: the relay's state lives on the main loop (`io`). Connections live on any of the
// loops (the main one or `loops`), each on one for its whole life. Everything a connection
// asks of the relay either reads state that is safe from any loop (options, metrics, the
// device table under its lock) or is posted to the main loop; the relay reaches a connection
// only by posting to its loop (ClientConn::post). The store's completions run on the main loop.
class Relay {
 public:
  Relay(asio::io_context& io, Loops& loops, Options options, std::unique_ptr<store::Store> store);
  ~Relay();

  // ---- main loop ----
  // Loads the device table and opens the listeners; throws std::system_error naming the address
  // that could not be bound. Prints "listening on ADDR" lines to stderr for scripts.
  void start();
  // SIGTERM: stop accepting, ConnectClose Resting to every client, let stored work finish.
  void shutdown();
  // SIGHUP: reload the device table; close connections of removed, disabled or re-keyed devices.
  void reload();
  // Serves SSTP over any transport a listener produced (TCP, TLS, an HTTP virtual connection)
  // on the loop of `ex`, which must be the stream's own.
  void adopt(net::ByteStreamPtr stream, asio::any_io_executor ex, std::size_t loop = 0);

  // ---- any loop: reads ----
  const Options& options() const { return opt_; }
  store::Store& store() { return *store_; }  // thread-safe; completions run on the main loop
  Metrics& metrics() { return metrics_; }
  bool shutting_down() const { return stopping_.load(std::memory_order_relaxed); }
  std::size_t connection_count() const { return metrics_.connections_open.load(); }
  std::optional<store::DeviceRecord> device(const std::string& url) const;
  bool device_known(const std::string& url) const;  // present and enabled
  std::optional<auth::Secret> identity_secret(const std::string& url) const;
  bool identity_known(const std::string& url) const { return identity_secret(url).has_value(); }
  // grove-auth-1 rate limiting (auth.md §8): a failed device authentication from `source`
  // (an address) for `device`; limited() says whether their Connects get TryLater now.
  void auth_failed(const std::string& source, const std::string& device);
  [[nodiscard]] bool auth_limited(const std::string& source, const std::string& device);

  // ---- any loop: each posts to the main loop ----
  void authenticated(std::shared_ptr<ClientConn> c);
  void closed(std::weak_ptr<ClientConn> c, std::string device_url);
  // A complete inbound message: stores one copy per target device (identity targets expand to
  // their registered devices, or the identity's pending queue) durably in one transaction,
  // or forwards it live, then calls `done`. A live copy whose recipient has a backlog pauses
  // reading on the sender (live back-pressure, ClientConn::deliver_live).
  void route(RouteRequest r);
  // Live path: the recipient acknowledged a live copy (or it expired): acknowledge the sender.
  void live_acked(std::uint64_t id);
  // The live copy was not acknowledged (timeout, recipient gone): store it durably instead.
  void live_failed(std::uint64_t id, bool recipient_gone);
  // Register (sstp.md §11 R1, R2): records the registration, copies the identity's pending
  // messages to the device, then answers (on the main loop).
  void register_device(std::string identity_url, std::string device_url,
                       std::function<void(sstp::AttachResponseId)> done);
  // A stored copy left its queue (delivered, expired or dropped): deletes it, and takes it off
  // the queue totals once the store confirms the row went, so a copy acknowledged by both an
  // old and a new connection of its device counts once.
  void remove_copy(const store::StoredMessage& m);

 private:
  void accept(asio::ip::tcp::socket s, const char* kind);
  std::size_t next_loop();  // where the next accepted connection goes
  asio::any_io_executor loop_executor(std::size_t i);
  void maybe_finish();
  void prune_auth_failures();  // forgets counters older than 60 s and ended blocks
  bool online_for(const store::StoredMessage& m) const;
  std::shared_ptr<ClientConn> connection_of(const std::string& device) const;
  void route_here(RouteRequest r);
  void live_acked_here(std::uint64_t id);
  void live_failed_here(std::uint64_t id, bool recipient_gone);
  // Stores the live copies to `device` with ids from `first` on, oldest first: those of the
  // delivery session (QueueKey) of `same_session_as`, or all when it is null.
  void store_live_from(const std::string& device, std::uint64_t first, bool recipient_gone,
                       const store::StoredMessage* same_session_as);
  void fall_back(std::uint64_t id, bool recipient_gone);  // one live copy to the store
  void register_here(const std::string& identity_url, const std::string& device_url,
                     std::function<void(sstp::AttachResponseId)> done);
  void removed_here(const std::string& device, std::uint64_t bytes);
  // Appends `copies` durably, then delivers them and calls done (the store path of route).
  void store_copies(std::vector<store::StoredMessage> copies, std::vector<std::size_t> over,
                    std::function<void(bool, std::vector<std::size_t>)> done);
  struct LiveCopy {
    store::StoredMessage m;
    std::weak_ptr<ClientConn> to;  // the connection it was handed to
    std::function<void(bool, std::vector<std::size_t>)> done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<std::uint64_t, LiveCopy> live_;
  // Puts a live copy (m.id set) in live_ and its totals (per device, and the metric), with its
  // live_timeout timer; take_live() takes it out of all of them.
  void hold_live(const store::StoredMessage& m, const std::shared_ptr<ClientConn>& to,
                 std::function<void(bool, std::vector<std::size_t>)> done);
  LiveCopy take_live(std::map<std::uint64_t, LiveCopy>::iterator it);
  struct LiveTotal {
    std::set<std::uint64_t> ids;  // in live_
    std::uint64_t bytes = 0;
  };
  std::map<std::string, LiveTotal> live_by_device_;
  std::uint64_t next_live_id_ = kLiveIdBase;
  void deliver(store::StoredMessage m);
  void start_http();                      // relay_http.cpp
  std::shared_ptr<net::TlsContext> tls_;  // set when TLS is configured (henc.md §8)

  asio::io_context& io_;
  Loops& loops_;
  std::size_t next_loop_ = 0;
  Options opt_;
  std::unique_ptr<store::Store> store_;
  Metrics metrics_;
  // The device table, read from every loop; written only by reload() on the main loop.
  mutable std::mutex table_mu_;
  std::map<std::string, store::DeviceRecord> devices_;
  std::map<std::string, store::IdentityRecord> identities_;
  // Authentication failures, counted from every loop.
  std::mutex auth_mu_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> auth_failures_;
  std::map<std::string, std::chrono::steady_clock::time_point> auth_blocked_until_;
  // ---- main loop only ----
  std::multimap<std::string, std::string> registrations_;  // identity -> device
  std::map<std::string, std::size_t> registering_;         // identity -> writes under way
  std::map<std::string, store::QueueTotal> queues_;
  std::set<std::shared_ptr<ClientConn>> conns_;
  std::map<std::string, std::weak_ptr<ClientConn>> by_device_;  // newest authenticated
  std::list<asio::ip::tcp::acceptor> acceptors_;  // list: accept loops hold references
  std::unique_ptr<asio::steady_timer> purge_timer_;
  std::unique_ptr<class HttpListener> http_;  // HTTP encapsulations (henc.md §2.7)
  std::atomic<bool> stopping_{false};
  std::size_t appends_in_flight_ = 0;
};

}  // namespace grove::relay
