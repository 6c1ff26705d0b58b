// Connection-level behaviour: framing, handshake, closing, timers, acknowledgements.
// Session-level commands live in sessions.cpp.
#include "engine/connection.hpp"

#include <algorithm>
#include <cassert>

namespace grove::engine {

using sstp::CommandId;
using sstp::ConnectCloseReason;
using sstp::ConnectResponseId;
using sstp::errc;

namespace {

// Commands that carry a SessionId or EventId (sstp.md §4 "session" level).
bool is_session_command(CommandId id) {
  switch (id) {
    case CommandId::Connect:
    case CommandId::ConnectResponse:
    case CommandId::ConnectAuthenticate:
    case CommandId::ConnectClose:
    case CommandId::Noop:
      return false;
    default:
      return true;
  }
}

ConnectCloseReason known_close_reason(ConnectCloseReason r) {
  switch (r) {
    case ConnectCloseReason::NoReason:
    case ConnectCloseReason::Resting:
    case ConnectCloseReason::ProtocolError:
    case ConnectCloseReason::DeviceAuthenticationFailed:
    case ConnectCloseReason::CrossedConnections:
    case ConnectCloseReason::InternalError:
    case ConnectCloseReason::TooManyUnknownSessionCmds:
      return r;
  }
  return ConnectCloseReason::NoReason;  // §6.4: unknown values read as NoReason
}

}  // namespace

const char* Connection::state_name(State s) {
  switch (s) {
    case State::transport_connected:
      return "transport layer connected";
    case State::connecting:
      return "connecting";
    case State::established:
      return "established";
    case State::aborting:
      return "aborting";
    case State::gone:
      return "gone";
  }
  return "?";
}

Connection::Connection(Options options, TimePoint now)
    : opt_(std::move(options)),
      state_(State::transport_connected),
      now_(now),
      minor_(opt_.minor_version),
      next_session_id_(opt_.role == Role::initiator ? 1 : 2),  // §8.2: initiator odd
      last_send_(now),
      last_receive_(now) {
  if (!opt_.random) opt_.random = [](std::span<Byte> b) { return auth::random_bytes(b); };
  handshake_deadline_ = now + opt_.timers.handshake;  // C1, C2
  if (opt_.role == Role::initiator) {
    state_ = State::connecting;
    send_connect();
  }
}

bool Connection::draw(std::span<Byte> out) { return opt_.random(out); }

std::string Connection::capabilities() const {
  std::string caps(auth::kCapability);
  if (opt_.channel_binding) caps += " " + std::string(auth::kTlsCapability);
  return caps;
}

// ---------------------------------------------------------------- input

std::size_t Connection::receive(ByteView in, TimePoint now) {
  now_ = now;
  if (!in.empty()) last_receive_ = now;
  if (state_ == State::aborting || state_ == State::gone) return in.size();  // C12
  std::size_t used = 0;
  while (used < in.size() && state_ != State::aborting && state_ != State::gone) {
    auto r = reader_.next(in.subspan(used));
    used += r.consumed;
    if (r.error) {
      fail(ConnectCloseReason::ProtocolError, static_cast<errc>(r.error.value()));
      break;
    }
    if (r.frame.empty()) break;
    const bool from_buffer = r.frame.data() < in.data() || r.frame.data() >= in.data() + in.size();
    sstp::Command cmd;
    if (auto ec = sstp::decode(r.frame, minor_, cmd)) {
      fail(ConnectCloseReason::ProtocolError, static_cast<errc>(ec.value()));
      break;
    }
    handle(cmd, r.frame);
    // A frame assembled in the reader's buffer may be referenced by a MessageData event; the
    // next frame could overwrite that buffer, so stop here and let the caller drain events.
    if (from_buffer) break;
  }
  if (state_ == State::aborting || state_ == State::gone) return in.size();
  return used;
}

void Connection::receive_eof() {
  if (state_ == State::gone) return;
  if (state_ == State::aborting) {
    state_ = State::gone;
    return;
  }
  state_ = State::gone;
  ConnectionClosed ev;
  ev.by_peer = true;
  ev.error = make_error_code(errc::connection_closed);
  enter_closed(std::move(ev));
}

std::optional<Event> Connection::next_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Connection::consume_output(std::size_t n) {
  out_pos_ += std::min(n, out_.size() - out_pos_);
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > 65536 && out_pos_ * 2 > out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }
}

