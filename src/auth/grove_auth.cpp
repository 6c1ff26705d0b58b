// grove-auth-1 (auth.md): token layouts, HMAC-SHA256 proofs and secret handling on OpenSSL 3.
#include "auth/grove_auth.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <memory>
#include <stdexcept>

namespace grove::auth {
namespace {

// auth.md §3: magic (4) + type (1) + one or two 32-byte fields.
constexpr std::size_t kHeaderSize = 5;
constexpr std::size_t kFieldSize = 32;
constexpr std::size_t kShortTokenSize = kHeaderSize + kFieldSize;     // types 1, 3, 4, 6: 37
constexpr std::size_t kLongTokenSize = kHeaderSize + 2 * kFieldSize;  // types 2, 5: 69

// auth.md §4 labels: ASCII bytes, no terminator, no length prefix.
constexpr std::string_view kRelayLabel = "relay";
constexpr std::string_view kDeviceLabel = "device";
constexpr std::string_view kRelayAttachLabel = "relay-attach";
constexpr std::string_view kAccountLabel = "account";

// auth.md §2.2: a secret is logged only as the first 8 hex digits (4 bytes) of its SHA-256.
constexpr std::size_t kFingerprintBytes = 4;

bool has_nonce_and_mac(TokenType type) {
  return type == TokenType::RelayProof || type == TokenType::RelayAccountProof;
}

std::size_t token_size(TokenType type) {
  return has_nonce_and_mac(type) ? kLongTokenSize : kShortTokenSize;
}

Bytes token_header(TokenType type, std::size_t size) {
  Bytes out;
  out.reserve(size);
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back(static_cast<Byte>(type));
  return out;
}

struct MacDeleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// Streams the MAC input part by part, so nonces and the channel binding are never staged in a
// heap buffer that would need wiping. The parts are fixed by auth.md §4; at most one (the URL)
// has variable length, which keeps the concatenation unambiguous.
class Hmac {
 public:
  explicit Hmac(const std::array<Byte, 32>& key) {
    // OpenSSL failure here means allocation failure or a broken provider: a broken invariant,
    // never peer input, so it throws (style rule 4).
    mac_.reset(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
    if (!mac_) throw std::runtime_error("grove-auth: HMAC unavailable in OpenSSL");
    ctx_.reset(EVP_MAC_CTX_new(mac_.get()));
    if (!ctx_) throw std::runtime_error("grove-auth: EVP_MAC_CTX_new failed");
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx_.get(), key.data(), key.size(), params) != 1) {
      throw std::runtime_error("grove-auth: HMAC-SHA256 init failed");
    }
  }

  Hmac& update(ByteView part) {
    if (EVP_MAC_update(ctx_.get(), part.data(), part.size()) != 1) {
      throw std::runtime_error("grove-auth: HMAC update failed");
    }
    return *this;
  }
  Hmac& update(std::string_view part) { return update(as_bytes(part)); }
  // auth.md §4, §6: CB is the last 32 bytes of the input when channel binding is in use,
  // otherwise nothing is appended.
  Hmac& update_optional(const ChannelBinding* cb) {
    if (cb != nullptr) update(ByteView{*cb});
    return *this;
  }

