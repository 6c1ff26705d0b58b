#include "relay/relay.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <set>

#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"
#include "relay/http_listener.hpp"

namespace grove::relay {

namespace flag = sstp::message_flag;

Relay::Relay(asio::io_context& io, Loops& loops, Options options,
             std::unique_ptr<store::Store> store)
    : io_(io), loops_(loops), opt_(std::move(options)), store_(std::move(store)) {}

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
  if (!opt_.tls_certificate.empty()) {
    std::string why;
    tls_ = net::TlsContext::server(opt_.tls_certificate, opt_.tls_private_key, why);
    if (!tls_) throw std::runtime_error(why);
    spdlog::info("event=tls certificate={} (first byte 0x16 starts TLS)", opt_.tls_certificate);
  }
  auto open = [&](const std::vector<net::HostPort>& where, const char* kind) {
    for (const auto& hp : where) {
      acceptors_.push_back(net::listen_tcp(io_.get_executor(), hp));
      auto& a = acceptors_.back();
      std::fprintf(stderr, "listening on %s (%s)\n", net::to_string(a.local_endpoint()).c_str(),
                   kind);
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
  start_http();
  // Delivery sessions idle for delivery_idle get Close Idle (sstp.md §10.4); checked every 5 s.
  asio::co_spawn(
      io_,
      [this]() -> net::awaitable<void> {
        asio::steady_timer t(io_);
        while (!stopping_) {
          t.expires_after(std::chrono::seconds(5));
          auto [ec] = co_await t.async_wait(net::use_tuple);
          if (ec || stopping_) break;
          const auto now = engine::Clock::now();
          const auto idle = opt_.delivery_idle;
          for (auto& c : conns_)
            c->post([now, idle](ClientConn& cc) { cc.close_idle_sessions(now, idle); });
          prune_auth_failures();
        }
      },
      asio::detached);
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
            if (e)
              spdlog::error("store purge failed: {}", e.message());
            else if (n)
              spdlog::info("event=purged copies={}", n);
          });
        }
      },
      asio::detached);
}

// Connections are spread over the loops in turn; the main loop takes its share.
std::size_t Relay::next_loop() { return next_loop_++ % (loops_.size() + 1); }

asio::any_io_executor Relay::loop_executor(std::size_t i) {
  return i == 0 ? io_.get_executor() : loops_.at(i - 1).get_executor();
}

void Relay::accept(asio::ip::tcp::socket s, const char* kind) {
  std::error_code mec;
  const std::size_t loop = next_loop();
  auto moved = net::move_socket(std::move(s), loop_executor(loop), mec);
  if (mec) {
    spdlog::warn("{}: cannot hand over an accepted connection: {}", kind, mec.message());
    return;
  }
  auto ex = moved.get_executor();
  if (!tls_) {
    adopt(std::make_unique<net::TcpStream>(std::move(moved), kind), ex, loop);
    return;
  }
  // henc.md §8: the first byte tells TLS from plain SSTP; the 30 s Handshake timer (sstp.md
  // §7.6) bounds the wait for it and the TLS handshake. Both run on the connection's loop.
  asio::co_spawn(
      ex,
      [this, s = std::move(moved), kind, ex, loop]() mutable -> net::awaitable<void> {
        std::error_code ec;
        std::string why;
        std::error_code pe;
        const auto peer = s.remote_endpoint(pe);
        auto stream = co_await net::accept_sstp_stream(std::move(s), kind, tls_,
                                                       std::chrono::seconds(30), ec, why);
        if (stream)
          asio::post(io_, [this, stream = std::move(stream), ex, loop]() mutable {
            adopt(std::move(stream), ex, loop);
          });
        else
          spdlog::warn("peer={} {}: {}", pe ? std::string("?") : net::to_string(peer), kind, why);
      },
      asio::detached);
}

