// Message sequences and acknowledgements: sstp.md §9 and the §14.6-14.11, §14.13, §14.14 bytes.
#include <map>
#include <sstream>

#include "engine/pair.hpp"

namespace grove::engine::test {
namespace {

using sstp::ConnectCloseReason;
using sstp::errc;
namespace flag = sstp::message_flag;

// sstp.md §14.10 (= §14.6 + §14.7 + §14.8 + §14.9)
const Bytes kHelloWorld = hex(R"(
  0d 0d 00 01 00 00 00 00 00 00 00 00 00 0e 0c 00
  01 00 00 00 68 65 6c 6c 6f 0e 0d 00 01 00 00 00
  20 77 6f 72 6c 64 0f 07 00 01 00 00 00)");
// sstp.md §14.14
const Bytes kMessageAES = hex(R"(
  0d 31 00 03 00 00 00 02 00 00 00 16 6d 2d 31 37
  00 00 0e 0e 6b 00 00 00 00 0b 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00)");
// sstp.md §14.11
const Bytes kNoop3 = hex("10 07 00 03 00 00 00");
// sstp.md §14.13
const Bytes kConnectCloseResting60 = hex("04 0b 00 01 00 3c 00 00 00 00 00");

struct Connected : Pair {
  Connected(Options c = client_options(), Options r = relay_options()) : Pair(c, r) {
    handshake();
    client.events.clear();
    relay.events.clear();
  }
};

ByteView text(std::string_view s) { return as_bytes(s); }

std::string str(ByteView b) { return std::string(as_chars(b)); }

// One line per event, with every field that matters, so two runs can be compared.
std::string describe(const Event& e) {
  std::ostringstream o;
  std::visit(
      [&o](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ConnectRequested>) {
          o << "ConnectRequested " << v.source_device_url << " " << int(v.minor_version);
        } else if constexpr (std::is_same_v<T, Established>) {
          o << "Established " << int(v.minor_version) << " " << v.authenticated;
        } else if constexpr (std::is_same_v<T, Authenticated>) {
          o << "Authenticated " << v.device_url;
        } else if constexpr (std::is_same_v<T, SessionRequested>) {
          o << "SessionRequested " << v.session_id << " " << v.resource_url;
        } else if constexpr (std::is_same_v<T, SessionReady>) {
          o << "SessionReady " << v.session_id;
        } else if constexpr (std::is_same_v<T, SessionPaused>) {
          o << "SessionPaused " << v.session_id;
        } else if constexpr (std::is_same_v<T, SessionRefused>) {
          o << "SessionRefused " << v.session_id;
        } else if constexpr (std::is_same_v<T, SessionClosed>) {
          o << "SessionClosed " << v.session_id << " " << int(v.reason_id);
        } else if constexpr (std::is_same_v<T, FanoutStatus>) {
          o << "FanoutStatus " << v.session_id;
        } else if constexpr (std::is_same_v<T, MessageStarted>) {
          o << "MessageStarted " << v.session_id << " " << int(v.header.flags) << " "
            << v.header.user_ref;
        } else if constexpr (std::is_same_v<T, MessageData>) {
          o << "MessageData " << v.session_id << " " << v.data.size();
        } else if constexpr (std::is_same_v<T, MessageEnded>) {
          o << "MessageEnded " << v.session_id << " " << v.seq << " " << v.total_bytes;
        } else if constexpr (std::is_same_v<T, MessageAborted>) {
          o << "MessageAborted " << v.session_id;
        } else if constexpr (std::is_same_v<T, Acknowledged>) {
          o << "Acknowledged " << v.cookie;
        } else if constexpr (std::is_same_v<T, ConnectionClosed>) {
          o << "ConnectionClosed " << int(v.reason) << " " << v.error.message();
        }
      },
      e);
  return o.str();
}

// Concatenates the payloads of consecutive MessageData events per session.
std::map<std::uint32_t, std::string> payloads(Side& s) {
  std::map<std::uint32_t, std::string> out;
  for (const auto& d : s.all<MessageData>()) out[d.session_id] += str(d.data);
  return out;
}

TEST(Message, HelloWorldBytesMatchSstp14) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_EQ(id, 1u);
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  ASSERT_FALSE(p.client.conn.send_data(id, text("hello")));
  ASSERT_FALSE(p.client.conn.send_data(id, text(" world")));
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 0u);
  ASSERT_FALSE(p.client.conn.end_message(id, 42));
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 1u);  // §9.1 step 5
  EXPECT_EQ(p.client_to_relay(), kHelloWorld);
  const auto started = p.relay.one<MessageStarted>();
  EXPECT_EQ(started.session_id, id);
  EXPECT_EQ(started.header.flags, 0);
  EXPECT_EQ(started.header.user_ref, "");
  const auto data = p.relay.all<MessageData>();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(str(data[0].data), "hello");
  EXPECT_EQ(str(data[1].data), " world");
  const auto ended = p.relay.one<MessageEnded>();
  EXPECT_EQ(ended.session_id, id);
  EXPECT_EQ(ended.seq, 0u);
  EXPECT_EQ(ended.total_bytes, 11u);
}

