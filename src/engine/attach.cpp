// Attach and Register (sstp.md §8.7, §11; auth.md §5.2, §5.3) for both roles: the client
// proves an identity's secret on an attach session and registers the device for the
// identity; the relay checks the proof and answers. Attach and register sessions are not
// message sessions: they live in their own slots (AttachSessionIds, RegisterSessionIds).
#include <algorithm>

#include "engine/connection.hpp"

namespace grove::engine {

using sstp::AttachResponseId;
using sstp::CloseReason;
using sstp::ConnectCloseReason;
using sstp::errc;

namespace {

constexpr std::uint8_t u8(AttachResponseId v) { return static_cast<std::uint8_t>(v); }
constexpr std::uint8_t u8(CloseReason v) { return static_cast<std::uint8_t>(v); }

// A token with the right magic and length whose type byte names another token type: the
// "wrong token type" of sstp.md §6.5 StaleAttachAuthenticate (docs/protocol.md).
bool other_token_type(ByteView token, auth::TokenType expected) {
  if (token.size() != 37 && token.size() != 69) return false;
  for (std::size_t i = 0; i < auth::kMagic.size(); ++i)
    if (token[i] != static_cast<Byte>(auth::kMagic[i])) return false;
  return token[4] != static_cast<Byte>(expected);
}

}  // namespace

bool Connection::id_in_use(std::uint32_t id) const {
  return sessions_.count(id) || closed_ids_.count(id) || (attach_ && attach_->id == id) ||
         (register_ && register_->id == id);
}

// ---------------------------------------------------------------- client

std::error_code Connection::attach(std::string identity_url, const auth::Secret& k_id,
                                   std::uint32_t& event_id) {
  if (opt_.role != Role::initiator) return errc::wrong_role;
  if (!can_send()) return errc::not_established;
  if (attach_) return errc::attach_in_progress;
  if (next_session_id_ > UINT32_MAX) return errc::session_ids_exhausted;
  AttachSession a;
  a.id = static_cast<std::uint32_t>(next_session_id_);
  a.identity_url = std::move(identity_url);
  a.secret = k_id;
  if (!draw(a.client_nonce)) return errc::authentication_failed;  // auth.md §8: abort
  sstp::Attach cmd{a.id, "", a.identity_url,
                   auth::make_token(auth::TokenType::AccountHello, a.client_nonce)};
  if (auto ec = send(cmd)) return ec;
  next_session_id_ += 2;
  event_id = a.id;
  attach_ = std::move(a);
  return {};
}

std::error_code Connection::register_identity(std::string identity_url, std::uint32_t& event_id) {
  if (opt_.role != Role::initiator) return errc::wrong_role;
  if (!can_send()) return errc::not_established;
  if (register_) return errc::attach_in_progress;
  if (next_session_id_ > UINT32_MAX) return errc::session_ids_exhausted;
  RegisterSession r{static_cast<std::uint32_t>(next_session_id_), std::move(identity_url), false};
  if (auto ec = send(sstp::Register{r.id, r.identity_url, {}})) return ec;
  next_session_id_ += 2;
  event_id = r.id;
  register_ = std::move(r);
  return {};
}

// auth.md §5.2 A4/A5.
void Connection::on_attach_response(const sstp::AttachResponse& r) {
  if (opt_.role != Role::initiator)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  if (!attach_ || attach_->id != r.event_id || attach_->answered) {
    if (!closed_ids_.count(r.event_id)) count_unknown_session_command();
    return;
  }
  AttachSession& a = *attach_;
  if (r.response_id != u8(AttachResponseId::Ok)) return;  // failed; the relay's Close follows
  auto proof = auth::parse_token(r.authentication_token, auth::TokenType::RelayAccountProof);
  const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
  bool ok = proof && proof->first != a.client_nonce;
  if (ok) {
    a.relay_nonce = proof->first;
    auto expect =
        auth::relay_account_mac(*a.secret, a.client_nonce, a.relay_nonce, a.identity_url, cb);
    ok = auth::mac_equal(expect, proof->second);
  }
  if (!ok) return finish_attach(a.id, false, CloseReason::UserAuthenticationFailed, true);
  auto mac = auth::account_mac(*a.secret, a.relay_nonce, a.client_nonce, cb);
  (void)send(sstp::AttachAuthenticate{a.id, auth::make_token(auth::TokenType::AccountProof, mac)});
  auth::wipe(a.client_nonce);
  auth::wipe(a.relay_nonce);
  auth::wipe(*a.secret);
  a.secret.reset();
  a.answered = true;  // the relay's Close tells the outcome (A7)
}

void Connection::on_register_response(const sstp::RegisterResponse& r) {
  if (opt_.role != Role::initiator)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  if (!register_ || register_->id != r.event_id || register_->answered) {
    if (!closed_ids_.count(r.event_id)) count_unknown_session_command();
    return;
  }
  register_->answered = true;
  AttachResponseId id = AttachResponseId::AuthenticationFailed;  // §6.3: unknown values
  switch (static_cast<AttachResponseId>(r.response_id)) {
    case AttachResponseId::Ok:
    case AttachResponseId::TryLater:
    case AttachResponseId::AuthenticationFailed:
    case AttachResponseId::QuotaWouldBeExceeded:
      id = static_cast<AttachResponseId>(r.response_id);
  }
  events_.push_back(RegisterResult{r.event_id, register_->identity_url, id});
}

// ---------------------------------------------------------------- relay

void Connection::on_attach(const sstp::Attach& a) {
  if (opt_.role != Role::acceptor || !opt_.relay)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  // §8.7: an existing id, or a second attach session, closes the connection.
  if (a.event_id == 0 || !is_peer_parity(a.event_id))
    return fail(ConnectCloseReason::ProtocolError, errc::bad_session_id);
  if (id_in_use(a.event_id) || attach_)
    return fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::session_id_in_use);
  AttachSession s;
  s.id = a.event_id;
  s.identity_url = a.account_url;
  attach_ = std::move(s);
  auto hello = auth::parse_token(a.authentication_token, auth::TokenType::AccountHello);
  const bool ours = a.resource_url.empty() || a.resource_url == opt_.local_device_url ||
                    std::find(opt_.local_device_urls.begin(), opt_.local_device_urls.end(),
                              a.resource_url) != opt_.local_device_urls.end();
  if (!hello || !ours || a.account_url.empty()) {  // A2 (A1 of sstp.md §11)
    (void)send(sstp::AttachResponse{a.event_id, u8(AttachResponseId::AuthenticationFailed), {}});
    return finish_attach(a.event_id, false, CloseReason::UserAuthenticationFailed, true);
  }
  attach_->client_nonce = hello->first;
  events_.push_back(AttachRequested{a.event_id, a.account_url});
}

