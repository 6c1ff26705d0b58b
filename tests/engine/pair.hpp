// Test harness for the SSTP engine (style.md rule 14): two Connection objects wired back to back
// in memory, like h11's ConnectionPair. No sockets, no sleeps; time is a value the test moves.
//
// Each Side records the events its engine reports. MessageData views are copied into storage
// owned by the Side, so recorded events stay valid after the next receive().
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/connection.hpp"
#include "sstp/codec.hpp"

namespace grove::engine::test {

using namespace std::chrono_literals;
// The protocol enumerations every engine test speaks of.
using sstp::AttachResponseId;
using sstp::CloseReason;
using sstp::ConnectCloseReason;
using sstp::ConnectResponseId;
using sstp::errc;
using sstp::OpenResponseId;
namespace flag = sstp::message_flag;

// An arbitrary but fixed start time; nothing depends on its value.
inline const TimePoint kT0 = TimePoint{} + 1000h;

inline constexpr std::string_view kRelayUrl = "grove://relay.example";
inline constexpr std::string_view kAliceUrl = "grove://relay.example/d/alice-pc";
inline constexpr std::string_view kBobIdentity = "grove://relay.example/i/bob";
inline constexpr std::string_view kBobDevice = "grove://relay.example/d/bob-pc";
inline constexpr std::string_view kCarolIdentity = "grove://relay.example/i/carol";
inline constexpr std::string_view kChat = "grove:chat";

// Hex with any whitespace in between ("01 85 00"); a hexdump's offset and ASCII columns must be
// stripped by the caller.
inline Bytes hex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<Byte>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

// 32 bytes first, first+1, ... (auth.md §9.1 uses such regular values).
inline std::array<Byte, 32> sequence32(Byte first) {
  std::array<Byte, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<Byte>(first + i);
  return a;
}

// auth.md §9.1
inline const auth::Secret kDeviceSecret = sequence32(0x00);
inline const auth::ChannelBinding kExporter = sequence32(0x40);

// A `random` option that always yields first, first+1, ... (the §9.1 nonces: a0.. and c0..).
inline std::function<bool(std::span<Byte>)> fixed_random(Byte first) {
  return [first](std::span<Byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<Byte>(first + i);
    return true;
  };
}

// Alice's client, as in sstp.md §14 and auth.md §9.
inline Options client_options() {
  Options o;
  o.role = Role::initiator;
  o.local_device_url = std::string(kAliceUrl);
  o.target_device_url = std::string(kRelayUrl);
  o.device_secret = kDeviceSecret;
  o.product_version = "Grove Client 1.0 1";
  o.random = fixed_random(0xa0);
  return o;
}

// The relay side with grove-auth-1 on.
inline Options relay_options() {
  Options o;
  o.role = Role::acceptor;
  o.local_device_urls = {std::string(kRelayUrl)};
  o.require_authentication = true;
  o.relay = true;
  o.product_version = "Grove Relay 1.0 1";
  o.random = fixed_random(0xc0);
  return o;
}

// Client-to-client (sstp.md §7.10): no secrets, empty tokens.
inline Options peer_initiator_options() {
  Options o = client_options();
  o.device_secret.reset();
  o.target_device_url = std::string(kBobDevice);
  return o;
}
inline Options peer_acceptor_options() {
  Options o;
  o.role = Role::acceptor;
  o.local_device_urls = {std::string(kBobDevice)};
  o.product_version = "Grove Client 1.0 1";
  o.random = fixed_random(0xc0);
  return o;
}

// One engine plus what it reported.
struct Side {
  Side(Options o, TimePoint now) : conn(std::move(o), now) { drain(); }

  Connection conn;
  std::vector<Event> events;
  std::deque<Bytes> owned;  // copies of MessageData payloads (deque: stable addresses)

  void drain() {
    while (auto e = conn.next_event()) {
      if (auto* d = std::get_if<MessageData>(&*e)) {
        owned.emplace_back(d->data.begin(), d->data.end());
        d->data = owned.back();
      }
      events.push_back(std::move(*e));
    }
  }

