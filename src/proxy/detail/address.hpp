// IP literal helpers (pure; inet_pton/inet_ntop touch no socket).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::proxy::detail {

// Dotted-quad IPv4 literal ("192.0.2.10"), network order.
[[nodiscard]] std::optional<std::array<Byte, 4>> parse_ipv4(std::string_view s);
// IPv6 literal without brackets ("2001:db8::1"), network order. Zone ids are rejected.
[[nodiscard]] std::optional<std::array<Byte, 16>> parse_ipv6(std::string_view s);
// "[2001:db8::1]" → "2001:db8::1"; anything else unchanged.
[[nodiscard]] std::string_view strip_brackets(std::string_view s);
[[nodiscard]] std::string format_ipv4(ByteView four);
[[nodiscard]] std::string format_ipv6(ByteView sixteen);  // RFC 5952 text

}  // namespace grove::proxy::detail