void Connection::take_output(Bytes& into) {
  into.clear();
  if (out_pos_ != 0) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_pos_));
    out_pos_ = 0;
  }
  out_.swap(into);
}

void Connection::handle(const sstp::Command& cmd, ByteView /*frame*/) {
  const CommandId id = sstp::command_id(cmd);
  const bool session_cmd = is_session_command(id);
  // Before 'established' (C4, C5, C16): a session command gets TooManyUnknownSessionCmds,
  // anything else ProtocolError.
  auto early = [&] {
    fail(session_cmd ? ConnectCloseReason::TooManyUnknownSessionCmds
                     : ConnectCloseReason::ProtocolError,
         session_cmd ? errc::command_before_established : errc::unexpected_command);
  };
  switch (state_) {
    case State::transport_connected:
      if (id == CommandId::Connect) return on_connect(std::get<sstp::Connect>(cmd));
      // C10 applies in any state: a ConnectClose is never answered with another one.
      if (id == CommandId::ConnectClose) return on_connect_close(std::get<sstp::ConnectClose>(cmd));
      return early();
    case State::connecting:
      if (id == CommandId::ConnectClose) return on_connect_close(std::get<sstp::ConnectClose>(cmd));
      if (id == CommandId::ConnectResponse && opt_.role == Role::initiator)
        return on_connect_response(std::get<sstp::ConnectResponse>(cmd));
      return early();
    case State::established:
      break;
    case State::aborting:
    case State::gone:
      return;
  }
  // Relay gate (sstp.md §7.3.3): before the proof only ConnectAuthenticate, Noop, ConnectClose.
  if (opt_.role == Role::acceptor && !authenticated_ && id != CommandId::ConnectAuthenticate &&
      id != CommandId::Noop && id != CommandId::ConnectClose) {
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  switch (id) {
    case CommandId::Connect:          // C5
    case CommandId::ConnectResponse:  // §7.3.2: already received
      return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
    case CommandId::ConnectAuthenticate:
      return on_connect_authenticate(std::get<sstp::ConnectAuthenticate>(cmd));
    case CommandId::ConnectClose:
      return on_connect_close(std::get<sstp::ConnectClose>(cmd));
    case CommandId::Open:
      return on_open(std::get<sstp::Open>(cmd));
    case CommandId::FanoutOpen:
      return on_fanout_open(std::get<sstp::FanoutOpen>(cmd));
    case CommandId::OpenResponse:
      return on_open_response(std::get<sstp::OpenResponse>(cmd));
    // §8.7: Attach, Register and AttachAuthenticate only from clients to relays, the
    // responses only from relays; the wrong role is a ProtocolError (attach.cpp).
    case CommandId::Attach:
      return on_attach(std::get<sstp::Attach>(cmd));
    case CommandId::Register:
      return on_register(std::get<sstp::Register>(cmd));
    case CommandId::AttachAuthenticate:
      return on_attach_authenticate(std::get<sstp::AttachAuthenticate>(cmd));
    case CommandId::AttachResponse:
      return on_attach_response(std::get<sstp::AttachResponse>(cmd));
    case CommandId::RegisterResponse:
      return on_register_response(std::get<sstp::RegisterResponse>(cmd));
    case CommandId::Message:
      return on_message(std::get<sstp::Message>(cmd));
    case CommandId::Data:
      return on_data(std::get<sstp::Data>(cmd));
    case CommandId::EndMessage:
      return on_end_message(std::get<sstp::EndMessage>(cmd));
    case CommandId::Noop:
      return on_noop(std::get<sstp::Noop>(cmd));
    case CommandId::Close:
      return on_close(std::get<sstp::Close>(cmd));
    case CommandId::SessionStatus:
      return on_session_status(std::get<sstp::SessionStatus>(cmd));
  }
}

// ---------------------------------------------------------------- handshake

void Connection::send_connect() {
  sstp::Connect c;
  c.minor_version = opt_.minor_version;
  c.target_device_url = opt_.target_device_url;
  c.source_device_urls = {opt_.local_device_url};
  if (opt_.device_secret) {
    if (!draw(client_nonce_)) return abort_stream(make_error_code(errc::authentication_failed));
    c.authentication_token = auth::make_token(auth::TokenType::DeviceHello, client_nonce_);
  }
  c.peer_product_version = opt_.product_version;
  c.peer_product_capabilities = capabilities();
  send(c);
}

// sstp.md §7.3.1, checks in order; steps 7-9 need the device table, so the owner answers.
void Connection::on_connect(const sstp::Connect& c) {
  state_ = State::connecting;  // step 2
  peer_product_version_ = c.peer_product_version;
  connect_caps_ = c.peer_product_capabilities;
  if (!opt_.local_device_urls.empty() &&
      std::find(opt_.local_device_urls.begin(), opt_.local_device_urls.end(),
                c.target_device_url) == opt_.local_device_urls.end()) {
    return send_refusal(ConnectResponseId::WrongDevice, 0);  // step 4
  }
  // Step 5, §7.4: 1.5 and 1.6 accepted; a higher minor steps down to ours.
  if (c.major_version == 0 || (c.major_version == 1 && c.minor_version < sstp::kMinor15))
    return send_refusal(ConnectResponseId::NewVersionRequired, 0);
  if (c.major_version >= 2) return send_refusal(ConnectResponseId::WontUpgrade, 0);
  minor_ = std::min(c.minor_version, opt_.minor_version);
  if (opt_.require_authentication && c.source_device_urls.empty())
    return send_refusal(ConnectResponseId::AuthenticationFailed, 0);  // step 6
  peer_device_url_ = c.source_device_urls.empty() ? std::string() : c.source_device_urls[0];
  connect_target_ = c.target_device_url;
  peer_token_ = c.authentication_token;
  awaiting_decision_ = true;
  events_.push_back(ConnectRequested{peer_device_url_, c.target_device_url, c.peer_product_version,
                                     c.peer_product_capabilities, minor_});
}

std::error_code Connection::refuse_connection(ConnectResponseId id, std::uint16_t retry_time) {
  if (!awaiting_decision_) return errc::unexpected_command;
  awaiting_decision_ = false;
  send_refusal(id, retry_time);
  return {};
}

std::error_code Connection::accept_connection(const std::optional<auth::Secret>& secret) {
  if (!awaiting_decision_) return errc::unexpected_command;
  awaiting_decision_ = false;
  Bytes token;
  if (opt_.require_authentication) {
    // auth.md §5.1 R1-R4.
    auto hello = auth::parse_token(peer_token_, auth::TokenType::DeviceHello);
    const bool peer_tls = auth::has_capability(connect_caps_, auth::kTlsCapability);
    if (!hello || !secret || peer_tls != opt_.channel_binding.has_value()) {
      send_refusal(ConnectResponseId::AuthenticationFailed, 0);
      return {};
    }
    client_nonce_ = hello->first;
    if (!draw(relay_nonce_)) {
      send_refusal(ConnectResponseId::TryLater, 0);
      return make_error_code(errc::authentication_failed);
    }
    peer_secret_ = secret;
    const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
    auto mac = auth::relay_mac(*secret, client_nonce_, relay_nonce_, connect_target_, cb);
    token = auth::make_token(auth::TokenType::RelayProof, relay_nonce_, mac);
    awaiting_authenticate_ = true;
  }
  send_connect_response(ConnectResponseId::Ok, 0, std::move(token));
  become_established(minor_);
  authenticated_ = !opt_.require_authentication;
  // C15: the ConnectAuthenticate must come within the handshake time of the ConnectResponse.
  if (awaiting_authenticate_) handshake_deadline_ = now_ + opt_.timers.handshake;
  events_.push_back(
      Established{minor_, peer_device_url_, peer_product_version_, connect_caps_, authenticated_});
  return {};
}

void Connection::send_connect_response(ConnectResponseId id, std::uint16_t retry_time,
                                       Bytes token) {
  sstp::ConnectResponse r;
  r.minor_version = id == ConnectResponseId::Ok ? minor_ : opt_.minor_version;
  r.response_id = id;
  r.retry_time = retry_time;
  r.authentication_token = std::move(token);
  r.peer_product_version = opt_.product_version;
  r.peer_product_capabilities = capabilities();
  send(r);
}

// A refused connection never becomes 'established': ConnectResponse, linger, close (§7.2).
void Connection::send_refusal(ConnectResponseId id, std::uint16_t retry_time) {
  send_connect_response(id, retry_time, {});
  state_ = State::aborting;
  linger_deadline_ = now_ + opt_.timers.linger;
  ConnectionClosed ev;
  ev.refused = id;
  ev.retry_time = retry_time;
  enter_closed(std::move(ev));
}

// sstp.md §7.3.2 and auth.md §5.1 C2-C6.
void Connection::on_connect_response(const sstp::ConnectResponse& r) {
  if (r.response_id != ConnectResponseId::Ok) {  // C9
    state_ = State::gone;
    ConnectionClosed ev;
    ev.by_peer = true;
    ev.refused = r.response_id;
    ev.retry_time = r.retry_time;
    return enter_closed(std::move(ev));
  }
  if (r.major_version != sstp::kMajorVersion ||
      (r.minor_version != sstp::kMinor15 && r.minor_version != sstp::kMinor16) ||
      r.minor_version > opt_.minor_version) {
    return fail(ConnectCloseReason::ProtocolError, errc::bad_version);  // C7
  }
  bool proof_checked = false;
  if (opt_.device_secret) {
    if (r.authentication_token.empty()) {
      if (!opt_.allow_unauthenticated_peer)  // C3
        return fail(ConnectCloseReason::DeviceAuthenticationFailed, errc::authentication_failed);
    } else {
      auto proof = auth::parse_token(r.authentication_token, auth::TokenType::RelayProof);
      const bool peer_tls = auth::has_capability(r.peer_product_capabilities, auth::kTlsCapability);
      const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
      bool ok =
          proof && proof->first != client_nonce_ && peer_tls == opt_.channel_binding.has_value();
      if (ok) {
        relay_nonce_ = proof->first;
        auto expect = auth::relay_mac(*opt_.device_secret, client_nonce_, relay_nonce_,
                                      opt_.target_device_url, cb);
        ok = auth::mac_equal(expect, proof->second);
      }
      if (!ok)  // C4 / C8
        return fail(ConnectCloseReason::DeviceAuthenticationFailed, errc::authentication_failed);
      auto mac = auth::device_mac(*opt_.device_secret, relay_nonce_, client_nonce_, cb);
      send(sstp::ConnectAuthenticate{auth::make_token(auth::TokenType::DeviceProof, mac)});
      auth::wipe(client_nonce_);  // C6
      auth::wipe(relay_nonce_);
      proof_checked = true;
    }
  }
  peer_device_url_ = opt_.target_device_url;
  become_established(r.minor_version);
  authenticated_ = true;  // §7.3.3: the client may send session commands at once
  handshake_deadline_.reset();
  events_.push_back(Established{minor_, peer_device_url_, r.peer_product_version,
                                r.peer_product_capabilities, proof_checked});
}

// sstp.md §7.3.3 and auth.md §5.1 R5.
void Connection::on_connect_authenticate(const sstp::ConnectAuthenticate& a) {
  if (opt_.role != Role::acceptor || !awaiting_authenticate_ || authenticated_)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  auto proof = auth::parse_token(a.authentication_token, auth::TokenType::DeviceProof);
  const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
  bool ok = false;
  if (proof && peer_secret_) {
    auto expect = auth::device_mac(*peer_secret_, relay_nonce_, client_nonce_, cb);
    ok = auth::mac_equal(expect, proof->first);
  }
  auth::wipe(client_nonce_);
  auth::wipe(relay_nonce_);
  if (peer_secret_) auth::wipe(*peer_secret_);
  peer_secret_.reset();
  awaiting_authenticate_ = false;
  if (!ok) return fail(ConnectCloseReason::DeviceAuthenticationFailed, errc::authentication_failed);
  authenticated_ = true;
  handshake_deadline_.reset();
  events_.push_back(Authenticated{peer_device_url_});
}

void Connection::become_established(std::uint8_t minor) {
  state_ = State::established;
  minor_ = minor;
  handshake_deadline_.reset();
}

// ---------------------------------------------------------------- closing

void Connection::on_connect_close(const sstp::ConnectClose& c) {
  // §7.7 receiving: acknowledgements first (an excess count is ignored: we are closing anyway).
  const std::size_t n = std::min<std::size_t>(c.message_count, outbound_.size());
  (void)process_message_count(static_cast<std::uint32_t>(n));
  state_ = State::gone;
  ConnectionClosed ev;
  ev.by_peer = true;
  ev.reason = known_close_reason(c.reason_id);
  ev.return_time = ev.reason == ConnectCloseReason::Resting ? c.return_time : 0;
  enter_closed(std::move(ev));
}

void Connection::close(ConnectCloseReason reason, std::uint16_t return_time) {
  if (state_ == State::aborting || state_ == State::gone) return;
  if (state_ == State::transport_connected) {  // nothing was said yet: just drop the stream
    state_ = State::gone;
    enter_closed(ConnectionClosed{});
    return;
  }
  sstp::ConnectClose cc{reason,
                        reason == ConnectCloseReason::Resting ? return_time : std::uint16_t{0},
                        take_message_count()};
  send(cc);
  state_ = State::aborting;
  linger_deadline_ = now_ + opt_.timers.linger;
  ConnectionClosed ev;
  ev.reason = reason;
  ev.return_time = cc.return_time;
  enter_closed(std::move(ev));
}

void Connection::fail(ConnectCloseReason reason, errc why) {
  if (state_ == State::aborting || state_ == State::gone) return;
  sstp::ConnectClose cc{reason, 0, state_ == State::established ? take_message_count() : 0};
  send(cc);
  state_ = State::aborting;
  linger_deadline_ = now_ + opt_.timers.linger;
  ConnectionClosed ev;
  ev.reason = reason;
  ev.error = make_error_code(why);
  enter_closed(std::move(ev));
}

void Connection::abort_stream(std::error_code why) {
  if (state_ == State::gone) return;
  const bool already = state_ == State::aborting;
  state_ = State::gone;
  if (already) return;
  ConnectionClosed ev;
  ev.error = why;
  enter_closed(std::move(ev));
}

// C13 / §7.7 step 4: unacknowledged sequences go back to the owner, oldest first.
void Connection::enter_closed(ConnectionClosed ev) {
  ev.unacknowledged.reserve(outbound_.size());
  for (const auto& o : outbound_) ev.unacknowledged.push_back(o.cookie);
  outbound_.clear();
  sessions_.clear();
  leftover_.clear();
  inbound_.clear();
  ack_deadline_.reset();
  awaiting_decision_ = false;
  events_.push_back(std::move(ev));
}

bool Connection::finished() const {
  if (state_ == State::gone) return true;
  if (state_ != State::aborting) return false;
  return out_pos_ == out_.size() || (linger_deadline_ && now_ >= *linger_deadline_);
}

// ---------------------------------------------------------------- output and timers

std::error_code Connection::send(const sstp::Command& cmd) {
  auto ec = sstp::encode(cmd, minor_, out_);
  if (!ec) last_send_ = now_;
  return ec;
}

void Connection::on_timer(TimePoint now) {
  now_ = now;
  if (linger_deadline_ && now >= *linger_deadline_ && state_ == State::aborting) {
    state_ = State::gone;
    return;
  }
  if (state_ == State::aborting || state_ == State::gone) return;
  if (handshake_deadline_ && now >= *handshake_deadline_) {
    handshake_deadline_.reset();
    if (state_ != State::established)  // C14: close the stream, nothing sent
      return abort_stream(make_error_code(errc::handshake_timeout));
    if (awaiting_authenticate_)  // C15
      return fail(ConnectCloseReason::DeviceAuthenticationFailed, errc::handshake_timeout);
  }
  if (state_ != State::established) return;
  if (now >= last_receive_ + opt_.timers.receive_idle)  // §7.6 ReceiveIdle
    return fail(ConnectCloseReason::NoReason, errc::receive_idle);
  expire_open_waits();
  expire_attach_waits();
  if (ack_deadline_ && now >= *ack_deadline_) {  // §9.4 on expiry
    ack_deadline_.reset();
    if (std::uint32_t n = take_message_count()) (void)send(sstp::Noop{n});
  }
  if (now >= last_send_ + opt_.timers.keep_alive)  // KeepAlive Noop with the current count
    (void)send(sstp::Noop{take_message_count()});
}

std::optional<TimePoint> Connection::next_deadline() const {
  std::optional<TimePoint> best;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  switch (state_) {
    case State::gone:
      return std::nullopt;
    case State::aborting:
      return linger_deadline_;
    case State::transport_connected:
    case State::connecting:
      return handshake_deadline_;
    case State::established:
      break;
  }
  consider(handshake_deadline_);
  consider(ack_deadline_);
  consider(last_send_ + opt_.timers.keep_alive);
  consider(last_receive_ + opt_.timers.receive_idle);
  if (!open_waits_.empty()) consider(open_waits_.begin()->first);
  if (attach_) consider(attach_->wait);
  return best;
}

// ---------------------------------------------------------------- acknowledgements (§9.3, §9.4)

bool Connection::process_message_count(std::uint32_t n) {
  if (n > outbound_.size()) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    events_.push_back(Acknowledged{outbound_.front().cookie});
    outbound_.pop_front();
  }
  return true;
}

