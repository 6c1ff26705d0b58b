// Bounds-checked cursor over received bytes. Every read reports failure instead of
// running past the end, so decoders never touch memory outside the frame they were given.
// Views returned by the reader point into the caller's buffer and live as long as it does.
#pragma once

#include <optional>
#include <string_view>

#include "wire/bytes.hpp"

namespace grove::wire {

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  [[nodiscard]] std::size_t remaining() const { return in_.size() - pos_; }
  [[nodiscard]] bool empty() const { return remaining() == 0; }
  [[nodiscard]] std::size_t position() const { return pos_; }

  [[nodiscard]] bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = in_[pos_++];
    return true;
  }
  [[nodiscard]] bool u16le(std::uint16_t& v) { return le(v); }
  [[nodiscard]] bool u32le(std::uint32_t& v) { return le(v); }
  [[nodiscard]] bool u64le(std::uint64_t& v) { return le(v); }
  [[nodiscard]] bool u16be(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
    pos_ += 2;
    return true;
  }

  // Exactly n bytes, as a view into the input.
  [[nodiscard]] bool bytes(std::size_t n, ByteView& v) {
    if (remaining() < n) return false;
    v = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

  // A string ending in one 0x00 byte; the view excludes the terminator.
  // Returns false when no terminator lies inside the input.
  [[nodiscard]] bool cstring(std::string_view& v) {
    for (std::size_t i = pos_; i < in_.size(); ++i) {
      if (in_[i] == 0) {
        v = as_chars(in_.subspan(pos_, i - pos_));
        pos_ = i + 1;
        return true;
      }
    }
    return false;
  }

  // The rest of the input.
  ByteView rest() {
    ByteView v = in_.subspan(pos_);
    pos_ = in_.size();
    return v;
  }

 private:
  template <typename T>
  bool le(T& v) {
    if (remaining() < sizeof(T)) return false;
    T out = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) out |= static_cast<T>(T(in_[pos_ + i]) << (8 * i));
    v = out;
    pos_ += sizeof(T);
    return true;
  }

  ByteView in_;
  std::size_t pos_ = 0;
};

}  // namespace grove::wire