void Relay::adopt(net::ByteStreamPtr stream, asio::any_io_executor ex, std::size_t loop) {
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
  auto conn = std::make_shared<ClientConn>(*this, std::move(stream), eo, ex, loop);
  conns_.insert(conn);
  ++metrics_.connections_accepted;
  ++metrics_.connections_open;
  asio::co_spawn(ex, conn->run(), [this, conn](std::exception_ptr e) {
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
    if (gone)
      c->post(
          [](ClientConn& cc) { cc.close(sstp::ConnectCloseReason::DeviceAuthenticationFailed); });
  }
  {
    std::lock_guard lock(table_mu_);
    devices_ = std::move(next);
  }
  std::vector<store::IdentityRecord> ids;
  std::multimap<std::string, std::string> regs;
  if (auto ec = store_->list_identities(ids); ec || (ec = store_->list_registrations(regs))) {
    spdlog::error("cannot read the identity table: {}", ec.message());
  } else {
    // auth.md §2.1: a rotated or removed identity is no longer attached anywhere; the
    // simplest safe answer is to close the connections that attached it, or are attaching it
    // (their proof would be checked against the old secret).
    std::map<std::string, store::IdentityRecord> next_ids;
    for (auto& i : ids) next_ids.emplace(i.url, std::move(i));
    std::vector<std::string> changed;
    for (auto& [url, old] : identities_) {
      auto n = next_ids.find(url);
      if (n == next_ids.end() || n->second.secret != old.secret) changed.push_back(url);
    }
    if (!changed.empty())
      for (auto& c : conns_) c->post([changed](ClientConn& cc) { cc.close_if_uses(changed); });
    for (auto& [url, old] : identities_) {  // a removed identity's pending queue went with it
      if (next_ids.count(url)) continue;
      auto q = queues_.find(store::pending_queue(url));
      if (q == queues_.end()) continue;
      metrics_.queued_messages -= std::min(metrics_.queued_messages.load(), q->second.messages);
      metrics_.queued_bytes -= std::min(metrics_.queued_bytes.load(), q->second.bytes);
      queues_.erase(q);
    }
    {
      std::lock_guard lock(table_mu_);
      identities_ = std::move(next_ids);
    }
    registrations_ = std::move(regs);
  }
  std::size_t devices = 0, identities = 0;
  {
    std::lock_guard lock(table_mu_);
    devices = devices_.size();
    identities = identities_.size();
  }
  spdlog::info("event=device_table devices={} identities={} registrations={}", devices, identities,
               registrations_.size());
}

std::optional<auth::Secret> Relay::identity_secret(const std::string& url) const {
  std::lock_guard lock(table_mu_);
  auto it = identities_.find(url);
  if (it == identities_.end()) return std::nullopt;
  return it->second.secret;
}

std::optional<store::DeviceRecord> Relay::device(const std::string& url) const {
  std::lock_guard lock(table_mu_);
  auto it = devices_.find(url);
  if (it == devices_.end()) return std::nullopt;
  return it->second;
}

bool Relay::device_known(const std::string& url) const {
  std::lock_guard lock(table_mu_);
  auto it = devices_.find(url);
  return it != devices_.end() && it->second.enabled;
}

void Relay::authenticated(std::shared_ptr<ClientConn> c) {
  asio::post(io_, [this, c = std::move(c)] {
    const std::string& dev = c->device_url();
    // A reload (SIGHUP) between the handshake and now did not see this connection: check its
    // device against the table as it is now (auth.md §2.1).
    if (c->secret()) {
      const auto d = device(dev);
      if (!d || !d->enabled || d->secret != *c->secret()) {
        c->post(
            [](ClientConn& cc) { cc.close(sstp::ConnectCloseReason::DeviceAuthenticationFailed); });
        return;
      }
    }
    auto& slot = by_device_[dev];
    if (auto old = slot.lock(); old && old != c) {
      // §7.9: only the newest connection of a device receives deliveries.
      spdlog::info("event=crossed device={} old_peer={}", dev, old->peer());
      old->post([](ClientConn& o) { o.close(sstp::ConnectCloseReason::CrossedConnections); });
    }
    slot = c;
    // Live copies still on their way to an older connection go to the store now, ahead of
    // anything routed to this one, so the new connection gets them first (§9.5).
    store_live_from(dev, 0, false, nullptr);
    c->post([](ClientConn& cc) { cc.start_delivery(); });
  });
}

void Relay::closed(std::weak_ptr<ClientConn> c, std::string device_url) {
  asio::post(io_, [this, c = std::move(c), device_url = std::move(device_url)] {
    auto it = by_device_.find(device_url);
    if (it == by_device_.end()) return;
    const bool same = !c.owner_before(it->second) && !it->second.owner_before(c);
    if (same || it->second.expired()) by_device_.erase(it);
  });
}

std::shared_ptr<ClientConn> Relay::connection_of(const std::string& device) const {
  auto it = by_device_.find(device);
  return it == by_device_.end() ? nullptr : it->second.lock();
}

using store::pending_queue;

bool Relay::online_for(const store::StoredMessage& m) const {
  auto c = connection_of(m.target_device);
  // §10.5: an identity-targeted copy's device is online only with the identity attached.
  return c && c->authenticated() && !c->ended() &&
         (!m.identity_targeted || c->identity_attached(m.identity_url));
}

void Relay::deliver(store::StoredMessage m) {
  if (auto c = connection_of(m.target_device))
    c->post([m = std::move(m)](ClientConn& cc) mutable { cc.deliver_new(std::move(m)); });
}

void Relay::route(RouteRequest r) {
  asio::post(io_, [this, r = std::move(r)]() mutable { route_here(std::move(r)); });
}

void Relay::route_here(RouteRequest r) {
  const std::string& resource_url = r.resource_url;
  const std::vector<RouteTarget>& targets = r.targets;
  const sstp::Message& header = r.header;
  auto& data = r.data;
  const bool fanout = r.fanout;
  auto& done = r.done;
  const std::int64_t now = std::time(nullptr);
  const std::uint64_t size = data ? data->size() : 0;
  // §10.6: an expired ephemeral sequence is dropped and acknowledged.
  if ((header.flags & flag::Ephemeral) && static_cast<std::int64_t>(header.expiration_time) <= now)
    return done(true, {});
  store::StoredMessage base;
  base.resource_url = resource_url;
  base.header = header;
  base.header.session_id = 0;
  base.header.message_count = 0;
  base.sender_device = r.from_device;
  base.arrival_unix = now;
  base.data = std::move(data);

  std::vector<store::StoredMessage> copies;
  std::vector<std::size_t> over_quota;
  // One device-targeted Open (the usual case) makes one copy: no duplicates to find and no
  // per-queue sums to keep, so none of the bookkeeping below is allocated for it.
  const bool single = targets.size() == 1 && !targets[0].device_url.empty();
  std::set<std::string> seen;  // one copy per device and targeting, even if listed twice
  std::map<std::string, std::uint64_t> adding;      // bytes this sequence adds per queue
  auto add = [&](store::StoredMessage m) -> bool {  // false: refused for quota
    if (!single &&
        !seen.insert(m.target_device + (m.identity_targeted ? " i " + m.identity_url : " d"))
             .second)
      return true;
    // §10.5: DoNotDeliverIfOffline copies for offline targets are discarded.
    if ((header.flags & flag::DoNotDeliverIfOffline) && !online_for(m)) return true;
    const auto& q = queues_[m.target_device];
    const std::uint64_t more = single ? 0 : adding[m.target_device];
    if (q.bytes + more + size > opt_.max_device_queue_bytes) return false;
    if (!single) adding[m.target_device] += size;
    copies.push_back(std::move(m));
    return true;
  };
  copies.reserve(single ? 1 : targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const RouteTarget& t = targets[i];
    store::StoredMessage m = single ? std::move(base) : base;
    m.identity_url = t.identity_url;
    if (!t.device_url.empty()) {
      m.target_device = t.device_url;
      if (!add(std::move(m))) over_quota.push_back(i);
      continue;
    }
    m.identity_targeted = true;
    auto [lo, hi] = registrations_.equal_range(t.identity_url);
    if (lo == hi) {  // nobody registered yet: the pending queue (D copies have no device)
      if (header.flags & flag::DoNotDeliverIfOffline) continue;
      m.target_device = pending_queue(t.identity_url);
      if (!add(std::move(m))) over_quota.push_back(i);
      continue;
    }
    bool any_stored = false, any_refused = false;
    for (auto reg = lo; reg != hi; ++reg) {
      store::StoredMessage c = m;
      c.target_device = reg->second;
      (add(std::move(c)) ? any_stored : any_refused) = true;
    }
    // A fanout entry fails when none of its devices can take the copy; an Open session when
    // any cannot (§10.8: "Open session: Close QuotaWouldBeExceeded").
    if (any_refused && (!fanout || !any_stored)) over_quota.push_back(i);
  }
  if (copies.empty()) return done(true, std::move(over_quota));
  // Live copies still unacknowledged in a target's delivery session go to the store ahead of
  // this message, or they would be delivered after it (live_failed_here).
  auto store_live_before = [&] {
    for (const auto& m : copies) {
      if (!live_by_device_.count(m.target_device)) continue;
      auto c = connection_of(m.target_device);
      store_live_from(m.target_device, 0, !c || c->ended(), &m);
    }
  };
  // The live path: one device-targeted copy for a device that is online with nothing queued
  // goes out at once; its acknowledgement acknowledges the sender (no store write). Not for a
  // device sending to itself: its own connection may not take deliveries before it has its
  // acknowledgements (grove send does not), so the sender would wait for live_timeout.
  if (opt_.live_forwarding && !fanout && copies.size() == 1 && !copies[0].identity_targeted) {
    auto q = queues_.find(copies[0].target_device);
    auto c = connection_of(copies[0].target_device);
    const bool to_self = c && c == r.from.lock();
    // The recipient's own limit (can_take_live) is published from its loop and may lag while
    // posts are on their way; this one, kept here, bounds the live bytes held per device.
    auto held = live_by_device_.find(copies[0].target_device);
    const bool room = held == live_by_device_.end() ||
                      held->second.bytes < kLiveWindowsPerDevice * opt_.max_unacked_delivery_bytes;
    if ((q == queues_.end() || q->second.messages == 0) && c && !to_self && room &&
        c->can_take_live()) {
      store::StoredMessage m = std::move(copies[0]);
      m.id = next_live_id_++;
      hold_live(m, c, std::move(done));
      c->post([m = std::move(m), from = r.from](ClientConn& cc) mutable {
        cc.deliver_live(std::move(m), std::move(from));
      });
      return;
    }
  }
  store_live_before();
  store_copies(std::move(copies), std::move(over_quota), std::move(done));
}

void Relay::live_acked(std::uint64_t id) {
  asio::post(io_, [this, id] { live_acked_here(id); });
}

void Relay::live_failed(std::uint64_t id, bool recipient_gone) {
  asio::post(io_, [this, id, recipient_gone] { live_failed_here(id, recipient_gone); });
}

void Relay::register_device(std::string identity_url, std::string device_url,
                            std::function<void(sstp::AttachResponseId)> done) {
  asio::post(io_, [this, i = std::move(identity_url), d = std::move(device_url),
                   done = std::move(done)]() mutable { register_here(i, d, std::move(done)); });
}

void Relay::remove_copy(const store::StoredMessage& m) {
  // The completion runs on the main loop, after the delete is committed.
  store_->remove({m.id}, [this, device = m.target_device, bytes = store::data_size(m)](
                             std::error_code ec, std::uint64_t n) {
    if (!ec && n) removed_here(device, bytes);
  });
}

void Relay::live_acked_here(std::uint64_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;  // it fell back to the store already
  LiveCopy l = take_live(it);
  ++metrics_.live_acknowledged;
  l.done(true, {});
  maybe_finish();
}

void Relay::hold_live(const store::StoredMessage& m, const std::shared_ptr<ClientConn>& to,
                      std::function<void(bool, std::vector<std::size_t>)> done) {
  const std::uint64_t id = m.id, size = store::data_size(m);
  LiveCopy& l = live_[id];
  l.m = m;
  l.to = to;
  l.done = std::move(done);
  l.timer = std::make_unique<asio::steady_timer>(io_, opt_.live_timeout);
  l.timer->async_wait([this, id](const std::error_code& ec) {
    if (!ec) live_failed_here(id, false);
  });
  auto& total = live_by_device_[m.target_device];
  total.ids.insert(id);
  total.bytes += size;
  metrics_.live_bytes += size;
  metrics_.live_bytes_peak = std::max(metrics_.live_bytes_peak.load(), metrics_.live_bytes.load());
}

Relay::LiveCopy Relay::take_live(std::map<std::uint64_t, LiveCopy>::iterator it) {
  LiveCopy l = std::move(it->second);
  const std::uint64_t size = store::data_size(l.m);
  if (auto d = live_by_device_.find(l.m.target_device); d != live_by_device_.end()) {
    d->second.ids.erase(it->first);
    d->second.bytes -= std::min(d->second.bytes, size);
    if (d->second.ids.empty()) live_by_device_.erase(d);
  }
  metrics_.live_bytes -= std::min(metrics_.live_bytes.load(), size);
  live_.erase(it);
  return l;
}

// Order (sstp.md §9.5): a copy that falls back to the store must not be overtaken by later
// live copies of its delivery session, which would reach the recipient first; so they fall
// back with it, oldest first. Their failures are posted by other loops at other times.
void Relay::live_failed_here(std::uint64_t id, bool recipient_gone) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  const store::StoredMessage m = it->second.m;  // a copy: fall_back moves it out of live_
  store_live_from(m.target_device, id, recipient_gone, &m);
}

