#include "relay/client_conn.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

#include "relay/relay.hpp"

namespace grove::relay {

using engine::Availability;
using sstp::CloseReason;
using sstp::ConnectCloseReason;
using sstp::ConnectResponseId;
namespace flag = sstp::message_flag;

namespace {
std::string peer_of(const net::ByteStream& s) {
  auto d = s.describe();
  auto sp = d.find(' ');
  return sp == std::string::npos ? d : d.substr(sp + 1);
}
constexpr const char* kGrooveWanDpp = "grooveWanDPP";
// "127.0.0.1:5000" -> "127.0.0.1", "[::1]:5000" -> "[::1]": the source of rate limiting.
std::string address_of(const std::string& peer) {
  auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}
}  // namespace

ClientConn::ClientConn(Relay& relay, net::ByteStreamPtr stream, const engine::Options& eo,
                       asio::any_io_executor ex, std::size_t loop)
    : relay_(relay),
      ex_(std::move(ex)),
      loop_(loop),
      stream_(std::move(stream)),
      conn_(eo, engine::Clock::now()),
      driver_(*stream_, conn_, *this),
      peer_(peer_of(*stream_)) {}

void ClientConn::on_event(engine::Connection&, engine::Event& e) {
  std::visit([&](auto& ev) { handle(ev); }, e);
}

void ClientConn::close(ConnectCloseReason reason, std::uint16_t return_time) {
  conn_.close(reason, return_time);
  driver_.kick();
}

// ---------------------------------------------------------------- handshake (§7.3.1 steps 7-9)

void ClientConn::handle(engine::ConnectRequested& ev) {
  device_url_ = ev.source_device_url;
  auto refuse = [&](ConnectResponseId id, std::uint16_t retry, const char* why) {
    spdlog::info("event=refused peer={} device={} response={} cause=\"{}\"", peer_, device_url_,
                 static_cast<int>(id), why);
    if (id == ConnectResponseId::AuthenticationFailed) {
      ++relay_.metrics().auth_failures;
      relay_.auth_failed(address_of(peer_), device_url_);
    }
    (void)conn_.refuse_connection(id, retry);
  };
  if (relay_.shutting_down()) return refuse(ConnectResponseId::TryLater, 30, "shutting down");
  if (relay_.connection_count() > relay_.options().max_connections)  // §10.8
    return refuse(ConnectResponseId::TryLater, 30, "too many connections");
  if (relay_.options().require_authentication &&
      relay_.auth_limited(address_of(peer_), device_url_))
    return refuse(ConnectResponseId::TryLater, 60, "too many failed authentications");
  if (!relay_.options().require_authentication) {
    (void)conn_.accept_connection();
    return;
  }
  const auto d = relay_.device(device_url_);
  if (!d) return refuse(ConnectResponseId::AuthenticationFailed, 0, "unknown device");
  if (!d->enabled) return refuse(ConnectResponseId::ConnectRejected, 0, "device disabled");
  secret_ = d->secret;
  (void)conn_.accept_connection(d->secret);  // the engine checks the token (auth.md R1, R3)
}

void ClientConn::handle(engine::Established& ev) {
  if (ev.authenticated) on_authenticated();  // authentication off (demo mode)
}

void ClientConn::handle(engine::Authenticated&) { on_authenticated(); }

void ClientConn::on_authenticated() {
  authenticated_ = true;
  spdlog::info("event=authenticated peer={} device={} loop={}", peer_, device_url_, loop_);
  relay_.authenticated(shared_from_this());
}

// ---------------------------------------------------------------- inbound (§10.3)

void ClientConn::handle(engine::SessionRequested& ev) {
  Availability a = Availability::ready;
  const char* why = nullptr;
  if (ev.resource_url == kGrooveWanDpp) {
    a = Availability::fault, why = "grooveWanDPP";
  } else if (inbound_.size() >= relay_.options().max_inbound_sessions) {
    a = Availability::fault, why = "too many inbound sessions";
  } else if (ev.device_url.empty() && !relay_.identity_known(ev.identity_url)) {
    a = Availability::fault, why = "unknown identity";
  } else if (!ev.device_url.empty() && !relay_.device_known(ev.device_url)) {
    a = Availability::fault, why = "unknown or disabled device";
  }
  if (why)
    spdlog::info("event=open_refused peer={} session={} cause=\"{}\"", peer_, ev.session_id, why);
  if (a == Availability::ready) {
    Inbound& in = inbound_[ev.session_id];
    in.resource_url = ev.resource_url;
    in.targets = {RouteTarget{ev.identity_url, ev.device_url}};
    in.faulted = {false};
    ++relay_.metrics().sessions_opened;
  }
  (void)conn_.respond_open(ev.session_id, a);
}

// §10.7 steps 9-10: entries naming unknown or disabled recipients are in 'fault'.
void ClientConn::handle(engine::FanoutRequested& ev) {
  std::vector<std::uint16_t> faulted;
  Inbound in;
  in.resource_url = ev.resource_url;
  in.fanout = true;
  for (std::size_t i = 0; i < ev.entries.size(); ++i) {
    const auto& e = ev.entries[i];
    const bool known = e.device_url.empty() ? relay_.identity_known(e.identity_url)
                                            : relay_.device_known(e.device_url);
    in.targets.push_back({e.identity_url, e.device_url});
    in.faulted.push_back(!known);
    if (!known) faulted.push_back(static_cast<std::uint16_t>(i));
  }
  Availability a = Availability::ready;
  if (inbound_.size() >= relay_.options().max_inbound_sessions) a = Availability::fault;
  if (a == Availability::ready && faulted.size() < ev.entries.size()) {
    inbound_[ev.session_id] = std::move(in);
    ++relay_.metrics().sessions_opened;
  }
  spdlog::info("event=fanout_open peer={} session={} entries={} faulted={}", peer_, ev.session_id,
               ev.entries.size(), faulted.size());
  (void)conn_.respond_fanout(ev.session_id, a, faulted);
}

// ---------------------------------------------------------------- identities (§11)

void ClientConn::handle(engine::AttachRequested& ev) {
  (void)conn_.answer_attach(ev.event_id, relay_.identity_secret(ev.identity_url));
}

void ClientConn::handle(engine::AttachResult& ev) {
  if (!ev.attached) {
    ++relay_.metrics().auth_failures;
    spdlog::info("event=attach_failed peer={} device={} identity={} reason={}", peer_, device_url_,
                 ev.identity_url, ev.reason_id);
    return;
  }
  spdlog::info("event=attached peer={} device={} identity={}", peer_, device_url_, ev.identity_url);
  {
    std::lock_guard lock(attached_mu_);
    attached_.insert(ev.identity_url);
  }
  rescan(ev.identity_url);
}

void ClientConn::handle(engine::RegisterRequested& ev) {
  const std::uint32_t id = ev.event_id;
  relay_.register_device(ev.identity_url, device_url_,
                         here([id](ClientConn& c, sstp::AttachResponseId answer) {
                           if (c.closed_) return;
                           (void)c.conn_.respond_register(id, answer);
                           c.driver_.kick();
                         }));
}

void ClientConn::handle(engine::MessageStarted& ev) {
  auto it = inbound_.find(ev.session_id);
  if (it == inbound_.end()) return;
  Inbound& in = it->second;
  in.receiving = true;
  in.header = ev.header;
  in.data = std::make_shared<Bytes>();
  in.too_large = (ev.header.flags & flag::StreamSize) &&
                 ev.header.stream_size.total_size > relay_.options().max_message_bytes;
  if (!in.too_large && (ev.header.flags & flag::StreamSize))
    in.data->reserve(static_cast<std::size_t>(ev.header.stream_size.total_size));
}

namespace {
// Without a TotalSize, the first Data chunk gets a buffer of exactly its size: most small
// messages are one chunk, and need no other allocation. A second chunk grows it to at least
// this size, doubling from there, instead of growing (and being copied) in small steps;
// MessageEnded gives back what the message did not use.
constexpr std::size_t kInboundStart = 64 * 1024;
}  // namespace

void ClientConn::handle(engine::MessageData& ev) {
  auto it = inbound_.find(ev.session_id);
  if (it == inbound_.end() || !it->second.receiving) return;
  Inbound& in = it->second;
  if (in.too_large) return;
  if (in.data->size() + ev.data.size() > relay_.options().max_message_bytes) {
    in.too_large = true;
    Bytes().swap(*in.data);
    return;
  }
  const std::size_t need = in.data->size() + ev.data.size();
  if (need > in.data->capacity()) {
    const bool first = in.data->capacity() == 0;
    in.data->reserve(first ? need : std::max({need, 2 * in.data->capacity(), kInboundStart}));
  }
  in.data->insert(in.data->end(), ev.data.begin(), ev.data.end());
}

void ClientConn::handle(engine::MessageEnded& ev) {
  auto it = inbound_.find(ev.session_id);
  if (it == inbound_.end()) {
    conn_.message_processed(ev.seq);
    return;
  }
  Inbound& in = it->second;
  in.receiving = false;
  ++relay_.metrics().messages_in;
  relay_.metrics().bytes_in += ev.total_bytes;
  if (in.too_large) {
    // §10.3 / §10.8: Close QuotaWouldBeExceeded; the sequence is disposed of and acknowledged.
    spdlog::info("event=too_large peer={} session={} bytes={}", peer_, ev.session_id,
                 ev.total_bytes);
    inbound_.erase(it);
    (void)conn_.close_session(ev.session_id, CloseReason::QuotaWouldBeExceeded);
    conn_.message_processed(ev.seq);
    return;
  }
  if (in.data->capacity() > 2 * in.data->size() + 4096) in.data->shrink_to_fit();
  const std::uint32_t sid = ev.session_id;
  const std::uint64_t seq = ev.seq;
  RouteRequest r;
  r.from = weak_from_this();
  r.from_device = device_url_;
  r.resource_url = in.resource_url;
  r.header = in.header;
  r.data = std::move(in.data);
  r.fanout = in.fanout;
  // The usual case, no entry in 'fault': the session's targets as they are.
  if (std::none_of(in.faulted.begin(), in.faulted.end(), [](bool f) { return f; })) {
    r.targets = in.targets;
    r.done = here([sid, seq](ClientConn& c, bool ok, std::vector<std::size_t> over) {
      if (c.closed_) return;  // not acknowledged: the sender re-sends
      c.stored(sid, seq, ok, over);
    });
    relay_.route(std::move(r));
    return;
  }
  std::vector<std::size_t> index;  // r.targets[k] is entry index[k] of the session
  for (std::size_t i = 0; i < in.targets.size(); ++i) {
    if (in.faulted[i]) continue;  // an entry in 'fault' counts as 'complete' (§10.7)
    r.targets.push_back(in.targets[i]);
    index.push_back(i);
  }
  r.done = here([sid, seq, index](ClientConn& c, bool ok, std::vector<std::size_t> over) {
    if (c.closed_) return;
    for (auto& k : over) k = index[k];
    c.stored(sid, seq, ok, over);
  });
  relay_.route(std::move(r));
}

// Every copy of a sequence is durable (or disposed of by a rule): acknowledge it (§10.2).
// Targets over their quota fail: an Open session closes, fanout entries go to 'fault'.
void ClientConn::stored(std::uint32_t sid, std::uint64_t seq, bool ok,
                        const std::vector<std::size_t>& over) {
  if (!ok) return close(ConnectCloseReason::InternalError);
  auto it = inbound_.find(sid);
  if (!over.empty() && it != inbound_.end()) {
    Inbound& in = it->second;
    if (!in.fanout) {
      inbound_.erase(it);
      (void)conn_.close_session(sid, CloseReason::QuotaWouldBeExceeded);
    } else {
      std::vector<std::uint16_t> entries;
      for (auto i : over) {
        in.faulted[i] = true;
        entries.push_back(static_cast<std::uint16_t>(i));
      }
      (void)conn_.report_fanout_status(sid, sstp::StatusId::QuotaWouldBeExceeded, entries);
      if (std::all_of(in.faulted.begin(), in.faulted.end(), [](bool f) { return f; })) {
        inbound_.erase(it);
        (void)conn_.close_session(sid, CloseReason::EmptySession);
      }
    }
  }
  conn_.message_processed(seq);
  driver_.kick();
}

void ClientConn::handle(engine::MessageAborted& ev) {
  auto it = inbound_.find(ev.session_id);
  if (it != inbound_.end()) it->second.receiving = false;
}

// ---------------------------------------------------------------- delivery (§10.4)

void ClientConn::start_delivery() {
  caught_up_ = false;
  load_more();
}

bool ClientConn::identity_attached(const std::string& url) const {
  std::lock_guard lock(attached_mu_);
  return attached_.count(url) != 0;
}

bool ClientConn::deliverable(const store::StoredMessage& m) const {
  return !m.identity_targeted || conn_.identity_attached(m.identity_url);
}

bool ClientConn::held(std::uint64_t id) const {
  if (inflight_.count(id)) return true;
  return std::any_of(pending_.begin(), pending_.end(), [id](const auto& m) { return m.id == id; });
}

void ClientConn::rescan(const std::string& identity_url) {
  rescans_.emplace_back(identity_url, loaded_up_to_);
  if (!rescanning_) rescan_page();
}

void ClientConn::rescan_page() {
  if (closed_ || rescans_.empty()) {
    rescanning_ = false;
    return;
  }
  rescanning_ = true;
  if (pending_.size() >= relay_.options().max_unacked_deliveries) {
    rescan_waiting_ = true;  // pump() resumes once the window has room
    return;
  }
  publish_live_state();
  const auto [identity, limit] = rescans_.front();
  relay_.store().load_queue(
      device_url_, rescan_after_, relay_.options().max_unacked_deliveries,
      here([identity = identity, limit = limit](ClientConn& cc, std::error_code ec,
                                                std::vector<store::StoredMessage> got) {
        ClientConn* c = &cc;
        if (c->closed_) return;
        if (ec) {
          spdlog::error("store: cannot read the queue of {}: {}", c->device_url_, ec.message());
          c->rescanning_ = false;
          return;
        }
        bool done = got.empty();
        for (auto& m : got) {
          if (m.id > limit) {
            done = true;
            break;
          }
          c->rescan_after_ = m.id;
          if (!m.identity_targeted || m.identity_url != identity || c->held(m.id)) continue;
          auto at = std::find_if(c->pending_.begin(), c->pending_.end(),
                                 [&](const auto& p) { return p.id > m.id; });
          c->pending_bytes_ += store::data_size(m);
          c->pending_.insert(at, std::move(m));  // pending_ stays in id order
        }
        if (done) {
          c->rescans_.pop_front();
          c->rescan_after_ = 0;
        }
        c->pump();
        c->rescan_page();
      }));
}

void ClientConn::load_more() {
  if (loading_ || caught_up_ || closed_ ||
      pending_.size() >= relay_.options().max_unacked_deliveries)
    return;
  // Keep loaded-but-unsent copies within one window too.
  if (pending_bytes_ >= relay_.options().max_unacked_delivery_bytes) return;
  loading_ = true;
  more_ = false;
  publish_live_state();
  const std::size_t batch = relay_.options().max_unacked_deliveries;
  relay_.store().load_queue(
      device_url_, loaded_up_to_, batch,
      here([](ClientConn& cc, std::error_code ec, std::vector<store::StoredMessage> got) {
        ClientConn* c = &cc;
        if (c->closed_) return;
        c->loading_ = false;
        if (ec) {
          spdlog::error("store: cannot load the queue of {}: {}", c->device_url_, ec.message());
          return;
        }
        for (auto& m : got) {
          if (m.id <= c->loaded_up_to_) continue;
          c->loaded_up_to_ = m.id;
          // Copies of identities not attached (yet) wait for rescan().
          if (!c->deliverable(m)) continue;
          c->pending_bytes_ += store::data_size(m);
          c->pending_.push_back(std::move(m));
        }
        // The store may cut a page short at its byte limit, so only
        // an empty page means the queue is drained.
        c->caught_up_ = got.empty() && !c->more_;
        c->pump();
      }));
}

void ClientConn::queue_grew() {
  if (closed_ || !authenticated_) return;
  more_ = true;
  caught_up_ = false;
  load_more();
}

// Live copies wait in pending_ behind the delivery window (one window in flight). Senders
// that can be paused are paused at two windows waiting and resumed below one, so the recipient
// always has a window's worth to send next; senders that cannot be paused (copies are being
// delivered to them) may fill up to eight windows, beyond which copies take the store path
// (and the live copies still unacknowledged go there first, to keep their order).
namespace {
std::uint64_t live_pause_limit(const Options& o) { return 2 * o.max_unacked_delivery_bytes; }
std::uint64_t live_resume_limit(const Options& o) { return o.max_unacked_delivery_bytes; }
std::uint64_t live_hard_limit(const Options& o) { return 8 * o.max_unacked_delivery_bytes; }
}  // namespace

void ClientConn::publish_live_state() {
  takes_live_.store(!closed_ && authenticated_ && caught_up_ && !loading_ && !rescanning_ &&
                    pending_bytes_ < live_hard_limit(relay_.options()));
}

bool ClientConn::live_backlogged() const {
  return pending_bytes_ >= live_pause_limit(relay_.options());
}

// The relay chose the live path from state published a moment ago (can_take_live()): a
// connection that ended since hands the copy back to be stored.
void ClientConn::deliver_live(store::StoredMessage m, std::weak_ptr<ClientConn> sender) {
  if (closed_ || !authenticated_) return relay_.live_failed(m.id, true);
  pending_bytes_ += store::data_size(m);
  pending_.push_back(std::move(m));
  pump();
  // Back-pressure instead of the store: the sender waits until this recipient drains; the
  // copy in hand is taken and the sender's bytes stay in its socket meanwhile. Held first, so
  // the resume (posted from here, after this pause) can never overtake the pause.
  if (!live_backlogged()) return;
  if (auto s = sender.lock(); s && s.get() != this) {
    hold_sender(s);
    s->post([](ClientConn& c) { c.pause_for_live(); });
  }
}

bool ClientConn::drop_unsent_live(std::uint64_t id) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [id](auto& m) { return m.id == id; });
  if (it == pending_.end()) return false;
  pending_bytes_ -= store::data_size(*it);
  pending_.erase(it);
  if (pending_bytes_ < live_resume_limit(relay_.options())) release_senders();
  return true;
}