TEST(Message, HelloWorldByteByByte) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.send_message(id, {}, text("hello world"), 1));
  p.client_to_relay(1);
  EXPECT_EQ(payloads(p.relay)[id], "hello world");
  EXPECT_EQ(p.relay.one<MessageEnded>().total_bytes, 11u);
}

TEST(Message, MessageWithAEAndSMatchesSstp1414) {
  // Session 3, MessageCount 2: the client has processed two of the relay's messages first.
  Connected p;
  ASSERT_EQ(p.client_opens(), 1u);
  ASSERT_EQ(p.client_opens(), 3u);
  const std::uint32_t down = p.relay_opens();
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, text("a"), 1));
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, text("b"), 2));
  p.relay_to_client();
  for (const auto& e : p.client.all<MessageEnded>()) p.client.conn.message_processed(e.seq);
  MessageOptions mo;
  mo.flags = flag::AcknowledgeImmediately;
  mo.user_ref = "m-17";
  mo.expiration_time = 1796083200;
  mo.total_size = 11;
  ASSERT_FALSE(p.client.conn.begin_message(3, mo));
  EXPECT_EQ(p.client.take_output(), kMessageAES);
  ASSERT_FALSE(p.client.conn.send_data(3, text("hello world")));
  ASSERT_FALSE(p.client.conn.end_message(3, 9));
  p.relay.feed(kMessageAES, p.now);
  p.client_to_relay();
  std::vector<std::uint64_t> acked;
  for (const auto& a : p.relay.all<Acknowledged>()) acked.push_back(a.cookie);
  EXPECT_EQ(acked, std::vector<std::uint64_t>({1, 2}));
  const auto started = p.relay.one<MessageStarted>();
  EXPECT_EQ(started.header.flags, 0x16);
  EXPECT_EQ(started.header.user_ref, "m-17");
  EXPECT_EQ(started.header.expiration_time, 1796083200u);
  EXPECT_EQ(started.header.stream_size.total_size, 11u);
  EXPECT_EQ(p.relay.one<MessageEnded>().total_bytes, 11u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Message, SplitsAt2048Bytes) {
  // §9.1 step 4: 5000 bytes → 2048 + 2048 + 904.
  Connected p;
  const std::uint32_t id = p.client_opens();
  Bytes big(5000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<Byte>(i * 7);
  ASSERT_FALSE(p.client.conn.send_message(id, {}, big, 1));
  const Bytes out = p.client.take_output();
  const auto cmds = commands(out);
  ASSERT_EQ(cmds.size(), 5u);
  std::vector<std::size_t> sizes;
  Bytes joined;
  for (const auto& c : cmds)
    if (auto* d = std::get_if<sstp::Data>(&c)) {
      sizes.push_back(d->application_data.size());
      joined.insert(joined.end(), d->application_data.begin(), d->application_data.end());
    }
  EXPECT_EQ(sizes, std::vector<std::size_t>({2048, 2048, 904}));
  EXPECT_EQ(joined, big);
  EXPECT_EQ(out[13], 0x0e);
  EXPECT_EQ(out[14] | out[15] << 8, 2055);  // full Data command at the Max of §3.4
  p.relay.feed(out, p.now);
  EXPECT_EQ(p.relay.one<MessageEnded>().total_bytes, 5000u);
}

TEST(Message, SendDataInPiecesStillFillsDataCommandsPerCall) {
  // Each send_data call is split independently; every Data stays ≤ 2048 bytes.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  Bytes piece(3000, 0x55);
  ASSERT_FALSE(p.client.conn.send_data(id, piece));
  ASSERT_FALSE(p.client.conn.send_data(id, piece));
  ASSERT_FALSE(p.client.conn.end_message(id, 1));
  for (const auto& c : commands(p.client.conn.pending_output()))
    if (auto* d = std::get_if<sstp::Data>(&c)) {
      EXPECT_LE(d->application_data.size(), 2048u);
    }
  p.client_to_relay();
  EXPECT_EQ(p.relay.one<MessageEnded>().total_bytes, 6000u);
}

TEST(Message, EmptyMessageIsOneZeroLengthData) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.send_message(id, {}, {}, 1));
  const Bytes expect = concat({hex("0d 0d 00 01 00 00 00 00 00 00 00 00 00"),
                               hex("0e 07 00 01 00 00 00"), hex("0f 07 00 01 00 00 00")});
  EXPECT_EQ(p.client_to_relay(), expect);
  EXPECT_EQ(p.relay.one<MessageEnded>().total_bytes, 0u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  // begin + end without send_data gives the same bytes.
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  ASSERT_FALSE(p.client.conn.end_message(id, 2));
  EXPECT_EQ(p.client.take_output(), expect);
}

