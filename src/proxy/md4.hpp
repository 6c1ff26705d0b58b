// MD4 (RFC 1320), needed only for the NTLM NT hash (henc.md §7.4). OpenSSL 3 ships MD4 in its
// "legacy" provider, which Debian does not load by default, so Grove carries its own [DECIDED].
// MD4 is broken as a general hash; use it for nothing else.
#pragma once

#include <array>

#include "wire/bytes.hpp"

namespace grove::proxy {

using Md4Digest = std::array<Byte, 16>;

// The MD4 digest of `data`. Pure; any length.
[[nodiscard]] Md4Digest md4(ByteView data);

}  // namespace grove::proxy