void ClientConn::hold_sender(const std::shared_ptr<ClientConn>& sender) {
  for (const auto& w : held_senders_)
    if (w.lock() == sender) return;
  held_senders_.push_back(sender);
}

void ClientConn::release_senders() {
  if (held_senders_.empty()) return;
  auto held = std::move(held_senders_);
  held_senders_.clear();
  for (auto& w : held)
    if (auto c = w.lock()) c->post([](ClientConn& s) { s.resume_reading(); });
}

void ClientConn::pause_for_live() {
  if (closed_ || !pending_.empty() || !inflight_.empty() || driver_.reading_paused()) return;
  driver_.pause_reading();
  ++relay_.metrics().live_sender_pauses;
  // The bound on a pause: by live_timeout the recipient acknowledged, or its copies were
  // stored and later ones take the store path; either way reading may go on. At most 60 s,
  // well within the 135 s ReceiveIdle timer (§7.6) of a sender we do not read.
  if (!pause_timer_) pause_timer_ = std::make_unique<asio::steady_timer>(ex_);
  pause_timer_->expires_after(
      std::min<engine::Duration>(relay_.options().live_timeout, std::chrono::seconds(60)));
  std::weak_ptr<ClientConn> self = shared_from_this();
  pause_timer_->async_wait([self](const std::error_code& ec) {
    if (ec) return;
    if (auto c = self.lock()) c->resume_reading();
  });
}

