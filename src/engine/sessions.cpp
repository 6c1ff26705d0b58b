// Session-level behaviour: Open/OpenResponse/Close, FanoutOpen answers, SessionStatus, and the
// MessageReceiver of sstp.md §9.2. Connection-level parts are in connection.cpp.
#include <algorithm>

#include "engine/connection.hpp"
#include "sstp/url.hpp"

namespace grove::engine {

using sstp::CloseReason;
using sstp::ConnectCloseReason;
using sstp::errc;
using sstp::OpenResponseId;
namespace flag = sstp::message_flag;

namespace {

bool known_open_response(std::uint8_t v) {
  switch (static_cast<OpenResponseId>(v)) {
    case OpenResponseId::Ok:
    case OpenResponseId::NoResource:
    case OpenResponseId::Unknown:
    case OpenResponseId::NoFanoutEntries:
    case OpenResponseId::OkStopSending:
    case OpenResponseId::FanoutNotSupported:
      return true;
  }
  return false;
}

std::uint8_t known_close_reason(std::uint8_t v) {
  switch (static_cast<CloseReason>(v)) {
    case CloseReason::NoReason:
    case CloseReason::Idle:
    case CloseReason::ProtocolError:
    case CloseReason::DeviceAuthenticationFailed:
    case CloseReason::UserAuthenticationFailed:
    case CloseReason::StaleAttachAuthenticate:
    case CloseReason::QuotaWouldBeExceeded:
    case CloseReason::InternalError:
    case CloseReason::EmptySession:
      return v;
  }
  return 0;  // §6.5: unknown values read as NoReason
}

std::uint8_t known_status(std::uint8_t v) {
  switch (static_cast<sstp::StatusId>(v)) {
    case sstp::StatusId::DNSLookupFailed:
    case sstp::StatusId::HostNotReachable:
    case sstp::StatusId::ConnectionClosed:
    case sstp::StatusId::QuotaWouldBeExceeded:
    case sstp::StatusId::LockedOut:
      return v;
  }
  return static_cast<std::uint8_t>(sstp::StatusId::LockedOut);  // §6.7: unknown reads as LockedOut
}

}  // namespace

bool Connection::is_peer_parity(std::uint32_t id) const {
  const bool odd = (id & 1u) != 0;
  return opt_.role == Role::initiator ? !odd : odd;  // §8.2: initiator odd, acceptor even
}

bool Connection::session_ready(std::uint32_t id) const {
  auto it = sessions_.find(id);
  return it != sessions_.end() && it->second.originated && it->second.state == SessionState::ready;
}

// §8.4 steps 3-4 (steps 1-2 are the state gates of handle()).
bool Connection::check_new_session_id(std::uint32_t id) {
  if (id == 0 || !is_peer_parity(id)) {
    fail(ConnectCloseReason::ProtocolError, errc::bad_session_id);
    return false;
  }
  if (id_in_use(id)) {
    fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::session_id_in_use);
    return false;
  }
  return true;
}

void Connection::count_unknown_session_command() {
  if (++unknown_session_commands_ > opt_.max_unknown_session_commands)  // §12.2
    fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::too_many_unknown_session_commands);
}

void Connection::remember_closed(std::uint32_t id, ReceiverState leftover) {
  if (closed_ids_.insert(id).second) closed_order_.push_back(id);
  if (leftover != ReceiverState::waiting) leftover_[id] = leftover;
  while (closed_order_.size() > opt_.closed_session_ids_kept) {
    closed_ids_.erase(closed_order_.front());
    leftover_.erase(closed_order_.front());
    closed_order_.pop_front();
  }
}

void Connection::remove_session(std::uint32_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second.open_deadline) open_waits_.erase({*it->second.open_deadline, id});
  sessions_.erase(it);
}

void Connection::expire_open_waits() {
  while (!open_waits_.empty() && open_waits_.begin()->first <= now_) {
    const std::uint32_t id = open_waits_.begin()->second;
    open_waits_.erase(open_waits_.begin());
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    it->second.open_deadline.reset();
    // §7.6 OpenResponse wait: Close NoReason and report.
    (void)send(sstp::Close{id, static_cast<std::uint8_t>(CloseReason::NoReason)});
    sessions_.erase(it);
    remember_closed(id, ReceiverState::waiting);
    events_.push_back(SessionRefused{id, std::nullopt});
  }
}

