// Request heads a Grove client sends (henc.md §2.3, §3.2, §4.2, §5.1) and response heads the
// Grove relay sends (§2.4, §3.2, §4.2, §5.2), byte for byte in the §2.3 / §2.4 header order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grove::henc {

struct RequestSpec {
  std::string method;  // "GET" or "POST"
  std::string target;  // relative path when direct, absolute URI when proxied (§2.1)
  std::string host;    // Host value: ServerHost, plus ":port" when not 80
  std::string user_agent = "Grove/1.0";
  bool connection_keep_alive = false;  // KeepAlive: `Connection: Keep-Alive`
  bool proxy_keep_alive = false;       // `Proxy-Connection: Keep-Alive` (proxied LL/KA, NTLM legs)
  std::optional<std::uint64_t> content_length;
  std::string authorization_header;  // "Proxy-Authorization" or "Authorization"; empty = none
  std::string authorization;
};
[[nodiscard]] std::string build_request(const RequestSpec& r);

// The poll parameters of §5.8, carried in X-Grove-Poll-* on every Polling answer.
struct PollParams {
  std::uint32_t min_ms = 250;
  std::uint32_t max_ms = 8000;
  std::uint32_t repetitions = 4;
  bool operator==(const PollParams&) const = default;
};

struct ResponseSpec {
  int status = 200;  // 200, 400 or 404
  std::string date;  // IMF-fixdate
  std::string server = "Grove-Relay/1.0";
  bool keep_alive = false;  // `Connection: Keep-Alive` (KeepAlive answers) or `close`
  std::uint64_t content_length = 0;
  std::optional<PollParams> poll;
};
[[nodiscard]] std::string build_response(const ResponseSpec& r);

}  // namespace grove::henc
