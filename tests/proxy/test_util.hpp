// Helpers shared by the proxy tests: byte/text conversions and deterministic entropy.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proxy/auth.hpp"
#include "wire/bytes.hpp"

namespace grove::proxy::test {

inline std::string str(ByteView b) { return std::string(as_chars(b)); }

inline Bytes unhex(std::string_view h) {
  Bytes out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    if (h[i] == ' ') {
      --i;
      continue;
    }
    out.push_back(static_cast<Byte>(nib(h[i]) * 16 + nib(h[i + 1])));
  }
  return out;
}

inline std::string hexs(ByteView b) {
  static constexpr char d[] = "0123456789abcdef";
  std::string out;
  for (Byte x : b) {
    out.push_back(d[x >> 4]);
    out.push_back(d[x & 15]);
  }
  return out;
}

// A "random" source that repeats `pattern` (hex) forever: tests pin the cnonce and the NTLM
// client challenge this way.
inline std::function<void(std::span<Byte>)> fixed_random(std::string_view pattern_hex) {
  Bytes pattern = unhex(pattern_hex);
  return [pattern](std::span<Byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = pattern[i % pattern.size()];
  };
}

inline AuthOptions auth_with(std::string user, std::string password,
                             std::string_view random_hex = "6b8f4e2c9d1a0f3e7c5b2a1908d7e6f5") {
  AuthOptions a;
  a.credentials = Credentials{std::move(user), std::move(password)};
  a.random = fixed_random(random_hex);
  a.now_filetime = [] { return std::uint64_t{0}; };
  return a;
}

}  // namespace grove::proxy::test
