// Timers of sstp.md §7.6 / §13, driven by injected time through on_timer() and next_deadline().
#include "engine/pair.hpp"

namespace grove::engine::test {
namespace {

constexpr auto kTick = 1ms;

// on_timer at `t` on one side only.
void at(Side& s, TimePoint t) { s.timer(t); }

TEST(Timers, KeepAliveAfter45SecondsOfSendIdleness) {
  Connected p;
  // The client's last command was ConnectAuthenticate at kT0.
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 45s);
  at(p.client, kT0 + 45s - kTick);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  at(p.client, kT0 + 45s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 00 00 00 00"));  // Noop, MessageCount 0
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 90s);
  at(p.client, kT0 + 60s);
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "one Noop per idle period";
}

TEST(Timers, AnySendResetsKeepAlive) {
  Connected p;
  at(p.client, kT0 + 20s);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  (void)p.client.take_output();
  at(p.client, kT0 + 64s);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  at(p.client, kT0 + 65s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 00 00 00 00"));
}

TEST(Timers, DataSendResetsKeepAlive) {
  Connected p;
  std::uint32_t id = p.client_opens();
  ASSERT_FALSE(p.client.conn.begin_message(id, {}));
  at(p.client, kT0 + 30s);
  const Byte b[] = {1};
  ASSERT_FALSE(p.client.conn.send_data(id, b));
  (void)p.client.take_output();
  at(p.client, kT0 + 74s);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  at(p.client, kT0 + 75s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 00 00 00 00"));
}

TEST(Timers, KeepAliveCarriesTheCurrentCount) {
  // §9.4: KeepAlive Noops carry the current MessageCount.
  Connected p;
  const std::uint32_t down = p.relay_opens();
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, {}, 1));
  p.relay_to_client();
  const auto seq = p.client.one<MessageEnded>().seq;
  at(p.client, kT0 + 44s);
  p.client.conn.message_processed(seq);  // ack timer would fire at 49 s
  at(p.client, kT0 + 45s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 01 00 00 00"));
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 90s) << "the Noop stopped the ack timer";
}

TEST(Timers, ReceiveIdleAfter135Seconds) {
  Connected p;
  at(p.client, kT0 + 135s - kTick);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  (void)p.client.take_output();  // the keep-alive Noops at 45 s and 90 s
  at(p.client, kT0 + 135s);
  expect_closed_with(p.client, ConnectCloseReason::NoReason, errc::receive_idle);
}

TEST(Timers, ReceivedBytesResetReceiveIdle) {
  Connected p;
  p.now = kT0 + 100s;
  p.client.feed(encode(sstp::Noop{0}), p.now);
  at(p.client, kT0 + 234s);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  at(p.client, kT0 + 235s);
  EXPECT_EQ(p.client.last<ConnectionClosed>().error, errc::receive_idle);
}

TEST(Timers, PartialCommandBytesResetReceiveIdle) {
  // "reset every time any byte arrives".
  Connected p;
  p.client.feed(hex("10"), kT0 + 130s);
  at(p.client, kT0 + 200s);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
}

TEST(Timers, HandshakeTimeoutInitiatorC14) {
  // C14: no ConnectResponse within 30 s: close the byte stream, no ConnectClose.
  Side client(client_options(), kT0);
  (void)client.take_output();
  EXPECT_EQ(client.conn.next_deadline(), kT0 + 30s);
  at(client, kT0 + 30s - kTick);
  EXPECT_EQ(client.count<ConnectionClosed>(), 0u);
  at(client, kT0 + 30s);
  const auto closed = client.one<ConnectionClosed>();
  EXPECT_EQ(closed.error, errc::handshake_timeout);
  EXPECT_FALSE(closed.by_peer);
  EXPECT_TRUE(client.conn.finished());
  EXPECT_TRUE(client.conn.pending_output().empty());
  EXPECT_EQ(client.conn.next_deadline(), std::nullopt);
}

TEST(Timers, HandshakeTimeoutAcceptorC14) {
  {
    Side relay(relay_options(), kT0);  // no Connect at all
    at(relay, kT0 + 30s);
    EXPECT_EQ(relay.one<ConnectionClosed>().error, errc::handshake_timeout);
    EXPECT_TRUE(relay.conn.finished());
    EXPECT_TRUE(relay.conn.pending_output().empty());
  }
  {
    Pair p;  // Connect arrived, but the owner never decided
    p.client_to_relay();
    at(p.relay, kT0 + 30s);
    EXPECT_EQ(p.relay.one<ConnectionClosed>().error, errc::handshake_timeout);
    EXPECT_TRUE(p.relay.conn.pending_output().empty());
    EXPECT_EQ(p.relay.conn.accept_connection(kDeviceSecret), errc::unexpected_command);
  }
}

TEST(Timers, MissingConnectAuthenticateC15) {
  // C15: 30 s from the ConnectResponse, not from the byte stream.
  Pair p;
  p.client_to_relay();
  at(p.relay, kT0 + 10s);
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  (void)p.relay.take_output();
  EXPECT_EQ(p.relay.conn.next_deadline(), kT0 + 40s);
  at(p.relay, kT0 + 40s - kTick);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  at(p.relay, kT0 + 40s);
  expect_closed_with(p.relay, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::handshake_timeout);
}

TEST(Timers, HandshakeTimerStopsOnceAuthenticated) {
  Connected p;
  at(p.relay, kT0 + 31s);
  at(p.client, kT0 + 31s);
  EXPECT_EQ(p.relay.count<ConnectionClosed>() + p.client.count<ConnectionClosed>(), 0u);
}

TEST(Timers, OpenResponseWait60Seconds) {
  Connected p;
  at(p.client, kT0 + 10s);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  (void)p.client.take_output();
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 55s);  // keep-alive first
  at(p.client, kT0 + 55s);
  (void)p.client.take_output();
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 70s);
  at(p.client, kT0 + 70s - kTick);
  EXPECT_EQ(p.client.count<SessionRefused>(), 0u);
  at(p.client, kT0 + 70s);
  EXPECT_EQ(p.client.take_output(), hex("11 08 00 01 00 00 00 00"));  // Close NoReason
  const auto refused = p.client.one<SessionRefused>();
  EXPECT_EQ(refused.session_id, id);
  EXPECT_EQ(refused.response_id, std::nullopt);
  EXPECT_EQ(p.client.conn.begin_message(id, {}), errc::no_such_session);
  // A late OpenResponse for it is ignored (ClosedSessionIds), not counted or fatal.
  p.client.feed(encode(sstp::OpenResponse{id, 0}), p.now);
  EXPECT_EQ(p.client.count<SessionReady>(), 0u);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
}