TEST(Message, InterleavedSessions) {
  // §9.1 step 6: sequences on different sessions may interleave; ack order is EndMessage order.
  Connected p;
  const std::uint32_t a = p.client_opens();
  const std::uint32_t b = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(a, {}));
  ASSERT_FALSE(p.client.conn.begin_message(b, {}));
  ASSERT_FALSE(p.client.conn.send_data(a, text("A1")));
  ASSERT_FALSE(p.client.conn.send_data(b, text("B1")));
  ASSERT_FALSE(p.client.conn.send_data(a, text("A2")));
  ASSERT_FALSE(p.client.conn.end_message(b, 20));
  ASSERT_FALSE(p.client.conn.send_data(a, text("A3")));
  ASSERT_FALSE(p.client.conn.end_message(a, 10));
  p.client_to_relay();
  auto pl = payloads(p.relay);
  EXPECT_EQ(pl[a], "A1A2A3");
  EXPECT_EQ(pl[b], "B1");
  const auto ends = p.relay.all<MessageEnded>();
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[0].session_id, b);
  EXPECT_EQ(ends[0].seq, 0u);
  EXPECT_EQ(ends[1].session_id, a);
  EXPECT_EQ(ends[1].seq, 1u);
  // Acknowledging the first entry only acknowledges cookie 20 (the first EndMessage).
  p.relay.conn.message_processed(ends[0].seq);
  p.advance(5s);
  p.relay_to_client();
  EXPECT_EQ(p.client.one<Acknowledged>().cookie, 20u);
}

// ---- one-byte chunking gives the same events as whole delivery ----

struct Recorded {
  std::vector<std::string> events;
  Bytes output;
};