std::error_code Connection::answer_attach(std::uint32_t event_id,
                                          const std::optional<auth::Secret>& k_id) {
  if (opt_.role != Role::acceptor) return errc::wrong_role;
  if (state_ != State::established) return errc::connection_closed;
  if (!attach_ || attach_->id != event_id || attach_->answered) return errc::no_such_session;
  AttachSession& a = *attach_;
  if (!k_id) {  // unknown identity (A2)
    (void)send(sstp::AttachResponse{event_id, u8(AttachResponseId::AuthenticationFailed), {}});
    finish_attach(event_id, false, CloseReason::UserAuthenticationFailed, true);
    return {};
  }
  if (!draw(a.relay_nonce)) {
    (void)send(sstp::AttachResponse{event_id, u8(AttachResponseId::TryLater), {}});
    finish_attach(event_id, false, CloseReason::InternalError, true);
    return {};
  }
  a.secret = *k_id;
  const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
  auto mac = auth::relay_account_mac(*k_id, a.client_nonce, a.relay_nonce, a.identity_url, cb);
  (void)send(sstp::AttachResponse{
      event_id, u8(AttachResponseId::Ok),
      auth::make_token(auth::TokenType::RelayAccountProof, a.relay_nonce, mac)});
  a.answered = true;
  a.wait = now_ + opt_.timers.handshake;  // A3: the 30 s AttachAuthenticate wait
  return {};
}

