#include "henc/head.hpp"

namespace grove::henc {
namespace {

http::HeadOptions head_options(std::size_t max_bytes) {
  http::HeadOptions o;
  o.max_bytes = max_bytes;  // http::kMaxHeaders stays the line limit
  return o;
}

errc henc_error(http::errc e) {
  switch (e) {
    case http::errc::ok:
      return errc::ok;
    case http::errc::head_too_large:
    case http::errc::too_many_headers:
      return errc::head_too_large;  // §2.7: the head is bounded, by bytes and by lines
    case http::errc::bad_version:
      return errc::bad_version;
    case http::errc::malformed_head:
      break;
  }
  return errc::malformed_head;
}

}  // namespace

Head::Head(Kind kind, std::size_t max_bytes) : http::Head(kind, head_options(max_bytes)) {}

Head::Feed Head::feed(ByteView in) {
  const http::Head::Feed f = http::Head::feed(in);
  Feed out{f.consumed, f.complete, {}};
  if (f.error != http::errc::ok) out.error = henc_error(f.error);
  return out;
}

}  // namespace grove::henc
