// Sending and receiving message sequences: sstp.md §9.1, §9.2 and the §14.6-14.10, §14.14 bytes.
#include <sstream>

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

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

TEST(Output, TakeOutputHandsOverExactlyThePendingBytes) {
  // take_output() (for async writes) gives what pending_output() shows, after a partial
  // consume_output(), and the engine keeps appending correctly afterwards.
  Connected p;
  const std::uint32_t up = p.client_opens();
  ASSERT_FALSE(p.client.conn.send_message(up, {}, text("hello world"), 1));
  const Bytes expect =
      Bytes(p.client.conn.pending_output().begin(), p.client.conn.pending_output().end());
  p.client.conn.consume_output(5);
  Bytes taken = {0xde, 0xad};
  p.client.conn.take_output(taken);
  EXPECT_EQ(taken, Bytes(expect.begin() + 5, expect.end()));
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  ASSERT_FALSE(p.client.conn.send_message(up, {}, text("again"), 2));
  Bytes second;
  p.client.conn.take_output(second);
  EXPECT_EQ(commands(second).size(), 3u);
  p.relay.feed(concat({Bytes(expect.begin(), expect.begin() + 5), taken, second}), p.now);
  EXPECT_EQ(p.relay.count<MessageEnded>(), 2u);
  // While aborting, handing the ConnectClose over counts as drained.
  p.client.conn.close();
  EXPECT_FALSE(p.client.conn.finished());
  p.client.conn.take_output(taken);
  EXPECT_EQ(taken, connect_close(ConnectCloseReason::NoReason));
  EXPECT_TRUE(p.client.conn.finished());
}

}  // namespace
}  // namespace grove::engine::test
