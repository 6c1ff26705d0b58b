// NTLM over HTTP, NTLMv2 only (henc.md §7.4, [MS-NLMP], RFC 4559): the NEGOTIATE_MESSAGE Grove
// sends, the CHALLENGE_MESSAGE it parses and the AUTHENTICATE_MESSAGE it answers with. Pure
// functions: the client challenge and the time come in as arguments. All integers little-endian.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::proxy::ntlm {

// henc.md §7.4: UNICODE | OEM | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY.
inline constexpr std::uint32_t kNegotiateFlags = 0x00088207;
// The AUTHENTICATE flags are the CHALLENGE's flags masked with this (adds TARGET_INFO 0x800000).
inline constexpr std::uint32_t kAuthenticateMask = 0x00888207;
inline constexpr std::uint32_t kFlagUnicode = 0x00000001;
inline constexpr std::uint32_t kFlagOem = 0x00000002;
inline constexpr std::size_t kNegotiateSize = 32;
inline constexpr std::size_t kAuthenticateHeaderSize = 64;

using Block8 = std::array<Byte, 8>;
using Hash16 = std::array<Byte, 16>;

// The 32-byte NEGOTIATE_MESSAGE of henc.md §7.4 (base64:
// TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=).
[[nodiscard]] Bytes negotiate_message();

struct ChallengeMessage {
  std::uint32_t flags = 0;
  Block8 server_challenge{};
  Bytes target_info;                       // AV pairs as received; `00 00 00 00` when missing
  std::optional<std::uint64_t> timestamp;  // MsvAvTimestamp (AvId 7), FILETIME
};

// Parses a CHALLENGE_MESSAGE, checking the signature, MessageType 2, every security buffer
// against the message bounds and every AV pair against the TargetInfo bounds. nullopt on any
// violation (henc.md §7.4: it fails the step). The result owns its bytes.
[[nodiscard]] std::optional<ChallengeMessage> parse_challenge(ByteView msg);

// "DOMAIN\user" or "user@domain" → {user, domain}; a bare name has an empty domain (§7.1).
struct Account {
  std::string user;
  std::string domain;
};
[[nodiscard]] Account split_account(std::string_view configured);

// MD4(UTF16LE(password)).
[[nodiscard]] Hash16 nt_hash(std::string_view password);
// HMAC_MD5(NT hash, UTF16LE(UPPERCASE(user) + domain)); upper-casing covers ASCII only.
[[nodiscard]] Hash16 ntowfv2(std::string_view password, std::string_view user,
                             std::string_view domain);

struct Ntlmv2Responses {
  Bytes nt;                   // NTProofStr | temp
  std::array<Byte, 24> lm{};  // HMAC_MD5(NTOWFv2, ServerChallenge | cc) | cc
};
// henc.md §7.4 "NTLMv2 computation"; `time` is a FILETIME, `target_info` as received.
[[nodiscard]] Ntlmv2Responses ntlmv2_responses(const Hash16& ntowf, const Block8& server_challenge,
                                               const Block8& client_challenge, std::uint64_t time,
                                               ByteView target_info);

struct AuthenticateInput {
  std::string_view user;  // already split from the domain
  std::string_view domain;
  std::string_view workstation;
  std::string_view password;
  Block8 client_challenge{};
  std::uint64_t now_filetime = 0;  // used only when the challenge carries no MsvAvTimestamp
};

// The AUTHENTICATE_MESSAGE of henc.md §7.4: 64-byte header, payload LM, NT, domain, user,
// workstation; strings UTF-16LE when the challenge set UNICODE, else 8-bit. The LM response is
// 24 zero bytes when the challenge carried MsvAvTimestamp. nullopt when a field would not fit a
// 16-bit length.
[[nodiscard]] std::optional<Bytes> authenticate_message(const ChallengeMessage& challenge,
                                                        const AuthenticateInput& in);

}  // namespace grove::proxy::ntlm
