// groved's shared state on its one event loop: the device table, which connection serves
// which device, routing of stored copies, listeners, and shutdown.
#pragma once

#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "net/asio.hpp"
#include "net/stream.hpp"
#include "net/tls_stream.hpp"
#include "relay/client_conn.hpp"
#include "relay/metrics.hpp"
#include "relay/options.hpp"
#include "store/store.hpp"

namespace grove::relay {

class Relay {
 public:
  Relay(asio::io_context& io, Options options, std::unique_ptr<store::Store> store);
  ~Relay();

  // Loads the device table and opens the listeners; throws std::system_error naming the address
  // that could not be bound. Prints "listening on ADDR" lines to stderr for scripts.
  void start();
  // SIGTERM: stop accepting, ConnectClose Resting to every client, let stored work finish.
  void shutdown();
  // SIGHUP: reload the device table; close connections of removed, disabled or re-keyed devices.
  void reload();

  // Serves SSTP over any transport a listener produced (TCP, TLS, an HTTP virtual connection).
  void adopt(net::ByteStreamPtr stream);

  // ---- called by connections ----
  const Options& options() const { return opt_; }
  store::Store& store() { return *store_; }
  Metrics& metrics() { return metrics_; }
  asio::io_context& io() { return io_; }
  bool shutting_down() const { return stopping_; }
  std::size_t connection_count() const { return conns_.size(); }
  const store::DeviceRecord* device(const std::string& url) const;
  bool device_known(const std::string& url) const;
  bool online(const std::string& device_url) const;
  void authenticated(const std::shared_ptr<ClientConn>& c);
  void closed(ClientConn* c);
  const store::IdentityRecord* identity(const std::string& url) const;
  // A complete inbound message: stores one copy per target device (identity targets expand to
  // their registered devices, or the identity's pending queue) durably in one transaction,
  // then calls `done(ok, over_quota)` with the indexes of targets refused for quota (§10.8).
  // A live copy whose recipient has a backlog pauses reading on `from` (live back-pressure).
  // `targets`, `resource_url` and `header` may live in the caller's session, which `done` can
  // erase: route reads them only before it calls `done`.
  void route(ClientConn& from, const std::string& resource_url,
             const std::vector<RouteTarget>& targets, const sstp::Message& header,
             std::shared_ptr<Bytes> data, bool fanout,
             std::function<void(bool ok, std::vector<std::size_t> over_quota)> done);
  // Live path: the recipient acknowledged a live copy (or it expired): acknowledge the sender.
  void live_acked(std::uint64_t id);
  // The live copy was not acknowledged (timeout, recipient gone): store it durably instead.
  void live_failed(std::uint64_t id, bool recipient_gone);
  // Register (sstp.md §11 R1, R2): records the registration, copies the identity's pending
  // messages to the device, then answers.
  void register_device(const std::string& identity_url, const std::string& device_url,
                       std::function<void(sstp::AttachResponseId)> done);
  // grove-auth-1 rate limiting (auth.md §8): a failed device authentication from `source`
  // (an address) for `device`; limited() says whether their Connects get TryLater now.
  void auth_failed(const std::string& source, const std::string& device);
  [[nodiscard]] bool auth_limited(const std::string& source, const std::string& device);
  // A copy left its queue (delivered, expired or dropped).
  void removed(const store::StoredMessage& m);

 private:
  void accept(asio::ip::tcp::socket s, const char* kind);
  void maybe_finish();
  void prune_auth_failures();  // forgets counters older than 60 s and ended blocks
  bool online_for(const store::StoredMessage& m) const;
  // Appends `copies` durably, then delivers them and calls done (the store path of route).
  void store_copies(std::vector<store::StoredMessage> copies, std::vector<std::size_t> over,
                    std::function<void(bool, std::vector<std::size_t>)> done);
  struct LiveCopy {
    store::StoredMessage m;
    std::function<void(bool, std::vector<std::size_t>)> done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<std::uint64_t, LiveCopy> live_;
  std::uint64_t next_live_id_ = kLiveIdBase;
  void deliver(const store::StoredMessage& m);
  void start_http();                      // relay_http.cpp
  std::shared_ptr<net::TlsContext> tls_;  // set when TLS is configured (henc.md §8)

  asio::io_context& io_;
  Options opt_;
  std::unique_ptr<store::Store> store_;
  Metrics metrics_;
  std::map<std::string, store::DeviceRecord> devices_;
  std::map<std::string, store::IdentityRecord> identities_;
  std::multimap<std::string, std::string> registrations_;  // identity -> device
  std::map<std::string, std::size_t> registering_;         // identity -> writes under way
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> auth_failures_;
  std::map<std::string, std::chrono::steady_clock::time_point> auth_blocked_until_;
  std::map<std::string, store::QueueTotal> queues_;
  std::set<std::shared_ptr<ClientConn>> conns_;
  std::map<std::string, std::weak_ptr<ClientConn>> by_device_;  // newest authenticated
  std::list<asio::ip::tcp::acceptor> acceptors_;  // list: accept loops hold references
  std::unique_ptr<asio::steady_timer> purge_timer_;
  std::unique_ptr<class HttpListener> http_;  // HTTP encapsulations (henc.md §2.7)
  bool stopping_ = false;
  std::size_t appends_in_flight_ = 0;
};

}  // namespace grove::relay
