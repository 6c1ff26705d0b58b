// Host and port as typed by a user: "host:port", "[v6]:port", "host" (default port).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace grove::net {

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string to_string() const;  // brackets around IPv6 literals
};

// nullopt when the text is not a host with an optional port 0-65535 (0: any free port, for
// listening).
std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);

}  // namespace grove::net
