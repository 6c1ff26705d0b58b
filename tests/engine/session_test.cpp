// Sessions: sstp.md §8 (parity, Open/OpenResponse, states, FanoutOpen, SessionStatus, Close,
// ClosedSessionIds) and the §14.4, §14.5, §14.12, §14.15-14.17 bytes.
#include "engine/pair.hpp"

namespace grove::engine::test {
namespace {

using sstp::CloseReason;
using sstp::ConnectCloseReason;
using sstp::errc;
using sstp::OpenResponseId;

// sstp.md §14.4
const Bytes kOpen = hex(R"(
  05 50 00 01 00 00 00 67 72 6f 76 65 3a 63 68 61
  74 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e
  65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62 00 67 72
  6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d
  70 6c 65 2f 64 2f 62 6f 62 2d 70 63 00 00 00 00)");
// sstp.md §14.5
const Bytes kOpenResponseOk1 = hex("07 09 00 01 00 00 00 00 00");
// sstp.md §14.12
const Bytes kCloseIdle1 = hex("11 08 00 01 00 00 00 02");
// sstp.md §14.15
const Bytes kFanoutOpen = hex(R"(
  06 75 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61
  74 00 00 02 00 67 72 6f 76 65 3a 2f 2f 72 65 6c
  61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62
  00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65
  78 61 6d 70 6c 65 2f 64 2f 62 6f 62 2d 70 63 00
  00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e
  65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00
  00 00 00 00 00)");
// sstp.md §14.16
const Bytes kOpenResponseOk5 = hex("07 09 00 05 00 00 00 00 00");
// sstp.md §14.17
const Bytes kSessionStatusB = hex(R"(
  12 2c 00 05 00 00 00 05 00 00 67 72 6f 76 65 3a
  2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f
  69 2f 63 61 72 6f 6c 00 01 00 01 00)");

Bytes open_response(std::uint32_t id, OpenResponseId r) {
  return encode(sstp::OpenResponse{id, static_cast<std::uint8_t>(r)});
}

// A client and relay after the full handshake, events cleared.
struct Connected : Pair {
  Connected(Options c = client_options(), Options r = relay_options()) : Pair(c, r) {
    handshake();
    client.events.clear();
    relay.events.clear();
  }
};

std::vector<sstp::FanoutDeviceEntry> fanout_entries() {
  return {{std::string(kBobIdentity), std::string(kBobDevice), "", ""},
          {std::string(kCarolIdentity), "", "", ""}};
}

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

// ---- ClosedSessionIds (§8.6) ----

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

// ---- FanoutOpen received by a client (§8.5) ----

struct FanoutCase {
  const char* name;
  std::vector<sstp::FanoutDeviceEntry> entries;
  OpenResponseId answer;
};

TEST(Session, ClientAnswersFanoutOpenItself) {
  const FanoutCase cases[] = {
      {"zero entries", {}, OpenResponseId::Ok},
      {"empty RelayURL",
       {{std::string(kBobIdentity), "", "", ""}},
       OpenResponseId::NoFanoutEntries},
      {"remote relay",
       {{std::string(kBobIdentity), "", "grove://other.example", ""}},
       OpenResponseId::FanoutNotSupported},
      {"one local among remote",
       {{std::string(kBobIdentity), "", "grove://other.example", ""},
        {std::string(kCarolIdentity), "", "", ""}},
       OpenResponseId::NoFanoutEntries},
  };
  for (const auto& fc : cases) {
    SCOPED_TRACE(fc.name);
    Connected p;
    p.client.feed(encode(sstp::FanoutOpen{2, std::string(kChat), 0, fc.entries}), p.now);
    EXPECT_EQ(p.client.take_output(), open_response(2, fc.answer));
    EXPECT_EQ(p.client.count<SessionRequested>(), 0u);
    EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
    // The session does not exist afterwards: a Message on it is an unknown id.
    p.client.feed(encode(sstp::Message{2, 0, 0, "", 0, {}, {}}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::unknown_session);
  }
}

TEST(Session, FanoutOpenWithBadIdIsProtocolError) {
  Connected p;
  p.client.feed(encode(sstp::FanoutOpen{1, std::string(kChat), 0, {}}), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_session_id);
}

// ---- Fanout sessions we originate and SessionStatus (§8.5) ----

struct FanoutConnected : Connected {
  FanoutConnected() {
    // Sessions 1 and 3 first so the fanout gets id 5, as in §14.15.
    (void)client_opens();
    (void)client_opens();
    client.events.clear();
    relay.events.clear();
    EXPECT_FALSE(client.conn.open_fanout(std::string(kChat), fanout_entries(), fanout));
  }
  std::uint32_t fanout = 0;
};

TEST(Session, FanoutOpenBytes) {
  FanoutConnected p;
  EXPECT_EQ(p.fanout, 5u);
  EXPECT_EQ(p.client.take_output(), kFanoutOpen);
  p.client.feed(kOpenResponseOk5, p.now);
  EXPECT_EQ(p.client.one<SessionReady>().session_id, 5u);
}

TEST(Session, FanoutOpenAt15HasNoFailoverField) {
  Options c = client_options();
  c.minor_version = sstp::kMinor15;
  Connected p(c);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_fanout(std::string(kChat), fanout_entries(), id));
  const Bytes b = p.client.take_output();
  EXPECT_EQ(b.size(), 115u);  // §14.15: "on a 1.5 connection ... CommandLength is 115"
  EXPECT_EQ(b[1], 115);
}

TEST(Session, OpenFanoutWithoutEntriesIsRefusedLocally) {
  Connected p;
  std::uint32_t id = 0;
  EXPECT_TRUE(p.client.conn.open_fanout(std::string(kChat), {}, id));
  EXPECT_TRUE(p.client.conn.pending_output().empty());
}

TEST(Session, SessionStatusFormB) {
  FanoutConnected p;
  (void)p.client.take_output();
  p.client.feed(kOpenResponseOk5, p.now);
  p.client.feed(kSessionStatusB, p.now);
  const auto st = p.client.one<FanoutStatus>();
  EXPECT_EQ(st.session_id, 5u);
  EXPECT_EQ(st.status_id, 0x05);
  EXPECT_EQ(st.failed_entries, std::vector<std::uint16_t>({1}));
  EXPECT_FALSE(st.all_failed);
  // The other entry fails later: every entry failed.
  p.client.feed(
      encode(sstp::SessionStatus{5, 0x04, std::string(kBobDevice), std::string(kBobIdentity), {0}}),
      p.now);
  const auto st2 = p.client.all<FanoutStatus>().back();
  EXPECT_EQ(st2.failed_entries, std::vector<std::uint16_t>({0}));
  EXPECT_EQ(st2.status_id, 0x04);
  EXPECT_TRUE(st2.all_failed);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
}

TEST(Session, SessionStatusFormA) {
  FanoutConnected p;
  (void)p.client.take_output();
  // (DeviceURL, IdentityURL) equal to entry 0's.
  p.client.feed(
      encode(sstp::SessionStatus{5, 0x05, std::string(kBobDevice), std::string(kBobIdentity), {}}),
      p.now);
  auto st = p.client.one<FanoutStatus>();
  EXPECT_EQ(st.failed_entries, std::vector<std::uint16_t>({0}));
  EXPECT_FALSE(st.all_failed);
  // Identity-targeted Carol: empty DeviceURL.
  p.client.feed(encode(sstp::SessionStatus{5, 0x05, "", std::string(kCarolIdentity), {}}), p.now);
  st = p.client.all<FanoutStatus>().back();
  EXPECT_EQ(st.failed_entries, std::vector<std::uint16_t>({1}));
  EXPECT_TRUE(st.all_failed);
}

TEST(Session, SessionStatusFormAMatchesNothing) {
  FanoutConnected p;
  (void)p.client.take_output();
  p.client.feed(encode(sstp::SessionStatus{
                    5, 0x05, std::string(kBobDevice), std::string(kCarolIdentity), {}}),
                p.now);
  EXPECT_TRUE(p.client.one<FanoutStatus>().failed_entries.empty());
}

TEST(Session, SessionStatusIndexOutOfRangeIsProtocolError) {
  FanoutConnected p;
  (void)p.client.take_output();
  p.client.feed(encode(sstp::SessionStatus{5, 0x05, "", std::string(kCarolIdentity), {1, 2}}),
                p.now);
  EXPECT_EQ(p.client.count<FanoutStatus>(), 0u);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::bad_session_status_target);
}

TEST(Session, SessionStatusFormBOn15IsProtocolError) {
  Options c = client_options();
  c.minor_version = sstp::kMinor15;
  Connected p(c);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_fanout(std::string(kChat), fanout_entries(), id));
  (void)p.client.take_output();
  Bytes b = kSessionStatusB;
  b[3] = static_cast<Byte>(id);
  p.client.feed(b, p.now);
  EXPECT_EQ(p.client.count<FanoutStatus>(), 0u);
  EXPECT_EQ(p.client.last<ConnectionClosed>().reason, ConnectCloseReason::ProtocolError);
  EXPECT_EQ(p.client.conn.state(), Connection::State::aborting);
}