void Relay::store_live_from(const std::string& device, std::uint64_t first, bool recipient_gone,
                            const store::StoredMessage* same_session_as) {
  auto d = live_by_device_.find(device);
  if (d == live_by_device_.end()) return;
  std::vector<std::uint64_t> ids;
  for (auto it = d->second.ids.lower_bound(first); it != d->second.ids.end(); ++it) {
    auto l = live_.find(*it);
    if (l == live_.end()) continue;
    if (same_session_as && queue_key(l->second.m) != queue_key(*same_session_as)) continue;
    ids.push_back(*it);
  }
  for (std::uint64_t id : ids) fall_back(id, recipient_gone);
}

void Relay::fall_back(std::uint64_t id, bool recipient_gone) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  LiveCopy l = take_live(it);
  store::StoredMessage& m = l.m;
  auto& done = l.done;
  // Not sent yet: taken back so it goes out once, from the store. Sent: it may still arrive and
  // be acknowledged; the stored copy then repeats it and the receiver drops it by its id (§9.5).
  if (auto to = l.to.lock()) to->post([id](ClientConn& cc) { cc.drop_unsent_live(id); });
  if ((m.header.flags & flag::DoNotDeliverIfOffline) && recipient_gone)
    return done(true, {});  // §10.5: discarded when its target's connection ends
  m.id = 0;
  ++metrics_.live_stored;
  std::vector<store::StoredMessage> copies{std::move(m)};
  store_copies(std::move(copies), {}, std::move(done));
}

