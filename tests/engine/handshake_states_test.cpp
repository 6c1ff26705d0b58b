// Handshake states and refusals: sstp.md §7.2 (C4-C16), §7.3.1-7.3.3, §7.4 and §12.1.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

TEST(Handshake, WrongDevice) {
  // §7.3.1 step 4.
  Side relay(relay_options(), kT0);
  relay.feed(connect_with(1, 6, hello_token(), "grove-auth-1", "grove://other.example"), kT0);
  EXPECT_EQ(relay.count<ConnectRequested>(), 0u);
  const auto resp = decode_response(relay.conn.pending_output());
  EXPECT_EQ(resp.response_id, ConnectResponseId::WrongDevice);
  EXPECT_EQ(resp.minor_version, 6);
  EXPECT_TRUE(resp.authentication_token.empty());
  EXPECT_EQ(resp.peer_product_version, "Grove Relay 1.0 1");
  EXPECT_EQ(relay.last<ConnectionClosed>().refused, ConnectResponseId::WrongDevice);
  EXPECT_FALSE(relay.conn.finished());
  (void)relay.take_output();
  EXPECT_TRUE(relay.conn.finished());
}

struct VersionCase {
  std::uint8_t major, minor;
  std::optional<ConnectResponseId> refusal;  // nullopt: Ok
  std::uint8_t connection_minor;
};

TEST(Handshake, VersionNegotiationTable74) {
  const VersionCase cases[] = {
      {1, 6, std::nullopt, 6},
      {1, 5, std::nullopt, 5},
      {1, 7, std::nullopt, 6},
      {1, 0xff, std::nullopt, 6},
      {1, 4, ConnectResponseId::NewVersionRequired, 0},
      {1, 0, ConnectResponseId::NewVersionRequired, 0},
      {2, 0, ConnectResponseId::WontUpgrade, 0},
      {2, 6, ConnectResponseId::WontUpgrade, 0},
      {0xff, 6, ConnectResponseId::WontUpgrade, 0},
      {0, 6, ConnectResponseId::NewVersionRequired, 0},
      {0, 9, ConnectResponseId::NewVersionRequired, 0},
  };
  for (const auto& vc : cases) {
    SCOPED_TRACE(::testing::Message() << int(vc.major) << "." << int(vc.minor));
    Options ro = relay_options();
    ro.require_authentication = false;  // keep the decision about the version alone
    Side relay(ro, kT0);
    relay.feed(connect_with(vc.major, vc.minor, {}), kT0);
    if (vc.refusal) {
      EXPECT_EQ(relay.count<ConnectRequested>(), 0u);
      const auto resp = decode_response(relay.take_output());
      EXPECT_EQ(resp.response_id, *vc.refusal);
      EXPECT_EQ(resp.major_version, 1);  // §5.2: our own highest version
      EXPECT_EQ(resp.minor_version, 6);
      EXPECT_EQ(relay.last<ConnectionClosed>().refused, *vc.refusal);
      EXPECT_TRUE(relay.conn.finished());
    } else {
      EXPECT_EQ(relay.one<ConnectRequested>().minor_version, vc.connection_minor);
      ASSERT_FALSE(relay.conn.accept_connection());
      const auto resp = decode_response(relay.take_output());
      EXPECT_EQ(resp.response_id, ConnectResponseId::Ok);
      EXPECT_EQ(resp.major_version, 1);
      EXPECT_EQ(resp.minor_version, vc.connection_minor);
      EXPECT_EQ(relay.conn.minor_version(), vc.connection_minor);
      EXPECT_TRUE(relay.conn.authenticated());  // authentication off (§7.5)
    }
  }
}

TEST(Handshake, Version15EndToEnd) {
  Options c = client_options();
  c.minor_version = sstp::kMinor15;
  Pair p(c);
  p.handshake();
  EXPECT_EQ(p.client.one<Established>().minor_version, 5);
  EXPECT_EQ(p.client.conn.minor_version(), 5);
  EXPECT_EQ(p.relay.conn.minor_version(), 5);
  EXPECT_EQ(p.relay.count<Authenticated>(), 1u);
}

struct RefusalCase {
  ConnectResponseId id;
  std::uint16_t retry_time;
};

