// HTTP Digest authentication, client side (RFC 7616, henc.md §7.3): reading a Digest challenge
// and computing the Proxy-Authorization value. Pure functions; randomness (the cnonce) and the
// nonce count come in as arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/auth_challenge.hpp"

namespace grove::proxy {

enum class DigestAlgorithm { md5, md5_sess, sha256, sha256_sess, sha512_256, sha512_256_sess };

// The token of RFC 7616 §3.3 ("MD5", "SHA-256-sess", ...), as sent in `algorithm=`.
[[nodiscard]] std::string_view digest_algorithm_name(DigestAlgorithm a);
// henc.md §7.1: SHA-256, then SHA-512-256, then MD5; a `-sess` variant ranks just below its base.
[[nodiscard]] int digest_preference(DigestAlgorithm a);

// What Grove keeps of a Digest challenge (henc.md §7.3 "challenge parameters read").
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::optional<std::string> opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::md5;  // absent = MD5
  bool qop_auth = false;  // qop offered (with "auth"); false = RFC 2069 form, no qop in challenge
  bool stale = false;
  bool userhash = false;
  bool operator==(const DigestChallenge&) const = default;
};

// Reads a parsed "digest" challenge. nullopt when Grove cannot answer it: no nonce, an unknown
// algorithm, a qop list without "auth" (auth-int only, §7.3), or realm/nonce/opaque holding
// control characters (they are echoed into a header line).
[[nodiscard]] std::optional<DigestChallenge> read_digest_challenge(const Challenge& c);

struct DigestInput {
  std::string_view user;
  std::string_view password;
  std::string_view method;  // "CONNECT", "GET", "POST"
  std::string_view uri;     // exactly as on the request line ("relay.example.com:443" for CONNECT)
  std::string_view cnonce;  // Grove: 32 lower-case hex digits from 16 random bytes
  std::uint32_t nc = 1;     // nonce count, written as 8 lower-case hex digits
};

// The `response` value of RFC 7616 §3.4.1 (lower-case hex).
[[nodiscard]] std::string digest_response(const DigestChallenge& c, const DigestInput& in);

// The whole header value: `Digest username="…", realm="…", nonce="…", uri="…", algorithm=…,
// response="…", qop=auth, nc=…, cnonce="…"[, opaque="…"][, userhash=true]` (henc.md §7.3 order);
// qop, nc and cnonce are left out in the RFC 2069 form. The caller checked that `in.user` holds
// no control characters.
[[nodiscard]] std::string digest_authorization(const DigestChallenge& c, const DigestInput& in);

}  // namespace grove::proxy