void Relay::store_copies(std::vector<store::StoredMessage> copies,
                         std::vector<std::size_t> over_quota,
                         std::function<void(bool, std::vector<std::size_t>)> done) {
  for (const auto& m : copies) {
    const std::uint64_t size = store::data_size(m);
    auto& q = queues_[m.target_device];
    q.messages += 1;
    q.bytes += size;
    ++metrics_.queued_messages;
    metrics_.queued_bytes += size;
  }
  ++appends_in_flight_;
  store_->append(std::move(copies), [this, over = std::move(over_quota), done = std::move(done)](
                                        std::error_code ec,
                                        std::vector<store::StoredMessage> written) mutable {
    --appends_in_flight_;
    if (ec) {
      spdlog::error("store: cannot write a message ({} copies): {}", written.size(), ec.message());
      for (const auto& m : written) removed_here(m.target_device, store::data_size(m));
      done(false, {});
      maybe_finish();
      return;
    }
    done(true, std::move(over));  // every copy durable: the sender may be acknowledged
    for (auto& m : written) deliver(std::move(m));
    maybe_finish();
  });
}

void Relay::register_here(const std::string& identity_url, const std::string& device_url,
                          std::function<void(sstp::AttachResponseId)> done) {
  using sstp::AttachResponseId;
  bool already = false;
  std::size_t count = registering_[identity_url];  // registrations being written count too
  for (auto [lo, hi] = registrations_.equal_range(identity_url); lo != hi; ++lo) {
    ++count;
    already = already || lo->second == device_url;
  }
  if (already) return done(AttachResponseId::Ok);  // repeating it is harmless (§11)
  if (count >= opt_.max_registered_devices) return done(AttachResponseId::QuotaWouldBeExceeded);
  ++registering_[identity_url];
  ++appends_in_flight_;
  store_->register_device(
      identity_url, device_url,
      [this, identity_url, device_url, done](std::error_code ec, store::Registration r) {
        --appends_in_flight_;
        if (--registering_[identity_url] == 0) registering_.erase(identity_url);
        if (ec) {
          spdlog::error("store: cannot register {} for {}: {}", device_url, identity_url,
                        ec.message());
          done(AttachResponseId::TryLater);
        } else if (!r.added && !r.existed) {
          done(AttachResponseId::AuthenticationFailed);  // the identity or device is gone
        } else {
          const bool known = std::any_of(registrations_.lower_bound(identity_url),
                                         registrations_.upper_bound(identity_url),
                                         [&](const auto& p) { return p.second == device_url; });
          if (!known) registrations_.emplace(identity_url, device_url);
          if (r.copied) {  // §11 R2: the pending copies were made in the same transaction
            auto& q = queues_[device_url];
            q.messages += r.copied;
            q.bytes += r.copied_bytes;
            metrics_.queued_messages += r.copied;
            metrics_.queued_bytes += r.copied_bytes;
            if (auto c = connection_of(device_url))
              c->post([](ClientConn& cc) { cc.queue_grew(); });
          }
          spdlog::info("event=registered identity={} device={} pending_copies={}", identity_url,
                       device_url, r.copied);
          done(AttachResponseId::Ok);
        }
        maybe_finish();
      });
}