TEST(Timers, OpenResponseStopsTheWait) {
  Connected p;
  const std::uint32_t id = p.client_opens();
  at(p.client, kT0 + 61s);
  EXPECT_EQ(p.client.count<SessionRefused>(), 0u);
  EXPECT_TRUE(p.client.conn.session_ready(id));
}

TEST(Timers, LingerTwoSecondsThenFinished) {
  // C12: output not written (peer not reading): finished() after 2 s anyway.
  Connected p;
  p.client.feed(hex("13 07 00 00 00 00 00"), p.now);
  EXPECT_FALSE(p.client.conn.finished());
  EXPECT_EQ(p.client.conn.next_deadline(), p.now + 2s);
  at(p.client, p.now + 2s - kTick);
  EXPECT_FALSE(p.client.conn.finished());
  at(p.client, p.now + 2s);
  EXPECT_TRUE(p.client.conn.finished());
  EXPECT_EQ(p.client.conn.state(), Connection::State::gone);
  EXPECT_EQ(p.client.conn.next_deadline(), std::nullopt);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 1u);
}

TEST(Timers, LingerAfterRefusal) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.refuse_connection(sstp::ConnectResponseId::TryLater, 30));
  EXPECT_EQ(p.relay.conn.next_deadline(), kT0 + 2s);
  at(p.relay, kT0 + 2s);
  EXPECT_TRUE(p.relay.conn.finished());
}

