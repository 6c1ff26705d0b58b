// The head of a request or response of the HTTP encapsulations: http::Head (the llhttp head
// parser shared with the CONNECT client) bounded by kMaxHead (§2.7) and http::kMaxHeaders, its
// errors reported as grove.henc values. Receivers accept any header order and case, bare LF line
// ends, repeated and unknown headers (§2.3); the head keeps every header.
#pragma once

#include <cstddef>
#include <system_error>

#include "henc/errc.hpp"
#include "henc/wire.hpp"
#include "http/head.hpp"
#include "wire/bytes.hpp"

namespace grove::henc {

class Head : public http::Head {
 public:
  explicit Head(Kind kind, std::size_t max_bytes = kMaxHead);

  struct Feed {
    std::size_t consumed = 0;  // bytes that belong to the head
    bool complete = false;     // the empty line ending the head was consumed
    std::error_code error;     // malformed_head, head_too_large or bad_version; the head is dead
  };
  // http::Head::feed with its error in grove.henc: more than kMaxHeaders header lines count as
  // head_too_large. Stops at the end of the head or consumes everything.
  [[nodiscard]] Feed feed(ByteView in);
};

}  // namespace grove::henc
