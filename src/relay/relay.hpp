// groved's shared state on its one event loop: the device table, which connection serves
// which device, routing of stored copies, listeners, and shutdown.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "net/asio.hpp"
#include "net/stream.hpp"
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
  const store::DeviceRecord* device(const std::string& url) const;
  bool device_known(const std::string& url) const;
  bool online(const std::string& device_url) const;
  void authenticated(const std::shared_ptr<ClientConn>& c);
  void closed(ClientConn* c);
  // A complete inbound message: store its copies durably, then call `done(ok)`.
  void route(const ClientConn& from, const std::string& resource_url,
             const std::string& identity_url, const std::string& device_url,
             const sstp::Message& header, std::shared_ptr<Bytes> data,
             std::function<void(bool stored, sstp::CloseReason refuse)> done);
  // A copy left its queue (delivered, expired or dropped).
  void removed(const store::StoredMessage& m);

 private:
  void accept(asio::ip::tcp::socket s, const char* kind);
  void maybe_finish();

  asio::io_context& io_;
  Options opt_;
  std::unique_ptr<store::Store> store_;
  Metrics metrics_;
  std::map<std::string, store::DeviceRecord> devices_;
  std::map<std::string, store::QueueTotal> queues_;
  std::set<std::shared_ptr<ClientConn>> conns_;
  std::map<std::string, std::weak_ptr<ClientConn>> by_device_;  // newest authenticated
  std::list<asio::ip::tcp::acceptor> acceptors_;  // list: accept loops hold references
  std::unique_ptr<asio::steady_timer> purge_timer_;
  bool stopping_ = false;
  std::size_t appends_in_flight_ = 0;
};

}  // namespace grove::relay
