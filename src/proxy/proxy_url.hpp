// Proxy configuration from URLs and environment variables (henc.md §7.1, §9.2, §11.1). Pure: the
// environment comes in as a map, the core never calls getenv.
//
//   [scheme://][user[:password]@]host[:port][/]
//   scheme: http (also when absent), socks5, socks5h, socks4a, socks4 — case-insensitive
//   host:   name, IPv4 literal, or IPv6 literal in brackets
//   port:   1..65535; default 80 for http [DECIDED], 1080 for socks* [SPEC]
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "proxy/auth.hpp"
#include "proxy/socks.hpp"

namespace grove::proxy {

enum class ProxyScheme { http, socks5, socks4a, socks4 };  // socks5h:// reads as socks5

inline constexpr std::uint16_t kDefaultHttpProxyPort = 80;     // [DECIDED]: the http scheme's own
inline constexpr std::uint16_t kDefaultSocksProxyPort = 1080;  // README "Ports" [SPEC]

struct ProxyUrl {
  ProxyScheme scheme = ProxyScheme::http;
  std::string host;  // IPv6 without brackets
  std::uint16_t port = kDefaultHttpProxyPort;
  std::optional<Credentials> credentials;  // percent-decoded; present when the URL has user info
  bool operator==(const ProxyUrl&) const = default;
};

// Parses one proxy URL into `out` (left unchanged on error). Errors: url_bad_syntax,
// url_unsupported_scheme, url_bad_host, url_bad_port, url_bad_percent_encoding.
[[nodiscard]] std::error_code parse_proxy_url(std::string_view text, ProxyUrl& out);

// The SOCKS version a socks* scheme selects (§9.2); v5 for http.
[[nodiscard]] SocksVersion socks_version(ProxyScheme s);

// no_proxy matching (§11.1 [DECIDED] rules): comma- or space-separated entries, case-insensitive;
// `*` matches every host; `name` and `.name` and `*.name` match name and every subdomain of it;
// an IP literal matches itself; `a.b.c.d/n` matches an IPv4 range; an entry with `:port` (IPv6
// in brackets) matches only that port. `host` may carry brackets and a trailing dot.
[[nodiscard]] bool no_proxy_matches(std::string_view no_proxy, std::string_view host,
                                    std::uint16_t port);

using Environment = std::map<std::string, std::string, std::less<>>;

struct ProxySelection {
  std::optional<ProxyUrl> http;   // for the Secure Tunnel and the HTTP encapsulations
  std::optional<ProxyUrl> socks;  // for step 4
  bool bypassed = false;          // the relay is listed in no_proxy: steps 3-4 skipped, 5-7 direct
  std::error_code error;          // the first variable that failed to parse (that proxy is absent)
  std::string error_variable;     // its name, for the log; never its value (it may hold a password)
};

// §11.1: HTTP proxy from https_proxy, else http_proxy; SOCKS proxy from all_proxy when its
// scheme is socks5/socks5h/socks4a/socks4; lower-case names win over upper-case ones; empty
// values count as unset. A relay matched by no_proxy/NO_PROXY gets neither proxy.
[[nodiscard]] ProxySelection proxies_from_environment(const Environment& env,
                                                      std::string_view relay_host,
                                                      std::uint16_t relay_port);

}  // namespace grove::proxy
