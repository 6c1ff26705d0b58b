#include "proxy/detail/text.hpp"

#include <array>
#include <cstdint>

namespace grove::proxy::detail {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_upper(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string hex(ByteView b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (Byte x : b) {
    out.push_back(digits[x >> 4]);
    out.push_back(digits[x & 0x0f]);
  }
  return out;
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int, 256> decode_table() {
  std::array<int, 256> t{};
  for (int& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
  return t;
}
constexpr auto kDecode = decode_table();
}  // namespace

std::string base64_encode(ByteView b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(b[i]) << 16) | (std::uint32_t(b[i + 1]) << 8) | b[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 0x3f]);
  }
  std::size_t left = b.size() - i;
  if (left > 0) {
    std::uint32_t v = std::uint32_t(b[i]) << 16;
    if (left == 2) v |= std::uint32_t(b[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 0x3f]);
    out.push_back(kAlphabet[(v >> 12) & 0x3f]);
    out.push_back(left == 2 ? kAlphabet[(v >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<Bytes> base64_decode(std::string_view s) {
  std::size_t pad = 0;
  while (pad < 2 && !s.empty() && s.back() == '=') {
    s.remove_suffix(1);
    ++pad;
  }
  if (s.size() % 4 == 1) return std::nullopt;
  if (pad > 0 && (s.size() + pad) % 4 != 0) return std::nullopt;
  Bytes out;
  out.reserve(s.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<Byte>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return std::nullopt;  // non-canonical: leftover bits must be zero
  return out;
}

Bytes utf16le(std::string_view utf8) {
  Bytes out;
  out.reserve(utf8.size() * 2);
  auto put = [&out](std::uint32_t u) {
    out.push_back(static_cast<Byte>(u));
    out.push_back(static_cast<Byte>(u >> 8));
  };
  std::size_t i = 0;
  while (i < utf8.size()) {
    auto b0 = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = 0xfffd;
    std::size_t len = b0 < 0x80           ? 1
                      : (b0 >> 5) == 0x6  ? 2
                      : (b0 >> 4) == 0xe  ? 3
                      : (b0 >> 3) == 0x1e ? 4
                                          : 0;
    bool ok = len > 0 && i + len <= utf8.size();
    if (ok) {
      cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1fu) : len == 3 ? (b0 & 0x0fu) : (b0 & 0x07u);
      for (std::size_t k = 1; k < len && ok; ++k) {
        auto bk = static_cast<unsigned char>(utf8[i + k]);
        ok = (bk & 0xc0) == 0x80;
        cp = (cp << 6) | (bk & 0x3fu);
      }
      // Overlong forms, surrogates and values past U+10FFFF are malformed.
      constexpr std::uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = ok && cp >= min_for_len[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (!ok) {
      put(0xfffd);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
    i += len;
  }
  return out;
}

bool has_ctl(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace grove::proxy::detail