// ---------------------------------------------------------------- originator side

std::error_code Connection::allocate_session(std::uint32_t& id) {
  if (!can_send()) return errc::not_established;
  if (next_session_id_ > UINT32_MAX) {  // §8.2: half used up
    close(ConnectCloseReason::NoReason);
    return errc::session_ids_exhausted;
  }
  id = static_cast<std::uint32_t>(next_session_id_);
  next_session_id_ += 2;
  Session s;
  s.originated = true;
  s.open_deadline = now_ + opt_.timers.open_response;
  open_waits_.insert({*s.open_deadline, id});
  sessions_.emplace(id, std::move(s));
  return {};
}

std::error_code Connection::open_session(std::string resource_url, std::string identity_url,
                                         std::string device_url, std::uint32_t& session_id) {
  std::uint32_t id = 0;
  if (auto ec = allocate_session(id)) return ec;
  sstp::Open o{id, std::move(resource_url), std::move(identity_url), std::move(device_url), 0};
  if (auto ec = send(o)) {
    remove_session(id);
    return ec;
  }
  session_id = id;
  return {};
}

std::error_code Connection::open_fanout(std::string resource_url,
                                        std::vector<sstp::FanoutDeviceEntry> entries,
                                        std::uint32_t& session_id) {
  if (entries.empty()) return errc::no_such_session;  // §8.5: never zero entries
  std::uint32_t id = 0;
  if (auto ec = allocate_session(id)) return ec;
  sstp::FanoutOpen f{id, std::move(resource_url), 0, std::move(entries)};
  for (auto& e : f.entries) e.failover_device_urls.clear();
  if (auto ec = send(f)) {
    remove_session(id);
    return ec;
  }
  Session& s = sessions_[id];
  s.fanout.reserve(f.entries.size());
  for (auto& e : f.entries)
    s.fanout.push_back(
        {std::move(e.identity_url), std::move(e.device_url), std::move(e.relay_url), false});
  session_id = id;
  return {};
}

std::error_code Connection::begin_message(std::uint32_t session_id, const MessageOptions& o) {
  if (!can_send()) return errc::not_established;
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || !it->second.originated) return errc::no_such_session;
  Session& s = it->second;
  if (s.sending) return errc::message_in_progress;
  if (s.state != SessionState::ready) return errc::session_not_ready;  // §9.1 step 1
  sstp::Message m;
  m.session_id = session_id;
  m.flags = static_cast<std::uint8_t>(
      o.flags & (flag::Track | flag::AcknowledgeImmediately | flag::DoNotDeliverIfOffline));
  m.user_ref = o.user_ref;
  if (o.expiration_time) {
    m.flags |= flag::Ephemeral;
    m.expiration_time = *o.expiration_time;
  }
  if (o.total_size) {
    m.flags |= flag::StreamSize;
    m.stream_size.total_size = *o.total_size;
  }
  if (o.fragmentation) {
    m.flags |= flag::Fragmentation;
    m.fragmentation = *o.fragmentation;
  }
  // Encode first with a zero count so a failure (UserRef too long) loses no acknowledgement.
  const std::size_t mark = out_.size();
  if (auto ec = sstp::encode(m, minor_, out_)) return ec;
  out_.resize(mark);
  m.message_count = take_message_count();  // §9.1 step 2
  (void)send(m);
  s.sending = true;
  s.data_sent = false;
  return {};
}

std::error_code Connection::send_data(std::uint32_t session_id, ByteView data) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end() || !it->second.originated)
    return errc::no_such_session;
  if (!it->second.sending) return errc::no_message_in_progress;
  // One reservation for the payload and its Data headers (7 bytes each), not growth (and
  // copying) by doubling on the way.
  const std::size_t chunks = (data.size() + sstp::kMaxDataPayload - 1) / sstp::kMaxDataPayload;
  const std::size_t need = out_.size() + data.size() + 8 * chunks;
  if (need > out_.capacity()) out_.reserve(std::max(need, 2 * out_.capacity()));
  while (!data.empty()) {  // §9.1 step 4: at most 2048 bytes per Data
    const std::size_t n = std::min(data.size(), sstp::kMaxDataPayload);
    sstp::encode_data_header(session_id, n, out_);
    out_.insert(out_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    it->second.data_sent = true;
  }
  last_send_ = now_;
  return {};
}

