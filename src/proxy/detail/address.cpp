#include "proxy/detail/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace grove::proxy::detail {

std::optional<std::array<Byte, 4>> parse_ipv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  char buf[16] = {};
  std::memcpy(buf, s.data(), s.size());
  std::array<Byte, 4> out{};
  if (inet_pton(AF_INET, buf, out.data()) != 1) return std::nullopt;
  return out;
}

std::optional<std::array<Byte, 16>> parse_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  char buf[46] = {};
  std::memcpy(buf, s.data(), s.size());
  std::array<Byte, 16> out{};
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

std::string_view strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

std::string format_ipv4(ByteView four) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, four.data(), buf, sizeof buf);
  return buf;
}

std::string format_ipv6(ByteView sixteen) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, sixteen.data(), buf, sizeof buf);
  return buf;
}

}  // namespace grove::proxy::detail
