// Connection handshake: sstp.md §7.2-§7.5, §7.10, §14.1-14.3 and auth.md §5.1, §9.
#include "engine/pair.hpp"

namespace grove::engine::test {
namespace {

using sstp::ConnectCloseReason;
using sstp::ConnectResponseId;
using sstp::errc;

// sstp.md §14.1
const Bytes kConnect = hex(R"(
  01 85 00 01 06 00 67 72 6f 76 65 3a 2f 2f 72 65
  6c 61 79 2e 65 78 61 6d 70 6c 65 00 01 67 72 6f
  76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70
  6c 65 2f 64 2f 61 6c 69 63 65 2d 70 63 00 25 00
  47 52 56 31 01 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa
  ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba
  bb bc bd be bf 47 72 6f 76 65 20 43 6c 69 65 6e
  74 20 31 2e 30 20 31 00 67 72 6f 76 65 2d 61 75
  74 68 2d 31 00)");

// sstp.md §14.2
const Bytes kConnectResponse = hex(R"(
  02 6f 00 01 06 00 00 00 00 45 00 47 52 56 31 02
  c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf
  d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df
  e0 b5 b8 47 f9 26 90 b7 0c f1 21 31 03 a9 de a6
  c5 b2 e8 a3 b3 76 0d 42 d1 2e 20 f1 5f 7d aa 88
  47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20
  31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 00)");

// sstp.md §14.3
const Bytes kConnectAuthenticate = hex(R"(
  03 2a 00 25 00 47 52 56 31 03 7f 00 16 70 41 26
  3b 57 67 42 be 18 bb b6 83 99 c5 8b 40 ee ea 7e
  e5 20 ac 03 86 b1 45 97 f1 c8)");

// auth.md §9.5: ConnectResponse Ok and ConnectAuthenticate with channel binding.
const Bytes kConnectResponseTls = hex(R"(
  02 73 00 01 06 00 00 00 00 45 00 47 52 56 31 02
  c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf
  d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df
  18 a3 bd 17 81 5a 72 6d be e0 f8 f1 9c ea 27 e2
  93 f7 62 4a ec 87 b9 fc 15 b0 11 cf 71 1a 19 6a
  47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20
  31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 20 74
  6c 73 00)");
const Bytes kConnectAuthenticateTls = hex(R"(
  03 2a 00 25 00 47 52 56 31 03 76 0c 8d 91 3b bd
  63 07 15 2b 73 36 d3 1f 7e 9d 26 6b 97 b3 e2 ed
  e1 00 19 7e 5d d9 e9 c9 bb 17)");

// auth.md §9.7: the relay's answer for an unknown device.
const Bytes kAuthenticationFailed = hex(R"(
  02 2a 00 01 06 06 00 00 00 00 00 47 72 6f 76 65
  20 52 65 6c 61 79 20 31 2e 30 20 31 00 67 72 6f
  76 65 2d 61 75 74 68 2d 31 00)");

// auth.md §9.7: ConnectClose DeviceAuthenticationFailed.
const Bytes kDeviceAuthFailed = hex("04 0b 00 04 00 00 00 00 00 00 00");

TEST(Handshake, WorkedExampleBytesMatchSstp14) {
  Pair p;
  EXPECT_EQ(p.client.conn.state(), Connection::State::connecting);          // C1
  EXPECT_EQ(p.relay.conn.state(), Connection::State::transport_connected);  // C2

  EXPECT_EQ(p.client_to_relay(), kConnect);
  const auto req = p.relay.one<ConnectRequested>();
  EXPECT_EQ(req.source_device_url, kAliceUrl);
  EXPECT_EQ(req.target_device_url, kRelayUrl);
  EXPECT_EQ(req.peer_product_version, "Grove Client 1.0 1");
  EXPECT_EQ(req.peer_product_capabilities, "grove-auth-1");
  EXPECT_EQ(req.minor_version, 6);
  EXPECT_TRUE(p.relay.conn.pending_output().empty()) << "the owner decides (steps 7-9)";

  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  EXPECT_TRUE(p.relay.conn.established());
  EXPECT_FALSE(p.relay.conn.authenticated());
  EXPECT_FALSE(p.relay.one<Established>().authenticated);

  EXPECT_EQ(p.relay_to_client(), kConnectResponse);
  const auto est = p.client.one<Established>();
  EXPECT_TRUE(est.authenticated);
  EXPECT_EQ(est.minor_version, 6);
  EXPECT_EQ(est.peer_device_url, kRelayUrl);
  EXPECT_EQ(est.peer_product_version, "Grove Relay 1.0 1");
  EXPECT_TRUE(p.client.conn.can_send());  // §7.3.3: no wait for a confirmation

  EXPECT_EQ(p.client_to_relay(), kConnectAuthenticate);
  EXPECT_EQ(p.relay.one<Authenticated>().device_url, kAliceUrl);
  EXPECT_TRUE(p.relay.conn.authenticated());
  EXPECT_TRUE(p.relay.conn.can_send());
  EXPECT_TRUE(p.relay.conn.pending_output().empty());
  EXPECT_EQ(p.relay.conn.peer_device_url(), kAliceUrl);
  EXPECT_EQ(p.client.conn.peer_device_url(), kRelayUrl);
  EXPECT_EQ(p.client.count<ConnectionClosed>() + p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Handshake, WorkedExampleByteByByte) {
  Pair p;
  p.client_to_relay(1);
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  p.relay_to_client(1);
  p.client_to_relay(1);
  EXPECT_EQ(p.client.count<Established>(), 1u);
  EXPECT_EQ(p.relay.count<Authenticated>(), 1u);
}

TEST(Handshake, ChannelBindingBytesMatchAuth95) {
  Options c = client_options();
  Options r = relay_options();
  c.channel_binding = kExporter;
  r.channel_binding = kExporter;
  Pair p(c, r);
  const Bytes connect = p.client_to_relay();
  EXPECT_EQ(p.relay.one<ConnectRequested>().peer_product_capabilities, "grove-auth-1 tls");
  // Same Connect as §14.1 but capabilities "grove-auth-1 tls": length 0x89.
  Bytes expect = kConnect;
  expect[1] = 0x89;
  expect.pop_back();
  for (char ch : std::string_view(" tls")) expect.push_back(static_cast<Byte>(ch));
  expect.push_back(0);
  EXPECT_EQ(connect, expect);
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  EXPECT_EQ(p.relay_to_client(), kConnectResponseTls);
  EXPECT_EQ(p.client_to_relay(), kConnectAuthenticateTls);
  EXPECT_EQ(p.relay.count<Authenticated>(), 1u);
}

TEST(Handshake, ChannelBindingExporterMismatchFailsAtTheClient) {
  // Both sides claim tls but see different exporter values (a man in the middle): the relay proof
  // does not verify (auth.md §6 "Why it helps").
  Options c = client_options();
  Options r = relay_options();
  c.channel_binding = kExporter;
  r.channel_binding = sequence32(0x41);
  Pair p(c, r);
  p.connect_and_accept();
  EXPECT_EQ(p.client.count<Established>(), 0u);
  expect_closed_with(p.client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, RelayProofWrongAtClient) {
  // auth.md §5.1 C4, sstp.md C8: the relay holds another secret.
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(sequence32(0x01)));
  p.relay_to_client();
  EXPECT_EQ(p.client.conn.pending_output().size(), kDeviceAuthFailed.size())
      << "no ConnectAuthenticate may be sent";
  EXPECT_EQ(Bytes(p.client.conn.pending_output().begin(), p.client.conn.pending_output().end()),
            kDeviceAuthFailed);
  EXPECT_EQ(p.client.count<Established>(), 0u);
  expect_closed_with(p.client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, DeviceProofWrongAtRelay) {
  // auth.md §5.1 R5 and §9.7: the client holds another secret. Its relay-proof check fails
  // first, so drive the relay with a hand-made ConnectAuthenticate instead.
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  (void)p.relay.take_output();
  Bytes bad = kConnectAuthenticate;
  bad.back() ^= 0x01;
  p.relay.feed(bad, p.now);
  EXPECT_EQ(p.relay.count<Authenticated>(), 0u);
  EXPECT_EQ(Bytes(p.relay.conn.pending_output().begin(), p.relay.conn.pending_output().end()),
            kDeviceAuthFailed);
  expect_closed_with(p.relay, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, DeviceProofMalformedAtRelay) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(kDeviceSecret));
  (void)p.relay.take_output();
  Bytes bad = kConnectAuthenticate;
  bad[9] = 0x01;  // token type 1 instead of 3
  p.relay.feed(bad, p.now);
  expect_closed_with(p.relay, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, WrongClientSecretEndsWithDeviceAuthenticationFailed) {
  // Both directions with real engines: a client with a different secret rejects the relay proof.
  Options c = client_options();
  c.device_secret = sequence32(0x10);
  Pair p(c);
  p.connect_and_accept();
  const Bytes cc =
      Bytes(p.client.conn.pending_output().begin(), p.client.conn.pending_output().end());
  EXPECT_EQ(cc, kDeviceAuthFailed);
  p.relay.feed(cc, p.now);
  expect_closed_with(p.client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
  const auto closed = p.relay.last<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.reason, ConnectCloseReason::DeviceAuthenticationFailed);
  EXPECT_TRUE(p.relay.conn.finished());
}

TEST(Handshake, UnknownDeviceIsRefusedWithAuth97Bytes) {
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.refuse_connection(ConnectResponseId::AuthenticationFailed));
  const auto closed = p.relay.last<ConnectionClosed>();
  EXPECT_EQ(closed.refused, ConnectResponseId::AuthenticationFailed);
  EXPECT_EQ(p.relay.conn.state(), Connection::State::aborting);
  EXPECT_FALSE(p.relay.conn.finished());
  const Bytes answer = p.relay_to_client();
  EXPECT_EQ(answer, kAuthenticationFailed);  // no ConnectClose after a refusal (§7.2)
  EXPECT_TRUE(p.relay.conn.finished());
  // C9 at the initiator: close the byte stream and report the ResponseId.
  const auto c = p.client.last<ConnectionClosed>();
  EXPECT_TRUE(c.by_peer);
  EXPECT_EQ(c.refused, ConnectResponseId::AuthenticationFailed);
  EXPECT_TRUE(p.client.conn.finished());
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  EXPECT_EQ(p.client.count<Established>(), 0u);
  // Answering twice is our own error.
  EXPECT_EQ(p.relay.conn.accept_connection(kDeviceSecret), errc::unexpected_command);
}

TEST(Handshake, AcceptWithoutSecretIsAuthenticationFailed) {
  // auth.md R2: no device table entry.
  Pair p;
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection(std::nullopt));
  EXPECT_EQ(p.relay_to_client(), kAuthenticationFailed);
  EXPECT_EQ(p.client.last<ConnectionClosed>().refused, ConnectResponseId::AuthenticationFailed);
}

Bytes connect_with(std::uint8_t major, std::uint8_t minor, Bytes token,
                   std::string caps = "grove-auth-1", std::string target = std::string(kRelayUrl),
                   std::vector<std::string> sources = {std::string(kAliceUrl)}) {
  sstp::Connect c;
  c.major_version = major;
  c.minor_version = minor;
  c.target_device_url = std::move(target);
  c.source_device_urls = std::move(sources);
  c.authentication_token = std::move(token);
  c.peer_product_version = "Grove Client 1.0 1";
  c.peer_product_capabilities = std::move(caps);
  return encode(c);
}

Bytes hello_token() { return auth::make_token(auth::TokenType::DeviceHello, sequence32(0xa0)); }

sstp::ConnectResponse decode_response(ByteView b) {
  auto cmds = commands(b);
  EXPECT_EQ(cmds.size(), 1u);
  if (cmds.empty() || !std::holds_alternative<sstp::ConnectResponse>(cmds[0])) {
    ADD_FAILURE() << "not a ConnectResponse";
    return {};
  }
  return std::get<sstp::ConnectResponse>(cmds[0]);
}

struct TokenCase {
  const char* name;
  Bytes token;
};

TEST(Handshake, MalformedConnectTokenIsAuthenticationFailed) {
  Bytes wrong_magic = hello_token();
  wrong_magic[0] = 'X';
  Bytes wrong_type = hello_token();
  wrong_type[4] = 0x02;
  Bytes short_token = hello_token();
  short_token.pop_back();
  Bytes long_token = hello_token();
  long_token.push_back(0);
  for (const auto& tc : std::vector<TokenCase>{{"empty", {}},
                                               {"magic", wrong_magic},
                                               {"type", wrong_type},
                                               {"short", short_token},
                                               {"long", long_token}}) {
    SCOPED_TRACE(tc.name);
    Side relay(relay_options(), kT0);
    relay.feed(connect_with(1, 6, tc.token), kT0);
    ASSERT_EQ(relay.count<ConnectRequested>(), 1u);
    ASSERT_FALSE(relay.conn.accept_connection(kDeviceSecret));
    EXPECT_EQ(relay.take_output(), kAuthenticationFailed);
    EXPECT_EQ(relay.last<ConnectionClosed>().refused, ConnectResponseId::AuthenticationFailed);
    EXPECT_TRUE(relay.conn.finished());
  }
}

TEST(Handshake, NoSourceDeviceUrlIsAuthenticationFailed) {
  // §7.3.1 step 6.
  Side relay(relay_options(), kT0);
  relay.feed(connect_with(1, 6, hello_token(), "grove-auth-1", std::string(kRelayUrl), {}), kT0);
  EXPECT_EQ(relay.count<ConnectRequested>(), 0u);
  EXPECT_EQ(relay.take_output(), kAuthenticationFailed);
}

TEST(Handshake, TlsCapabilityMismatchAtRelay) {
  // auth.md R3 both ways: Connect says tls, relay does not bind; and the reverse.
  {
    Side relay(relay_options(), kT0);
    relay.feed(connect_with(1, 6, hello_token(), "grove-auth-1 tls"), kT0);
    ASSERT_FALSE(relay.conn.accept_connection(kDeviceSecret));
    EXPECT_EQ(relay.take_output(), kAuthenticationFailed);
  }
  {
    Options r = relay_options();
    r.channel_binding = kExporter;
    Side relay(r, kT0);
    relay.feed(connect_with(1, 6, hello_token(), "grove-auth-1"), kT0);
    ASSERT_FALSE(relay.conn.accept_connection(kDeviceSecret));
    const auto resp = decode_response(relay.take_output());
    EXPECT_EQ(resp.response_id, ConnectResponseId::AuthenticationFailed);
    EXPECT_TRUE(resp.authentication_token.empty());
    EXPECT_EQ(resp.peer_product_capabilities, "grove-auth-1 tls");
  }
}

TEST(Handshake, TlsCapabilityMismatchAtClient) {
  // auth.md C4: the response's `tls` differs from our own decision. Feed the §9.5 response
  // (tls, bound MAC) to a client without binding.
  Side client(client_options(), kT0);
  (void)client.take_output();
  client.feed(kConnectResponseTls, kT0);
  EXPECT_EQ(client.count<Established>(), 0u);
  expect_closed_with(client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, TlsCapabilityMismatchAtClientEvenWithRightMac) {
  // The relay's MAC is right for an unbound exchange but it claims `tls`.
  auto mac = auth::relay_mac(kDeviceSecret, sequence32(0xa0), sequence32(0xc0), kRelayUrl, nullptr);
  sstp::ConnectResponse r;
  r.authentication_token = auth::make_token(auth::TokenType::RelayProof, sequence32(0xc0), mac);
  r.peer_product_version = "Grove Relay 1.0 1";
  r.peer_product_capabilities = "grove-auth-1 tls";
  Side client(client_options(), kT0);
  (void)client.take_output();
  client.feed(encode(r), kT0);
  expect_closed_with(client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, RelayNonceEqualToClientNonceIsRejected) {
  // auth.md C4: RelayNonce must differ from ClientNonce, even with a correct MAC.
  auto mac = auth::relay_mac(kDeviceSecret, sequence32(0xa0), sequence32(0xa0), kRelayUrl, nullptr);
  sstp::ConnectResponse r;
  r.authentication_token = auth::make_token(auth::TokenType::RelayProof, sequence32(0xa0), mac);
  r.peer_product_version = "Grove Relay 1.0 1";
  r.peer_product_capabilities = "grove-auth-1";
  Side client(client_options(), kT0);
  (void)client.take_output();
  client.feed(encode(r), kT0);
  expect_closed_with(client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

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

TEST(Handshake, ClientToClientWithEmptyTokens) {
  // §7.10: no tokens, no ConnectAuthenticate, authenticated at once.
  Pair p(peer_initiator_options(), peer_acceptor_options());
  const Bytes connect = p.client_to_relay();
  const auto cmds = commands(connect);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_TRUE(std::get<sstp::Connect>(cmds[0]).authentication_token.empty());
  ASSERT_FALSE(p.relay.conn.accept_connection());
  EXPECT_TRUE(p.relay.conn.authenticated());
  EXPECT_TRUE(p.relay.one<Established>().authenticated);
  const auto resp = decode_response(p.relay_to_client());
  EXPECT_EQ(resp.response_id, ConnectResponseId::Ok);
  EXPECT_TRUE(resp.authentication_token.empty());
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "no ConnectAuthenticate";
  EXPECT_TRUE(p.client.conn.can_send());
  EXPECT_EQ(p.client.count<Established>(), 1u);
  EXPECT_EQ(p.relay.count<Authenticated>(), 0u);
  // Sessions work straight away in both directions.
  EXPECT_EQ(p.client_opens(), 1u);
  EXPECT_EQ(p.client.count<SessionReady>(), 1u);
  EXPECT_EQ(p.relay_opens(), 2u);
  EXPECT_EQ(p.relay.count<SessionReady>(), 1u);
}

TEST(Handshake, UnauthenticatedRelayRefusedByDefault) {
  // auth.md §5.1 C3: Ok with an empty token while we sent one.
  Options r = relay_options();
  r.require_authentication = false;
  Pair p(client_options(), r);
  p.connect_and_accept(std::nullopt);
  EXPECT_EQ(p.client.count<Established>(), 0u);
  expect_closed_with(p.client, ConnectCloseReason::DeviceAuthenticationFailed,
                     errc::authentication_failed);
}

TEST(Handshake, UnauthenticatedRelayAllowedByOption) {
  Options c = client_options();
  c.allow_unauthenticated_peer = true;
  Options r = relay_options();
  r.require_authentication = false;
  Pair p(c, r);
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.accept_connection());
  p.relay_to_client();
  const auto est = p.client.one<Established>();
  EXPECT_FALSE(est.authenticated) << "the relay proved nothing";
  EXPECT_TRUE(p.client.conn.pending_output().empty()) << "no ConnectAuthenticate";
  EXPECT_TRUE(p.client.conn.can_send());
  EXPECT_EQ(p.client_opens(), 1u);
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

TEST(Handshake, NonceSourceFailureAbortsConnect) {
  // auth.md §8: a failing CSPRNG aborts the exchange; no Connect goes out without a nonce.
  Options c = client_options();
  c.random = [](std::span<Byte>) { return false; };
  Side client(c, kT0);
  EXPECT_TRUE(client.conn.finished());
  EXPECT_TRUE(client.conn.pending_output().empty());
  EXPECT_EQ(client.count<ConnectionClosed>(), 1u);
}

}  // namespace
}  // namespace grove::engine::test
