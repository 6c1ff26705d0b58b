// Fanout sessions: sstp.md §8.5 (FanoutOpen received by a client, SessionStatus forms A and B)
// and the §14.15-14.17 bytes.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

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
