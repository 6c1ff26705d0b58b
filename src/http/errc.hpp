// Errors of the HTTP head parser ("grove.http"). Each layer that reads heads turns them into its
// own errors (henc: malformed_head, head_too_large, bad_version; proxy: malformed_response,
// head_too_large), so these values never reach a user; the category names them in tests.
#pragma once

#include <system_error>

namespace grove::http {

enum class errc {
  ok = 0,
  malformed_head = 1,  // llhttp rejects a line, or the head was fed after its end
  head_too_large,      // more bytes than HeadOptions::max_bytes before the empty line
  too_many_headers,    // more header lines than HeadOptions::max_headers
  bad_version,         // a complete head whose version is not HTTP/1.x
};

const std::error_category& http_category();

inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), http_category()}; }

}  // namespace grove::http

template <>
struct std::is_error_code_enum<grove::http::errc> : std::true_type {};
