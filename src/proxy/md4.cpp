// MD4 after RFC 1320 §3: three rounds of 16 operations over 64-byte blocks, little-endian words.
#include "proxy/md4.hpp"

#include <cstdint>
#include <cstring>

namespace grove::proxy {
namespace {

using u32 = std::uint32_t;

constexpr u32 rotl(u32 x, int s) { return (x << s) | (x >> (32 - s)); }
constexpr u32 f(u32 x, u32 y, u32 z) { return (x & y) | (~x & z); }
constexpr u32 g(u32 x, u32 y, u32 z) { return (x & y) | (x & z) | (y & z); }
constexpr u32 h(u32 x, u32 y, u32 z) { return x ^ y ^ z; }

// RFC 1320 §3.4, rounds 1-3.
void transform(u32 state[4], const Byte* block) {
  u32 x[16];
  for (int i = 0; i < 16; ++i) {
    x[i] = u32(block[4 * i]) | (u32(block[4 * i + 1]) << 8) | (u32(block[4 * i + 2]) << 16) |
           (u32(block[4 * i + 3]) << 24);
  }
  u32 a = state[0], b = state[1], c = state[2], d = state[3];

  constexpr int r1[4] = {3, 7, 11, 19};
  for (int i = 0; i < 16; i += 4) {
    a = rotl(a + f(b, c, d) + x[i], r1[0]);
    d = rotl(d + f(a, b, c) + x[i + 1], r1[1]);
    c = rotl(c + f(d, a, b) + x[i + 2], r1[2]);
    b = rotl(b + f(c, d, a) + x[i + 3], r1[3]);
  }
  constexpr u32 k2 = 0x5a827999;
  constexpr int r2[4] = {3, 5, 9, 13};
  for (int i = 0; i < 4; ++i) {
    a = rotl(a + g(b, c, d) + x[i] + k2, r2[0]);
    d = rotl(d + g(a, b, c) + x[i + 4] + k2, r2[1]);
    c = rotl(c + g(d, a, b) + x[i + 8] + k2, r2[2]);
    b = rotl(b + g(c, d, a) + x[i + 12] + k2, r2[3]);
  }
  constexpr u32 k3 = 0x6ed9eba1;
  constexpr int r3[4] = {3, 9, 11, 15};
  constexpr int order[4] = {0, 2, 1, 3};
  for (int j : order) {
    a = rotl(a + h(b, c, d) + x[j] + k3, r3[0]);
    d = rotl(d + h(a, b, c) + x[j + 8] + k3, r3[1]);
    c = rotl(c + h(d, a, b) + x[j + 4] + k3, r3[2]);
    b = rotl(b + h(c, d, a) + x[j + 12] + k3, r3[3]);
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

}  // namespace

Md4Digest md4(ByteView data) {
  u32 state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  std::size_t full = data.size() / 64;
  for (std::size_t i = 0; i < full; ++i) transform(state, data.data() + 64 * i);

  // RFC 1320 §3.1-3.2: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit LE integer.
  Byte tail[128] = {};
  std::size_t rest = data.size() - 64 * full;
  if (rest > 0) std::memcpy(tail, data.data() + 64 * full, rest);
  tail[rest] = 0x80;
  std::size_t tail_len = rest < 56 ? 64 : 128;
  std::uint64_t bits = std::uint64_t(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<Byte>(bits >> (8 * i));
  transform(state, tail);
  if (tail_len == 128) transform(state, tail + 64);

  Md4Digest out{};
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<Byte>(state[i] >> (8 * j));
  }
  return out;
}

}  // namespace grove::proxy
