#include "proxy/auth.hpp"

#include <array>
#include <stdexcept>
#include <vector>

#include "proxy/auth_challenge.hpp"
#include "proxy/detail/text.hpp"
#include "proxy/errc.hpp"
#include "proxy/ntlm.hpp"

namespace grove::proxy {
namespace {

std::vector<Challenge> parse_all(std::span<const std::string> values) {
  std::vector<Challenge> all;
  for (const std::string& v : values) {
    for (Challenge& c : parse_challenges(v)) all.push_back(std::move(c));
  }
  return all;
}

// The usable Digest challenge Grove prefers (§7.1 order), optionally only stale ones.
std::optional<DigestChallenge> best_digest(const std::vector<Challenge>& all, bool stale_only) {
  std::optional<DigestChallenge> best;
  for (const Challenge& c : all) {
    auto d = read_digest_challenge(c);
    if (!d || (stale_only && !d->stale)) continue;
    if (!best || digest_preference(d->algorithm) > digest_preference(best->algorithm)) best = d;
  }
  return best;
}

bool offers(const std::vector<Challenge>& all, std::string_view scheme) {
  for (const Challenge& c : all) {
    if (c.scheme == scheme) return true;
  }
  return false;
}

}  // namespace

Authenticator::Authenticator(AuthOptions options) : options_(std::move(options)) {
  if (options_.credentials) {
    if (!options_.random || !options_.now_filetime) {
      throw std::invalid_argument("proxy credentials need a random source and a clock");
    }
    if (detail::has_ctl(options_.credentials->user) || detail::has_ctl(options_.workstation)) {
      throw std::invalid_argument("proxy user name holds control characters");
    }
  }
  memo_ = options_.memo;
}

std::error_code Authenticator::count_attempt() {
  if (attempts_ >= options_.max_attempts) return errc::auth_attempts_exhausted;
  ++attempts_;
  return {};
}

std::optional<std::string> Authenticator::initial(std::string_view method, std::string_view uri) {
  if (!options_.credentials || memo_.scheme == AuthScheme::none) return std::nullopt;
  std::error_code ec;
  switch (memo_.scheme) {
    case AuthScheme::basic:
      ec = send_basic();
      break;
    case AuthScheme::digest:
      ec = send_digest(memo_.digest, method, uri, false);
      break;
    case AuthScheme::ntlm:
      ec = send_ntlm_negotiate();
      break;
    case AuthScheme::none:
      return std::nullopt;
  }
  if (ec) return std::nullopt;
  return authorization_;
}

std::error_code Authenticator::on_challenge(std::span<const std::string> values,
                                            std::string_view method, std::string_view uri) {
  std::vector<Challenge> all = parse_all(values);
  switch (sent_) {
    case Sent::none:
      return select(all, method, uri);
    case Sent::ntlm_negotiate:
      return ntlm_authenticate(all);
    case Sent::digest:
      // RFC 7616 §3.3: stale=true means the nonce expired, not that the credentials are wrong.
      if (auto d = best_digest(all, true)) return send_digest(*d, method, uri, true);
      return errc::proxy_auth_failed;
    case Sent::basic:
    case Sent::ntlm_authenticate:
      break;
  }
  return errc::proxy_auth_failed;  // §7.1: credentials rejected, no retry with the same ones
}

std::error_code Authenticator::select(const std::vector<Challenge>& all, std::string_view method,
                                      std::string_view uri) {
  // §7.1: Digest (SHA-256, SHA-512-256, MD5), then NTLM, then Basic.
  std::optional<DigestChallenge> digest = best_digest(all, false);
  AuthScheme pick = digest                 ? AuthScheme::digest
                    : offers(all, "ntlm")  ? AuthScheme::ntlm
                    : offers(all, "basic") ? AuthScheme::basic
                                           : AuthScheme::none;
  if (pick == AuthScheme::none) {
    return offers(all, "negotiate") ? errc::negotiate_not_supported : errc::no_usable_challenge;
  }
  if (!options_.credentials) return errc::proxy_auth_required;
  switch (pick) {
    case AuthScheme::digest:
      return send_digest(*digest, method, uri, true);
    case AuthScheme::ntlm:
      return send_ntlm_negotiate();
    default:
      return send_basic();
  }
}

std::error_code Authenticator::send_basic() {
  const Credentials& cr = *options_.credentials;
  if (cr.user.find(':') != std::string::npos) return errc::invalid_credentials;  // RFC 7617 §2
  if (auto ec = count_attempt()) return ec;
  authorization_ = "Basic " + detail::base64_encode(as_bytes(cr.user + ":" + cr.password));
  memo_ = AuthMemo{};
  memo_.scheme = AuthScheme::basic;
  sent_ = Sent::basic;
  return {};
}

std::error_code Authenticator::send_digest(const DigestChallenge& c, std::string_view method,
                                           std::string_view uri, bool new_nonce) {
  if (auto ec = count_attempt()) return ec;
  if (new_nonce) {
    // §7.3: a new cnonce per nonce, nc starts at 00000001.
    std::array<Byte, 16> r{};
    options_.random(r);
    memo_ = AuthMemo{};
    memo_.scheme = AuthScheme::digest;
    memo_.digest = c;
    memo_.digest.stale = false;
    memo_.cnonce = detail::hex(r);
  }
  ++memo_.nc;
  const Credentials& cr = *options_.credentials;
  authorization_ = digest_authorization(
      memo_.digest, DigestInput{cr.user, cr.password, method, uri, memo_.cnonce, memo_.nc});
  sent_ = Sent::digest;
  return {};
}

std::error_code Authenticator::send_ntlm_negotiate() {
  if (auto ec = count_attempt()) return ec;
  authorization_ = "NTLM " + detail::base64_encode(ntlm::negotiate_message());
  memo_ = AuthMemo{};
  memo_.scheme = AuthScheme::ntlm;
  sent_ = Sent::ntlm_negotiate;
  return {};
}

std::error_code Authenticator::ntlm_authenticate(const std::vector<Challenge>& all) {
  const Challenge* token = nullptr;
  for (const Challenge& c : all) {
    if (c.scheme == "ntlm" && !c.token68.empty()) token = &c;
  }
  if (token == nullptr) return errc::proxy_auth_failed;  // NEGOTIATE refused
  std::optional<Bytes> raw = detail::base64_decode(token->token68);
  if (!raw) return errc::bad_ntlm_challenge;
  std::optional<ntlm::ChallengeMessage> challenge = ntlm::parse_challenge(*raw);
  if (!challenge) return errc::bad_ntlm_challenge;
  if (auto ec = count_attempt()) return ec;

  const Credentials& cr = *options_.credentials;
  ntlm::Account account = ntlm::split_account(cr.user);
  ntlm::AuthenticateInput in{
      account.user, account.domain, options_.workstation, cr.password, {}, 0};
  options_.random(in.client_challenge);
  if (!challenge->timestamp) in.now_filetime = options_.now_filetime();
  std::optional<Bytes> msg = ntlm::authenticate_message(*challenge, in);
  if (!msg) return errc::bad_ntlm_challenge;
  authorization_ = "NTLM " + detail::base64_encode(*msg);
  sent_ = Sent::ntlm_authenticate;
  return {};
}

}  // namespace grove::proxy