TEST(Handshake, InitiatorReportsEveryRefusal) {
  // C9 / §7.3.2: close the stream and report the ResponseId (TryLater with its RetryTime).
  const RefusalCase cases[] = {
      {ConnectResponseId::WrongDevice, 0},
      {ConnectResponseId::TryLater, 30},
      {ConnectResponseId::TryLater, 0},
      {ConnectResponseId::WillUpgrade, 0},
      {ConnectResponseId::WontUpgrade, 0},
      {ConnectResponseId::NewVersionRequired, 0},
      {ConnectResponseId::AuthenticationFailed, 0},
      {ConnectResponseId::ConnectRejected, 0},
      {static_cast<ConnectResponseId>(0x42), 0},  // §6.1 other values: a refusal
  };
  for (const auto& rc : cases) {
    SCOPED_TRACE(static_cast<int>(rc.id));
    Pair p;
    p.client_to_relay();
    ASSERT_FALSE(p.relay.conn.refuse_connection(rc.id, rc.retry_time));
    const Bytes b = p.relay_to_client();
    EXPECT_EQ(decode_response(b).retry_time, rc.retry_time);
    const auto closed = p.client.one<ConnectionClosed>();
    EXPECT_TRUE(closed.by_peer);
    EXPECT_EQ(closed.refused, rc.id);
    EXPECT_EQ(closed.retry_time, rc.retry_time);
    EXPECT_EQ(p.client.conn.state(), Connection::State::gone);
    EXPECT_TRUE(p.client.conn.finished());
    EXPECT_TRUE(p.client.conn.pending_output().empty()) << "no ConnectClose after a refusal";
  }
}

TEST(Handshake, TryLaterRetryTimeSurfaces) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.refuse_connection(ConnectResponseId::TryLater, 60));
  const Bytes b = p.relay_to_client();
  EXPECT_EQ(b[5], 0x02);  // ResponseId
  EXPECT_EQ(b[7], 60);    // RetryTime, little-endian
  EXPECT_EQ(b[8], 0);
  EXPECT_EQ(p.client.one<ConnectionClosed>().retry_time, 60);
  EXPECT_EQ(p.relay.one<ConnectionClosed>().retry_time, 60);
}

TEST(Handshake, ConnectResponseOkWithBadVersionIsProtocolError) {
  // C7: major not 1, minor not 5/6, or above what we sent.
  struct V {
    std::uint8_t major, minor, sent;
  };
  for (const V v : {V{2, 6, 6}, V{0, 6, 6}, V{1, 7, 6}, V{1, 4, 6}, V{1, 6, 5}}) {
    SCOPED_TRACE(::testing::Message() << int(v.major) << "." << int(v.minor));
    Options c = client_options();
    c.minor_version = v.sent;
    Side client(c, kT0);
    (void)client.take_output();
    sstp::ConnectResponse r;
    r.major_version = v.major;
    r.minor_version = v.minor;
    r.authentication_token = hex(
        "47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 "
        "d8 d9 da db dc dd de df e0 b5 b8 47 f9 26 90 b7 0c f1 21 31 03 a9 de a6 c5 b2 e8 a3 b3 "
        "76 0d 42 d1 2e 20 f1 5f 7d aa 88");
    r.peer_product_version = "Grove Relay 1.0 1";
    r.peer_product_capabilities = "grove-auth-1";
    client.feed(encode(r), kT0);
    EXPECT_EQ(client.count<Established>(), 0u);
    expect_closed_with(client, ConnectCloseReason::ProtocolError, errc::bad_version);
  }
}

TEST(Handshake, RelayGateSessionCommandBeforeConnectAuthenticate) {
  // §7.3.3 / auth.md R6: established but not Authenticated → only ConnectAuthenticate, Noop,
  // ConnectClose.
  const sstp::Command session_commands[] = {
      sstp::Open{1, std::string(kChat), std::string(kBobIdentity), "", 0},
      sstp::Close{1, 0},
      sstp::Message{1, 0, 0, "", 0, {}, {}},
      sstp::EndMessage{1},
      sstp::OpenResponse{2, 0},
  };
  for (const auto& cmd : session_commands) {
    SCOPED_TRACE(sstp::command_name(sstp::command_id(cmd)));
    Pair p;
    p.client_to_relay();
    ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
    (void)p.relay.take_output();
    p.relay.feed(encode(cmd), p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Handshake, RelayGateAllowsNoopBeforeConnectAuthenticate) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  (void)p.relay.take_output();
  p.relay.feed(encode(sstp::Noop{0}), p.now);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  p.relay.feed(kConnectAuthenticate, p.now);
  EXPECT_EQ(p.relay.count<Authenticated>(), 1u);
}

TEST(Handshake, RelayCannotOpenSessionsBeforeAuthenticated) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  std::uint32_t id = 0;
  EXPECT_EQ(p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id),
            errc::not_established);
}