void ClientConn::resume_reading() {
  if (!driver_.reading_paused()) return;
  if (pause_timer_) pause_timer_->cancel();
  driver_.resume_reading();
}

void ClientConn::deliver_new(store::StoredMessage m) {
  if (closed_ || !authenticated_ || !deliverable(m)) return;
  if (caught_up_ && !loading_ && m.id > loaded_up_to_) {
    loaded_up_to_ = m.id;
    pending_bytes_ += store::data_size(m);
    pending_.push_back(std::move(m));
    pump();
  } else {
    more_ = true;
    caught_up_ = false;
    load_more();
  }
}

void ClientConn::pump() {
  publish_live_state();
  // A paused sender that now has deliveries of its own must read their acknowledgements.
  if (driver_.reading_paused() && (!pending_.empty() || !inflight_.empty())) resume_reading();
  if (closed_ || !authenticated_ || !conn_.can_send()) return;
  const auto& o = relay_.options();
  const auto now = engine::Clock::now();
  const std::int64_t now_unix = std::time(nullptr);
  std::set<QueueKey> blocked;  // keys whose next message must wait: keeps per-queue order
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (inflight_.size() >= o.max_unacked_deliveries ||
        (inflight_bytes_ >= o.max_unacked_delivery_bytes && !inflight_.empty()) ||
        conn_.pending_output().size() >= (1u << 20))
      break;
    const store::StoredMessage& m = *it;
    if ((m.header.flags & flag::Ephemeral) &&
        static_cast<std::int64_t>(m.header.expiration_time) <= now_unix) {  // §10.6
      if (is_live(m.id)) {
        relay_.live_acked(m.id);  // disposed of by the expiry rule
      } else {
        relay_.remove_copy(m);
      }
      pending_bytes_ -= store::data_size(m);
      it = pending_.erase(it);
      continue;
    }
    const QueueKey key = queue_key(m);
    if (blocked.count(key)) {
      ++it;
      continue;
    }
    auto sit = session_of_.find(key);
    if (sit == session_of_.end()) {
      auto r = refused_until_.find(key);
      if ((r != refused_until_.end() && now < r->second) ||
          delivery_.size() >= o.max_delivery_sessions) {
        blocked.insert(key);
        ++it;
        continue;
      }
      std::uint32_t sid = 0;
      if (conn_.open_session(m.resource_url, m.identity_url,
                             m.identity_targeted ? std::string() : device_url_, sid)) {
        return;
      }
      session_of_[key] = sid;
      delivery_[sid] = DeliverySession{key, false, now};
      blocked.insert(key);
      ++it;
      continue;
    }
    if (!delivery_[sit->second].ready) {
      blocked.insert(key);
      ++it;
      continue;
    }
    if (!send_one(m, sit->second)) {
      blocked.insert(key);
      ++it;
      continue;
    }
    inflight_bytes_ += store::data_size(m);
    pending_bytes_ -= store::data_size(m);
    delivery_[sit->second].last_used = now;
    inflight_.emplace(m.id, std::move(*it));
    it = pending_.erase(it);
  }
  if (pending_bytes_ < live_resume_limit(o)) release_senders();
  driver_.kick();
  load_more();
  publish_live_state();
  if (rescan_waiting_ && pending_.size() < o.max_unacked_deliveries) {
    rescan_waiting_ = false;
    rescan_page();
  }
}

