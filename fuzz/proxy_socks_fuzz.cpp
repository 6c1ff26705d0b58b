// Fuzzes SocksClient with arbitrary proxy replies in chunks. Byte 0 = version, credentials and
// target kind; byte 1 = chunk seed; the rest is the proxy's bytes. Oracle: no crash, only
// grove.proxy errors, never consumes past the reply, nothing consumed after the end.
#include <cstdint>
#include <cstdlib>

#include "proxy/socks.hpp"
#include "proxy_fuzz_support.hpp"

using namespace grove;
using namespace grove::proxy;
using grove::fuzz::check_error;
using grove::fuzz::Chunker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t opt = data[0];
  Chunker chunks{data[1] * 2654435761u + 1, (opt & 0x40) ? 3u : 300u};
  ByteView wire(data + 2, size - 2);

  SocksOptions o;
  static const char* hosts[] = {"relay.example.com", "192.0.2.10", "2001:db8::1", "r.example"};
  o.version = static_cast<SocksVersion>(opt % 3);
  o.host = hosts[(opt >> 2) & 3];
  if (o.version != SocksVersion::v5 && o.host == hosts[2]) o.host = hosts[1];
  if (o.version == SocksVersion::v4 && o.host != hosts[1]) o.host = hosts[1];
  if (opt & 0x10) o.credentials = Credentials{"user", "pass"};
  SocksClient c(o);

  std::size_t pos = 0;
  while (pos < wire.size()) {
    if (c.pending_output().size() > 1024) std::abort();
    c.consume_output(c.pending_output().size());
    std::size_t n = std::min(chunks.next(), wire.size() - pos);
    std::size_t used = c.receive(wire.subspan(pos, n));
    if (used > n) std::abort();
    if (c.done() || c.failed()) {
      if (c.receive(wire.subspan(pos)) != 0) std::abort();
      break;
    }
    if (used != n) std::abort();
    pos += used;
  }
  // RFC 1928 / §9.2: a handshake is at most 2 + 2 + 262 bytes of replies.
  if (c.done() && pos > 2 + 2 + 262) std::abort();
  c.receive_eof();
  if (c.failed()) check_error(c.error());
  if (c.done() == c.failed() && c.done()) std::abort();
  return 0;
}