  // Feeds `in` in slices of `chunk` bytes (0 = all at once), calling receive() until each slice
  // is consumed and draining events after every call, as the engine's contract requires.
  void feed(ByteView in, TimePoint now, std::size_t chunk = 0) {
    while (!in.empty()) {
      ByteView slice = in.first(chunk == 0 ? in.size() : std::min(chunk, in.size()));
      in = in.subspan(slice.size());
      while (!slice.empty()) {
        const std::size_t n = conn.receive(slice, now);
        drain();
        ASSERT_LE(n, slice.size());
        ASSERT_TRUE(n > 0) << "receive() made no progress";
        slice = slice.subspan(n);
      }
    }
  }

  // Copies and consumes everything queued for the peer.
  Bytes take_output() {
    ByteView v = conn.pending_output();
    Bytes out(v.begin(), v.end());
    conn.consume_output(out.size());
    return out;
  }

  void timer(TimePoint now) {
    conn.on_timer(now);
    drain();
  }

  // The queries drain first, so events caused by direct calls (accept_connection, close...) count.
  template <typename T>
  std::vector<T> all() {
    drain();
    std::vector<T> out;
    for (const auto& e : events)
      if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
    return out;
  }
  template <typename T>
  std::size_t count() {
    return all<T>().size();
  }
  // The only event of type T (fails the test otherwise).
  template <typename T>
  T one() {
    auto v = all<T>();
    EXPECT_EQ(v.size(), 1u) << "expected exactly one event of this type";
    return v.empty() ? T{} : v.front();
  }
  // The last recorded event must be a T.
  template <typename T>
  T last() {
    drain();
    EXPECT_FALSE(events.empty());
    if (events.empty()) return T{};
    const T* p = std::get_if<T>(&events.back());
    EXPECT_NE(p, nullptr) << "last event has variant index " << events.back().index();
    return p ? *p : T{};
  }
};

// Client (initiator) and relay (acceptor) connected back to back.
struct Pair {
  explicit Pair(Options client_opts = client_options(), Options relay_opts = relay_options())
      : client(std::move(client_opts), kT0), relay(std::move(relay_opts), kT0) {}

  TimePoint now = kT0;
  Side client;
  Side relay;

  // Moves client's queued output to the relay; returns the bytes moved.
  Bytes client_to_relay(std::size_t chunk = 0) {
    Bytes b = client.take_output();
    relay.feed(b, now, chunk);
    return b;
  }
  Bytes relay_to_client(std::size_t chunk = 0) {
    Bytes b = relay.take_output();
    client.feed(b, now, chunk);
    return b;
  }
  // Exchanges output both ways until neither side has anything queued.
  void pump() {
    for (int i = 0; i < 64; ++i) {
      if (client.conn.pending_output().empty() && relay.conn.pending_output().empty()) return;
      client_to_relay();
      relay_to_client();
    }
    ADD_FAILURE() << "pump() did not settle";
  }

  // Connect, accept, ConnectResponse: stops before the client's answer reaches the relay.
  void connect_and_accept(const std::optional<auth::Secret>& relay_secret = kDeviceSecret) {
    client_to_relay();
    ASSERT_EQ(relay.count<ConnectRequested>(), 1u);
    ASSERT_FALSE(relay.conn.accept_connection(relay_secret));
    relay_to_client();
  }
  // The full grove-auth-1 handshake of auth.md §5.1 with the §9 values.
  void handshake(const std::optional<auth::Secret>& relay_secret = kDeviceSecret) {
    connect_and_accept(relay_secret);
    client_to_relay();
  }

  void advance(Duration d) {
    now += d;
    client.timer(now);
    relay.timer(now);
  }