  // Full 32-byte output, no truncation (auth.md §4).
  Mac finish() {
    Mac out{};
    std::size_t len = 0;
    if (EVP_MAC_final(ctx_.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
      wipe(out);
      throw std::runtime_error("grove-auth: HMAC final failed");
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MAC, MacDeleter> mac_;
  // EVP_MAC_CTX_free cleanses the keyed state (auth.md §2.2 wiping).
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx_;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Bytes make_token(TokenType type, const std::array<Byte, 32>& value) {
  Bytes out = token_header(type, kShortTokenSize);
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

Bytes make_token(TokenType type, const Nonce& nonce, const Mac& mac) {
  Bytes out = token_header(type, kLongTokenSize);
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

std::optional<Token> parse_token(ByteView token, TokenType expected) {
  // auth.md §3: malformed = length not exactly the listed one, magic not GRV1, or type not the
  // one of the carrying command. The length is checked first so nothing is read out of bounds.
  if (token.size() != token_size(expected)) return std::nullopt;
  if (as_chars(token.first(kMagic.size())) != kMagic) return std::nullopt;
  if (token[kMagic.size()] != static_cast<Byte>(expected)) return std::nullopt;

  Token out{expected};
  const ByteView first = token.subspan(kHeaderSize, kFieldSize);
  std::copy(first.begin(), first.end(), out.first.begin());
  if (has_nonce_and_mac(expected)) {
    const ByteView second = token.subspan(kHeaderSize + kFieldSize, kFieldSize);
    std::copy(second.begin(), second.end(), out.second.begin());
  }
  return out;
}

Mac relay_mac(const Secret& k_dev, const Nonce& client_nonce, const Nonce& relay_nonce,
              std::string_view target_device_url, const ChannelBinding* cb) {
  // auth.md §4 RelayMac: "relay" ‖ ClientNonce ‖ RelayNonce ‖ TargetDeviceURL [‖ CB]
  return Hmac(k_dev)
      .update(kRelayLabel)
      .update(ByteView{client_nonce})
      .update(ByteView{relay_nonce})
      .update(target_device_url)
      .update_optional(cb)
      .finish();
}

Mac device_mac(const Secret& k_dev, const Nonce& relay_nonce, const Nonce& client_nonce,
               const ChannelBinding* cb) {
  // auth.md §4 DeviceMac: "device" ‖ RelayNonce ‖ ClientNonce [‖ CB]
  return Hmac(k_dev)
      .update(kDeviceLabel)
      .update(ByteView{relay_nonce})
      .update(ByteView{client_nonce})
      .update_optional(cb)
      .finish();
}

Mac relay_account_mac(const Secret& k_id, const Nonce& account_client_nonce,
                      const Nonce& account_relay_nonce, std::string_view account_url,
                      const ChannelBinding* cb) {
  // auth.md §4 RelayAccountMac: "relay-attach" ‖ AccountClientNonce ‖ AccountRelayNonce ‖
  // AccountURL [‖ CB]
  return Hmac(k_id)
      .update(kRelayAttachLabel)
      .update(ByteView{account_client_nonce})
      .update(ByteView{account_relay_nonce})
      .update(account_url)
      .update_optional(cb)
      .finish();
}

Mac account_mac(const Secret& k_id, const Nonce& account_relay_nonce,
                const Nonce& account_client_nonce, const ChannelBinding* cb) {
  // auth.md §4 AccountMac: "account" ‖ AccountRelayNonce ‖ AccountClientNonce [‖ CB]
  return Hmac(k_id)
      .update(kAccountLabel)
      .update(ByteView{account_relay_nonce})
      .update(ByteView{account_client_nonce})
      .update_optional(cb)
      .finish();
}

bool mac_equal(const Mac& a, const Mac& b) {
  // auth.md §8 Comparison: all 32 bytes, constant time, no early exit.
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool random_bytes(std::span<Byte> out) {
  // auth.md §8 Nonces: OS CSPRNG via RAND_bytes. RAND_bytes takes an int count, so larger
  // requests are served in chunks.
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return false;
    out = out.subspan(n);
  }
  return true;
}

Secret new_secret() {
  Secret s{};
  if (!random_bytes(s)) {
    wipe(s);
    throw std::runtime_error("grove-auth: CSPRNG failed while creating a secret");
  }
  return s;
}

std::optional<Secret> parse_secret_hex(std::string_view hex) {
  // auth.md §2.1: exactly 64 hex digits, case-insensitive; nothing else (no spaces, no colons,
  // no 0x prefix). Hand-written because OPENSSL_hexstr2buf also accepts ':' separators.
  Secret s{};
  if (hex.size() != 2 * s.size()) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      wipe(s);  // partial secret (auth.md §2.2)
      return std::nullopt;
    }
    s[i] = static_cast<Byte>((hi << 4) | lo);
  }
  return s;
}

std::string to_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * b.size());
  for (const Byte v : b) {
    out.push_back(kDigits[v >> 4]);
    out.push_back(kDigits[v & 0x0f]);
  }
  return out;
}

std::string fingerprint(const Secret& s) {
  // auth.md §2.2: first 8 hex digits of SHA-256(secret).
  std::array<Byte, 32> digest{};
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != digest.size()) {
    throw std::runtime_error("grove-auth: SHA-256 failed");
  }
  return to_hex(ByteView{digest}.first(kFingerprintBytes));
}

void wipe(std::span<Byte> b) { OPENSSL_cleanse(b.data(), b.size()); }

bool has_capability(std::string_view capabilities, std::string_view token) {
  // sstp.md §5.1: tokens separated by single spaces; exact, case-sensitive match of a whole
  // token ("tls" does not match "tls2"). Empty pieces from stray spaces are skipped.
  if (token.empty()) return false;
  while (!capabilities.empty()) {
    const std::size_t end = capabilities.find(' ');
    const std::string_view piece = capabilities.substr(0, end);
    if (piece == token) return true;
    if (end == std::string_view::npos) break;
    capabilities.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace grove::auth
