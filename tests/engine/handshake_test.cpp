// Connection handshake and device authentication: sstp.md §7.3, §7.5, §7.10, §14.1-14.3 and
// auth.md §5.1, §6, §9.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

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