std::error_code Connection::end_message(std::uint32_t session_id, std::uint64_t cookie) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end() || !it->second.originated)
    return errc::no_such_session;
  Session& s = it->second;
  if (!s.sending) return errc::no_message_in_progress;
  if (!s.data_sent) sstp::encode_data_header(session_id, 0, out_);  // empty message: one Data
  (void)send(sstp::EndMessage{session_id});
  outbound_.push_back({session_id, cookie});  // §9.1 step 5
  s.sending = false;
  return {};
}

std::error_code Connection::send_message(std::uint32_t session_id, const MessageOptions& options,
                                         ByteView data, std::uint64_t cookie) {
  if (auto ec = begin_message(session_id, options)) return ec;
  if (auto ec = send_data(session_id, data)) return ec;
  return end_message(session_id, cookie);
}

void Connection::on_open_response(const sstp::OpenResponse& r) {
  auto it = sessions_.find(r.session_id);
  if (it == sessions_.end()) {
    if (!closed_ids_.count(r.session_id)) count_unknown_session_command();
    return;
  }
  Session& s = it->second;
  if (!s.originated || !known_open_response(r.response_id))
    return fail(ConnectCloseReason::ProtocolError, errc::bad_open_response);
  const auto id = static_cast<OpenResponseId>(r.response_id);
  const bool ok = id == OpenResponseId::Ok;
  const bool stop = id == OpenResponseId::OkStopSending;
  if (s.state == SessionState::opening) {
    open_waits_.erase({*s.open_deadline, r.session_id});
    s.open_deadline.reset();
    if (ok) {
      s.state = SessionState::ready;
      events_.push_back(SessionReady{r.session_id});
    } else if (stop) {
      s.state = SessionState::suspended;
      events_.push_back(SessionPaused{r.session_id});
    } else {  // NoResource, Unknown, NoFanoutEntries, FanoutNotSupported: session removed
      sessions_.erase(it);
      events_.push_back(SessionRefused{r.session_id, id});
    }
    return;
  }
  if (!ok && !stop) return fail(ConnectCloseReason::ProtocolError, errc::bad_open_response);
  if (ok && s.state != SessionState::ready) {
    s.state = SessionState::ready;
    events_.push_back(SessionReady{r.session_id});
  } else if (stop && s.state == SessionState::ready) {
    s.state = SessionState::blocked;  // the sequence in progress may finish
    events_.push_back(SessionPaused{r.session_id});
  }
}

// §8.5 receiving SessionStatus.
void Connection::on_session_status(const sstp::SessionStatus& st) {
  auto it = sessions_.find(st.session_id);
  if (it == sessions_.end()) {
    if (!closed_ids_.count(st.session_id)) count_unknown_session_command();
    return;
  }
  Session& s = it->second;
  if (!s.originated || s.fanout.empty())
    return fail(ConnectCloseReason::ProtocolError, errc::bad_session_status_target);
  FanoutStatus ev{st.session_id, known_status(st.status_id), {}, false};
  if (!st.fanout_device_indexes.empty()) {
    for (auto i : st.fanout_device_indexes)
      if (i >= s.fanout.size())
        return fail(ConnectCloseReason::ProtocolError, errc::bad_session_status_target);
    for (auto i : st.fanout_device_indexes) s.fanout[i].failed = true;
    ev.failed_entries = st.fanout_device_indexes;
  } else {
    const bool relay_failure = ev.status_id >= 0x01 && ev.status_id <= 0x03;
    for (std::size_t i = 0; i < s.fanout.size(); ++i) {
      auto& e = s.fanout[i];
      const bool match = relay_failure
                             ? e.relay_url == st.device_url
                             : e.device_url == st.device_url && e.identity_url == st.identity_url;
      if (match) {
        e.failed = true;
        ev.failed_entries.push_back(static_cast<std::uint16_t>(i));
      }
    }
  }
  ev.all_failed = std::all_of(s.fanout.begin(), s.fanout.end(), [](auto& e) { return e.failed; });
  events_.push_back(std::move(ev));
}

