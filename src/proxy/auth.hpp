// Proxy authentication rounds (henc.md §7): picks a scheme from the 401/407 challenges and
// produces the (Proxy-)Authorization value of each retry: Basic (RFC 7617), Digest (RFC 7616,
// digest.hpp) or NTLMv2 (ntlm.hpp). Sans-I/O and shared by every HTTP-speaking transport: the
// caller owns the connection and tells this object what the proxy answered.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "proxy/auth_challenge.hpp"
#include "proxy/digest.hpp"
#include "wire/bytes.hpp"

namespace grove::proxy {

struct Credentials {
  std::string user;  // NTLM: "DOMAIN\user" or "user@domain" (henc.md §7.1)
  std::string password;
  bool operator==(const Credentials&) const = default;
};

enum class AuthScheme : std::uint8_t { none, basic, digest, ntlm };

// What a connection learned that later connections to the same proxy reuse, so that they send
// credentials at once (henc.md §7.1 ProxyAuthRequired): Basic the same header, Digest the last
// nonce with the next nc, NTLM the NEGOTIATE leg. Holds no password.
struct AuthMemo {
  AuthScheme scheme = AuthScheme::none;
  DigestChallenge digest;  // scheme == digest: the last challenge answered
  std::uint32_t nc = 0;    // the last nonce count sent with digest.nonce
  std::string cnonce;      // the cnonce used with digest.nonce
  bool operator==(const AuthMemo&) const = default;
};

struct AuthOptions {
  std::optional<Credentials> credentials;
  std::string workstation;  // NTLM WorkstationName; empty is allowed (§7.4)
  // §7.1: at most 4 requests carrying credentials per step.
  unsigned max_attempts = 4;
  // Fills its argument with CSPRNG bytes: the Digest cnonce (16 bytes) and the NTLM client
  // challenge (8 bytes). Required with credentials; the core has no randomness of its own.
  std::function<void(std::span<Byte>)> random;
  // The current time as a FILETIME (100 ns since 1601-01-01 UTC), for NTLM when the challenge
  // carries no MsvAvTimestamp. Required with credentials; the core reads no clock.
  std::function<std::uint64_t()> now_filetime;
  AuthMemo memo;  // from an earlier connection to this proxy; empty = start without credentials
};

class Authenticator {
 public:
  // Throws std::invalid_argument (configuration error) when credentials come without `random`
  // or `now_filetime`, or when the user name holds control characters.
  explicit Authenticator(AuthOptions options);

  // The value to send on the first request of a connection, from the memo; nullopt when the
  // memo is empty or there are no credentials. Counts as an attempt.
  [[nodiscard]] std::optional<std::string> initial(std::string_view method, std::string_view uri);

  // Handles a 401/407. `values` holds every Proxy-Authenticate (407) or WWW-Authenticate (401)
  // value of the response; `method` and `uri` are those of the request to retry. On success
  // authorization() holds the value for the retry. Errors: proxy_auth_failed (the answer to
  // credentials that were sent, unless Digest stale=true or the NTLM challenge leg),
  // proxy_auth_required, negotiate_not_supported, no_usable_challenge, invalid_credentials,
  // auth_attempts_exhausted, bad_ntlm_challenge.
  [[nodiscard]] std::error_code on_challenge(std::span<const std::string> values,
                                             std::string_view method, std::string_view uri);

  // The header value for the retry; valid after on_challenge() succeeded.
  [[nodiscard]] const std::string& authorization() const { return authorization_; }
  // True when the retry is the NTLM AUTHENTICATE leg, which must travel on the connection that
  // carried the CHALLENGE (§7.4).
  [[nodiscard]] bool needs_same_connection() const { return sent_ == Sent::ntlm_authenticate; }
  // True while the NTLM NEGOTIATE leg is out: its 407 must keep the connection open.
  [[nodiscard]] bool awaiting_ntlm_challenge() const { return sent_ == Sent::ntlm_negotiate; }
  [[nodiscard]] AuthScheme scheme() const { return memo_.scheme; }
  [[nodiscard]] const AuthMemo& memo() const { return memo_; }
  [[nodiscard]] unsigned attempts() const { return attempts_; }

 private:
  enum class Sent { none, basic, digest, ntlm_negotiate, ntlm_authenticate };

  std::error_code select(const std::vector<Challenge>& all, std::string_view method,
                         std::string_view uri);
  std::error_code ntlm_authenticate(const std::vector<Challenge>& all);
  std::error_code send_basic();
  std::error_code send_digest(const DigestChallenge& c, std::string_view method,
                              std::string_view uri, bool new_nonce);
  std::error_code send_ntlm_negotiate();
  std::error_code count_attempt();

  AuthOptions options_;
  AuthMemo memo_;
  Sent sent_ = Sent::none;
  unsigned attempts_ = 0;
  std::string authorization_;
};

}  // namespace grove::proxy