// Feeds recorded client flights to a fresh relay that answers every event, each flight in
// `chunk`-byte slices (0 = whole). A flight is what the client sent before it had to wait for
// the relay (an initiator never sends past its Connect before the ConnectResponse).
Recorded replay_at_relay(const std::vector<Bytes>& flights, std::size_t chunk) {
  Side relay(relay_options(), kT0);
  Recorded r;
  std::size_t seen = 0;
  auto answer = [&] {
    for (; seen < relay.events.size(); ++seen) {
      const Event& e = relay.events[seen];
      r.events.push_back(describe(e));
      if (std::holds_alternative<ConnectRequested>(e)) {
        EXPECT_FALSE(relay.conn.accept_connection(kDeviceSecret));
      } else if (auto* s = std::get_if<SessionRequested>(&e)) {
        EXPECT_FALSE(relay.conn.respond_open(s->session_id, Availability::ready));
      } else if (auto* m = std::get_if<MessageEnded>(&e)) {
        relay.conn.message_processed(m->seq);
      } else if (auto* d = std::get_if<MessageData>(&e)) {
        r.events.back() += " " + str(d->data);
      }
      relay.drain();
    }
  };
  for (const Bytes& flight : flights) {
    ByteView stream = flight;
    while (!stream.empty()) {
      const std::size_t n = chunk == 0 ? stream.size() : std::min(chunk, stream.size());
      ByteView slice = stream.first(n);
      stream = stream.subspan(n);
      while (!slice.empty()) {
        const std::size_t used = relay.conn.receive(slice, kT0);
        relay.drain();
        answer();
        slice = slice.subspan(used);
      }
    }
  }
  ByteView out = relay.conn.pending_output();
  r.output.assign(out.begin(), out.end());
  return r;
}

TEST(Message, OneByteChunkingGivesTheSameEventsAsWholeDelivery) {
  // Record a whole client conversation: handshake, two sessions, interleaved messages (one of
  // them split in three Data), a message with S, a Close.
  Pair q;
  std::vector<Bytes> conv;
  conv.push_back(q.client.take_output());  // Connect
  q.relay.feed(conv.back(), q.now);
  ASSERT_FALSE(q.relay.conn.accept_connection(kDeviceSecret));
  q.relay_to_client();
  std::uint32_t a = 0, b = 0;
  ASSERT_FALSE(q.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", a));
  ASSERT_FALSE(q.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", b));
  conv.push_back(q.client_to_relay());  // ConnectAuthenticate + two Opens
  ASSERT_FALSE(q.relay.conn.respond_open(a, Availability::ready));
  ASSERT_FALSE(q.relay.conn.respond_open(b, Availability::ready));
  q.relay_to_client();
  const Bytes big(4100, 0x61);
  ASSERT_FALSE(q.client.conn.begin_message(a, {}));
  ASSERT_FALSE(q.client.conn.send_message(b, {}, text("short"), 2));
  ASSERT_FALSE(q.client.conn.send_data(a, big));
  ASSERT_FALSE(q.client.conn.end_message(a, 1));
  MessageOptions mo;
  mo.user_ref = "ref";
  mo.total_size = 3;
  ASSERT_FALSE(q.client.conn.send_message(b, mo, text("xyz"), 3));
  ASSERT_FALSE(q.client.conn.close_session(a));
  conv.push_back(q.client_to_relay());
  ASSERT_EQ(q.relay.count<ConnectionClosed>(), 0u);

  const Recorded whole = replay_at_relay(conv, 0);
  ASSERT_EQ(whole.events.size(), 17u);
  for (std::size_t chunk : {1u, 2u, 7u, 100u}) {
    SCOPED_TRACE(chunk);
    const Recorded split = replay_at_relay(conv, chunk);
    EXPECT_EQ(split.events, whole.events);
    EXPECT_EQ(split.output, whole.output);
  }
}

// ---- MessageCount (§9.3, §9.4) ----

// The relay sends `n` messages to the client on one session; returns their seqs at the client.
std::vector<std::uint64_t> relay_sends(Connected& p, std::uint32_t session, int n,
                                       std::uint8_t flags = 0, std::uint64_t first_cookie = 1) {
  for (int i = 0; i < n; ++i) {
    MessageOptions mo;
    mo.flags = flags;
    EXPECT_FALSE(p.relay.conn.send_message(session, mo, text("m"), first_cookie + i));
  }
  const std::size_t before = p.client.count<MessageEnded>();
  p.relay_to_client();
  std::vector<std::uint64_t> seqs;
  auto ends = p.client.all<MessageEnded>();
  for (std::size_t i = before; i < ends.size(); ++i) seqs.push_back(ends[i].seq);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(n));
  return seqs;
}

std::vector<std::uint64_t> acked(Side& s) {
  std::vector<std::uint64_t> out;
  for (const auto& a : s.all<Acknowledged>()) out.push_back(a.cookie);
  return out;
}

TEST(Ack, ProcessingEntryHoldsBackNewerOnes) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const auto seqs = relay_sends(p, down, 3);
  EXPECT_EQ(seqs, std::vector<std::uint64_t>({0, 1, 2}));
  p.client.conn.message_processed(seqs[1]);
  p.client.conn.message_processed(seqs[2]);
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 45s) << "no ack timer while #0 processes";
  p.advance(5s);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  p.client.conn.message_processed(seqs[0]);
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 5s);
  p.advance(5s);
  EXPECT_EQ(p.client.take_output(), kNoop3);  // §14.11
  // Delta, not a total: one more message gives MessageCount 1.
  const auto more = relay_sends(p, down, 1, 0, 10);
  p.client.conn.message_processed(more[0]);
  p.advance(5s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 01 00 00 00"));
}