// auth.md §8: after 10 failures within 60 s, TryLater for 60 s, per source and per device.
void Relay::auth_failed(const std::string& source, const std::string& device) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> keys{"addr " + source};
  if (device_known(device)) keys.push_back("dev " + device);  // peers choose unknown URLs freely
  std::lock_guard lock(auth_mu_);
  for (const std::string& key : keys) {
    // Bounded under a flood from many addresses: beyond the cap, new sources are not counted.
    if (auth_failures_.size() >= 10000 && !auth_failures_.count(key)) continue;
    auto& q = auth_failures_[key];
    q.push_back(now);
    while (!q.empty() && now - q.front() > std::chrono::seconds(60)) q.pop_front();
    if (q.size() >= 10) {
      auth_blocked_until_[key] = now + std::chrono::seconds(60);
      q.clear();
      spdlog::warn("event=auth_rate_limited key=\"{}\"", key);
    }
  }
}

void Relay::prune_auth_failures() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(auth_mu_);
  std::erase_if(auth_failures_, [&](const auto& kv) {
    return kv.second.empty() || now - kv.second.back() > std::chrono::seconds(60);
  });
  std::erase_if(auth_blocked_until_, [&](const auto& kv) { return now >= kv.second; });
}

bool Relay::auth_limited(const std::string& source, const std::string& device) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(auth_mu_);
  for (const std::string& key : {"addr " + source, "dev " + device}) {
    auto it = auth_blocked_until_.find(key);
    if (it == auth_blocked_until_.end()) continue;
    if (now < it->second) return true;
    auth_blocked_until_.erase(it);
  }
  return false;
}

