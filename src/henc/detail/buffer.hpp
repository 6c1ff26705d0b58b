// A byte buffer read from the front (`pos` = bytes already taken) and appended to at the back.
// Private to the henc cores.
#pragma once

#include "wire/bytes.hpp"

namespace grove::henc::detail {

// Appends `data` after the unread bytes buf[pos..]. The bytes already read are dropped first
// once they are at least as many as the unread ones: each byte moves at most once more, and the
// buffer stays within twice the unread bytes plus this append, however the reads interleave
// with the appends (it grew for a whole transfer when it was only emptied by a full read).
inline void append_unread(Bytes& buf, std::size_t& pos, ByteView data) {
  if (pos > 0 && pos >= buf.size() - pos) {
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
    pos = 0;
  }
  buf.insert(buf.end(), data.begin(), data.end());
}

}  // namespace grove::henc::detail
