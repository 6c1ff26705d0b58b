// Byte types shared by every layer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace grove {

using Byte = std::uint8_t;
using Bytes = std::vector<Byte>;
using ByteView = std::span<const Byte>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const Byte*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace grove
