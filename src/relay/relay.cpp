#include "relay/relay.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

namespace grove::relay {

namespace flag = sstp::message_flag;

Relay::Relay(asio::io_context& io, Options options, std::unique_ptr<store::Store> store)
    : io_(io), opt_(std::move(options)), store_(std::move(store)) {}

Relay::~Relay() = default;

void Relay::start() {
  reload();
  if (auto ec = store_->queue_totals(queues_))
    throw std::system_error(ec, "cannot read the message queues");
  for (auto& [dev, q] : queues_) {
    metrics_.queued_messages += q.messages;
    metrics_.queued_bytes += q.bytes;
  }
  if (!opt_.require_authentication)
    spdlog::warn("authentication is OFF: any device may connect (demonstration only)");
  auto open = [&](const std::vector<net::HostPort>& where, const char* kind) {
    for (const auto& hp : where) {
      acceptors_.push_back(net::listen_tcp(io_.get_executor(), hp));
      auto& a = acceptors_.back();
      std::fprintf(stderr, "listening on %s (%s)\n", net::to_string(a.local_endpoint()).c_str(), kind);
      asio::co_spawn(
          io_,
          net::accept_loop(
              a, [this, kind](asio::ip::tcp::socket s) { accept(std::move(s), kind); },
              [](const std::error_code& ec) { spdlog::warn("accept failed: {}", ec.message()); }),
          asio::detached);
    }
  };
  open(opt_.native_listen, "sstp");
  open(opt_.ssl_listen, "ssl-port");
  // Retention and expiry (sstp.md §10.6, §10.8): purge once a minute, off the event loop.
  purge_timer_ = std::make_unique<asio::steady_timer>(io_);
  asio::co_spawn(
      io_,
      [this]() -> net::awaitable<void> {
        while (!stopping_) {
          purge_timer_->expires_after(std::chrono::minutes(1));
          auto [ec] = co_await purge_timer_->async_wait(net::use_tuple);
          if (ec || stopping_) break;
          const std::int64_t now = std::time(nullptr);
          store_->purge(now - opt_.retention.count(), now, [](std::error_code e, std::uint64_t n) {
            if (e) spdlog::error("store purge failed: {}", e.message());
            else if (n) spdlog::info("event=purged copies={}", n);
          });
        }
      },
      asio::detached);
}

void Relay::accept(asio::ip::tcp::socket s, const char* kind) {
  adopt(std::make_unique<net::TcpStream>(std::move(s), kind));
}

void Relay::adopt(net::ByteStreamPtr stream) {
  if (stopping_) {
    stream->close();
    return;
  }
  engine::Options eo;
  eo.role = engine::Role::acceptor;
  eo.relay = true;
  eo.require_authentication = opt_.require_authentication;
  eo.local_device_urls = opt_.device_urls;
  eo.product_version = "Grove Relay 1.0 1";
  eo.channel_binding = stream->channel_binding();  // TLS streams bind grove-auth-1 (auth.md §6)
  auto conn = std::make_shared<ClientConn>(*this, std::move(stream), eo);
  conns_.insert(conn);
  ++metrics_.connections_accepted;
  ++metrics_.connections_open;
  asio::co_spawn(io_, conn->run(), [this, conn](std::exception_ptr e) {
    if (e) spdlog::error("connection {} ended with an internal error", conn->peer());
    asio::post(io_, [this, conn] {  // destroy it outside its own coroutine
      conns_.erase(conn);
      --metrics_.connections_open;
      maybe_finish();
    });
  });
}

void Relay::reload() {
  std::vector<store::DeviceRecord> list;
  if (auto ec = store_->list_devices(list)) {
    spdlog::error("cannot read the device table: {}", ec.message());
    return;
  }
  std::map<std::string, store::DeviceRecord> next;
  for (auto& d : list) next.emplace(d.url, std::move(d));
  // auth.md §2.1: rotated, disabled or removed devices lose their open connections.
  for (auto& [url, weak] : by_device_) {
    auto c = weak.lock();
    if (!c) continue;
    auto old_it = devices_.find(url);
    auto new_it = next.find(url);
    const bool gone = new_it == next.end() || !new_it->second.enabled ||
                      (old_it != devices_.end() && old_it->second.secret != new_it->second.secret);
    if (gone) c->close(sstp::ConnectCloseReason::DeviceAuthenticationFailed);
  }
  devices_ = std::move(next);
  spdlog::info("event=device_table devices={}", devices_.size());
}

const store::DeviceRecord* Relay::device(const std::string& url) const {
  auto it = devices_.find(url);
  return it == devices_.end() ? nullptr : &it->second;
}

bool Relay::device_known(const std::string& url) const {
  auto d = device(url);
  return d && d->enabled;
}

bool Relay::online(const std::string& device_url) const {
  auto it = by_device_.find(device_url);
  if (it == by_device_.end()) return false;
  auto c = it->second.lock();
  return c && c->authenticated();
}

void Relay::authenticated(const std::shared_ptr<ClientConn>& c) {
  auto& slot = by_device_[c->device_url()];
  if (auto old = slot.lock(); old && old != c) {
    // §7.9: only the newest connection of a device receives deliveries.
    spdlog::info("event=crossed device={} old_peer={}", c->device_url(), old->peer());
    old->close(sstp::ConnectCloseReason::CrossedConnections);
  }
  slot = c;
  c->start_delivery();
}

void Relay::closed(ClientConn* c) {
  auto it = by_device_.find(c->device_url());
  if (it != by_device_.end()) {
    auto cur = it->second.lock();
    if (!cur || cur.get() == c) by_device_.erase(it);
  }
}

void Relay::route(const ClientConn& from, const std::string& resource_url,
                  const std::string& identity_url, const std::string& device_url,
                  const sstp::Message& header, std::shared_ptr<Bytes> data,
                  std::function<void(bool, sstp::CloseReason)> done) {
  const std::int64_t now = std::time(nullptr);
  const std::uint64_t size = data ? data->size() : 0;
  // §10.6: an expired ephemeral sequence is dropped and acknowledged.
  if ((header.flags & flag::Ephemeral) && static_cast<std::int64_t>(header.expiration_time) <= now)
    return done(true, sstp::CloseReason::NoReason);
  // §10.5: DoNotDeliverIfOffline copies for offline targets are discarded.
  if ((header.flags & flag::DoNotDeliverIfOffline) && !online(device_url))
    return done(true, sstp::CloseReason::NoReason);
  auto& q = queues_[device_url];
  if (q.bytes + size > opt_.max_device_queue_bytes)  // §10.8 per-device storage quota
    return done(true, sstp::CloseReason::QuotaWouldBeExceeded);
  store::StoredMessage m;
  m.target_device = device_url;
  m.resource_url = resource_url;
  m.identity_url = identity_url;
  m.identity_targeted = false;
  m.header = header;
  m.header.session_id = 0;
  m.header.message_count = 0;
  m.sender_device = from.device_url();
  m.arrival_unix = now;
  m.data = std::move(data);
  q.messages += 1;
  q.bytes += size;
  ++metrics_.queued_messages;
  metrics_.queued_bytes += size;
  ++appends_in_flight_;
  std::vector<store::StoredMessage> copies{m};
  store_->append(std::move(copies), [this, m = std::move(m), done = std::move(done)](
                                        std::error_code ec, std::vector<std::uint64_t> ids) mutable {
    --appends_in_flight_;
    if (ec || ids.size() != 1) {
      spdlog::error("store: cannot write a message for {}: {}", m.target_device, ec.message());
      removed(m);
      done(false, sstp::CloseReason::NoReason);
      maybe_finish();
      return;
    }
    m.id = ids[0];
    done(true, sstp::CloseReason::NoReason);
    if (auto it = by_device_.find(m.target_device); it != by_device_.end())
      if (auto c = it->second.lock()) c->deliver_new(m);
    maybe_finish();
  });
}

void Relay::removed(const store::StoredMessage& m) {
  auto& q = queues_[m.target_device];
  const std::uint64_t size = m.data ? m.data->size() : 0;
  q.messages -= std::min<std::uint64_t>(q.messages, 1);
  q.bytes -= std::min(q.bytes, size);
  metrics_.queued_messages -= std::min<std::uint64_t>(metrics_.queued_messages, 1);
  metrics_.queued_bytes -= std::min(metrics_.queued_bytes, size);
}

void Relay::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("event=shutdown connections={}", conns_.size());
  for (auto& a : acceptors_) {
    std::error_code ec;
    a.close(ec);
  }
  if (purge_timer_) purge_timer_->cancel();
  for (auto& c : conns_) c->close(sstp::ConnectCloseReason::Resting, opt_.resting_return_time);
  // Give connections and stored work time to finish, then stop regardless.
  auto t = std::make_shared<asio::steady_timer>(io_, opt_.drain_timeout);
  t->async_wait([this, t](const std::error_code&) {
    store_->close();
    io_.stop();
  });
  maybe_finish();
}