// auth.md §5.2 A6.
void Connection::on_attach_authenticate(const sstp::AttachAuthenticate& m) {
  if (opt_.role != Role::acceptor || !opt_.relay)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  expire_attach_waits();  // a proof after the 30 s wait is stale even before the timer ran
  if (!attach_ || attach_->id != m.event_id) {
    if (!closed_ids_.count(m.event_id)) count_unknown_session_command();
    return;
  }
  AttachSession& a = *attach_;
  if (!a.answered)  // a proof before our challenge: a violation on this attach session
    return finish_attach(a.id, false, CloseReason::ProtocolError, true);
  auto proof = auth::parse_token(m.authentication_token, auth::TokenType::AccountProof);
  if (!proof) {
    const bool stale = other_token_type(m.authentication_token, auth::TokenType::AccountProof);
    return finish_attach(a.id, false,
                         stale ? CloseReason::StaleAttachAuthenticate : CloseReason::ProtocolError,
                         true);
  }
  const auth::ChannelBinding* cb = opt_.channel_binding ? &*opt_.channel_binding : nullptr;
  auto expect = auth::account_mac(*a.secret, a.relay_nonce, a.client_nonce, cb);
  const bool ok = auth::mac_equal(expect, proof->first);
  finish_attach(a.id, ok, ok ? CloseReason::NoReason : CloseReason::UserAuthenticationFailed, true);
}

void Connection::on_register(const sstp::Register& r) {
  if (opt_.role != Role::acceptor || !opt_.relay)
    return fail(ConnectCloseReason::ProtocolError, errc::unexpected_command);
  if (r.event_id == 0 || !is_peer_parity(r.event_id))
    return fail(ConnectCloseReason::ProtocolError, errc::bad_session_id);
  if (id_in_use(r.event_id) || register_)
    return fail(ConnectCloseReason::TooManyUnknownSessionCmds, errc::session_id_in_use);
  register_ = RegisterSession{r.event_id, r.identity_url, false};
  if (!attached_.count(r.identity_url)) {  // R1 / auth.md §5.3
    (void)respond_register(r.event_id, AttachResponseId::AuthenticationFailed);
    return;
  }
  events_.push_back(RegisterRequested{r.event_id, r.identity_url});
}

std::error_code Connection::respond_register(std::uint32_t event_id, AttachResponseId answer) {
  if (opt_.role != Role::acceptor) return errc::wrong_role;
  if (state_ != State::established) return errc::connection_closed;
  if (!register_ || register_->id != event_id) return errc::no_such_session;
  (void)send(sstp::RegisterResponse{event_id, u8(answer), {}});
  (void)send(sstp::Close{event_id, u8(CloseReason::NoReason)});
  register_.reset();
  remember_closed(event_id, ReceiverState::waiting);
  return {};
}

// ---------------------------------------------------------------- both

void Connection::finish_attach(std::uint32_t id, bool attached, CloseReason reason,
                               bool send_close) {
  if (!attach_ || attach_->id != id) return;
  if (send_close) (void)send(sstp::Close{id, u8(reason)});
  AttachResult ev{id, attach_->identity_url, attached, u8(reason)};
  if (attached) attached_.insert(attach_->identity_url);
  auth::wipe(attach_->client_nonce);
  auth::wipe(attach_->relay_nonce);
  if (attach_->secret) auth::wipe(*attach_->secret);
  attach_.reset();
  remember_closed(id, ReceiverState::waiting);
  events_.push_back(std::move(ev));
}

// Close on an attach or register session (§8.6 step 3): the relay's verdict for a client,
// an abandoned session for the relay.
bool Connection::close_identity_session(std::uint32_t id, std::uint8_t reason_id) {
  if (attach_ && attach_->id == id) {
    // A7: NoReason after our proof = attached. The relay may also abandon (client's Close).
    const bool attached = opt_.role == Role::initiator && attach_->answered && reason_id == 0;
    finish_attach(id, attached, static_cast<CloseReason>(reason_id), false);
    return true;
  }
  if (register_ && register_->id == id) {
    if (opt_.role == Role::initiator && !register_->answered)
      events_.push_back(RegisterResult{id, register_->identity_url, AttachResponseId::TryLater});
    register_.reset();
    remember_closed(id, ReceiverState::waiting);
    return true;
  }
  return false;
}

void Connection::expire_attach_waits() {
  if (attach_ && attach_->wait && now_ >= *attach_->wait)  // A6: 30 s passed
    finish_attach(attach_->id, false, CloseReason::StaleAttachAuthenticate, true);
}

}  // namespace grove::engine