bool ClientConn::send_one(const store::StoredMessage& m, std::uint32_t sid) {
  engine::MessageOptions mo;
  mo.flags = m.header.flags;
  mo.user_ref = m.header.user_ref;
  if (m.header.flags & flag::Ephemeral) mo.expiration_time = m.header.expiration_time;
  if (m.header.flags & flag::StreamSize) mo.total_size = m.header.stream_size.total_size;
  if (m.header.flags & flag::Fragmentation) mo.fragmentation = m.header.fragmentation;
  if (conn_.begin_message(sid, mo)) return false;
  static const Bytes kEmpty;
  (void)conn_.send_data(sid, m.data ? ByteView(*m.data) : ByteView(kEmpty));
  (void)conn_.end_message(sid, m.id);
  ++relay_.metrics().messages_out;
  relay_.metrics().bytes_out += store::data_size(m);
  return true;
}

void ClientConn::handle(engine::SessionReady& ev) {
  auto it = delivery_.find(ev.session_id);
  if (it != delivery_.end()) it->second.ready = true;
  pump();
}

void ClientConn::handle(engine::SessionRefused& ev) {
  auto it = delivery_.find(ev.session_id);
  if (it == delivery_.end()) return;
  refused_until_[it->second.key] = engine::Clock::now() + std::chrono::seconds(300);
  session_of_.erase(it->second.key);
  delivery_.erase(it);
}

