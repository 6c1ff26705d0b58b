// Parser for Proxy-Authenticate / WWW-Authenticate values (RFC 9110 §11.6.1, henc.md §7.1):
//   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// One header value may hold several challenges ("Basic realm=x, Digest realm=y, nonce=z").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace grove::proxy {

struct AuthParam {
  std::string name;   // lower-cased
  std::string value;  // quoted-string already unescaped
};

struct Challenge {
  std::string scheme;   // lower-cased ("basic", "digest", "ntlm", "negotiate", ...)
  std::string token68;  // e.g. the base64 CHALLENGE_MESSAGE after "NTLM"; empty when absent
  std::vector<AuthParam> params;

  // The value of the first parameter called `name` (lower-case), or nullptr.
  [[nodiscard]] const std::string* param(std::string_view name) const;
};

// Named limits: a proxy offers a handful of challenges; anything longer is noise.
inline constexpr std::size_t kMaxChallengesPerHeader = 16;
inline constexpr std::size_t kMaxParamsPerChallenge = 32;

// Parses one header value. Returns the complete challenges before the first syntax error (the
// challenge holding the error and everything after it are dropped), at most
// kMaxChallengesPerHeader, each with at most kMaxParamsPerChallenge parameters. The result owns its
// strings.
[[nodiscard]] std::vector<Challenge> parse_challenges(std::string_view header_value);

}  // namespace grove::proxy