TEST(Ack, TimerFiresAtFiveSecondsNotBefore) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const auto seqs = relay_sends(p, down, 2);
  p.advance(1s);
  p.client.conn.message_processed(seqs[0]);
  const TimePoint started = p.now;
  EXPECT_EQ(p.client.conn.next_deadline(), started + 5s);
  p.advance(2s);
  p.client.conn.message_processed(seqs[1]);  // timer already runs: not restarted
  EXPECT_EQ(p.client.conn.next_deadline(), started + 5s);
  p.now = started + 5s - 1ms;
  p.client.timer(p.now);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  p.now = started + 5s;
  p.client.timer(p.now);
  const Bytes noop = p.client.take_output();
  EXPECT_EQ(noop, hex("10 07 00 02 00 00 00"));
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 45s) << "ack timer stopped, keep-alive reset";
  p.relay.feed(noop, p.now);
  EXPECT_EQ(acked(p.relay), std::vector<std::uint64_t>({1, 2}));
  EXPECT_EQ(p.relay.conn.unacknowledged_count(), 0u);
}

TEST(Ack, AcknowledgeImmediatelySendsNoopAtOnce) {
  // §9.4 step 3.
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const auto seqs = relay_sends(p, down, 1, flag::AcknowledgeImmediately);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "not before it is processed";
  p.client.conn.message_processed(seqs[0]);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 01 00 00 00"));
  EXPECT_NE(p.client.conn.next_deadline(), p.now + 5s);
}

TEST(Ack, AcknowledgeImmediatelyWaitsForOlderEntries) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const auto plain = relay_sends(p, down, 1);
  const auto urgent = relay_sends(p, down, 1, flag::AcknowledgeImmediately, 2);
  p.client.conn.message_processed(urgent[0]);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "held back by the older entry";
  p.client.conn.message_processed(plain[0]);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 02 00 00 00"));
}

TEST(Ack, MessageCarriesTheCountAndStopsTheTimer) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const std::uint32_t up = p.client_opens();
  const auto seqs = relay_sends(p, down, 2);
  for (auto s : seqs) p.client.conn.message_processed(s);
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 5s);
  ASSERT_FALSE(p.client.conn.begin_message(up, {}));
  const Bytes msg = p.client.take_output();
  EXPECT_EQ(msg, hex("0d 0d 00 01 00 00 00 02 00 00 00 00 00"));
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 45s);
  p.advance(5s);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "count already sent";
  p.relay.feed(msg, p.now);
  EXPECT_EQ(acked(p.relay), std::vector<std::uint64_t>({1, 2}));
}

TEST(Ack, ConnectCloseCarriesTheCount) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  for (auto s : relay_sends(p, down, 3)) p.client.conn.message_processed(s);
  p.client.conn.close();
  EXPECT_EQ(p.client.take_output(), hex("04 0b 00 00 00 00 00 03 00 00 00"));
  p.relay.feed(hex("04 0b 00 00 00 00 00 03 00 00 00"), p.now);
  EXPECT_EQ(acked(p.relay), std::vector<std::uint64_t>({1, 2, 3}));
  EXPECT_TRUE(p.relay.last<ConnectionClosed>().unacknowledged.empty());
}