void ClientConn::handle(engine::SessionClosed& ev) {
  if (auto it = inbound_.find(ev.session_id); it != inbound_.end()) {
    inbound_.erase(it);
    return;
  }
  auto it = delivery_.find(ev.session_id);
  if (it == delivery_.end()) return;
  if (ev.by_peer) refused_until_[it->second.key] = engine::Clock::now() + std::chrono::seconds(300);
  session_of_.erase(it->second.key);
  delivery_.erase(it);
  pump();
}

void ClientConn::close_if_uses(const std::vector<std::string>& identities) {
  for (const auto& url : identities) {
    if (conn_.identity_attached(url) || conn_.identity_attaching(url)) {
      close(sstp::ConnectCloseReason::DeviceAuthenticationFailed);
      return;
    }
  }
}

void ClientConn::close_idle_sessions(engine::TimePoint now, engine::Duration idle) {
  // Copies still in the store (not loaded yet) may belong to any queue: nothing is idle.
  if (closed_ || !conn_.can_send() || !caught_up_ || loading_) return;
  auto busy = [&](const QueueKey& k) {
    auto same = [&](const store::StoredMessage& m) { return queue_key(m) == k; };
    return std::any_of(pending_.begin(), pending_.end(), same) ||
           std::any_of(inflight_.begin(), inflight_.end(), [&](auto& p) { return same(p.second); });
  };
  std::vector<std::uint32_t> idle_ids;
  for (auto& [sid, d] : delivery_)
    if (d.ready && now - d.last_used >= idle && !busy(d.key)) idle_ids.push_back(sid);
  for (auto sid : idle_ids) {
    // Our own Close: the SessionClosed handler forgets the session (by_peer = false).
    spdlog::info("event=idle_close peer={} device={} session={}", peer_, device_url_, sid);
    (void)conn_.close_session(sid, CloseReason::Idle);
  }
  if (!idle_ids.empty()) driver_.kick();
}

