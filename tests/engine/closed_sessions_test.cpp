// ClosedSessionIds: sstp.md §8.6 (leftover traffic after we closed a session).

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

TEST(Session, LeftoverSequenceAfterWeClosedIsDiscardedButAcknowledged) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  const std::uint32_t other = p.client_opens();
  // The client sends one sequence the relay keeps and one the relay will discard.
  ASSERT_FALSE(p.relay.conn.close_session(id));  // relay closes first; the client has not seen it
  const Byte data[] = {'l', 'a', 't', 'e'};
  ASSERT_FALSE(p.client.conn.send_message(id, {}, data, 1));
  ASSERT_FALSE(p.client.conn.send_message(other, {}, data, 2));
  ASSERT_FALSE(p.client.conn.send_message(id, {}, data, 3));
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageStarted>(), 1u) << "only the message on the open session";
  EXPECT_EQ(p.relay.count<MessageData>(), 1u);
  const auto ends = p.relay.all<MessageEnded>();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].session_id, other);
  EXPECT_EQ(ends[0].seq, 1u) << "seq 0 is the discarded leftover sequence";
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  // The leftover entries are 'complete'; the processing one holds back the last leftover.
  p.advance(5s);
  EXPECT_EQ(p.relay.take_output(), concat({hex("11 08 00 01 00 00 00 00"), encode(sstp::Noop{1})}));
  p.relay.conn.message_processed(ends[0].seq);
  p.advance(5s);
  EXPECT_EQ(p.relay.take_output(), encode(sstp::Noop{2}));
}

TEST(Session, LeftoverMessageCountIsProcessed) {
  // §8.6: "process the MessageCount of a Message" on a closed id.
  Connected p;
  const std::uint32_t down = p.relay_opens();  // relay → client
  const std::uint32_t up = p.client_opens();   // client → relay
  const Byte d[] = {'d'};
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, d, 55));
  p.relay_to_client();
  p.client.conn.message_processed(p.client.one<MessageEnded>().seq);
  ASSERT_FALSE(p.relay.conn.close_session(up));
  (void)p.relay.take_output();  // the client never sees the Close before it sends
  ASSERT_FALSE(p.client.conn.send_message(up, {}, d, 66));  // Message carries MessageCount 1
  p.client_to_relay();
  EXPECT_EQ(p.relay.one<Acknowledged>().cookie, 55u);
  EXPECT_EQ(p.relay.count<MessageStarted>(), 0u);
}

TEST(Session, LeftoverStateMachineStillApplies) {
  // §8.6: the MessageReceiver rules run on a leftover state: Data while waiting is an error.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.relay.conn.close_session(id));
  (void)p.relay.take_output();
  p.relay.feed(encode(sstp::Data{id, {}}), p.now);
  expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::message_state);
}

TEST(Session, LeftoverRestOfPartialSequenceAfterWeClosed) {
  // We close a session in the middle of an inbound sequence; its rest arrives afterwards.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  const Byte a[] = {'a'};
  ASSERT_FALSE(p.client.conn.send_data(id, a));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.close_session(id));
  ASSERT_FALSE(p.client.conn.send_data(id, a));
  ASSERT_FALSE(p.client.conn.end_message(id, 9));
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageData>(), 1u) << "only the part before our Close";
  EXPECT_EQ(p.relay.count<MessageEnded>(), 0u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  (void)p.relay.take_output();
  p.advance(5s);
  EXPECT_EQ(p.relay.take_output(), encode(sstp::Noop{1}));
}

TEST(Session, OpenResponseAndSessionStatusOnClosedIdAreIgnored) {
  // §8.6 ClosedSessionIds: ignored, not counted.
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_fanout(std::string(kChat), fanout_entries(), id));
  ASSERT_FALSE(p.client.conn.close_session(id));
  (void)p.client.take_output();
  sstp::SessionStatus st{id, 0x05, "", std::string(kCarolIdentity), {1}};
  for (int i = 0; i < 20; ++i) {
    p.client.feed(open_response(id, OpenResponseId::Ok), p.now);
    p.client.feed(encode(st), p.now);
    p.client.feed(encode(sstp::Close{id, 0}), p.now);
  }
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  EXPECT_EQ(p.client.count<SessionReady>(), 0u);
  EXPECT_EQ(p.client.count<FanoutStatus>(), 0u);
}

TEST(Session, MessageOnClosedOwnSessionIsProtocolError) {
  // §9.2: Message naming a session this side originated, even one we already closed.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.close_session(id));
  (void)p.client.take_output();
  p.client.feed(encode(sstp::Message{id, 0, 0, "", 0, {}, {}}), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::message_on_own_session);
}

TEST(Session, ForgottenClosedSessionIdIsUnknown) {
  // §8.6: a side may forget ClosedSessionIds beyond its bound; a forgotten id is unknown.
  Options r = relay_options();
  r.closed_session_ids_kept = 2;
  Connected p(client_options(), r);
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(p.client_opens());
  for (auto id : ids) ASSERT_FALSE(p.relay.conn.close_session(id));
  (void)p.relay.take_output();
  // ids[1] and ids[2] are remembered: a Message on them is leftover traffic.
  p.relay.feed(encode(sstp::Message{ids[2], 0, 0, "", 0, {}, {}}), p.now);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u) << "leftover of a remembered id";
  // ids[0] was forgotten: a Message on it names an unknown session.
  p.relay.feed(encode(sstp::Message{ids[0], 0, 0, "", 0, {}, {}}), p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds, errc::unknown_session);
}

}  // namespace
}  // namespace grove::engine::test