TEST(Ack, ExcessMessageCountIsProtocolError) {
  // §9.3: N greater than OutboundMessageList, in Noop and in Message.
  {
    Connected p;
    const std::uint32_t up = p.client_opens();
    ASSERT_FALSE(p.client.conn.send_message(up, {}, text("x"), 1));
    (void)p.client.take_output();
    p.client.feed(encode(sstp::Noop{2}), p.now);
    EXPECT_EQ(p.client.count<Acknowledged>(), 0u);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_message_count);
    EXPECT_EQ(p.client.last<ConnectionClosed>().unacknowledged, std::vector<std::uint64_t>({1}));
  }
  {
    Connected p;
    const std::uint32_t down = p.relay_opens();
    p.client.feed(encode(sstp::Message{down, 1, 0, "", 0, {}, {}}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_message_count);
  }
}

TEST(Ack, UnacknowledgedReturnedOnEndOfStream) {
  // C13 / §9.5.
  Connected p;
  const std::uint32_t up = p.client_opens();
  for (std::uint64_t c = 1; c <= 3; ++c)
    ASSERT_FALSE(p.client.conn.send_message(up, {}, text("x"), c));
  p.client_to_relay();
  p.relay.conn.message_processed(0);
  p.advance(5s);
  p.relay_to_client();
  EXPECT_EQ(acked(p.client), std::vector<std::uint64_t>({1}));
  p.client.conn.receive_eof();
  const auto closed = p.client.last<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.error, errc::connection_closed);
  EXPECT_EQ(closed.unacknowledged, std::vector<std::uint64_t>({2, 3}));
  EXPECT_TRUE(p.client.conn.finished());
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 0u);
}

TEST(Ack, UnacknowledgedReturnedAfterConnectCloseCount) {
  // §7.7 receiving step 1, then §9.5.
  Connected p;
  const std::uint32_t up = p.client_opens();
  for (std::uint64_t c = 1; c <= 4; ++c)
    ASSERT_FALSE(p.client.conn.send_message(up, {}, text("x"), c));
  p.client_to_relay();
  p.client.feed(connect_close(ConnectCloseReason::Resting, 2, 60), p.now);
  EXPECT_EQ(acked(p.client), std::vector<std::uint64_t>({1, 2}));
  const auto closed = p.client.last<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.reason, ConnectCloseReason::Resting);
  EXPECT_EQ(closed.return_time, 60);
  EXPECT_EQ(closed.unacknowledged, std::vector<std::uint64_t>({3, 4}));
  EXPECT_TRUE(p.client.conn.finished());
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "nothing is sent in reply";
}

TEST(Ack, ConnectCloseRestingBytes) {
  // §14.13
  Connected p;
  p.relay.conn.close(ConnectCloseReason::Resting, 60);
  EXPECT_EQ(p.relay.last<ConnectionClosed>().return_time, 60);
  EXPECT_EQ(p.relay_to_client(), kConnectCloseResting60);
  EXPECT_EQ(p.client.last<ConnectionClosed>().return_time, 60);
  EXPECT_TRUE(p.relay.conn.finished());
  // ReturnTime is 0 for every other reason (§7.7).
  Connected q;
  q.relay.conn.close(ConnectCloseReason::NoReason, 60);
  EXPECT_EQ(q.relay.take_output(), hex("04 0b 00 00 00 00 00 00 00 00 00"));
}

TEST(Ack, UnknownConnectCloseReasonReadsAsNoReason) {
  Connected p;
  p.client.feed(hex("04 0b 00 77 00 05 00 00 00 00 00"), p.now);
  const auto closed = p.client.last<ConnectionClosed>();
  EXPECT_EQ(closed.reason, ConnectCloseReason::NoReason);
  EXPECT_EQ(closed.return_time, 0);
}

// ---- §9.6 field checks ----

TEST(Receive, TotalSizeMatchIsAccepted) {
  Connected p;
  const std::uint32_t up = p.client_opens();
  MessageOptions mo;
  mo.total_size = 5;
  ASSERT_FALSE(p.client.conn.send_message(up, mo, text("hello"), 1));
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageEnded>(), 1u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Receive, TotalSizeMismatchIsProtocolError) {
  for (std::uint64_t announced : {4u, 6u, 0u}) {
    SCOPED_TRACE(announced);
    Connected p;
    const std::uint32_t up = p.client_opens();
    MessageOptions mo;
    mo.total_size = announced;
    ASSERT_FALSE(p.client.conn.send_message(up, mo, text("hello"), 1));
    p.client_to_relay();
    EXPECT_EQ(p.relay.count<MessageEnded>(), 0u);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::total_size_mismatch);
  }
}