  // Relay opens a session to the client (relay sessions are even) and the client answers.
  std::uint32_t relay_opens(Availability a = Availability::ready) {
    std::uint32_t id = 0;
    EXPECT_FALSE(relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
    relay_to_client();
    EXPECT_FALSE(client.conn.respond_open(id, a));
    client_to_relay();
    return id;
  }
  // Client opens a session to the relay and the relay answers.
  std::uint32_t client_opens(Availability a = Availability::ready) {
    std::uint32_t id = 0;
    EXPECT_FALSE(client.conn.open_session(std::string(kChat), std::string(kBobIdentity),
                                          std::string(kBobDevice), id));
    client_to_relay();
    EXPECT_FALSE(relay.conn.respond_open(id, a));
    relay_to_client();
    return id;
  }
};

// A client and relay after the full handshake, with the handshake's events cleared.
struct Connected : Pair {
  explicit Connected(Options c = client_options(), Options r = relay_options())
      : Pair(std::move(c), std::move(r)) {
    handshake();
    client.events.clear();
    relay.events.clear();
  }
};

// Concatenates the payloads of the MessageData events per session.
inline std::map<std::uint32_t, std::string> payloads(Side& s) {
  std::map<std::uint32_t, std::string> out;
  for (const auto& d : s.all<MessageData>()) out[d.session_id] += std::string(as_chars(d.data));
  return out;
}

// The cookies of the Acknowledged events, in order.
inline std::vector<std::uint64_t> acked(Side& s) {
  std::vector<std::uint64_t> out;
  for (const auto& a : s.all<Acknowledged>()) out.push_back(a.cookie);
  return out;
}

// Encodes one command at `minor` (1.6 unless given).
inline Bytes encode(const sstp::Command& cmd, std::uint8_t minor = sstp::kMinor16) {
  Bytes out;
  EXPECT_FALSE(sstp::encode(cmd, minor, out));
  return out;
}

// Decodes a byte stream the engine produced into its commands (fails the test on bad bytes).
inline std::vector<sstp::Command> commands(ByteView bytes, std::uint8_t minor = sstp::kMinor16) {
  std::vector<sstp::Command> out;
  while (!bytes.empty()) {
    if (bytes.size() < 3) {
      ADD_FAILURE() << "truncated output";
      break;
    }
    const std::size_t len = bytes[1] | std::size_t{bytes[2]} << 8;
    if (len < 3 || len > bytes.size()) {
      ADD_FAILURE() << "bad length in output";
      break;
    }
    sstp::Command c;
    EXPECT_FALSE(sstp::decode(bytes.first(len), minor, c));
    out.push_back(c);
    bytes = bytes.subspan(len);
  }
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The ConnectClose the engine must have queued as its last output (sstp.md §5.4).
inline Bytes connect_close(sstp::ConnectCloseReason r, std::uint32_t message_count = 0,
                           std::uint16_t return_time = 0) {
  return encode(sstp::ConnectClose{r, return_time, message_count});
}

// sstp.md §12 / style.md rule 4: a peer's error becomes a ConnectClose with the spec's ReasonId as
// the last queued command, one ConnectionClosed event naming the precise cause, finished() once
// the output drained, and no reaction to later input.
inline void expect_closed_with(Side& s, sstp::ConnectCloseReason reason, sstp::errc why,
                               std::uint32_t message_count = 0) {
  SCOPED_TRACE(::testing::Message() << "expect ConnectClose reason " << static_cast<int>(reason)
                                    << ", errc " << static_cast<int>(why));
  EXPECT_EQ(s.conn.state(), Connection::State::aborting);
  const Bytes cc = connect_close(reason, message_count);
  ByteView out = s.conn.pending_output();
  ASSERT_GE(out.size(), cc.size());
  EXPECT_EQ(Bytes(out.end() - static_cast<std::ptrdiff_t>(cc.size()), out.end()), cc);
  const auto closed = s.all<ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_FALSE(closed[0].by_peer);
  EXPECT_EQ(closed[0].reason, reason);
  EXPECT_EQ(closed[0].error, make_error_code(why)) << closed[0].error.message();
  EXPECT_FALSE(s.conn.finished()) << "finished() before the ConnectClose was written";
  s.drain();
  const std::size_t events_before = s.events.size();
  (void)s.take_output();
  EXPECT_TRUE(s.conn.finished());
  // §7.2 C12: nothing more is parsed; input is consumed and ignored.
  const Bytes more = encode(sstp::Noop{0});
  EXPECT_EQ(s.conn.receive(more, kT0), more.size());
  s.drain();
  EXPECT_EQ(s.events.size(), events_before);
  EXPECT_TRUE(s.conn.pending_output().empty());
}

}  // namespace grove::engine::test