TEST(Handshake, ConnectAuthenticateNotExpected) {
  // §7.3.3 first row: at a client; at a relay that sent no type-2 token; after Authenticated.
  {
    Pair p;
    p.handshake();
    p.client.feed(kConnectAuthenticate, p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Options r = relay_options();
    r.require_authentication = false;
    Options c = client_options();
    c.allow_unauthenticated_peer = true;
    Pair p(c, r);
    p.handshake();
    p.relay.feed(kConnectAuthenticate, p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Pair p;
    p.handshake();
    ASSERT_TRUE(p.relay.conn.authenticated());
    p.relay.feed(kConnectAuthenticate, p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Handshake, ConnectTwiceIsProtocolError) {
  // C5, in each state after the first Connect.
  {
    Side relay(relay_options(), kT0);
    relay.feed(kConnect, kT0);  // 'connecting', the owner has not answered yet
    relay.feed(kConnect, kT0);
    expect_closed_with(relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Pair p;
    p.handshake();
    p.relay.feed(kConnect, p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Pair p;  // established, not yet Authenticated
    p.client_to_relay();
    ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
    (void)p.relay.take_output();
    p.relay.feed(kConnect, p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Handshake, ConnectResponseTwiceOrAtAcceptorIsProtocolError) {
  {
    Pair p;
    p.handshake();
    p.client.feed(kConnectResponse, p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Side relay(relay_options(), kT0);
    relay.feed(kConnect, kT0);
    relay.feed(kConnectResponse, kT0);
    expect_closed_with(relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Handshake, CommandsBeforeConnect) {
  // C4: a session command gets TooManyUnknownSessionCmds, anything else ProtocolError.
  struct C {
    sstp::Command cmd;
    ConnectCloseReason reason;
    errc why;
  };
  const C cases[] = {
      {sstp::Open{1, std::string(kChat), std::string(kBobIdentity), "", 0},
       ConnectCloseReason::TooManyUnknownSessionCmds, errc::command_before_established},
      {sstp::Close{1, 0}, ConnectCloseReason::TooManyUnknownSessionCmds,
       errc::command_before_established},
      {sstp::Data{1, {}}, ConnectCloseReason::TooManyUnknownSessionCmds,
       errc::command_before_established},
      {sstp::Attach{1, "", std::string(kBobIdentity), {}},
       ConnectCloseReason::TooManyUnknownSessionCmds, errc::command_before_established},
      {sstp::Noop{0}, ConnectCloseReason::ProtocolError, errc::unexpected_command},
      {sstp::ConnectAuthenticate{}, ConnectCloseReason::ProtocolError, errc::unexpected_command},
      {sstp::ConnectResponse{}, ConnectCloseReason::ProtocolError, errc::unexpected_command},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(sstp::command_name(sstp::command_id(c.cmd)));
    Side relay(relay_options(), kT0);
    relay.feed(encode(c.cmd), kT0);
    expect_closed_with(relay, c.reason, c.why);
    EXPECT_EQ(relay.count<ConnectRequested>(), 0u);
  }
}

TEST(Handshake, CommandsBeforeConnectResponseAtInitiator) {
  // C16.
  {
    Side client(client_options(), kT0);
    (void)client.take_output();
    client.feed(encode(sstp::Open{2, std::string(kChat), std::string(kBobIdentity), "", 0}), kT0);
    expect_closed_with(client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::command_before_established);
  }
  {
    Side client(client_options(), kT0);
    (void)client.take_output();
    client.feed(encode(sstp::Noop{0}), kT0);
    expect_closed_with(client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  {
    Side client(client_options(), kT0);
    (void)client.take_output();
    client.feed(kConnect, kT0);
    expect_closed_with(client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Handshake, ConnectCloseDuringHandshake) {
  // C10: a ConnectClose is processed in any state; nothing is sent in reply.
  Side client(client_options(), kT0);
  (void)client.take_output();
  client.feed(connect_close(ConnectCloseReason::Resting, 0, 60), kT0);
  const auto closed = client.one<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.reason, ConnectCloseReason::Resting);
  EXPECT_EQ(closed.return_time, 60);
  EXPECT_TRUE(client.conn.finished());
  EXPECT_TRUE(client.conn.pending_output().empty());
}

TEST(Handshake, ConnectCloseBeforeConnectAtAcceptor) {
  // C10 holds in 'transport layer connected' too: no ConnectClose is sent back.
  Side relay(relay_options(), kT0);
  relay.feed(connect_close(ConnectCloseReason::NoReason), kT0);
  const auto closed = relay.one<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_TRUE(relay.conn.finished());
  EXPECT_TRUE(relay.conn.pending_output().empty());
}

TEST(Handshake, MalformedConnectIsProtocolError) {
  // §7.3.1 step 3: e.g. a string byte outside 0x20-0x7E.
  Bytes bad = kConnect;
  bad[10] = 0x01;
  Side relay(relay_options(), kT0);
  relay.feed(bad, kT0);
  EXPECT_EQ(relay.count<ConnectRequested>(), 0u);
  expect_closed_with(relay, ConnectCloseReason::ProtocolError, errc::bad_string_byte);
}

TEST(Handshake, EndOfStreamDuringHandshake) {
  // C13.
  Side client(client_options(), kT0);
  client.conn.receive_eof();
  client.drain();
  const auto closed = client.one<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.error, errc::connection_closed);
  EXPECT_TRUE(client.conn.finished());
}

}  // namespace
}  // namespace grove::engine::test