std::uint32_t Connection::take_message_count() {
  std::uint32_t n = 0;
  while (!inbound_.empty() && inbound_.front().complete && n < UINT32_MAX) {
    inbound_.pop_front();
    ++inbound_base_;
    ++n;
  }
  ack_deadline_.reset();  // §9.4: Message, Noop and ConnectClose carry the count
  return n;
}

void Connection::message_processed(std::uint64_t seq) {
  if (state_ != State::established || seq < inbound_base_) return;
  const std::uint64_t i = seq - inbound_base_;
  if (i >= inbound_.size()) return;
  inbound_[i].complete = true;
  after_processed();
}

void Connection::after_processed() {
  bool immediate = false;
  std::size_t run = 0;
  for (const auto& e : inbound_) {
    if (!e.complete) break;
    immediate = immediate || e.acknowledge_immediately;
    ++run;
  }
  if (run == 0) return;
  // A run of ack_batch complete sequences is acknowledged at once too (docs/protocol.md):
  // without it a peer that never sets A waits 5 s whenever its sending window is full.
  if (immediate || (opt_.ack_batch != 0 && run >= opt_.ack_batch)) {
    (void)send(sstp::Noop{take_message_count()});
  } else if (!ack_deadline_) {
    ack_deadline_ = now_ + opt_.timers.acknowledgment;
  }
}

}  // namespace grove::engine
