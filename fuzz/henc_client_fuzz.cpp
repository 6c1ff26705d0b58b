// Fuzzes ClientCore as a hostile relay or proxy would answer it: for each mode, arbitrary
// answer bytes fed in chunks to its slots, with 401/407 reconnects honoured, EOFs and time.
// Input: byte 0 = mode and options, byte 1 = chunk seed, then the answers.
// Oracle: no crash or hang; queued output and input stay bounded; a closed core stays closed.
#include <cstdint>
#include <cstdlib>

#include "henc/client_core.hpp"

using namespace grove;
using namespace grove::henc;

namespace {

void fill(std::span<Byte> out) {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<Byte>(i * 37 + 11);
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ClientOptions o;
  o.mode = static_cast<Mode>(data[0] % 3);
  o.server_host = "server.domain.net";
  o.proxied = (data[0] & 4) != 0;
  o.random = fill;
  o.auth.random = fill;
  o.auth.now_filetime = [] { return std::uint64_t{0}; };
  if (data[0] & 8) o.auth.credentials = grove::proxy::Credentials{"DOM\\user", "pass"};
  o.budget = 4096;
  ClientTime now{};
  ClientCore c(o, now);
  std::uint32_t seed = data[1];
  ByteView in(data + 2, size - 2);
  int rounds = 0;
  while (!in.empty() && ++rounds < 100000) {
    seed = seed * 1103515245u + 12345u;
    const std::uint32_t r = seed >> 16;
    const int slot = static_cast<int>(r % static_cast<std::uint32_t>(c.slots()));
    if (c.wants_connect(slot)) c.connected(slot, now);
    if (c.wants_close(slot)) c.closed(slot, now);
    c.consume(slot, c.output(slot).size());
    const std::size_t n = std::min<std::size_t>(in.size(), 1 + (r >> 4) % 300);
    c.receive(slot, in.first(n), now);
    in = in.subspan(n);
    switch ((r >> 12) % 12) {
      case 0:
        c.receive_eof(slot, now);
        break;
      case 1:
        now += std::chrono::milliseconds(100 + (r % 20000));
        c.on_timer(now);
        break;
      case 2:
        c.send(as_bytes("sstp"), now);
        break;
      case 3:
        c.close(now);
        break;
      default:
        break;
    }
    check(c.input().size() <= (1u << 20) + 65536 + 1048576);
    c.consume_input(c.input().size());
    if (c.state() == ClientCore::State::closed) {
      check(!c.wants_connect(0));
    }
  }
  return 0;
}