TEST(Session, SessionStatusOnNonFanoutSessionIsProtocolError) {
  {
    Connected p;
    const std::uint32_t id = p.client_opens();  // our Open session
    p.client.feed(encode(sstp::SessionStatus{id, 0x05, "", std::string(kBobIdentity), {}}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError,
                       errc::bad_session_status_target);
  }
  {
    Connected p;
    const std::uint32_t id = p.relay_opens();  // a session the peer originated
    p.client.feed(encode(sstp::SessionStatus{id, 0x05, "", std::string(kBobIdentity), {}}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError,
                       errc::bad_session_status_target);
  }
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

}  // namespace
}  // namespace grove::engine::test

namespace grove::engine::test {
namespace {

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

TEST(Session, ForgottenClosedSessionIdIsUnknown) {
  // §8.6: a side may forget ClosedSessionIds beyond its bound; a forgotten id is unknown.
  Options r = relay_options();
  r.closed_session_ids_kept = 2;
  Connected p(client_options(), r);
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(p.client_opens());
  for (auto id : ids) ASSERT_FALSE(p.relay.conn.close_session(id));
  (void)p.relay.take_output();
  // ids[1] and ids[2] are remembered: Open on them is a reuse.
  p.relay.feed(encode(sstp::Message{ids[2], 0, 0, "", 0, {}, {}}), p.now);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u) << "leftover of a remembered id";
  // ids[0] was forgotten: a Message on it names an unknown session.
  p.relay.feed(encode(sstp::Message{ids[0], 0, 0, "", 0, {}, {}}), p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds, errc::unknown_session);
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

namespace grove::engine::test {
namespace {

TEST(Session, UnknownStatusIdReadsAsLockedOut) {
  // §6.7: unknown StatusId values are treated as LockedOut (matched by DeviceURL/IdentityURL).
  FanoutConnected p;
  (void)p.client.take_output();
  p.client.feed(encode(sstp::SessionStatus{5, 0x77, "", std::string(kCarolIdentity), {}}), p.now);
  const auto st = p.client.one<FanoutStatus>();
  EXPECT_EQ(st.status_id, 0x05);
  EXPECT_EQ(st.failed_entries, std::vector<std::uint16_t>({1}));
}

TEST(Session, SessionStatusFormARelayFailureMatchesRelayUrl) {
  // §8.5 form A: for StatusId 0x01-0x03 the command's DeviceURL names the failed relay.
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(
      p.client.conn.open_fanout(std::string(kChat),
                                {{std::string(kBobIdentity), "", "grove://far.example", ""},
                                 {std::string(kCarolIdentity), "", "", ""},
                                 {"grove://far.example/i/dan", "", "grove://far.example", ""}},
                                id));
  (void)p.client.take_output();
  p.client.feed(encode(sstp::SessionStatus{id, 0x02, "grove://far.example", "", {}}), p.now);
  const auto st = p.client.one<FanoutStatus>();
  EXPECT_EQ(st.status_id, 0x02);
  EXPECT_EQ(st.failed_entries, std::vector<std::uint16_t>({0, 2}));
  EXPECT_FALSE(st.all_failed);
}

}  // namespace
}  // namespace grove::engine::test
