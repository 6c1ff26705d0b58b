// Fuzzes HttpConnect as a hostile proxy would answer it: arbitrary response bytes, including 401
// and 407 heads with random challenges, fed in chunks; reconnects are honoured.
// Input: byte 0 = options (credentials, memo scheme, small head limit), byte 1 = chunk seed,
// then the proxy's bytes. Oracle: no crash, only grove.proxy errors, consumed <= offered, no
// consumption after the end, bounded output (style.md rule 16).
#include <cstdint>
#include <cstdlib>

#include "proxy/http_connect.hpp"
#include "proxy_fuzz_support.hpp"

using namespace grove;
using namespace grove::proxy;
using grove::fuzz::check_error;
using grove::fuzz::Chunker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t opt = data[0];
  Chunker chunks{data[1] * 2654435761u + 1, (opt & 0x40) ? 7u : 512u};
  ByteView wire(data + 2, size - 2);

  ConnectOptions o;
  o.host = (opt & 0x20) ? "2001:db8::1" : "relay.example.com";
  o.max_drain_bytes = 1024;
  if (opt & 0x80) o.max_head_bytes = 256;
  if (opt & 0x01) {
    o.auth.credentials = Credentials{(opt & 0x02) ? "DOMAIN\\user" : "user", "pass"};
    o.auth.random = [](std::span<Byte> out) {
      for (Byte& b : out) b = 0x5a;
    };
    o.auth.now_filetime = [] { return std::uint64_t{0x01d0000000000000}; };
    o.auth.memo.scheme = static_cast<AuthScheme>((opt >> 2) & 0x3);
    o.auth.memo.digest.nonce = "n";
    o.auth.memo.digest.qop_auth = true;
  }
  HttpConnect c(o);

  std::size_t pos = 0;
  unsigned reconnects = 0;
  while (pos < wire.size()) {
    if (c.pending_output().size() > 64 * 1024) std::abort();
    c.consume_output(c.pending_output().size());
    if (c.needs_new_connection()) {
      if (++reconnects > 16) std::abort();  // each retry costs an attempt; at most 4
      c.reconnected();
      continue;
    }
    std::size_t n = std::min(chunks.next(), wire.size() - pos);
    std::size_t used = c.receive(wire.subspan(pos, n));
    if (used > n) std::abort();
    if ((c.done() || c.failed()) && c.receive(wire.subspan(pos)) != 0) std::abort();
    if (c.done() || c.failed()) break;
    if (used < n && !c.needs_new_connection()) std::abort();  // stops early only at an end
    pos += used;
  }
  c.receive_eof();
  if (c.failed()) check_error(c.error());
  if (c.done() && c.failed()) std::abort();
  if (c.done() && (c.status_code() < 200 || c.status_code() > 299)) std::abort();
  if (c.requests() > 1 + 4) std::abort();  // §7.1: at most 4 authenticated attempts
  return 0;
}
