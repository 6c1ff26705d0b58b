// Connection-level acknowledgements: sstp.md §9.3-9.5, §7.7 and the §14.11, §14.13 bytes.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

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

// Grove's batch rule (docs/protocol.md): 32 complete sequences are acknowledged at once, A or
// not, so a sender that never sets A is not held up 5 s whenever its window is full.
TEST(Ack, ABatchOfCompleteSequencesIsAcknowledgedAtOnce) {
  Connected p;
  const std::uint32_t down = p.relay_opens();
  const auto seqs = relay_sends(p, down, 33);
  for (std::size_t i = 0; i + 1 < 32; ++i) p.client.conn.message_processed(seqs[i]);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "31 wait for the timer";
  p.client.conn.message_processed(seqs[31]);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 20 00 00 00"));  // Noop, MessageCount 32
  p.client.conn.message_processed(seqs[32]);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "the 33rd waits for the timer again";
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

}  // namespace
}  // namespace grove::engine::test
