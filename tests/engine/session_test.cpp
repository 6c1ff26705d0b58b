// Sessions: sstp.md §8.1-8.4, §8.6 (parity, Open/OpenResponse, session states, Close) and the
// §14.4, §14.5, §14.12 bytes.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

TEST(Session, ParityInitiatorOddAcceptorEven) {
  Connected p;
  std::uint32_t a = 0, b = 0, c = 0, x = 0, y = 0;
  ASSERT_FALSE(p.client.conn.open_session("grove:chat", "grove://r/i/a", "", a));
  ASSERT_FALSE(p.client.conn.open_session("grove:chat", "grove://r/i/a", "", b));
  ASSERT_FALSE(p.client.conn.open_fanout("grove:chat", fanout_entries(), c));
  ASSERT_FALSE(p.relay.conn.open_session("grove:chat", "grove://r/i/a", "", x));
  ASSERT_FALSE(p.relay.conn.open_session("grove:chat", "grove://r/i/a", "", y));
  EXPECT_EQ(std::vector<std::uint32_t>({a, b, c}), std::vector<std::uint32_t>({1, 3, 5}));
  EXPECT_EQ(std::vector<std::uint32_t>({x, y}), std::vector<std::uint32_t>({2, 4}));
  p.pump();
  EXPECT_EQ(p.relay.count<SessionRequested>(), 2u);  // 1 and 3; the fanout is answered at once
  EXPECT_EQ(p.client.count<SessionRequested>(), 2u);
  EXPECT_EQ(p.client.count<ConnectionClosed>() + p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Session, OpenAndOpenResponseBytes) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity),
                                          std::string(kBobDevice), id));
  EXPECT_EQ(id, 1u);
  EXPECT_FALSE(p.client.conn.session_ready(id));
  EXPECT_EQ(p.client_to_relay(), kOpen);
  const auto req = p.relay.one<SessionRequested>();
  EXPECT_EQ(req.session_id, 1u);
  EXPECT_EQ(req.resource_url, kChat);
  EXPECT_EQ(req.identity_url, kBobIdentity);
  EXPECT_EQ(req.device_url, kBobDevice);
  EXPECT_TRUE(p.relay.conn.pending_output().empty()) << "the owner gives the availability";
  ASSERT_FALSE(p.relay.conn.respond_open(1, Availability::ready));
  EXPECT_EQ(p.relay_to_client(), kOpenResponseOk1);
  EXPECT_EQ(p.client.one<SessionReady>().session_id, 1u);
  EXPECT_TRUE(p.client.conn.session_ready(1));
}

TEST(Session, RespondOpenNotReadyThenReady) {
  // §8.3: OkStopSending → suspended; later Ok → ready.
  Connected p;
  const std::uint32_t id = p.client_opens(Availability::not_ready);
  EXPECT_EQ(p.client.one<SessionPaused>().session_id, id);
  EXPECT_EQ(p.client.count<SessionReady>(), 0u);
  EXPECT_FALSE(p.client.conn.session_ready(id));
  EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::session_not_ready);
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::ready));
  EXPECT_EQ(p.relay_to_client(), open_response(id, OpenResponseId::Ok));
  EXPECT_EQ(p.client.one<SessionReady>().session_id, id);
  EXPECT_FALSE(p.client.conn.begin_message(id, {}));
}

TEST(Session, OkStopSendingBytes) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::not_ready));
  EXPECT_EQ(p.relay.take_output(), hex("07 09 00 01 00 00 00 0b 00"));
}

