// A ClientCore wired to a RelayCore in memory: every client slot that wants a connection gets
// one on the relay, and bytes move until neither side has anything more to say. The relay's
// SSTP side is the test: it reads vc_input and calls vc_send.
#pragma once

#include <gtest/gtest.h>

#include <map>

#include "henc/client_core.hpp"
#include "henc/relay_core.hpp"

namespace grove::henc::test {

inline void counting_random(std::span<Byte> out) {
  static std::uint8_t n = 7;
  for (Byte& b : out) b = n = static_cast<std::uint8_t>(n * 13 + 1);
}

inline ClientOptions client_options(Mode m) {
  ClientOptions o;
  o.mode = m;
  o.server_host = "server.domain.net";
  o.random = counting_random;
  o.auth.random = counting_random;
  o.auth.now_filetime = [] { return std::uint64_t{0}; };
  return o;
}

struct Pair {
  Pair(Mode m, RelayCoreOptions ro = {}, std::optional<ClientOptions> co = std::nullopt)
      : relay(std::move(ro)), client(co ? *co : client_options(m), now) {}

  TimePoint now = TimePoint{} + std::chrono::hours(1);
  RelayCore relay;
  ClientCore client;
  std::map<int, RelayCore::ConnId> link;
  std::vector<RelayCore::VcId> vcs;
  Bytes at_relay;  // SSTP bytes the relay side read
  unsigned connections = 0;

  // Moves bytes until quiet.
  void run() {
    for (int round = 0; round < 100000; ++round) {
      bool moved = false;
      for (int s = 0; s < client.slots(); ++s) moved |= step(s);
      for (auto v : relay.take_new_vcs()) {
        vcs.push_back(v);
        moved = true;
      }
      for (auto v : vcs) {
        ByteView in = relay.vc_input(v);
        if (!in.empty()) {
          at_relay.insert(at_relay.end(), in.begin(), in.end());
          relay.vc_consume(v, in.size(), now);
          moved = true;
        }
      }
      std::vector<RelayCore::ConnId> dc;
      std::vector<RelayCore::VcId> dv;
      relay.take_dirty(dc, dv);
      if (!moved) return;
    }
    FAIL() << "no quiet after 100000 rounds";
  }

  bool step(int s) {
    bool moved = false;
    if (client.wants_connect(s)) {
      link[s] = relay.accept(now);
      ++connections;
      client.connected(s, now);
      moved = true;
    }
    auto it = link.find(s);
    if (it == link.end()) return moved;
    const RelayCore::ConnId c = it->second;
    if (ByteView out = client.output(s); !out.empty()) {
      const Bytes copy(out.begin(), out.end());
      client.consume(s, copy.size());
      relay.receive(c, copy, now);
      moved = true;
    }
    if (ByteView out = relay.output(c); !out.empty()) {
      const Bytes copy(out.begin(), out.end());
      relay.consume(c, copy.size());
      client.receive(s, copy, now);
      moved = true;
    }
    if (relay.closing(c) && relay.output(c).empty()) {
      relay.release(c, now);
      client.receive_eof(s, now);
      link.erase(s);
      if (client.wants_close(s)) client.closed(s, now);
      return true;
    }
    if (client.wants_close(s) && client.output(s).empty()) {
      relay.receive_eof(c, now);
      relay.release(c, now);
      client.closed(s, now);
      link.erase(s);
      return true;
    }
    return moved;
  }

  void advance(std::chrono::milliseconds d) {
    now += d;
    relay.on_timer(now);
    client.on_timer(now);
    run();
  }

  // Sends relay→client bytes on the single VC.
  void relay_send(std::string_view s) {
    ASSERT_EQ(vcs.size(), 1u);
    relay.vc_send(vcs[0], as_bytes(s), now);
    run();
  }

  // SSTP bytes at the relay without the Noops Polling inserts (§5.7).
  std::string relay_sstp() const {
    std::string s(as_chars(at_relay));
    const std::string noop("\x10\x07\0\0\0\0\0", 7);
    for (auto pos = s.find(noop); pos != std::string::npos; pos = s.find(noop)) s.erase(pos, 7);
    return s;
  }

  std::string client_input() {
    ByteView in = client.input();
    std::string s(as_chars(in));
    client.consume_input(in.size());
    return s;
  }
};

}  // namespace grove::henc::test
