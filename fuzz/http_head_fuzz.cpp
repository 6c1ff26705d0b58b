// Fuzzes http::Head as a hostile client or server would write a head: the input is parsed at once
// and again in chunks, and both must agree (Beast parsegrind). Input: byte 0 = options (bit 0
// response, bit 1 small limits, bit 2 Content-Length with Transfer-Encoding), byte 1 = chunk
// seed, then the head. Oracle: no crash, only documented grove.http values, consumed <= offered,
// never more than max_bytes, a dead head refuses input until reset() (style.md rule 16).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "http/head.hpp"

using namespace grove;
using namespace grove::http;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_head(const Head& a, const Head& b) {
  return a.method() == b.method() && a.target() == b.target() && a.status() == b.status() &&
         a.reason() == b.reason() && a.minor_version() == b.minor_version() &&
         a.headers() == b.headers() && a.content_length() == b.content_length() &&
         a.has_transfer_encoding() == b.has_transfer_encoding() && a.keep_alive() == b.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t opt = data[0];
  std::uint32_t seed = data[1] * 2654435761u + 1;
  const ByteView in(data + 2, size - 2);
  const Head::Kind kind = (opt & 1) ? Head::Kind::response : Head::Kind::request;
  HeadOptions o;
  if (opt & 2) {
    o.max_bytes = 256;
    o.max_headers = 4;
  }
  o.length_with_transfer_encoding = (opt & 4) != 0;

  Head whole(kind, o);
  const Head::Feed w = whole.feed(in);
  check(w.consumed <= in.size() && whole.size() <= o.max_bytes);
  check(w.error >= errc::ok && w.error <= errc::bad_version);
  check(!w.complete || w.error == errc::ok || w.error == errc::bad_version);
  if (w.complete || w.error != errc::ok) check(whole.feed(in).error == errc::malformed_head);

  Head pieces(kind, o);
  Head::Feed p;
  std::size_t used = 0;
  while (used < in.size()) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(1 + (seed >> 16) % 64, in.size() - used);
    p = pieces.feed(in.subspan(used, n));
    check(p.consumed <= n);
    used += p.consumed;
    if (p.complete || p.error != errc::ok) break;
    check(p.consumed == n);  // stops early only at the end of the head or an error
  }
  check(p.complete == w.complete && p.error == w.error);
  if (w.complete) check(used == w.consumed && same_head(whole, pieces));

  pieces.reset();
  const Head::Feed again = pieces.feed(in);
  check(again.consumed == w.consumed && again.complete == w.complete && again.error == w.error);
  if (w.complete) check(same_head(whole, pieces));
  return 0;
}