void Relay::removed_here(const std::string& device, std::uint64_t size) {
  auto& q = queues_[device];
  q.messages -= std::min<std::uint64_t>(q.messages, 1);
  q.bytes -= std::min(q.bytes, size);
  metrics_.queued_messages -= std::min<std::uint64_t>(metrics_.queued_messages.load(), 1);
  metrics_.queued_bytes -= std::min(metrics_.queued_bytes.load(), size);
}

void Relay::shutdown() {
  if (stopping_.exchange(true)) return;
  spdlog::info("event=shutdown connections={}", conns_.size());
  for (auto& a : acceptors_) {
    std::error_code ec;
    a.close(ec);
  }
  if (http_) http_->stop();
  if (purge_timer_) purge_timer_->cancel();
  const std::uint16_t back = opt_.resting_return_time;
  for (auto& c : conns_)
    c->post([back](ClientConn& cc) { cc.close(sstp::ConnectCloseReason::Resting, back); });
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
  add("grove_connections_accepted_total", "counter", "TCP connections accepted",
      connections_accepted);
  add("grove_connections_open", "gauge", "Connections open now", connections_open);
  add("grove_sessions_opened_total", "counter", "Inbound sessions accepted", sessions_opened);
  add("grove_messages_in_total", "counter", "Message sequences received", messages_in);
  add("grove_bytes_in_total", "counter", "Application bytes received", bytes_in);
  add("grove_messages_out_total", "counter", "Message sequences delivered", messages_out);
  add("grove_bytes_out_total", "counter", "Application bytes delivered", bytes_out);
  add("grove_auth_failures_total", "counter", "Refused device authentications", auth_failures);
  add("grove_live_acknowledged_total", "counter",
      "Messages acknowledged by their live recipient without a store write", live_acknowledged);
  add("grove_live_stored_total", "counter",
      "Live messages stored after all (recipient slow or gone)", live_stored);
  add("grove_live_sender_pauses_total", "counter",
      "Times a sender's reading was paused for a live recipient's backlog", live_sender_pauses);
  add("grove_live_bytes", "gauge", "Bytes of live messages held in memory, not yet acknowledged",
      live_bytes);
  add("grove_live_bytes_peak", "gauge", "Highest grove_live_bytes since the start",
      live_bytes_peak);
  add("grove_protocol_errors_total", "counter", "Connections closed for protocol errors",
      protocol_errors);
  add("grove_queue_messages", "gauge", "Stored copies waiting for delivery", queued_messages);
  add("grove_queue_bytes", "gauge", "Bytes of stored copies waiting for delivery", queued_bytes);
  return s;
}

}  // namespace grove::relay