void ClientConn::handle(engine::Acknowledged& ev) {
  auto it = inflight_.find(ev.cookie);
  if (it == inflight_.end()) return;
  const QueueKey key = queue_key(it->second);
  if (auto s = session_of_.find(key); s != session_of_.end())
    delivery_[s->second].last_used = engine::Clock::now();
  inflight_bytes_ -= store::data_size(it->second);
  if (is_live(it->first)) {
    relay_.live_acked(it->first);  // the live recipient has it: the sender may be acknowledged
  } else {
    relay_.remove_copy(it->second);  // a copy leaves when acknowledged
  }
  inflight_.erase(it);
  pump();
}

void ClientConn::handle(engine::ConnectionClosed& ev) {
  closed_ = true;
  ended_ = true;
  publish_live_state();
  if (ev.error == sstp::errc::connection_closed && ev.by_peer) {
    spdlog::info("event=closed peer={} device={} cause=\"stream closed\"", peer_, device_url_);
  } else if (!authenticated_ && ev.reason == ConnectCloseReason::DeviceAuthenticationFailed) {
    // Our check of the DeviceProof failed, or the client's check of our RelayProof did (its
    // secret is not the device's): either way a failed authentication (auth.md §8).
    ++relay_.metrics().auth_failures;
    relay_.auth_failed(address_of(peer_), device_url_);
    spdlog::info("event=auth_failed peer={} device={} cause=\"{}\"", peer_, device_url_,
                 ev.by_peer ? "the client rejected the relay proof (wrong device secret?)"
                 : ev.error ? ev.error.message()
                            : "device proof wrong");
  } else if (ev.error && !ev.by_peer) {
    ++relay_.metrics().protocol_errors;
    spdlog::warn("event=closed peer={} device={} sent=ConnectClose reason={} cause=\"{}\"", peer_,
                 device_url_, static_cast<int>(ev.reason), ev.error.message());
  } else {
    spdlog::info("event=closed peer={} device={} by_peer={} reason={}", peer_, device_url_,
                 ev.by_peer, static_cast<int>(ev.reason));
  }
  // Live copies not acknowledged go to the store, oldest first (or are dropped by the D rule).
  std::vector<std::uint64_t> live;
  for (auto& [id, m] : inflight_)
    if (is_live(id)) live.push_back(id);
  for (auto& m : pending_)
    if (is_live(m.id)) live.push_back(m.id);
  std::sort(live.begin(), live.end());
  for (auto id : live) relay_.live_failed(id, true);
  // §10.5: a D copy still unacknowledged when its target's connection ends is discarded.
  for (auto& [id, m] : inflight_)
    if (!is_live(id) && (m.header.flags & flag::DoNotDeliverIfOffline)) relay_.remove_copy(m);
  inflight_.clear();
  pending_.clear();
  pending_bytes_ = 0;
  relay_.closed(weak_from_this(), device_url_);
  release_senders();  // their later messages find no live recipient and take the store path
  resume_reading();
}

}  // namespace grove::relay
