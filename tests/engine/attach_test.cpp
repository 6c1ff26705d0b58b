// Attach and Register (sstp.md §8.7, §11; auth.md §5.2, §5.3, §9.6 bytes) and the relay's
// answers to FanoutOpen (sstp.md §10.7).

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

// auth.md §9.6
const auth::Secret kIdentitySecret = sequence32(0x20);

// Yields the blocks first[0]..., first[1]..., one per call, then repeats the last: the
// handshake nonce first, then the attach nonce.
std::function<bool(std::span<Byte>)> nonces(std::vector<Byte> firsts) {
  auto calls = std::make_shared<std::size_t>(0);
  return [firsts, calls](std::span<Byte> out) {
    const Byte first = firsts[std::min(*calls, firsts.size() - 1)];
    ++*calls;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<Byte>(first + i);
    return true;
  };
}

struct Attaching : Connected {
  Attaching()
      : Connected(with_random(client_options(), {0xa0, 0xe0}),
                  with_random(relay_options(), {0xc0, 0x60})) {}
  static Options with_random(Options o, std::vector<Byte> firsts) {
    o.random = nonces(std::move(firsts));
    return o;
  }
  // Client attaches Bob's identity; the relay answers with `secret`. Returns the EventId.
  std::uint32_t attach(const auth::Secret& client_secret = kIdentitySecret,
                       std::optional<auth::Secret> relay_secret = kIdentitySecret) {
    std::uint32_t id = 0;
    EXPECT_FALSE(client.conn.attach(std::string(kBobIdentity), client_secret, id));
    client_to_relay();
    auto req = relay.last<AttachRequested>();
    EXPECT_EQ(req.event_id, id);
    EXPECT_EQ(req.identity_url, kBobIdentity);
    EXPECT_FALSE(relay.conn.answer_attach(id, relay_secret));
    pump();
    return id;
  }
};

// Strips a hexdump's offset and ASCII columns (auth.md §9.6 prints 16 bytes a line).
Bytes dump(std::string_view text) {
  std::string hexpart;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > 6) hexpart += std::string(line.substr(6, 48)) + " ";
    pos = end + 1;
  }
  return hex(hexpart);
}

