#include "net/endpoint.hpp"

#include <charconv>

namespace grove::net {

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon) {
      hp.host = std::string(text.substr(0, colon));
      port = text.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    } else {
      hp.host = std::string(text);  // a bare name or an unbracketed IPv6 literal
    }
  }
  if (hp.host.empty()) return std::nullopt;
  hp.port = default_port;
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v > 65535) return std::nullopt;
    hp.port = static_cast<std::uint16_t>(v);
  }
  return hp;
}

}  // namespace grove::net
