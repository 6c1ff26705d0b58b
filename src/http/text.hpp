// Text rules of HTTP/1.x header fields (RFC 9110 §5.5, §5.6): ASCII case, optional whitespace,
// comma-separated lists. Pure functions; results are views into the argument.
#pragma once

#include <string_view>

namespace grove::http {

// Equal but for the case of ASCII letters (header names, tokens, URI keywords).
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);
// Strips optional whitespace (space, tab) at both ends, and a CR that lenient parsing left at the
// end of a value (henc.md §2.3).
[[nodiscard]] std::string_view trim(std::string_view s);
// Whether the comma-separated list `list` holds `token`, compared case-insensitively
// (Connection: RFC 9110 §7.6.1).
[[nodiscard]] bool has_token(std::string_view list, std::string_view token);

}  // namespace grove::http