// ---------------------------------------------------------------- receiver side

void Connection::on_open(const sstp::Open& o) {
  if (!check_new_session_id(o.session_id)) return;
  sessions_.emplace(o.session_id, Session{});  // 'opening', receiver (§8.4 step 5)
  events_.push_back(SessionRequested{o.session_id, o.resource_url, o.identity_url, o.device_url});
}

bool Connection::is_local_url(const std::string& url) const {
  return url == opt_.local_device_url ||
         std::find(opt_.local_device_urls.begin(), opt_.local_device_urls.end(), url) !=
             opt_.local_device_urls.end();
}

void Connection::on_fanout_open(const sstp::FanoutOpen& f) {
  if (!check_new_session_id(f.session_id)) return;
  auto answer = [&](OpenResponseId id) {
    (void)send(sstp::OpenResponse{f.session_id, static_cast<std::uint8_t>(id)});
  };
  if (f.entries.empty()) return answer(OpenResponseId::Ok);  // §10.7 step 4 / §8.5
  if (!opt_.relay) {
    // A client answers itself (§8.5: MultidropSupported and SingleHopSupported false).
    const bool any_local = std::any_of(f.entries.begin(), f.entries.end(), [&](const auto& e) {
      return e.relay_url.empty() || is_local_url(e.relay_url);
    });
    return answer(any_local ? OpenResponseId::NoFanoutEntries : OpenResponseId::FanoutNotSupported);
  }
  // §10.7 steps 6-8 (step 5 never applies: a Grove relay does multi-drop).
  for (const auto& e : f.entries)
    if (!e.relay_url.empty() && !is_local_url(e.relay_url))
      return answer(OpenResponseId::FanoutNotSupported);
  if (f.resource_url == "grooveWanDPP") return answer(OpenResponseId::NoResource);
  const bool bad = !sstp::is_valid_url(f.resource_url) ||
                   std::any_of(f.entries.begin(), f.entries.end(), [](const auto& e) {
                     return e.identity_url.empty() || !sstp::is_valid_url(e.identity_url) ||
                            (!e.device_url.empty() && !sstp::is_valid_url(e.device_url)) ||
                            (!e.relay_url.empty() && !sstp::is_valid_url(e.relay_url)) ||
                            !e.failover_device_urls.empty();
                   });
  if (bad) return answer(OpenResponseId::Unknown);
  Session s;  // step 3: 'opening', receiver; the owner decides step 9
  s.fanout.reserve(f.entries.size());
  for (const auto& e : f.entries)
    s.fanout.push_back({e.identity_url, e.device_url, e.relay_url, false});
  sessions_.emplace(f.session_id, std::move(s));
  events_.push_back(FanoutRequested{f.session_id, f.resource_url, f.entries});
}

std::error_code Connection::respond_fanout(std::uint32_t session_id, Availability a,
                                           const std::vector<std::uint16_t>& faulted) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end() || it->second.originated ||
      it->second.fanout.empty() || it->second.answered)
    return errc::no_such_session;
  for (auto i : faulted)
    if (i >= it->second.fanout.size()) return errc::no_such_session;
  std::set<std::uint16_t> unique(faulted.begin(), faulted.end());
  if (a == Availability::fault || unique.size() == it->second.fanout.size())
    return respond_open(session_id, Availability::fault);  // step 9: Unknown, removed
  if (auto ec = respond_open(session_id, a)) return ec;    // step 10
  if (unique.empty()) return {};
  return report_fanout_status(session_id, sstp::StatusId::LockedOut,
                              std::vector<std::uint16_t>(unique.begin(), unique.end()));
}