TEST(Receive, FragmentationChecks) {
  struct F {
    std::uint32_t index, count;
    bool ok;
  };
  for (const F f : {F{0, 0, false}, F{0, 1, true}, F{1, 1, false}, F{2, 3, true}, F{5, 3, false}}) {
    SCOPED_TRACE(::testing::Message() << f.index << "/" << f.count);
    Connected p;
    const std::uint32_t up = p.client_opens();
    MessageOptions mo;
    mo.fragmentation = sstp::FragmentationFields{{}, f.index, f.count};
    ASSERT_FALSE(p.client.conn.send_message(up, mo, text("frag"), 1));
    p.client_to_relay();
    if (f.ok) {
      EXPECT_EQ(p.relay.one<MessageStarted>().header.fragmentation.fragment_count, f.count);
      EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
    } else {
      EXPECT_EQ(p.relay.count<MessageStarted>(), 0u);
      expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::bad_fragmentation);
    }
  }
}

// ---- MessageReceiver state errors (§9.2), fed to a client that receives on session 2 ----

struct Receiving : Connected {
  Receiving() { down = relay_opens(); }
  std::uint32_t down = 0;
  void feed(std::initializer_list<sstp::Command> cmds) {
    for (const auto& c : cmds) client.feed(encode(c), now);
  }
};

sstp::Message msg(std::uint32_t id) { return sstp::Message{id, 0, 0, "", 0, {}, {}}; }

TEST(Receive, MessageWhileReadyOrBufferingIsProtocolError) {
  {
    Receiving r;
    r.feed({msg(r.down), msg(r.down)});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
  {
    Receiving r;
    r.feed({msg(r.down), sstp::Data{r.down, text("x")}, msg(r.down)});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
}

TEST(Receive, DataWhileWaitingIsProtocolError) {
  Receiving r;
  r.feed({sstp::Data{r.down, text("x")}});
  expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
}

TEST(Receive, EndMessageWhileWaitingOrReadyIsProtocolError) {
  {
    Receiving r;
    r.feed({sstp::EndMessage{r.down}});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
  {
    Receiving r;
    r.feed({msg(r.down), sstp::EndMessage{r.down}});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
}

TEST(Receive, MessageBeforeOpenResponseIsProtocolError) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.relay_to_client();
  p.client.feed(encode(msg(id)), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::message_state);
}

TEST(Receive, MessageAndDataOnOwnSessionAreProtocolError) {
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    const std::uint32_t up = p.client_opens();
    const sstp::Command c = kind == 0   ? sstp::Command(msg(up))
                            : kind == 1 ? sstp::Command(sstp::Data{up, text("x")})
                                        : sstp::Command(sstp::EndMessage{up});
    p.client.feed(encode(c), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::message_on_own_session);
  }
}

TEST(Receive, MessageAndDataOnUnknownIdAreTooManyUnknownSessionCmds) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    const sstp::Command c =
        kind == 0 ? sstp::Command(msg(40)) : sstp::Command(sstp::Data{40, text("x")});
    p.client.feed(encode(c), p.now);
    expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::unknown_session);
  }
}

TEST(Receive, SixteenthUnknownSessionCommandCloses) {
  // §12.2: 15 are tolerated; the 16th closes; any mix of counted commands.
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    for (int i = 0; i < 15; ++i) {
      const std::uint32_t id = 100 + 2 * static_cast<std::uint32_t>(i);
      const sstp::Command c =
          kind == 0    ? sstp::Command(sstp::EndMessage{id})
          : kind == 1  ? sstp::Command(sstp::OpenResponse{id + 1, 0})
          : i % 3 == 0 ? sstp::Command(sstp::EndMessage{id})
          : i % 3 == 1 ? sstp::Command(sstp::SessionStatus{id + 1, 5, "", "grove://x/i/y", {}})
                       : sstp::Command(sstp::RegisterResponse{id + 1, 0, {}});
      p.client.feed(encode(c), p.now);
    }
    EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u) << "15 are tolerated";
    EXPECT_TRUE(p.client.conn.pending_output().empty());
    // Unrelated valid traffic does not reset the count.
    p.client.feed(encode(sstp::Noop{0}), p.now);
    p.client.feed(encode(sstp::EndMessage{999}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::too_many_unknown_session_commands);
  }
}

