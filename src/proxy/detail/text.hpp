// Text helpers of the proxy layer: ASCII case, hex, base64 and UTF-16LE. Pure functions; the
// results own their bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::proxy::detail {

[[nodiscard]] constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] constexpr char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);
[[nodiscard]] std::string to_lower(std::string_view s);
// Upper-cases ASCII letters only; other bytes (UTF-8 sequences) pass unchanged [DECIDED].
[[nodiscard]] std::string to_upper_ascii(std::string_view s);
// Strips spaces and tabs at both ends.
[[nodiscard]] std::string_view trim(std::string_view s);

// Lower-case hex of every byte.
[[nodiscard]] std::string hex(ByteView b);

// RFC 4648 §4 base64 with padding.
[[nodiscard]] std::string base64_encode(ByteView b);
// Strict RFC 4648 §4 decoding: alphabet only, padding optional, no whitespace. nullopt on error.
[[nodiscard]] std::optional<Bytes> base64_decode(std::string_view s);

// UTF-8 to UTF-16LE. A malformed sequence becomes U+FFFD, so every input has an encoding.
[[nodiscard]] Bytes utf16le(std::string_view utf8);

// True when `s` holds a byte below 0x20 or 0x7F (CR, LF and NUL among them): such a value can
// never be written into a header line.
[[nodiscard]] bool has_ctl(std::string_view s);

}  // namespace grove::proxy::detail
