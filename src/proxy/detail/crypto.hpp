// OpenSSL wrappers for proxy authentication (style.md rule 17: crypto through OpenSSL, except MD4,
// see md4.hpp). Pure functions over caller memory.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::proxy::detail {

using Md5Digest = std::array<Byte, 16>;

// HMAC-MD5 (RFC 2104) of `data` under `key`, as NTLMv2 uses it (henc.md §7.4).
[[nodiscard]] Md5Digest hmac_md5(ByteView key, ByteView data);

enum class HashKind { md5, sha256, sha512_256 };

// Lower-case hex of the hash of `data` (the H() of RFC 7616 §3.4.1).
[[nodiscard]] std::string hash_hex(HashKind kind, std::string_view data);

}  // namespace grove::proxy::detail