void Relay::maybe_finish() {
  if (!stopping_ || !conns_.empty() || appends_in_flight_) return;
  asio::post(io_, [this] {
    store_->close();
    io_.stop();
  });
}

std::string Metrics::prometheus() const {
  std::string s;
  auto add = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(v) + "\n";
  };
  add("grove_connections_accepted_total", "counter", "TCP connections accepted", connections_accepted);
  add("grove_connections_open", "gauge", "Connections open now", connections_open);
  add("grove_sessions_opened_total", "counter", "Inbound sessions accepted", sessions_opened);
  add("grove_messages_in_total", "counter", "Message sequences received", messages_in);
  add("grove_bytes_in_total", "counter", "Application bytes received", bytes_in);
  add("grove_messages_out_total", "counter", "Message sequences delivered", messages_out);
  add("grove_bytes_out_total", "counter", "Application bytes delivered", bytes_out);
  add("grove_auth_failures_total", "counter", "Refused device authentications", auth_failures);
  add("grove_protocol_errors_total", "counter", "Connections closed for protocol errors", protocol_errors);
  add("grove_queue_messages", "gauge", "Stored copies waiting for delivery", queued_messages);
  add("grove_queue_bytes", "gauge", "Bytes of stored copies waiting for delivery", queued_bytes);
  return s;
}

}  // namespace grove::relay
