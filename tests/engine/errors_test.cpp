// Error handling: sstp.md §3.5, §12.1 and style.md rule 4. Every malformed-bytes path must end with
// ConnectClose ProtocolError queued, one ConnectionClosed naming the precise errc, finished() once
// the output drained, and later input consumed without effect (§7.2 C12).
#include "engine/pair.hpp"

namespace grove::engine::test {
namespace {

struct Malformed {
  const char* name;
  Bytes bytes;
  errc why;
};

// One malformed command per codec errc (§3.5 P2-P4, §3.2), as the relay could send it.
std::vector<Malformed> malformed_commands() {
  return {
      {"unknown id 0x13", hex("13 07 00 00 00 00 00"), errc::unknown_command_id},
      {"unknown id 0x00", hex("00 07 00 00 00 00 00"), errc::unknown_command_id},
      {"unknown id 0xff", hex("ff 03 00"), errc::unknown_command_id},
      {"length below 3", hex("10 02 00"), errc::bad_command_length},
      {"length 0", hex("10 00 00 00 00 00 00"), errc::bad_command_length},
      {"Noop too long", hex("10 08 00 00 00 00 00 00"), errc::bad_command_length},
      {"Close too short", hex("11 07 00 02 00 00 00"), errc::bad_command_length},
      {"ConnectClose too long", hex("04 0c 00 00 00 00 00 00 00 00 00 00"),
       errc::bad_command_length},
      {"Data above 2055", hex("0e 08 08 02 00 00 00"), errc::bad_command_length},
      {"Open below Min", hex("05 0c 00 02 00 00 00 00 00 00 00 00"), errc::bad_command_length},
      {"Open reserved cut", hex("05 0d 00 02 00 00 00 61 00 00 00 00 00"), errc::truncated_field},
      {"Open unterminated", hex("05 0d 00 02 00 00 00 61 61 61 61 61 61"),
       errc::string_not_terminated},
      {"Open byte 0x7f", hex("05 0e 00 02 00 00 00 7f 00 00 00 00 00 00"), errc::bad_string_byte},
      {"Open byte 0x80", hex("05 0e 00 02 00 00 00 80 00 00 00 00 00 00"), errc::bad_string_byte},
      {"token past end", hex("03 07 00 05 00 41 42"), errc::token_too_long},
      {"Message E group missing", hex("0d 0d 00 02 00 00 00 00 00 00 00 02 00"),
       errc::missing_optional_group},
      {"Message S group short",
       hex("0d 1d 00 02 00 00 00 00 00 00 00 10 00 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
           "00"),
       errc::missing_optional_group},
      {"Message trailing byte", hex("0d 0e 00 02 00 00 00 00 00 00 00 00 00 ff"),
       errc::trailing_bytes},
      {"FanoutOpen entries missing", hex("06 0e 00 02 00 00 00 61 00 00 01 00 00 00"),
       errc::bad_fanout_entries},
      {"SessionStatus odd tail", hex("12 0c 00 01 00 00 00 05 00 00 00 07"),
       errc::bad_session_status},
      {"SessionStatus zero indexes", hex("12 0d 00 01 00 00 00 05 00 00 00 00 00"),
       errc::bad_session_status},
  };
}

TEST(Errors, MalformedBytesWhole) {
  for (const auto& m : malformed_commands()) {
    SCOPED_TRACE(m.name);
    Connected p;
    p.client.feed(m.bytes, p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, m.why);
  }
}

TEST(Errors, MalformedBytesByteByByte) {
  for (const auto& m : malformed_commands()) {
    SCOPED_TRACE(m.name);
    Connected p;
    p.client.feed(m.bytes, p.now, 1);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, m.why);
  }
}

TEST(Errors, MalformedBytesAfterValidOnesAndFollowedByMore) {
  // Commands before the bad one are processed; nothing after it is (C12), whatever the cut.
  for (const auto& m : malformed_commands()) {
    for (std::size_t chunk : {0u, 1u, 5u}) {
      SCOPED_TRACE(::testing::Message() << m.name << " chunk " << chunk);
      Connected p;
      std::uint32_t id = 0;
      ASSERT_FALSE(
          p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
      const Bytes open = p.relay.take_output();
      const Bytes after =
          encode(sstp::Open{4, std::string(kChat), std::string(kBobIdentity), "", 0});
      const Bytes stream = concat({open, m.bytes, after});
      p.client.feed(stream, p.now, chunk);
      ASSERT_EQ(p.client.count<SessionRequested>(), 1u) << "only the Open before the bad bytes";
      EXPECT_EQ(p.client.one<SessionRequested>().session_id, id);
      expect_closed_with(p.client, ConnectCloseReason::ProtocolError, m.why);
    }
  }
}

TEST(Errors, MalformedBytesBeforeConnect) {
  // §7.3.1 step 3 / §12.1: the acceptor answers malformed bytes with ConnectClose ProtocolError.
  for (const auto& m : malformed_commands()) {
    SCOPED_TRACE(m.name);
    Side relay(relay_options(), kT0);
    relay.feed(m.bytes, kT0);
    expect_closed_with(relay, ConnectCloseReason::ProtocolError, m.why);
  }
}

TEST(Errors, MalformedBytesAtTheRelayBeforeConnectAuthenticate) {
  for (const auto& m : malformed_commands()) {
    SCOPED_TRACE(m.name);
    Pair p;
    p.connect_and_accept();
    (void)p.client.take_output();
    p.relay.feed(m.bytes, p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, m.why);
  }
}

TEST(Errors, ConnectCloseCarriesPendingMessageCount) {
  // §7.7 sending step 1: even an error close acknowledges what is complete.
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.relay_to_client();
  ASSERT_FALSE(p.client.conn.respond_open(id, Availability::ready));
  p.client_to_relay();
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(p.relay.conn.send_message(id, {}, {}, 1 + i));
  p.relay_to_client();
  for (const auto& e : p.client.all<MessageEnded>()) p.client.conn.message_processed(e.seq);
  p.client.feed(hex("13 07 00 00 00 00 00"), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::unknown_command_id, 2);
}

TEST(Errors, PeerSeesTheConnectCloseReason) {
  Connected p;
  p.client.feed(hex("10 08 00 00 00 00 00 00"), p.now);
  p.client_to_relay();
  const auto closed = p.relay.last<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.reason, ConnectCloseReason::ProtocolError);
  EXPECT_FALSE(closed.error);
  EXPECT_TRUE(p.relay.conn.finished());
  EXPECT_TRUE(p.relay.conn.pending_output().empty()) << "nothing is sent in reply (§7.7)";
}

TEST(Errors, WrongRoleCommandsAtTheClient) {
  // §8.7 / §12.1: a client receiving Attach, Register, AttachAuthenticate; ConnectAuthenticate
  // is covered in handshake_test.
  const sstp::Command cmds[] = {
      sstp::Attach{2, "", std::string(kBobIdentity), {}},
      sstp::Register{2, std::string(kBobIdentity), {}},
      sstp::AttachAuthenticate{2, {}},
  };
  for (const auto& c : cmds) {
    SCOPED_TRACE(sstp::command_name(sstp::command_id(c)));
    Connected p;
    p.client.feed(encode(c), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Errors, WrongRoleCommandsAtTheRelay) {
  for (const sstp::Command& c : {sstp::Command(sstp::AttachResponse{1, 0, {}}),
                                 sstp::Command(sstp::RegisterResponse{1, 0, {}})}) {
    SCOPED_TRACE(sstp::command_name(sstp::command_id(c)));
    Connected p;
    p.relay.feed(encode(c), p.now);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::unexpected_command);
  }
}

TEST(Errors, AttachResponseForUnknownEventIsCountedAtClient) {
  // §8.7 last row: counted (§12.2), not fatal.
  Connected p;
  p.client.feed(encode(sstp::AttachResponse{7, 0, {}}), p.now);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
}

TEST(Errors, ErrorCategoryIsGroveSstp) {
  Connected p;
  p.client.feed(hex("13 07 00 00 00 00 00"), p.now);
  const auto closed = p.client.last<ConnectionClosed>();
  EXPECT_STREQ(closed.error.category().name(), "grove.sstp");
  EXPECT_FALSE(closed.error.message().empty());
}

TEST(Errors, LocalCallsAfterCloseAreRefused) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.client.conn.close();
  const Bytes cc = p.client.take_output();
  EXPECT_EQ(Bytes(cc.end() - 11, cc.end()), connect_close(ConnectCloseReason::NoReason));
  EXPECT_EQ(p.client.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id),
            errc::not_established);
  EXPECT_TRUE(p.client.conn.begin_message(id, {}));
  EXPECT_TRUE(p.client.conn.close_session(id));
  p.client.conn.close();  // a second close does nothing
  p.client.conn.message_processed(0);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 1u);
  EXPECT_TRUE(p.client.conn.finished());
}

TEST(Errors, EndOfStreamWhileAbortingAddsNoSecondEvent) {
  Connected p;
  p.client.feed(hex("13 07 00 00 00 00 00"), p.now);
  p.client.conn.receive_eof();
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 1u);
  EXPECT_EQ(p.client.conn.state(), Connection::State::gone);
  EXPECT_TRUE(p.client.conn.finished());
  EXPECT_EQ(p.client.conn.next_deadline(), std::nullopt);
}

TEST(Errors, TruncatedStreamAtEndOfStream) {
  // A command cut off by the end of the stream is C13, not a protocol error.
  Connected p;
  p.client.feed(hex("10 07 00 00"), p.now);
  EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u);
  p.client.conn.receive_eof();
  const auto closed = p.client.last<ConnectionClosed>();
  EXPECT_TRUE(closed.by_peer);
  EXPECT_EQ(closed.error, errc::connection_closed);
  EXPECT_TRUE(p.client.conn.pending_output().empty());
}

}  // namespace
}  // namespace grove::engine::test