std::error_code Connection::report_fanout_status(std::uint32_t session_id, sstp::StatusId status,
                                                 const std::vector<std::uint16_t>& entries) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end() || it->second.originated ||
      it->second.fanout.empty())
    return errc::no_such_session;
  auto& fan = it->second.fanout;
  std::set<std::uint16_t> fresh;
  for (auto i : entries) {
    if (i >= fan.size()) return errc::no_such_session;
    if (!fan[i].failed) fresh.insert(i);
  }
  if (fresh.empty()) return {};
  for (auto i : fresh) fan[i].failed = true;
  const auto sid = static_cast<std::uint8_t>(status);
  if (minor_ >= sstp::kMinor16) {  // form B: one command, copied from the lowest index
    const auto& low = fan[*fresh.begin()];
    return send(sstp::SessionStatus{session_id, sid, low.device_url, low.identity_url,
                                    std::vector<std::uint16_t>(fresh.begin(), fresh.end())});
  }
  for (auto i : fresh)  // form A on 1.5: one command per entry
    if (auto ec =
            send(sstp::SessionStatus{session_id, sid, fan[i].device_url, fan[i].identity_url, {}}))
      return ec;
  return {};
}

std::error_code Connection::respond_open(std::uint32_t session_id, Availability a) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end() || it->second.originated)
    return errc::no_such_session;
  Session& s = it->second;
  OpenResponseId answer = OpenResponseId::Unknown;
  if (!s.answered) {  // §8.4 step 7
    switch (a) {
      case Availability::ready:
        answer = OpenResponseId::Ok;
        s.state = SessionState::ready;
        break;
      case Availability::not_ready:
        answer = OpenResponseId::OkStopSending;
        s.state = SessionState::suspended;
        break;
      case Availability::fault:
        answer = OpenResponseId::Unknown;
        sessions_.erase(it);
        break;
    }
    (void)send(sstp::OpenResponse{session_id, static_cast<std::uint8_t>(answer)});
    if (a != Availability::fault) s.answered = true;
    return {};
  }
  // Later availability changes (§8.3 receiver table).
  if (a == Availability::fault) return close_session(session_id, CloseReason::NoReason);
  if (a == Availability::ready && s.state != SessionState::ready) {
    s.state = SessionState::ready;
    (void)send(sstp::OpenResponse{session_id, static_cast<std::uint8_t>(OpenResponseId::Ok)});
  } else if (a == Availability::not_ready && s.state == SessionState::ready) {
    s.state = SessionState::blocked;
    (void)send(
        sstp::OpenResponse{session_id, static_cast<std::uint8_t>(OpenResponseId::OkStopSending)});
  }
  return {};
}

// Looks up the receiving session for Message/Data/EndMessage. Returns nullptr when the caller
// must stop (connection failed, or the id was a closed one handled as a leftover).
Connection::Session* Connection::receiving_session(std::uint32_t id, bool& leftover) {
  leftover = false;
  auto it = sessions_.find(id);
  if (it != sessions_.end()) {
    if (it->second.originated) {
      fail(ConnectCloseReason::ProtocolError, errc::message_on_own_session);
      return nullptr;
    }
    if (!it->second.answered) {  // no OpenResponse yet: MessageReceiver does not exist
      fail(ConnectCloseReason::ProtocolError, errc::message_state);
      return nullptr;
    }
    return &it->second;
  }
  if (closed_ids_.count(id)) {
    // §9.2: the peer never sends messages on a session we originated, closed or not; only the
    // peer's own closed sessions get the leftover treatment of §8.6.
    if (!is_peer_parity(id)) {
      fail(ConnectCloseReason::ProtocolError, errc::message_on_own_session);
      return nullptr;
    }
    leftover = true;
  }
  return nullptr;
}

void Connection::on_message(const sstp::Message& m) {
  bool leftover = false;
  Session* s = receiving_session(m.session_id, leftover);
  if (!s && !leftover) {
    if (state_ == State::established && !sessions_.count(m.session_id))
      fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::unknown_session);
    return;
  }
  ReceiverState& rs = s ? s->receiver : leftover_[m.session_id];
  if (rs != ReceiverState::waiting)
    return fail(ConnectCloseReason::ProtocolError, errc::message_state);
  if (!process_message_count(m.message_count))
    return fail(ConnectCloseReason::ProtocolError, errc::bad_message_count);
  if ((m.flags & flag::Fragmentation) &&
      (m.fragmentation.fragment_count == 0 ||
       m.fragmentation.fragment_index >= m.fragmentation.fragment_count))
    return fail(ConnectCloseReason::ProtocolError, errc::bad_fragmentation);  // §9.6 F
  rs = ReceiverState::ready;
  if (!s) return;
  s->message_flags = m.flags;
  s->expected_total = m.stream_size.total_size;
  s->received_bytes = 0;
  events_.push_back(MessageStarted{m.session_id, m});
}