TEST(Session, ReadyToBlockedLetsTheCurrentSequenceFinish) {
  // §8.3 originator: ready + OkStopSending → blocked; a sequence already started may finish.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::not_ready));
  EXPECT_EQ(p.relay.take_output(), open_response(id, OpenResponseId::OkStopSending));
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::not_ready));  // no change, no bytes
  EXPECT_TRUE(p.relay.conn.pending_output().empty());
  p.client.feed(open_response(id, OpenResponseId::OkStopSending), p.now);
  EXPECT_EQ(p.client.one<SessionPaused>().session_id, id);
  EXPECT_FALSE(p.client.conn.session_ready(id));
  const Byte payload[] = {1, 2, 3};
  EXPECT_FALSE(p.client.conn.send_data(id, payload));
  EXPECT_FALSE(p.client.conn.end_message(id, 7));
  EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::session_not_ready);
  // The relay (receiver) must accept the sequence while blocked (§8.3 last paragraph).
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageEnded>(), 1u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  // Back to ready.
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::ready));
  p.relay_to_client();
  EXPECT_EQ(p.client.last<SessionReady>().session_id, id);
  EXPECT_EQ(p.client.count<SessionReady>(), 2u);
  EXPECT_FALSE(p.client.conn.begin_message(id, {}));
}

TEST(Session, RespondOpenFault) {
  // §8.4 step 7: 'fault' → Unknown, session removed.
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::fault));
  EXPECT_EQ(p.relay.conn.pending_output().size(), 9u);
  EXPECT_EQ(p.relay_to_client(), hex("07 09 00 01 00 00 00 05 00"));
  EXPECT_EQ(p.relay.conn.respond_open(id, Availability::ready), errc::no_such_session);
  const auto refused = p.client.one<SessionRefused>();
  EXPECT_EQ(refused.session_id, id);
  EXPECT_EQ(refused.response_id, OpenResponseId::Unknown);
  EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::no_such_session);
}

TEST(Session, LaterFaultClosesTheSession) {
  // §8.3 receiver: any state, becomes 'fault' → Close.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.relay.conn.respond_open(id, Availability::fault));
  EXPECT_EQ(p.relay.take_output(), hex("11 08 00 01 00 00 00 00"));
}

TEST(Session, RefusedCodesRemoveTheSession) {
  for (auto r : {OpenResponseId::NoResource, OpenResponseId::Unknown,
                 OpenResponseId::NoFanoutEntries, OpenResponseId::FanoutNotSupported}) {
    SCOPED_TRACE(static_cast<int>(r));
    Connected p;
    std::uint32_t id = 0;
    ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
    (void)p.client.take_output();
    p.client.feed(open_response(id, r), p.now);
    const auto refused = p.client.one<SessionRefused>();
    EXPECT_EQ(refused.session_id, id);
    EXPECT_EQ(refused.response_id, r);
    EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::no_such_session);
    EXPECT_EQ(p.client.conn.close_session(id), errc::no_such_session);
    EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
    // The session is gone: a second answer is an unknown id (counted, not fatal).
    p.client.feed(open_response(id, OpenResponseId::Ok), p.now);
    EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
    EXPECT_EQ(p.client.count<SessionReady>(), 0u);
  }
}

TEST(Session, OpenResponseUnknownValueIsProtocolError) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  (void)p.client.take_output();
  p.client.feed(encode(sstp::OpenResponse{id, 0x01}), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_open_response);
}

TEST(Session, OpenResponseRefusalAfterOpeningIsProtocolError) {
  // §8.3: ready/suspended/blocked + a value other than Ok/OkStopSending.
  Connected p;
  const std::uint32_t id = p.client_opens();
  p.client.feed(open_response(id, OpenResponseId::Unknown), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_open_response);
}

TEST(Session, OpenResponseOnPeerSessionIsProtocolError) {
  Connected p;
  const std::uint32_t id = p.relay_opens();  // client is the receiver of session 2
  p.client.feed(open_response(id, OpenResponseId::Ok), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_open_response);
}

TEST(Session, OpenWithIdZeroOrOwnParityIsProtocolError) {
  // §8.4 step 3.
  for (std::uint32_t id : {0u, 2u, 4u, 0x80000000u}) {
    SCOPED_TRACE(id);
    Connected p;
    p.relay.feed(encode(sstp::Open{id, std::string(kChat), std::string(kBobIdentity), "", 0}),
                 p.now);
    EXPECT_EQ(p.relay.count<SessionRequested>(), 0u);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::bad_session_id);
  }
  {
    Connected p;  // and at the initiator: odd ids are its own
    p.client.feed(encode(sstp::Open{3, std::string(kChat), std::string(kBobIdentity), "", 0}),
                  p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_session_id);
  }
}

