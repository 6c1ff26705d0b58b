#include "proxy/proxy_url.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "proxy/detail/address.hpp"
#include "proxy/detail/text.hpp"

namespace grove::proxy {
namespace {

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = detail::ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool valid_reg_name(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<ProxyScheme> scheme_of(std::string_view s) {
  std::string l = detail::to_lower(s);
  if (l == "http") return ProxyScheme::http;
  if (l == "socks5" || l == "socks5h") return ProxyScheme::socks5;  // both resolve at the proxy
  if (l == "socks4a") return ProxyScheme::socks4a;
  if (l == "socks4") return ProxyScheme::socks4;
  return std::nullopt;
}

std::string normalize_host(std::string_view h) {
  std::string out = detail::to_lower(detail::strip_brackets(h));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// `bits` leading bits of a and b agree.
bool prefix_equal(ByteView a, ByteView b, unsigned bits) {
  for (std::size_t i = 0; i < a.size() && bits > 0; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    auto mask = static_cast<Byte>(0xff << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool ip_match(std::string_view entry, std::string_view host) {
  std::string_view addr = entry;
  std::optional<unsigned> prefix;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    addr = entry.substr(0, slash);
    unsigned p = 0;
    std::string_view ps = entry.substr(slash + 1);
    auto [end, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), p);
    if (ps.empty() || ec != std::errc{} || end != ps.data() + ps.size()) return false;
    prefix = p;
  }
  if (auto e4 = detail::parse_ipv4(addr)) {
    auto h4 = detail::parse_ipv4(host);
    return h4 && prefix.value_or(32) <= 32 && prefix_equal(*e4, *h4, prefix.value_or(32));
  }
  if (auto e6 = detail::parse_ipv6(addr)) {
    auto h6 = detail::parse_ipv6(host);
    return h6 && prefix.value_or(128) <= 128 && prefix_equal(*e6, *h6, prefix.value_or(128));
  }
  return false;
}

bool entry_matches(std::string_view e, const std::string& host, std::uint16_t port) {
  if (e == "*") return true;
  std::string_view name = e;
  if (e.front() == '[') {
    std::size_t close = e.find(']');
    if (close == std::string_view::npos) return false;
    name = e.substr(1, close - 1);
    std::string_view rest = e.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || parse_port(rest.substr(1)) != port) return false;
    }
  } else if (auto colon = e.find(':');
             colon != std::string_view::npos && e.find(':', colon + 1) == std::string_view::npos) {
    if (parse_port(e.substr(colon + 1)) != port) return false;
    name = e.substr(0, colon);
  }
  std::string n = normalize_host(name);
  if (n.empty()) return false;
  if (detail::parse_ipv4(host) || detail::parse_ipv6(host) || n.find('/') != std::string::npos) {
    if (ip_match(n, host)) return true;
  }
  if (n.rfind("*.", 0) == 0) n.erase(0, 2);
  if (!n.empty() && n.front() == '.') n.erase(0, 1);
  if (n.empty()) return false;
  if (host == n) return true;
  return host.size() > n.size() && host.compare(host.size() - n.size(), n.size(), n) == 0 &&
         host[host.size() - n.size() - 1] == '.';
}

const std::string* lookup(const Environment& env, std::string_view lower) {
  for (const std::string& name : {std::string(lower), detail::to_upper_ascii(lower)}) {
    auto it = env.find(name);
    if (it != env.end() && !detail::trim(it->second).empty()) return &it->second;
  }
  return nullptr;
}

}  // namespace

SocksVersion socks_version(ProxyScheme s) {
  switch (s) {
    case ProxyScheme::socks4a:
      return SocksVersion::v4a;
    case ProxyScheme::socks4:
      return SocksVersion::v4;
    default:
      return SocksVersion::v5;
  }
}

std::error_code parse_proxy_url(std::string_view text, ProxyUrl& out) {
  std::string_view s = detail::trim(text);
  ProxyUrl url;
  if (auto sep = s.find("://"); sep != std::string_view::npos) {
    std::optional<ProxyScheme> scheme = scheme_of(s.substr(0, sep));
    if (!scheme) return errc::url_unsupported_scheme;
    url.scheme = *scheme;
    s.remove_prefix(sep + 3);
  }
  url.port = url.scheme == ProxyScheme::http ? kDefaultHttpProxyPort : kDefaultSocksProxyPort;
  if (!s.empty() && s.back() == '/') s.remove_suffix(1);
  if (s.find_first_of("/?#") != std::string_view::npos) return errc::url_bad_syntax;

  if (auto at = s.rfind('@'); at != std::string_view::npos) {
    std::string_view info = s.substr(0, at);
    s.remove_prefix(at + 1);
    std::size_t colon = info.find(':');
    auto user = percent_decode(info.substr(0, colon));
    auto pass = percent_decode(colon == std::string_view::npos ? "" : info.substr(colon + 1));
    if (!user || !pass) return errc::url_bad_percent_encoding;
    if (!user->empty() || !pass->empty()) url.credentials = Credentials{*user, *pass};
  }

  std::string_view host = s, port;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return errc::url_bad_host;
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return errc::url_bad_syntax;
    if (!detail::parse_ipv6(host)) return errc::url_bad_host;
    if (!rest.empty()) {
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    if (auto colon = s.find(':'); colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      has_port = true;
    }
    if (!valid_reg_name(host)) return errc::url_bad_host;
  }
  if (has_port && !port.empty()) {
    std::optional<std::uint16_t> p = parse_port(port);
    if (!p) return errc::url_bad_port;
    url.port = *p;
  }
  url.host = std::string(host);
  out = std::move(url);
  return {};
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  std::string h = normalize_host(host);
  std::size_t i = 0;
  while (i < no_proxy.size()) {
    std::size_t end = no_proxy.find_first_of(", \t", i);
    if (end == std::string_view::npos) end = no_proxy.size();
    std::string_view entry = no_proxy.substr(i, end - i);
    i = end + 1;
    if (!entry.empty() && entry_matches(entry, h, port)) return true;
  }
  return false;
}

ProxySelection proxies_from_environment(const Environment& env, std::string_view relay_host,
                                        std::uint16_t relay_port) {
  ProxySelection sel;
  if (const std::string* np = lookup(env, "no_proxy");
      np && no_proxy_matches(*np, relay_host, relay_port)) {
    sel.bypassed = true;
    return sel;
  }
  auto note = [&sel](std::error_code ec, std::string_view var) {
    if (!sel.error) {
      sel.error = ec;
      sel.error_variable = std::string(var);
    }
  };
  for (std::string_view var : {"https_proxy", "http_proxy"}) {
    const std::string* v = lookup(env, var);
    if (v == nullptr) continue;
    ProxyUrl url;
    if (auto ec = parse_proxy_url(*v, url)) {
      note(ec, var);
    } else if (url.scheme != ProxyScheme::http) {
      note(errc::url_unsupported_scheme, var);
    } else {
      sel.http = std::move(url);
    }
    break;  // §11.1: https_proxy, *else* http_proxy
  }
  if (const std::string* v = lookup(env, "all_proxy")) {
    ProxyUrl url;
    if (auto ec = parse_proxy_url(*v, url)) {
      note(ec, "all_proxy");
    } else if (url.scheme != ProxyScheme::http) {
      sel.socks = std::move(url);  // an http:// all_proxy is not a SOCKS proxy; ignored
    }
  }
  return sel;
}

}  // namespace grove::proxy