void Connection::on_data(const sstp::Data& d) {
  bool leftover = false;
  Session* s = receiving_session(d.session_id, leftover);
  if (!s && !leftover) {
    if (state_ == State::established && !sessions_.count(d.session_id))
      fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::unknown_session);
    return;
  }
  ReceiverState& rs = s ? s->receiver : leftover_[d.session_id];
  if (rs == ReceiverState::waiting)
    return fail(ConnectCloseReason::ProtocolError, errc::message_state);
  rs = ReceiverState::buffering;
  if (!s) return;  // leftover data is discarded
  s->received_bytes += d.application_data.size();
  if (!d.application_data.empty()) events_.push_back(MessageData{d.session_id, d.application_data});
}

void Connection::on_end_message(const sstp::EndMessage& e) {
  bool leftover = false;
  Session* s = receiving_session(e.session_id, leftover);
  if (!s && !leftover) {
    if (state_ == State::established && !sessions_.count(e.session_id))
      count_unknown_session_command();  // §9.2: EndMessage for an unknown id is counted
    return;
  }
  ReceiverState& rs = s ? s->receiver : leftover_[e.session_id];
  if (rs != ReceiverState::buffering)
    return fail(ConnectCloseReason::ProtocolError, errc::message_state);
  rs = ReceiverState::waiting;
  if (!s) {  // §8.6: a leftover sequence joins the list already 'complete'
    inbound_.push_back({true, false});
    after_processed();
    return;
  }
  if ((s->message_flags & flag::StreamSize) && s->expected_total != s->received_bytes)
    return fail(ConnectCloseReason::ProtocolError, errc::total_size_mismatch);  // §9.6 S
  inbound_.push_back({false, (s->message_flags & flag::AcknowledgeImmediately) != 0});
  events_.push_back(
      MessageEnded{e.session_id, inbound_base_ + inbound_.size() - 1, s->received_bytes});
}

void Connection::on_noop(const sstp::Noop& n) {
  if (!process_message_count(n.message_count))
    fail(ConnectCloseReason::ProtocolError, errc::bad_message_count);
}

// ---------------------------------------------------------------- Close (§8.6)

void Connection::on_close(const sstp::Close& c) {
  if (close_identity_session(c.session_id, known_close_reason(c.reason_id))) return;
  auto it = sessions_.find(c.session_id);
  if (it == sessions_.end()) return;  // step 2: ignored, ClosedSessionIds included
  SessionClosed ev{c.session_id, known_close_reason(c.reason_id), true, {}};
  const Session& s = it->second;
  if (!s.originated && s.receiver != ReceiverState::waiting)
    events_.push_back(MessageAborted{c.session_id});
  if (s.originated)  // §9.5: unacknowledged messages of the session are not confirmed
    for (const auto& o : outbound_)
      if (o.session_id == c.session_id) ev.unconfirmed.push_back(o.cookie);
  remove_session(c.session_id);
  events_.push_back(std::move(ev));
}

std::error_code Connection::close_session(std::uint32_t session_id, CloseReason reason) {
  auto it = sessions_.find(session_id);
  if (state_ != State::established || it == sessions_.end()) return errc::no_such_session;
  const ReceiverState leftover =
      it->second.originated ? ReceiverState::waiting : it->second.receiver;
  (void)send(sstp::Close{session_id, static_cast<std::uint8_t>(reason)});
  remove_session(session_id);
  remember_closed(session_id, leftover);
  events_.push_back(SessionClosed{session_id, static_cast<std::uint8_t>(reason), false, {}});
  return {};
}

}  // namespace grove::engine
