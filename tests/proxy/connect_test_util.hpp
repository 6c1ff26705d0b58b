// Helpers for the HttpConnect tests.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http_connect.hpp"
#include "test_util.hpp"

namespace grove::proxy::test {

inline constexpr std::string_view kRequest =
    "CONNECT relay.example.com:443 HTTP/1.0\r\n"
    "User-Agent: Grove/1.0\r\n"
    "Host: relay.example.com:443\r\n"
    "Proxy-Connection: Keep-Alive\r\n"
    "Pragma: no-cache\r\n"
    "\r\n";

// kRequest with one more header line before the empty line.
inline std::string request_with(std::string_view header_line) {
  std::string r(kRequest.substr(0, kRequest.size() - 2));
  return r + std::string(header_line) + "\r\n\r\n";
}

inline ConnectOptions connect_options(AuthOptions auth = {}) {
  ConnectOptions o;
  o.host = "relay.example.com";
  o.port = 443;
  o.auth = std::move(auth);
  return o;
}

// Takes everything the core queued, as the transport would write it.
inline std::string take_output(HttpConnect& c) {
  std::string s = str(c.pending_output());
  c.consume_output(s.size());
  return s;
}

inline std::size_t feed(HttpConnect& c, std::string_view bytes) {
  return c.receive(as_bytes(bytes));
}

}  // namespace grove::proxy::test
