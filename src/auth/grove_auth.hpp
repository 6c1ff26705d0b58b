// grove-auth-1 (auth.md): token layouts and HMAC-SHA256 proofs. Pure functions; the caller
// supplies nonces (drawn with random_bytes in production, fixed in tests).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::auth {

using Secret = std::array<Byte, 32>;  // K_dev or K_id (auth.md §2)
using Nonce = std::array<Byte, 32>;
using Mac = std::array<Byte, 32>;
using ChannelBinding = std::array<Byte, 32>;  // TLS exporter value (auth.md §6)

// auth.md §3
enum class TokenType : std::uint8_t {
  DeviceHello = 1,        // in Connect, 37 bytes: magic, type, ClientNonce
  RelayProof = 2,         // in ConnectResponse Ok, 69 bytes: magic, type, RelayNonce, RelayMac
  DeviceProof = 3,        // in ConnectAuthenticate, 37 bytes: magic, type, DeviceMac
  AccountHello = 4,       // in Attach, 37 bytes
  RelayAccountProof = 5,  // in AttachResponse Ok, 69 bytes
  AccountProof = 6,       // in AttachAuthenticate, 37 bytes
};

inline constexpr std::string_view kMagic = "GRV1";
inline constexpr std::string_view kCapability = "grove-auth-1";
inline constexpr std::string_view kTlsCapability = "tls";

// Builds a 37-byte token (types 1, 3, 4, 6) carrying one 32-byte value.
Bytes make_token(TokenType type, const std::array<Byte, 32>& value);
// Builds a 69-byte token (types 2, 5): nonce then MAC.
Bytes make_token(TokenType type, const Nonce& nonce, const Mac& mac);

// A parsed token: `first` is the nonce (types 1, 2, 4, 5) or the MAC (types 3, 6);
// `second` is the MAC of types 2 and 5.
struct Token {
  TokenType type;
  std::array<Byte, 32> first{};
  std::array<Byte, 32> second{};
};
// Parses a token that must be of `expected` type; nullopt when malformed (auth.md §3: wrong
// length, wrong magic or wrong type).
std::optional<Token> parse_token(ByteView token, TokenType expected);

// auth.md §4. `cb` is appended only when channel binding is in use.
Mac relay_mac(const Secret& k_dev, const Nonce& client_nonce, const Nonce& relay_nonce,
              std::string_view target_device_url, const ChannelBinding* cb);
Mac device_mac(const Secret& k_dev, const Nonce& relay_nonce, const Nonce& client_nonce,
               const ChannelBinding* cb);
Mac relay_account_mac(const Secret& k_id, const Nonce& account_client_nonce,
                      const Nonce& account_relay_nonce, std::string_view account_url,
                      const ChannelBinding* cb);
Mac account_mac(const Secret& k_id, const Nonce& account_relay_nonce,
                const Nonce& account_client_nonce, const ChannelBinding* cb);

// Constant-time comparison of two MACs (auth.md §8: CRYPTO_memcmp, never memcmp).
bool mac_equal(const Mac& a, const Mac& b);

// Fills `out` from the operating system CSPRNG (OpenSSL RAND_bytes). False on failure.
[[nodiscard]] bool random_bytes(std::span<Byte> out);
// A new random secret (auth.md §2.1). Throws std::runtime_error if the CSPRNG fails.
Secret new_secret();

// Exactly 64 hex digits, case-insensitive (auth.md §2.1); nullopt otherwise.
std::optional<Secret> parse_secret_hex(std::string_view hex);
std::string to_hex(ByteView b);  // lowercase
// First 8 hex digits of SHA-256(secret): the only way a secret may appear in logs (auth.md §2.2).
std::string fingerprint(const Secret& s);

// Wipes secrets and nonces (OPENSSL_cleanse).
void wipe(std::span<Byte> b);

// True when a space-separated capability string contains `token` (sstp.md §5.1).
bool has_capability(std::string_view capabilities, std::string_view token);

}  // namespace grove::auth
