// Tests for src/auth/grove_auth: every value of auth.md §9 byte for byte, malformed tokens
// (auth.md §3), secret handling (auth.md §2) and capability matching (sstp.md §5.1).
#include "auth/grove_auth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace grove::auth {
namespace {

Bytes from_hex(std::string_view hex) {
  Bytes out;
  std::string digits;
  for (char c : hex) {
    if (c != ' ' && c != '\n') digits.push_back(c);
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<Byte>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

constexpr int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  throw "not a lowercase hex digit";  // a typo in a constant below fails at compile time
}

// 64 lowercase hex digits -> 32 bytes, at compile time.
constexpr std::array<Byte, 32> arr(std::string_view hex) {
  if (hex.size() != 64) throw "need 64 hex digits";
  std::array<Byte, 32> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<Byte>(hex_digit(hex[2 * i]) * 16 + hex_digit(hex[2 * i + 1]));
  }
  return out;
}

// auth.md §9.1 and §9.6 inputs.
constexpr std::string_view kRelayUrl = "grove://relay.example";
constexpr std::string_view kAccountUrl = "grove://relay.example/i/bob";
constexpr Secret kDev = arr("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
constexpr Nonce kClientNonce =
    arr("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
constexpr Nonce kRelayNonce =
    arr("c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
constexpr ChannelBinding kCb =
    arr("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f");
constexpr Secret kId = arr("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
constexpr Nonce kAccountClientNonce =
    arr("e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
constexpr Nonce kAccountRelayNonce =
    arr("606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f");

// auth.md §9.2, §9.3, §9.5, §9.6 MAC values.
constexpr Mac kRelayMac = arr("e0b5b847f92690b70cf1213103a9dea6c5b2e8a3b3760d42d12e20f15f7daa88");
constexpr Mac kDeviceMac = arr("7f00167041263b576742be18bbb68399c58b40eeea7ee520ac0386b14597f1c8");
constexpr Mac kRelayMacCb = arr("18a3bd17815a726dbee0f8f19cea27e293f7624aec87b9fc15b011cf711a196a");
constexpr Mac kDeviceMacCb =
    arr("760c8d913bbd6307152b7336d31f7e9d266b97b3e2ede100197e5dd9e9c9bb17");
constexpr Mac kRelayAccountMac =
    arr("769f58ac7471e414af658f67ae034fe56a4cec950b4892bd53e44c478d1f6adf");
constexpr Mac kAccountMac = arr("a907cdf21f8b14e1894f4e5ed85d71873f393d5bbcee476591c53c0623db9796");

TEST(AuthMac, RelayMacNoTls) {  // auth.md §9.2
  EXPECT_EQ(relay_mac(kDev, kClientNonce, kRelayNonce, kRelayUrl, nullptr), kRelayMac);
}
TEST(AuthMac, DeviceMacNoTls) {  // auth.md §9.3
  EXPECT_EQ(device_mac(kDev, kRelayNonce, kClientNonce, nullptr), kDeviceMac);
}
TEST(AuthMac, RelayMacWithChannelBinding) {  // auth.md §9.5
  EXPECT_EQ(relay_mac(kDev, kClientNonce, kRelayNonce, kRelayUrl, &kCb), kRelayMacCb);
}
TEST(AuthMac, DeviceMacWithChannelBinding) {  // auth.md §9.5
  EXPECT_EQ(device_mac(kDev, kRelayNonce, kClientNonce, &kCb), kDeviceMacCb);
}
TEST(AuthMac, RelayAccountMac) {  // auth.md §9.6
  EXPECT_EQ(relay_account_mac(kId, kAccountClientNonce, kAccountRelayNonce, kAccountUrl, nullptr),
            kRelayAccountMac);
}
TEST(AuthMac, AccountMac) {  // auth.md §9.6
  EXPECT_EQ(account_mac(kId, kAccountRelayNonce, kAccountClientNonce, nullptr), kAccountMac);
}

TEST(AuthMac, EveryInputChangesTheMac) {
  // auth.md §8: relay naming, reflection and key separation all rest on these.
  EXPECT_NE(relay_mac(kDev, kClientNonce, kRelayNonce, "grove://other.example", nullptr),
            kRelayMac);
  EXPECT_NE(relay_mac(kId, kClientNonce, kRelayNonce, kRelayUrl, nullptr), kRelayMac);
  EXPECT_NE(relay_mac(kDev, kRelayNonce, kClientNonce, kRelayUrl, nullptr), kRelayMac);
  EXPECT_NE(device_mac(kDev, kClientNonce, kRelayNonce, nullptr), kDeviceMac);
  EXPECT_NE(device_mac(kId, kRelayNonce, kClientNonce, nullptr), kDeviceMac);
  // Same nonces and key, different labels: the relay's MAC never passes as the device's.
  EXPECT_NE(account_mac(kDev, kRelayNonce, kClientNonce, nullptr), kDeviceMac);
  EXPECT_NE(relay_account_mac(kDev, kClientNonce, kRelayNonce, kRelayUrl, nullptr), kRelayMac);
  ChannelBinding other_cb = kCb;
  other_cb[31] ^= 1;
  EXPECT_NE(device_mac(kDev, kRelayNonce, kClientNonce, &other_cb), kDeviceMacCb);
}

// One table drives both make_token and parse_token (style rule 14).
struct TokenCase {
  const char* name;
  TokenType type;
  std::array<Byte, 32> first;
  std::array<Byte, 32> second;  // only for types 2 and 5
  const char* hex;
};

const std::vector<TokenCase>& token_cases() {
  static const std::vector<TokenCase> cases = {
      {"DeviceHello §9.4",
       TokenType::DeviceHello,
       kClientNonce,
       {},
       "47 52 56 31 01 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8"
       " b9 ba bb bc bd be bf"},
      {"RelayProof §9.4", TokenType::RelayProof, kRelayNonce, kRelayMac,
       "47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8"
       " d9 da db dc dd de df e0 b5 b8 47 f9 26 90 b7 0c f1 21 31 03 a9 de a6 c5 b2 e8 a3 b3 76"
       " 0d 42 d1 2e 20 f1 5f 7d aa 88"},
      {"DeviceProof §9.4",
       TokenType::DeviceProof,
       kDeviceMac,
       {},
       "47 52 56 31 03 7f 00 16 70 41 26 3b 57 67 42 be 18 bb b6 83 99 c5 8b 40 ee ea 7e e5 20 ac"
       " 03 86 b1 45 97 f1 c8"},
      {"RelayProof with CB §9.5", TokenType::RelayProof, kRelayNonce, kRelayMacCb,
       "47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8"
       " d9 da db dc dd de df 18 a3 bd 17 81 5a 72 6d be e0 f8 f1 9c ea 27 e2 93 f7 62 4a ec 87"
       " b9 fc 15 b0 11 cf 71 1a 19 6a"},
      {"DeviceProof with CB §9.5",
       TokenType::DeviceProof,
       kDeviceMacCb,
       {},
       "47 52 56 31 03 76 0c 8d 91 3b bd 63 07 15 2b 73 36 d3 1f 7e 9d 26 6b 97 b3 e2 ed e1 00 19"
       " 7e 5d d9 e9 c9 bb 17"},
      {"AccountHello §9.6",
       TokenType::AccountHello,
       kAccountClientNonce,
       {},
       "47 52 56 31 04 e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3 f4 f5 f6 f7 f8"
       " f9 fa fb fc fd fe ff"},
      {"RelayAccountProof §9.6", TokenType::RelayAccountProof, kAccountRelayNonce, kRelayAccountMac,
       "47 52 56 31 05 60 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78"
       " 79 7a 7b 7c 7d 7e 7f 76 9f 58 ac 74 71 e4 14 af 65 8f 67 ae 03 4f e5 6a 4c ec 95 0b 48"
       " 92 bd 53 e4 4c 47 8d 1f 6a df"},
      {"AccountProof §9.6",
       TokenType::AccountProof,
       kAccountMac,
       {},
       "47 52 56 31 06 a9 07 cd f2 1f 8b 14 e1 89 4f 4e 5e d8 5d 71 87 3f 39 3d 5b bc ee 47 65 91"
       " c5 3c 06 23 db 97 96"},
  };
  return cases;
}

bool is_long(TokenType t) {
  return t == TokenType::RelayProof || t == TokenType::RelayAccountProof;
}

TEST(AuthToken, EncodeMatchesSpec) {
  for (const TokenCase& c : token_cases()) {
    SCOPED_TRACE(c.name);
    const Bytes got =
        is_long(c.type) ? make_token(c.type, c.first, c.second) : make_token(c.type, c.first);
    EXPECT_EQ(got, from_hex(c.hex));
    EXPECT_EQ(got.size(), is_long(c.type) ? 69u : 37u);
  }
}

TEST(AuthToken, DecodeMatchesSpec) {
  for (const TokenCase& c : token_cases()) {
    SCOPED_TRACE(c.name);
    const Bytes bytes = from_hex(c.hex);
    const std::optional<Token> t = parse_token(bytes, c.type);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->type, c.type);
    EXPECT_EQ(t->first, c.first);
    EXPECT_EQ(t->second, c.second);  // all zero for the 37-byte types
  }
}

// The tokens sit, after their 16-bit little-endian length, inside the full commands of §9.4-§9.6.
TEST(AuthToken, EmbeddedInSpecCommands) {
  struct Embedded {
    const char* command_hex;
    std::size_t offset;
    std::size_t case_index;
  };
  const Embedded embedded[] = {
      // ConnectAuthenticate §9.4
      {"03 2a 00 25 00 47 52 56 31 03 7f 00 16 70 41 26 3b 57 67 42 be 18 bb b6 83 99 c5 8b 40 ee"
       " ea 7e e5 20 ac 03 86 b1 45 97 f1 c8",
       5, 2},
      // ConnectAuthenticate with CB §9.5
      {"03 2a 00 25 00 47 52 56 31 03 76 0c 8d 91 3b bd 63 07 15 2b 73 36 d3 1f 7e 9d 26 6b 97 b3"
       " e2 ed e1 00 19 7e 5d d9 e9 c9 bb 17",
       5, 4},
      // ConnectResponse Ok with CB §9.5 (first 80 of 115 bytes)
      {"02 73 00 01 06 00 00 00 00 45 00 47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd"
       " ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df 18 a3 bd 17 81 5a 72 6d be e0 f8 f1"
       " 9c ea 27 e2 93 f7 62 4a ec 87 b9 fc 15 b0 11 cf 71 1a 19 6a",
       11, 3},
      // Attach §9.6
      {"08 4b 00 07 00 00 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f"
       " 69 2f 62 6f 62 00 25 00 47 52 56 31 04 e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef f0"
       " f1 f2 f3 f4 f5 f6 f7 f8 f9 fa fb fc fd fe ff",
       38, 5},
      // AttachResponse Ok §9.6
      {"09 50 00 07 00 00 00 00 00 45 00 47 52 56 31 05 60 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d"
       " 6e 6f 70 71 72 73 74 75 76 77 78 79 7a 7b 7c 7d 7e 7f 76 9f 58 ac 74 71 e4 14 af 65 8f 67"
       " ae 03 4f e5 6a 4c ec 95 0b 48 92 bd 53 e4 4c 47 8d 1f 6a df",
       11, 6},
      // AttachAuthenticate §9.6
      {"0a 2e 00 07 00 00 00 25 00 47 52 56 31 06 a9 07 cd f2 1f 8b 14 e1 89 4f 4e 5e d8 5d 71 87"
       " 3f 39 3d 5b bc ee 47 65 91 c5 3c 06 23 db 97 96",
       9, 7},
  };
  for (const Embedded& e : embedded) {
    const TokenCase& c = token_cases()[e.case_index];
    SCOPED_TRACE(c.name);
    const Bytes command = from_hex(e.command_hex);
    const Bytes token = from_hex(c.hex);
    ASSERT_LE(e.offset + token.size(), command.size());
    EXPECT_EQ(command[e.offset - 2], token.size());
    EXPECT_EQ(command[e.offset - 1], 0);
    EXPECT_TRUE(std::equal(token.begin(), token.end(), command.begin() + e.offset));
  }
}

constexpr TokenType kAllTypes[] = {TokenType::DeviceHello,       TokenType::RelayProof,
                                   TokenType::DeviceProof,       TokenType::AccountHello,
                                   TokenType::RelayAccountProof, TokenType::AccountProof};

Bytes valid_token(TokenType t) {
  return is_long(t) ? make_token(t, kRelayNonce, kRelayMac) : make_token(t, kClientNonce);
}

TEST(AuthToken, EveryWrongLengthIsMalformed) {  // auth.md §3
  for (TokenType t : kAllTypes) {
    const Bytes good = valid_token(t);
    ASSERT_TRUE(parse_token(good, t).has_value());
    for (std::size_t len = 0; len <= 70; ++len) {
      if (len == good.size()) continue;
      SCOPED_TRACE(testing::Message() << "type " << int(t) << " length " << len);
      // A valid prefix, extended with trailing bytes where longer than the real token.
      Bytes bytes(good.begin(), good.begin() + std::min(len, good.size()));
      bytes.resize(len, 0xaa);
      EXPECT_FALSE(parse_token(bytes, t).has_value());
    }
  }
}

TEST(AuthToken, BadMagicIsMalformed) {  // auth.md §3, §1: Groove tokens do not start with GRV1
  for (TokenType t : kAllTypes) {
    for (std::size_t i = 0; i < 4; ++i) {
      SCOPED_TRACE(testing::Message() << "type " << int(t) << " magic byte " << i);
      Bytes bytes = valid_token(t);
      bytes[i] ^= 0x20;  // "grv1", "GrV1", ...
      EXPECT_FALSE(parse_token(bytes, t).has_value());
      bytes[i] = 0;
      EXPECT_FALSE(parse_token(bytes, t).has_value());
    }
    Bytes grv2 = valid_token(t);
    grv2[3] = '2';
    EXPECT_FALSE(parse_token(grv2, t).has_value());
  }
}

TEST(AuthToken, EveryWrongTypeIsMalformed) {  // auth.md §3: type must match the carrying command
  for (TokenType t : kAllTypes) {
    for (int v = 0; v <= 255; ++v) {
      if (v == static_cast<int>(t)) continue;
      SCOPED_TRACE(testing::Message() << "expected " << int(t) << " got type byte " << v);
      Bytes bytes = valid_token(t);
      bytes[4] = static_cast<Byte>(v);
      EXPECT_FALSE(parse_token(bytes, t).has_value());
    }
    // A genuine token of another type, even one of the same length, is refused.
    for (TokenType other : kAllTypes) {
      if (other != t) {
        EXPECT_FALSE(parse_token(valid_token(other), t).has_value());
      }
    }
  }
}

TEST(AuthMacEqual, TrueAndFalse) {
  EXPECT_TRUE(mac_equal(kRelayMac, kRelayMac));
  EXPECT_TRUE(mac_equal(Mac{}, Mac{}));
  EXPECT_FALSE(mac_equal(kRelayMac, kDeviceMac));
  for (std::size_t i = 0; i < kRelayMac.size(); ++i) {  // a difference anywhere counts
    Mac m = kRelayMac;
    m[i] ^= 0x80;
    EXPECT_FALSE(mac_equal(kRelayMac, m)) << "byte " << i;
  }
}

TEST(AuthHandshake, ClientVerifiesRelayProofAndRelayVerifiesDeviceProof) {  // auth.md §5.1
  const Secret k = new_secret();
  Nonce cn{}, rn{};
  ASSERT_TRUE(random_bytes(cn));
  ASSERT_TRUE(random_bytes(rn));
  const std::optional<Token> hello =
      parse_token(make_token(TokenType::DeviceHello, cn), TokenType::DeviceHello);
  ASSERT_TRUE(hello.has_value());
  const Bytes proof =
      make_token(TokenType::RelayProof, rn, relay_mac(k, hello->first, rn, kRelayUrl, &kCb));
  const std::optional<Token> p = parse_token(proof, TokenType::RelayProof);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(mac_equal(p->second, relay_mac(k, cn, p->first, kRelayUrl, &kCb)));
  // A client that does not bind (auth.md §6 mismatch) computes a different MAC.
  EXPECT_FALSE(mac_equal(p->second, relay_mac(k, cn, p->first, kRelayUrl, nullptr)));
  const std::optional<Token> d =
      parse_token(make_token(TokenType::DeviceProof, device_mac(k, p->first, cn, &kCb)),
                  TokenType::DeviceProof);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(mac_equal(d->first, device_mac(k, rn, cn, &kCb)));
}

TEST(AuthSecret, ParseHex) {  // auth.md §2.1
  const std::string lower = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  std::string upper = lower;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  EXPECT_EQ(parse_secret_hex(lower), kDev);
  EXPECT_EQ(parse_secret_hex(upper), kDev);
  EXPECT_EQ(parse_secret_hex("000102030405060708090A0b0C0d0E0f101112131415161718191a1B1c1D1e1F"),
            kDev);
  Secret all_ff{};
  all_ff.fill(0xff);
  EXPECT_EQ(parse_secret_hex(std::string(64, 'f')), all_ff);
  EXPECT_EQ(parse_secret_hex(std::string(64, 'F')), all_ff);
  EXPECT_FALSE(parse_secret_hex(lower.substr(0, 63)));
  EXPECT_FALSE(parse_secret_hex(lower + "2"));
  EXPECT_FALSE(parse_secret_hex(lower + "20"));
  EXPECT_FALSE(parse_secret_hex(lower.substr(0, 62)));
  EXPECT_FALSE(parse_secret_hex(""));
  EXPECT_FALSE(parse_secret_hex(lower + "\n"));
  EXPECT_FALSE(parse_secret_hex("0x" + lower.substr(2)));
  for (std::size_t i = 0; i < lower.size(); ++i) {  // one bad character anywhere
    for (char bad : {'g', 'G', 'z', ' ', ':', '-', '\0'}) {
      std::string s = lower;
      s[i] = bad;
      EXPECT_FALSE(parse_secret_hex(s)) << "position " << i << " char " << int(bad);
    }
  }
}

TEST(AuthSecret, ToHexIsLowercase) {
  EXPECT_EQ(to_hex(kDev), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(to_hex(from_hex("ab cd ef 00 ff")), "abcdef00ff");
  EXPECT_EQ(to_hex(ByteView{}), "");
  EXPECT_EQ(parse_secret_hex(to_hex(kId)), kId);
}

bool is_lower_hex8(const std::string& s) {
  return s.size() == 8 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

TEST(AuthSecret, Fingerprint) {  // auth.md §2.2
  // Expected values computed independently at authoring time:
  //   printf 0001...1e1f | xxd -r -p | sha256sum  -> 630dcd2966c43366...
  //   printf 2021...3e3f | xxd -r -p | sha256sum  -> 72dbb7336c767800...
  EXPECT_EQ(fingerprint(kDev), "630dcd29");
  EXPECT_EQ(fingerprint(kId), "72dbb733");
  const std::string f = fingerprint(new_secret());
  EXPECT_TRUE(is_lower_hex8(f)) << f;
}

TEST(AuthRandom, RandomBytesDiffer) {  // auth.md §8 Nonces
  Nonce a{}, b{};
  ASSERT_TRUE(random_bytes(a));
  ASSERT_TRUE(random_bytes(b));
  EXPECT_NE(a, b);
  EXPECT_NE(a, Nonce{});
  std::vector<Byte> big(4096);
  ASSERT_TRUE(random_bytes(big));
  EXPECT_NE(std::count(big.begin(), big.end(), Byte{0}), 4096);
  EXPECT_TRUE(random_bytes(std::span<Byte>{}));
}

TEST(AuthRandom, NewSecret) {  // auth.md §2.1
  const Secret a = new_secret();
  const Secret b = new_secret();
  EXPECT_NE(a, b);
  EXPECT_NE(a, Secret{});
  EXPECT_EQ(parse_secret_hex(to_hex(a)), a);  // prints once as 64 lowercase hex, parses back
  EXPECT_EQ(to_hex(a).size(), 64u);
}

TEST(AuthWipe, ZeroesTheBytes) {  // auth.md §2.2
  Secret s = kDev;
  wipe(s);
  EXPECT_EQ(s, Secret{});
  wipe(std::span<Byte>{});
}

TEST(AuthCapability, ExactTokenMatch) {  // sstp.md §5.1, auth.md §6
  EXPECT_TRUE(has_capability("grove-auth-1 tls", kCapability));
  EXPECT_TRUE(has_capability("grove-auth-1 tls", kTlsCapability));
  EXPECT_TRUE(has_capability("grove-auth-1", kCapability));
  EXPECT_TRUE(has_capability("tls", kTlsCapability));
  EXPECT_TRUE(has_capability("x tls y", kTlsCapability));
  EXPECT_FALSE(has_capability("grove-auth-1", kTlsCapability));
  EXPECT_FALSE(has_capability("", kTlsCapability));
  EXPECT_FALSE(has_capability("grove-auth-1 tls1.3", kTlsCapability));
  EXPECT_FALSE(has_capability("grove-auth-1 xtls", kTlsCapability));
  EXPECT_FALSE(has_capability("grove-auth-1 TLS", kTlsCapability));
  EXPECT_FALSE(has_capability("grove-auth-12", kCapability));
  EXPECT_FALSE(has_capability("grove-auth", kCapability));
  EXPECT_FALSE(has_capability("grove-auth-1 tls", "auth"));
  EXPECT_FALSE(has_capability("grove-auth-1 tls", "grove-auth-1 tls"));
  EXPECT_FALSE(has_capability("grove-auth-1 tls", ""));
  EXPECT_FALSE(has_capability("  ", ""));
  EXPECT_TRUE(has_capability(" grove-auth-1  tls ", kTlsCapability));  // stray spaces tolerated
}

}  // namespace
}  // namespace grove::auth