TEST(Timers, NoTimersFireWhileAborting) {
  Connected p;
  p.client.conn.close();
  (void)p.client.take_output();
  EXPECT_TRUE(p.client.conn.finished());
  at(p.client, kT0 + 1000s);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 1u);
}

// next_deadline() must equal the earliest pending timer at every step, and on_timer() just
// before it must do nothing.
TEST(Timers, NextDeadlineIsAlwaysTheEarliestTimer) {
  Connected p;
  std::vector<TimePoint> seen;
  auto expect_next = [&](TimePoint want) {
    SCOPED_TRACE(::testing::Message() << "step " << seen.size());
    ASSERT_EQ(p.client.conn.next_deadline(), want);
    const std::size_t events = p.client.events.size();
    at(p.client, want - kTick);
    EXPECT_TRUE(p.client.conn.pending_output().empty());
    EXPECT_EQ(p.client.events.size(), events);
    EXPECT_EQ(p.client.conn.next_deadline(), want);
    seen.push_back(want);
  };
  // t=0: keep-alive 45, receive idle 135.
  expect_next(kT0 + 45s);
  // t=1: open a session (wait until 61) and receive a message (idle → 136); process it at t=2
  // (ack at 7). Sending the Open and the OpenResponse moves keep-alive to 46.
  at(p.client, kT0 + 1s);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  (void)p.client.take_output();
  std::uint32_t down = 0;  // the relay's session to the client, answered at once
  ASSERT_FALSE(p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", down));
  p.client.feed(p.relay.take_output(), kT0 + 1s);
  ASSERT_FALSE(p.client.conn.respond_open(down, Availability::ready));
  p.relay.feed(p.client.take_output(), kT0 + 1s);
  ASSERT_FALSE(p.relay.conn.send_message(down, {}, {}, 1));
  p.client.feed(p.relay.take_output(), kT0 + 1s);
  at(p.client, kT0 + 2s);
  p.client.conn.message_processed(p.client.one<MessageEnded>().seq);
  expect_next(kT0 + 7s);  // ack
  at(p.client, kT0 + 7s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 01 00 00 00"));
  expect_next(kT0 + 52s);  // keep-alive restarted by the Noop at 7
  at(p.client, kT0 + 52s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 00 00 00 00"));
  expect_next(kT0 + 61s);  // OpenResponse wait
  at(p.client, kT0 + 61s);
  EXPECT_EQ(p.client.one<SessionRefused>().session_id, id);
  (void)p.client.take_output();  // Close, which restarts keep-alive: 106
  expect_next(kT0 + 106s);
  at(p.client, kT0 + 106s);
  (void)p.client.take_output();
  expect_next(kT0 + 136s);  // receive idle (last bytes at 1 s)
  at(p.client, kT0 + 136s);
  EXPECT_EQ(p.client.last<ConnectionClosed>().error, errc::receive_idle);
  EXPECT_EQ(p.client.take_output(), connect_close(ConnectCloseReason::NoReason));
  expect_next(kT0 + 138s);  // linger
  at(p.client, kT0 + 138s);
  EXPECT_EQ(p.client.conn.next_deadline(), std::nullopt);
}

TEST(Timers, TimersAreShortenedByOptions) {
  Options c = client_options();
  c.timers.keep_alive = 3s;
  Options r = relay_options();
  Pair p(c, r);
  p.handshake();
  EXPECT_EQ(p.client.conn.next_deadline(), kT0 + 3s);
  at(p.client, kT0 + 3s);
  EXPECT_EQ(p.client.take_output(), hex("10 07 00 00 00 00 00"));
}

}  // namespace
}  // namespace grove::engine::test