TEST(Session, OpenWithReusedIdIsTooManyUnknownSessionCmds) {
  // §8.4 step 4: id in Sessions.
  Connected p;
  const std::uint32_t id = p.client_opens();
  p.relay.feed(kOpen, p.now);
  EXPECT_EQ(id, 1u);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::session_id_in_use);
}

TEST(Session, OpenWithIdInClosedSessionIdsIsTooManyUnknownSessionCmds) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.relay.conn.close_session(id));
  (void)p.relay.take_output();
  p.relay.feed(kOpen, p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::session_id_in_use);
}

TEST(Session, FanoutOpenWithUsedIdIsTooManyUnknownSessionCmds) {
  Connected p;
  const std::uint32_t id = p.relay_opens();
  sstp::FanoutOpen f{id, std::string(kChat), 0, {}};
  p.client.feed(encode(f), p.now);
  expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::session_id_in_use);
}

TEST(Session, CloseBytesAndStateAtBothEnds) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.close_session(id, CloseReason::Idle));
  const auto mine = p.client.one<SessionClosed>();
  EXPECT_FALSE(mine.by_peer);
  EXPECT_EQ(mine.reason_id, 0x02);
  EXPECT_EQ(p.client_to_relay(), kCloseIdle1);
  const auto theirs = p.relay.one<SessionClosed>();
  EXPECT_TRUE(theirs.by_peer);
  EXPECT_EQ(theirs.session_id, id);
  EXPECT_EQ(theirs.reason_id, 0x02);
  EXPECT_EQ(p.relay.conn.respond_open(id, Availability::ready), errc::no_such_session);
  EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::no_such_session);
  EXPECT_TRUE(p.relay.conn.pending_output().empty()) << "nothing is sent in reply to Close";
}

TEST(Session, CloseUnknownIdIsIgnoredAndNotCounted) {
  // §8.6 step 2, §12.2: Close for an unknown id is ignored, not counted.
  Connected p;
  for (int i = 0; i < 40; ++i) p.client.feed(encode(sstp::Close{1000u + 2u * i, 0}), p.now);
  EXPECT_EQ(p.client.count<SessionClosed>(), 0u);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
}

TEST(Session, CloseUnknownReasonReadsAsNoReason) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  p.client.feed(encode(sstp::Close{id, 0x77}), p.now);
  EXPECT_EQ(p.client.one<SessionClosed>().reason_id, 0);
}

TEST(Session, CloseDuringPartialMessageAbortsIt) {
  // §8.6 step 3 / §8.3 receiver: a partial sequence is discarded.
  Connected p;
  const std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  const Byte payload[] = {'h', 'i'};
  ASSERT_FALSE(p.client.conn.send_data(id, payload));
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageStarted>(), 1u);
  EXPECT_EQ(p.relay.count<MessageData>(), 1u);
  ASSERT_FALSE(p.client.conn.close_session(id));
  p.client_to_relay();
  EXPECT_EQ(p.relay.one<MessageAborted>().session_id, id);
  EXPECT_EQ(p.relay.count<MessageEnded>(), 0u);
  EXPECT_EQ(p.relay.one<SessionClosed>().session_id, id);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Session, CloseReceivedByOriginatorReportsUnconfirmedCookies) {
  // §9.5: our unacknowledged messages on the session are reported not confirmed; they stay in
  // OutboundMessageList (§8.6), so a later acknowledgement only clears the list.
  Connected p;
  const std::uint32_t a = p.client_opens();
  const std::uint32_t b = p.client_opens();
  const Byte x[] = {'x'};
  ASSERT_FALSE(p.client.conn.send_message(a, {}, x, 100));
  ASSERT_FALSE(p.client.conn.send_message(b, {}, x, 200));
  ASSERT_FALSE(p.client.conn.send_message(a, {}, x, 101));
  p.client_to_relay();
  ASSERT_EQ(p.relay.count<MessageEnded>(), 3u);
  ASSERT_FALSE(p.relay.conn.close_session(a, CloseReason::QuotaWouldBeExceeded));
  p.relay_to_client();
  const auto closed = p.client.one<SessionClosed>();
  EXPECT_EQ(closed.session_id, a);
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.reason_id, 0x0b);
  EXPECT_EQ(closed.unconfirmed, std::vector<std::uint64_t>({100, 101}));
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 3u);
  for (const auto& e : p.relay.all<MessageEnded>()) p.relay.conn.message_processed(e.seq);
  p.advance(5s);
  p.relay_to_client();
  std::vector<std::uint64_t> acked;
  for (const auto& a2 : p.client.all<Acknowledged>()) acked.push_back(a2.cookie);
  EXPECT_EQ(acked, std::vector<std::uint64_t>({100, 200, 101}));
  EXPECT_EQ(p.client.conn.unacknowledged_count(), 0u);
}