TEST(Attach, WorkedExampleBytes) {
  Attaching p;
  // EventId 7 as in auth.md §9.6: sessions 1, 3 and 5 come first.
  for (int i = 0; i < 3; ++i) (void)p.client_opens();
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(p.client_to_relay(), dump(R"(
0000  08 4b 00 07 00 00 00 00 67 72 6f 76 65 3a 2f 2f  .K......grove://
0010  72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f  relay.example/i/
0020  62 6f 62 00 25 00 47 52 56 31 04 e0 e1 e2 e3 e4  bob.%.GRV1......
0030  e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3 f4  ................
0040  f5 f6 f7 f8 f9 fa fb fc fd fe ff                 ...........)"));
  ASSERT_EQ(p.relay.one<AttachRequested>().event_id, 7u);
  ASSERT_FALSE(p.relay.conn.answer_attach(7, kIdentitySecret));
  // Mid-way: the relay has handed over the secret, the proof has not come yet.
  EXPECT_TRUE(p.relay.conn.identity_attaching(std::string(kBobIdentity)));
  EXPECT_FALSE(p.relay.conn.identity_attached(std::string(kBobIdentity)));
  EXPECT_EQ(p.relay_to_client(), dump(R"(
0000  09 50 00 07 00 00 00 00 00 45 00 47 52 56 31 05  .P.......E.GRV1.
0010  60 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f  `abcdefghijklmno
0020  70 71 72 73 74 75 76 77 78 79 7a 7b 7c 7d 7e 7f  pqrstuvwxyz{|}~.
0030  76 9f 58 ac 74 71 e4 14 af 65 8f 67 ae 03 4f e5  v.X.tq...e.g..O.
0040  6a 4c ec 95 0b 48 92 bd 53 e4 4c 47 8d 1f 6a df  jL...H..S.LG..j.)"));
  EXPECT_EQ(p.client_to_relay(), dump(R"(
0000  0a 2e 00 07 00 00 00 25 00 47 52 56 31 06 a9 07  .......%.GRV1...
0010  cd f2 1f 8b 14 e1 89 4f 4e 5e d8 5d 71 87 3f 39  .......ON^.]q.?9
0020  3d 5b bc ee 47 65 91 c5 3c 06 23 db 97 96        =[..Ge..<.#...)"));
  EXPECT_EQ(p.relay_to_client(), hex("11 08 00 07 00 00 00 00"));
  auto relay_result = p.relay.one<AttachResult>();
  EXPECT_TRUE(relay_result.attached);
  EXPECT_EQ(relay_result.identity_url, kBobIdentity);
  auto client_result = p.client.one<AttachResult>();
  EXPECT_TRUE(client_result.attached);
  EXPECT_EQ(client_result.event_id, 7u);
  EXPECT_TRUE(p.client.conn.identity_attached(std::string(kBobIdentity)));
  EXPECT_TRUE(p.relay.conn.identity_attached(std::string(kBobIdentity)));
  EXPECT_FALSE(p.relay.conn.identity_attaching(std::string(kBobIdentity)));

  // Register, EventId 9, and the relay's answer (auth.md §9.6).
  std::uint32_t reg = 0;
  ASSERT_FALSE(p.client.conn.register_identity(std::string(kBobIdentity), reg));
  EXPECT_EQ(reg, 9u);
  EXPECT_EQ(p.client_to_relay(), dump(R"(
0000  0b 25 00 09 00 00 00 67 72 6f 76 65 3a 2f 2f 72  .%.....grove://r
0010  65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62  elay.example/i/b
0020  6f 62 00 00 00                                   ob...)"));
  EXPECT_EQ(p.relay.one<RegisterRequested>().identity_url, kBobIdentity);
  ASSERT_FALSE(p.relay.conn.respond_register(9, AttachResponseId::Ok));
  EXPECT_EQ(p.relay_to_client(),
            concat({hex("0c 0b 00 09 00 00 00 00 00 00 00"), hex("11 08 00 09 00 00 00 00")}));
  auto r = p.client.one<RegisterResult>();
  EXPECT_EQ(r.event_id, 9u);
  EXPECT_EQ(r.response, AttachResponseId::Ok);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Attach, UnknownIdentityGetsAuthenticationFailedThenClose) {
  Attaching p;
  const auto id = p.attach(kIdentitySecret, std::nullopt);
  auto c = p.client.one<AttachResult>();
  EXPECT_FALSE(c.attached);
  EXPECT_EQ(c.reason_id, static_cast<std::uint8_t>(CloseReason::UserAuthenticationFailed));
  EXPECT_EQ(c.event_id, id);
  EXPECT_FALSE(p.relay.one<AttachResult>().attached);
  EXPECT_FALSE(p.client.conn.identity_attached(std::string(kBobIdentity)));
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
}

TEST(Attach, WrongSecretAtClientFailsBeforeAnyProof) {
  Attaching p;
  p.attach(sequence32(0x99));
  auto c = p.client.one<AttachResult>();
  EXPECT_FALSE(c.attached);  // the relay's proof did not verify: client closed the session
  EXPECT_EQ(c.reason_id, static_cast<std::uint8_t>(CloseReason::UserAuthenticationFailed));
  EXPECT_FALSE(p.relay.one<AttachResult>().attached);
  EXPECT_FALSE(p.relay.conn.identity_attached(std::string(kBobIdentity)));
}

TEST(Attach, WrongAccountProofGetsUserAuthenticationFailed) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.answer_attach(id, kIdentitySecret));
  (void)p.relay.take_output();
  auth::Mac wrong{};
  p.relay.feed(
      encode(sstp::AttachAuthenticate{id, auth::make_token(auth::TokenType::AccountProof, wrong)}),
      p.now);
  EXPECT_EQ(
      p.relay.take_output(),
      encode(sstp::Close{id, static_cast<std::uint8_t>(CloseReason::UserAuthenticationFailed)}));
  EXPECT_FALSE(p.relay.one<AttachResult>().attached);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Attach, MalformedProofIsProtocolErrorAndWrongTypeIsStale) {
  for (bool wrong_type : {false, true}) {
    SCOPED_TRACE(wrong_type ? "wrong type" : "malformed");
    Attaching p;
    std::uint32_t id = 0;
    ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
    p.client_to_relay();
    ASSERT_FALSE(p.relay.conn.answer_attach(id, kIdentitySecret));
    (void)p.relay.take_output();
    Bytes token = wrong_type ? auth::make_token(auth::TokenType::AccountHello, sequence32(1))
                             : hex("47 52 56 31 06 00");
    p.relay.feed(encode(sstp::AttachAuthenticate{id, token}), p.now);
    const auto reason =
        wrong_type ? CloseReason::StaleAttachAuthenticate : CloseReason::ProtocolError;
    EXPECT_EQ(p.relay.take_output(), encode(sstp::Close{id, static_cast<std::uint8_t>(reason)}));
    EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
  }
}

TEST(Attach, LateProofIsStaleEvenBeforeTheTimerRan) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.answer_attach(id, kIdentitySecret));
  p.relay_to_client();  // the client answers with a right proof ...
  p.now += 31s;         // ... that reaches the relay after the wait, with no timer tick between
  p.client_to_relay();
  EXPECT_EQ(
      p.relay.take_output(),
      encode(sstp::Close{id, static_cast<std::uint8_t>(CloseReason::StaleAttachAuthenticate)}));
  EXPECT_FALSE(p.relay.conn.identity_attached(std::string(kBobIdentity)));
}

TEST(Attach, ProofBeforeTheChallengeClosesTheAttachSession) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  p.client_to_relay();  // AttachRequested, not answered yet
  p.relay.feed(encode(sstp::AttachAuthenticate{
                   id, auth::make_token(auth::TokenType::AccountProof, auth::Mac{})}),
               p.now);
  EXPECT_EQ(p.relay.take_output(),
            encode(sstp::Close{id, static_cast<std::uint8_t>(CloseReason::ProtocolError)}));
  EXPECT_FALSE(p.relay.one<AttachResult>().attached);
  EXPECT_EQ(p.relay.conn.answer_attach(id, kIdentitySecret),
            make_error_code(errc::no_such_session));
}

TEST(Attach, ReusingAClosedAttachIdClosesTheConnection) {
  Attaching p;
  const auto id = p.attach();
  p.relay.feed(encode(sstp::Attach{id, "", std::string(kBobIdentity),
                                   auth::make_token(auth::TokenType::AccountHello, sequence32(1))}),
               p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::session_id_in_use);
}

TEST(Attach, NoProofWithin30SecondsIsStale) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.answer_attach(id, kIdentitySecret));
  (void)p.relay.take_output();  // the client never sees the challenge
  ASSERT_TRUE(p.relay.conn.next_deadline());
  p.now += 29s;
  p.relay.timer(p.now);
  EXPECT_EQ(p.relay.count<AttachResult>(), 0u);
  p.now += 1s;
  p.relay.timer(p.now);
  EXPECT_EQ(
      p.relay.take_output(),
      encode(sstp::Close{id, static_cast<std::uint8_t>(CloseReason::StaleAttachAuthenticate)}));
  EXPECT_FALSE(p.relay.one<AttachResult>().attached);
  // A late proof for the closed id is ignored (ClosedSessionIds).
  p.relay.feed(encode(sstp::AttachAuthenticate{
                   id, auth::make_token(auth::TokenType::AccountProof, auth::Mac{})}),
               p.now);
  EXPECT_TRUE(p.relay.conn.pending_output().empty());
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Attach, AttachWithChannelBindingBothSides) {
  Options c = Attaching::with_random(client_options(), {0xa0, 0xe0});
  Options r = Attaching::with_random(relay_options(), {0xc0, 0x60});
  c.channel_binding = kExporter;
  r.channel_binding = kExporter;
  Connected p(c, r);
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.answer_attach(id, kIdentitySecret));
  p.pump();
  EXPECT_TRUE(p.client.one<AttachResult>().attached);
  EXPECT_TRUE(p.relay.conn.identity_attached(std::string(kBobIdentity)));
}

TEST(Attach, OneAttachSessionAtATime) {
  Attaching p;
  std::uint32_t id = 0, again = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kBobIdentity), kIdentitySecret, id));
  EXPECT_EQ(p.client.conn.attach(std::string(kCarolIdentity), kIdentitySecret, again),
            make_error_code(errc::attach_in_progress));
  p.client_to_relay();
  // A second Attach on the wire while the first is open closes the connection (§8.7).
  p.relay.feed(encode(sstp::Attach{id + 2, "", std::string(kCarolIdentity),
                                   auth::make_token(auth::TokenType::AccountHello, sequence32(1))}),
               p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::session_id_in_use);
}

TEST(Attach, PipelinedAttachAfterProofIsAccepted) {
  Attaching p;
  (void)p.attach();
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.attach(std::string(kCarolIdentity), kIdentitySecret, id));
  p.client_to_relay();
  EXPECT_EQ(p.relay.last<AttachRequested>().identity_url, kCarolIdentity);
}

TEST(Attach, RelayChecksOfAttach) {
  const Bytes hello = auth::make_token(auth::TokenType::AccountHello, sequence32(1));
  {
    SCOPED_TRACE("ResourceURL names another relay");
    Connected p;
    p.relay.feed(encode(sstp::Attach{1, "grove://other.example", std::string(kBobIdentity), hello}),
                 p.now);
    EXPECT_EQ(p.relay.take_output(),
              concat({encode(sstp::AttachResponse{1, 6, {}}),
                      encode(sstp::Close{
                          1, static_cast<std::uint8_t>(CloseReason::UserAuthenticationFailed)})}));
    EXPECT_EQ(p.relay.count<AttachRequested>(), 0u);
  }
  {
    SCOPED_TRACE("ResourceURL is the relay's own DeviceURL");
    Connected p;
    p.relay.feed(encode(sstp::Attach{1, std::string(kRelayUrl), std::string(kBobIdentity), hello}),
                 p.now);
    EXPECT_EQ(p.relay.count<AttachRequested>(), 1u);
  }
  {
    SCOPED_TRACE("malformed token");
    Connected p;
    p.relay.feed(encode(sstp::Attach{1, "", std::string(kBobIdentity), hex("47 52 56 31 04")}),
                 p.now);
    EXPECT_EQ(p.relay.take_output(),
              concat({encode(sstp::AttachResponse{1, 6, {}}),
                      encode(sstp::Close{
                          1, static_cast<std::uint8_t>(CloseReason::UserAuthenticationFailed)})}));
  }
  {
    SCOPED_TRACE("id of an open session");
    Connected p;
    const auto sid = p.client_opens();
    p.relay.feed(encode(sstp::Attach{sid, "", std::string(kBobIdentity), hello}), p.now);
    expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::session_id_in_use);
  }
  {
    SCOPED_TRACE("even id from the client");
    Connected p;
    p.relay.feed(encode(sstp::Attach{2, "", std::string(kBobIdentity), hello}), p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::bad_session_id);
  }
}

TEST(Attach, AttachBeforeDeviceProofIsProtocolError) {
  Pair p;
  p.connect_and_accept();
  (void)p.client.take_output();  // the ConnectAuthenticate never arrives
  p.relay.feed(encode(sstp::Attach{1, "", std::string(kBobIdentity),
                                   auth::make_token(auth::TokenType::AccountHello, sequence32(1))}),
               p.now);
  expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
}

TEST(Attach, WrongRoleIsProtocolError) {
  const Bytes hello = auth::make_token(auth::TokenType::AccountHello, sequence32(1));
  const sstp::Command to_client[] = {
      sstp::Attach{2, "", std::string(kBobIdentity), hello},
      sstp::Register{2, std::string(kBobIdentity), {}},
      sstp::AttachAuthenticate{2, hello},
  };
  for (const auto& cmd : to_client) {
    Connected p;
    p.client.feed(encode(cmd), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  const sstp::Command to_relay[] = {
      sstp::AttachResponse{1, 0, {}},
      sstp::RegisterResponse{1, 0, {}},
  };
  for (const auto& cmd : to_relay) {
    Connected p;
    p.relay.feed(encode(cmd), p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
  Connected p;
  std::uint32_t id = 0;
  EXPECT_EQ(p.relay.conn.attach(std::string(kBobIdentity), kIdentitySecret, id),
            make_error_code(errc::wrong_role));
}

TEST(Attach, UnknownEventIdsAreCounted) {
  Connected p;
  for (unsigned i = 0; i < 15; ++i)
    p.client.feed(encode(sstp::AttachResponse{101 + 2 * i, 0, {}}), p.now);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  p.client.feed(encode(sstp::RegisterResponse{999, 0, {}}), p.now);
  expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                     errc::too_many_unknown_session_commands);
}

TEST(Register, NotAttachedGetsAuthenticationFailed) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.register_identity(std::string(kBobIdentity), id));
  p.pump();
  EXPECT_EQ(p.relay.count<RegisterRequested>(), 0u);
  EXPECT_EQ(p.client.one<RegisterResult>().response, AttachResponseId::AuthenticationFailed);
  // The session is over at both ends: another Register may follow.
  ASSERT_FALSE(p.client.conn.register_identity(std::string(kBobIdentity), id));
}

TEST(Register, QuotaAnswerReachesTheClient) {
  Attaching p;
  (void)p.attach();
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.register_identity(std::string(kBobIdentity), id));
  p.client_to_relay();
  ASSERT_FALSE(p.relay.conn.respond_register(id, AttachResponseId::QuotaWouldBeExceeded));
  p.relay_to_client();
  EXPECT_EQ(p.client.one<RegisterResult>().response, AttachResponseId::QuotaWouldBeExceeded);
}

TEST(Register, ClosedUnansweredReadsAsTryLater) {
  Attaching p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.register_identity(std::string(kBobIdentity), id));
  p.client.feed(encode(sstp::Close{id, 0}), p.now);
  EXPECT_EQ(p.client.one<RegisterResult>().response, AttachResponseId::TryLater);
}

// ---- FanoutOpen at the relay (§10.7) ----

sstp::FanoutDeviceEntry entry(std::string_view identity, std::string_view device = "",
                              std::string_view relay = "") {
  return {std::string(identity), std::string(device), std::string(relay), ""};
}

TEST(RelayFanout, OpenResponseCasesOfSteps4To8) {
  struct Case {
    const char* name;
    std::string resource;
    std::vector<sstp::FanoutDeviceEntry> entries;
    OpenResponseId answer;
  };
  const Case cases[] = {
      {"zero entries", std::string(kChat), {}, OpenResponseId::Ok},
      {"remote relay",
       std::string(kChat),
       {entry(kBobIdentity, "", "grove://other.example")},
       OpenResponseId::FanoutNotSupported},
      {"grooveWanDPP", "grooveWanDPP", {entry(kBobIdentity)}, OpenResponseId::NoResource},
      {"empty identity", std::string(kChat), {entry("", kBobDevice)}, OpenResponseId::Unknown},
      {"invalid device URL",
       std::string(kChat),
       {entry(kBobIdentity, "no url")},
       OpenResponseId::Unknown},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Connected p;
    p.relay.feed(encode(sstp::FanoutOpen{1, c.resource, 0, c.entries}), p.now);
    EXPECT_EQ(p.relay.take_output(), open_response(1, c.answer));
    EXPECT_EQ(p.relay.count<FanoutRequested>(), 0u);
  }
  // The relay's own DeviceURL as RelayURL is local.
  Connected p;
  p.relay.feed(
      encode(sstp::FanoutOpen{1, std::string(kChat), 0, {entry(kBobIdentity, "", kRelayUrl)}}),
      p.now);
  EXPECT_EQ(p.relay.count<FanoutRequested>(), 1u);
}

TEST(RelayFanout, FaultedEntriesGetLockedOutFormB) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_fanout(
      std::string(kChat),
      {entry(kBobIdentity, kBobDevice), entry(kCarolIdentity), entry(kBobIdentity, kAliceUrl)},
      id));
  p.client_to_relay();
  auto req = p.relay.one<FanoutRequested>();
  ASSERT_EQ(req.entries.size(), 3u);
  EXPECT_EQ(req.entries[1].identity_url, kCarolIdentity);
  ASSERT_FALSE(p.relay.conn.respond_fanout(id, Availability::ready, {2, 1}));
  p.relay_to_client();
  EXPECT_EQ(p.client.count<SessionReady>(), 1u);
  auto st = p.client.one<FanoutStatus>();
  EXPECT_EQ(st.status_id, static_cast<std::uint8_t>(sstp::StatusId::LockedOut));
  EXPECT_EQ(st.failed_entries, (std::vector<std::uint16_t>{1, 2}));
  EXPECT_FALSE(st.all_failed);

  // Messages flow on the fanout session like on an Open session.
  ASSERT_FALSE(p.client.conn.send_message(id, {}, as_bytes("hi all"), 1));
  p.client_to_relay();
  EXPECT_EQ(payloads(p.relay)[id], "hi all");
  ASSERT_EQ(p.relay.count<MessageEnded>(), 1u);

  // A later fault (quota) for the last entry: every entry failed.
  ASSERT_FALSE(p.relay.conn.report_fanout_status(id, sstp::StatusId::QuotaWouldBeExceeded, {0, 1}));
  p.relay_to_client();
  auto later = p.client.all<FanoutStatus>().back();
  EXPECT_EQ(later.failed_entries, (std::vector<std::uint16_t>{0}));  // 1 was reported already
  EXPECT_TRUE(later.all_failed);
  ASSERT_FALSE(p.relay.conn.close_session(id, CloseReason::EmptySession));
  p.relay_to_client();
  EXPECT_EQ(p.client.last<SessionClosed>().reason_id,
            static_cast<std::uint8_t>(CloseReason::EmptySession));
}

TEST(RelayFanout, FormAOnVersion15) {
  Options c = client_options();
  c.minor_version = sstp::kMinor15;
  Connected p(c);
  ASSERT_EQ(p.relay.conn.minor_version(), sstp::kMinor15);
  p.relay.feed(encode(sstp::FanoutOpen{1,
                                       std::string(kChat),
                                       0,
                                       {entry(kBobIdentity, kBobDevice), entry(kCarolIdentity),
                                        entry(kBobIdentity, kAliceUrl)}},
                      sstp::kMinor15),
               p.now);
  ASSERT_EQ(p.relay.count<FanoutRequested>(), 1u);
  ASSERT_FALSE(p.relay.conn.respond_fanout(1, Availability::ready, {0, 2}));
  auto cmds = commands(p.relay.take_output(), sstp::kMinor15);
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(std::get<sstp::SessionStatus>(cmds[1]),
            (sstp::SessionStatus{1, 5, std::string(kBobDevice), std::string(kBobIdentity), {}}));
  EXPECT_EQ(std::get<sstp::SessionStatus>(cmds[2]),
            (sstp::SessionStatus{1, 5, std::string(kAliceUrl), std::string(kBobIdentity), {}}));
}

TEST(RelayFanout, AllFaultedIsUnknown) {
  Connected p;
  p.relay.feed(encode(sstp::FanoutOpen{
                   1, std::string(kChat), 0, {entry(kBobIdentity), entry(kCarolIdentity)}}),
               p.now);
  ASSERT_FALSE(p.relay.conn.respond_fanout(1, Availability::ready, {0, 1}));
  EXPECT_EQ(p.relay.take_output(), open_response(1, OpenResponseId::Unknown));
  // The session is gone: a Message on it is an unknown id.
  p.relay.feed(encode(sstp::Message{1, 0, 0, "", 0, {}, {}}), p.now);
  expect_closed_with(p.relay, ConnectCloseReason::TooManyUnknownSessionCmds, errc::unknown_session);
}

}  // namespace
}  // namespace grove::engine::test