TEST(Receive, MessageDataViewsAreValidUntilNextReceive) {
  // The zero-copy view of a Data in one receive() call points into the caller's buffer.
  Receiving r;
  const Bytes stream = concat({encode(msg(r.down)), encode(sstp::Data{r.down, text("abc")}),
                               encode(sstp::EndMessage{r.down})});
  ASSERT_EQ(r.client.conn.receive(stream, r.now), stream.size());
  bool seen = false;
  while (auto e = r.client.conn.next_event()) {
    if (auto* d = std::get_if<MessageData>(&*e)) {
      seen = true;
      EXPECT_GE(d->data.data(), stream.data());
      EXPECT_LE(d->data.data() + d->data.size(), stream.data() + stream.size());
      EXPECT_EQ(str(d->data), "abc");
    }
  }
  EXPECT_TRUE(seen);
}

TEST(Receive, FrameAssembledInBufferStopsTheReceiveCall) {
  // A Data split across receive() calls is handed out of the reader's buffer; receive() must
  // stop after it so that the view survives until the caller drained events.
  Receiving r;
  const Bytes data1 = encode(sstp::Data{r.down, text("first")});
  const Bytes data2 = encode(sstp::Data{r.down, text("second")});
  const Bytes all = concat({encode(msg(r.down)), data1, data2, encode(sstp::EndMessage{r.down})});
  const std::size_t cut = encode(msg(r.down)).size() + 3;  // inside data1
  ASSERT_EQ(r.client.conn.receive(ByteView(all).first(cut), r.now), cut);
  r.client.drain();
  ByteView rest = ByteView(all).subspan(cut);
  const std::size_t used = r.client.conn.receive(rest, r.now);
  EXPECT_EQ(used, data1.size() - 3) << "stops after the buffered frame";
  std::string got;
  while (auto e = r.client.conn.next_event())
    if (auto* d = std::get_if<MessageData>(&*e)) got += str(d->data);
  EXPECT_EQ(got, "first");
  r.client.feed(rest.subspan(used), r.now);
  EXPECT_EQ(payloads(r.client)[r.down], "second");
  EXPECT_EQ(r.client.count<MessageEnded>(), 1u);
}

}  // namespace
}  // namespace grove::engine::test

namespace grove::engine::test {
namespace {

TEST(Message, UnsendableHeaderLosesNoAcknowledgement) {
  // begin_message() encodes first: a UserRef past the 2055-byte Max fails without taking the
  // MessageCount, which the next Message then carries.
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const std::uint32_t up = p.client_opens();
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, {}, 1));
  p.relay_to_client();
  p.client.conn.message_processed(p.client.one<MessageEnded>().seq);
  MessageOptions big;
  big.user_ref = std::string(2100, 'u');
  EXPECT_EQ(p.client.conn.begin_message(up, big), errc::command_too_long);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 5s) << "ack timer still runs";
  ASSERT_FALSE(p.client.conn.begin_message(up, {}));
  EXPECT_EQ(p.client.take_output(), hex("0d 0d 00 01 00 00 00 01 00 00 00 00 00"));
}

TEST(Message, PeerCloseMidSequenceStopsOurSequence) {
  // §8.3 originator: Close received while sending: no further Data/EndMessage, not listed.
  Connected p;
  const std::uint32_t up = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(up, {}));
  p.client.feed(encode(sstp::Close{up, 0}), p.now);
  EXPECT_EQ(p.client.conn.send_data(up, text("x")), errc::no_such_session);
  EXPECT_EQ(p.client.conn.end_message(up, 1), errc::no_such_session);
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 0u);
}

}  // namespace
}  // namespace grove::engine::test
