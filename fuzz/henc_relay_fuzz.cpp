// Fuzzes RelayCore as hostile clients would talk to it: up to four TCP connections, bytes fed
// in chunks to a connection chosen per chunk, EOFs, time passing, and the SSTP side reading,
// writing and closing. Input: byte 0 = chunk seed, then the stream of all connections.
// Oracle: no crash or hang; output per connection and VC queues stay bounded (style.md rule 16);
// only grove.henc errors are recorded.
#include <cstdint>
#include <cstdlib>

#include "henc/relay_core.hpp"

using namespace grove;
using namespace grove::henc;

namespace {

struct Rng {
  std::uint32_t s;
  std::uint32_t next() {
    s = s * 1103515245u + 12345u;
    return s >> 16;
  }
};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Rng rng{data[0]};
  ByteView in(data + 1, size - 1);
  RelayCoreOptions o;
  if (data[0] & 1) o.server_names = {"server.domain.net"};
  RelayCore relay(o);
  TimePoint now{};
  std::vector<RelayCore::ConnId> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(relay.accept(now));
  std::vector<RelayCore::VcId> vcs;
  while (!in.empty()) {
    const std::uint32_t r = rng.next();
    const std::size_t n = std::min<std::size_t>(in.size(), 1 + r % 200);
    const RelayCore::ConnId c = conns[(r >> 8) % conns.size()];
    relay.receive(c, in.first(n), now);
    in = in.subspan(n);
    switch ((r >> 10) % 16) {
      case 0:
        relay.receive_eof(c, now);
        break;
      case 1:
        now += std::chrono::seconds(1 + (r >> 4) % 40);
        relay.on_timer(now);
        break;
      case 2:
        for (auto v : vcs) relay.vc_send(v, as_bytes("sstp-bytes"), now);
        break;
      case 3:
        if (!vcs.empty()) relay.vc_close(vcs.back(), now);
        break;
      default:
        break;
    }
    for (auto v : relay.take_new_vcs()) vcs.push_back(v);
    for (auto v : vcs) {
      ByteView got = relay.vc_input(v);
      check(got.size() <= (1u << 20) + 65536 + 1048576);
      relay.vc_consume(v, got.size(), now);
      const std::error_code e = relay.vc_error(v);
      check(!e || e.category() == henc_category());
    }
    for (auto& id : conns) {
      ByteView out = relay.output(id);
      check(out.size() <= 4 * 65536);
      relay.consume(id, out.size());
      check(!relay.conn_error(id) || relay.conn_error(id).category() == henc_category());
      if (relay.closing(id)) {
        relay.release(id, now);
        id = relay.accept(now);  // a new client takes its place
      }
    }
    std::vector<RelayCore::ConnId> dc;
    std::vector<RelayCore::VcId> dv;
    relay.take_dirty(dc, dv);
  }
  check(relay.connection_count() == conns.size());
  return 0;
}