TEST(Session, CloseOfOpeningSessionByOriginatorPeer) {
  // The receiver closes a session the originator is still opening: the wait timer goes too.
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.client_to_relay();
  p.client.feed(encode(sstp::Close{id, 0}), p.now);
  EXPECT_EQ(p.client.one<SessionClosed>().session_id, id);
  p.advance(60s);
  EXPECT_EQ(p.client.count<SessionRefused>(), 0u);
}

// ---- our own illegal requests ----

TEST(Session, OwnIllegalRequestsAreErrorsNotOutput) {
  Connected p;
  const std::uint32_t mine = p.client_opens();
  const std::uint32_t theirs = p.relay_opens();
  EXPECT_EQ(p.client.conn.respond_open(mine, Availability::ready), errc::no_such_session);
  EXPECT_EQ(p.client.conn.respond_open(99, Availability::ready), errc::no_such_session);
  EXPECT_EQ(p.client.conn.begin_message(theirs, {}), errc::no_such_session);
  EXPECT_EQ(p.client.conn.send_data(mine, {}), errc::no_message_in_progress);
  EXPECT_EQ(p.client.conn.end_message(mine, 0), errc::no_message_in_progress);
  ASSERT_FALSE(p.client.conn.begin_message(mine, {}));
  EXPECT_EQ(p.client.conn.begin_message(mine, {}), errc::message_in_progress);
  EXPECT_EQ(p.client.conn.close_session(77), errc::no_such_session);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
}

TEST(Session, BeforeEstablishedNothingCanBeOpened) {
  Side client(client_options(), kT0);
  std::uint32_t id = 0;
  EXPECT_EQ(client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id),
            errc::not_established);
  EXPECT_EQ(client.conn.open_fanout(std::string(kChat), fanout_entries(), id),
            errc::not_established);
}

TEST(Session, OpenWithUnsendableUrlLeavesNoTrace) {
  // encode() refuses a control character (§3.2); nothing is queued, no wait timer is left.
  Connected p;
  std::uint32_t id = 0;
  EXPECT_EQ(p.client.conn.open_session("grove:chat\x01", std::string(kBobIdentity), "", id),
            sstp::errc::bad_string_byte);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 45s) << "no OpenResponse wait";
  EXPECT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  EXPECT_EQ(id, 3u) << "ids are never reused, even after a failed send";
}

TEST(Session, UnknownSessionCommandLimitIsAnOption) {
  Options c = client_options();
  c.max_unknown_session_commands = 2;
  Connected p(c);
  p.client.feed(encode(sstp::EndMessage{100}), p.now);
  p.client.feed(encode(sstp::EndMessage{102}), p.now);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  p.client.feed(encode(sstp::EndMessage{104}), p.now);
  expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::too_many_unknown_session_commands);
}

}  // namespace
}  // namespace grove::engine::test
