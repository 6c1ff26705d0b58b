// Appends encoded fields to a caller-owned byte vector.
#pragma once

#include <string_view>

#include "wire/bytes.hpp"

namespace grove::wire {

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16le(std::uint16_t v) { le(v); }
  void u32le(std::uint32_t v) { le(v); }
  void u64le(std::uint64_t v) { le(v); }
  void u16be(std::uint16_t v) {
    out_.push_back(static_cast<Byte>(v >> 8));
    out_.push_back(static_cast<Byte>(v));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { bytes(as_bytes(s)); }
  void cstring(std::string_view s) {
    raw(s);
    out_.push_back(0);
  }
  // Overwrites a u16le written earlier at offset `at` (used for length fields).
  void patch_u16le(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<Byte>(v);
    out_[at + 1] = static_cast<Byte>(v >> 8);
  }
  [[nodiscard]] std::size_t size() const { return out_.size(); }

 private:
  template <typename T>
  void le(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out_.push_back(static_cast<Byte>(v >> (8 * i)));
  }
  Bytes& out_;
};

}  // namespace grove::wire
