// The receiving side of message sequences: MessageReceiver (sstp.md §9.2), field checks (§9.6),
// unknown-session counting (§12.2) and the lifetime of MessageData views.

#include "engine/examples.hpp"

namespace grove::engine::test {
namespace {

// ---- §9.6 field checks ----

TEST(Receive, TotalSizeMatchIsAccepted) {
  Connected p;
  const std::uint32_t up = p.client_opens();
  MessageOptions mo;
  mo.total_size = 5;
  ASSERT_FALSE(p.client.conn.send_message(up, mo, text("hello"), 1));
  p.client_to_relay();
  EXPECT_EQ(p.relay.count<MessageEnded>(), 1u);
  EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
}

TEST(Receive, TotalSizeMismatchIsProtocolError) {
  for (std::uint64_t announced : {4u, 6u, 0u}) {
    SCOPED_TRACE(announced);
    Connected p;
    const std::uint32_t up = p.client_opens();
    MessageOptions mo;
    mo.total_size = announced;
    ASSERT_FALSE(p.client.conn.send_message(up, mo, text("hello"), 1));
    p.client_to_relay();
    EXPECT_EQ(p.relay.count<MessageEnded>(), 0u);
    expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::total_size_mismatch);
  }
}

TEST(Receive, FragmentationChecks) {
  struct F {
    std::uint32_t index, count;
    bool ok;
  };
  for (const F f : {F{0, 0, false}, F{0, 1, true}, F{1, 1, false}, F{2, 3, true}, F{5, 3, false}}) {
    SCOPED_TRACE(::testing::Message() << f.index << "/" << f.count);
    Connected p;
    const std::uint32_t up = p.client_opens();
    MessageOptions mo;
    mo.fragmentation = sstp::FragmentationFields{{}, f.index, f.count};
    ASSERT_FALSE(p.client.conn.send_message(up, mo, text("frag"), 1));
    p.client_to_relay();
    if (f.ok) {
      EXPECT_EQ(p.relay.one<MessageStarted>().header.fragmentation.fragment_count, f.count);
      EXPECT_EQ(p.relay.count<ConnectionClosed>(), 0u);
    } else {
      EXPECT_EQ(p.relay.count<MessageStarted>(), 0u);
      expect_closed_with(p.relay, ConnectCloseReason::ProtocolError, errc::bad_fragmentation);
    }
  }
}

// ---- MessageReceiver state errors (§9.2), fed to a client that receives on session 2 ----

struct Receiving : Connected {
  Receiving() { down = relay_opens(); }
  std::uint32_t down = 0;
  void feed(std::initializer_list<sstp::Command> cmds) {
    for (const auto& c : cmds) client.feed(encode(c), now);
  }
};

TEST(Receive, MessageWhileReadyOrBufferingIsProtocolError) {
  {
    Receiving r;
    r.feed({msg(r.down), msg(r.down)});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
  {
    Receiving r;
    r.feed({msg(r.down), sstp::Data{r.down, text("x")}, msg(r.down)});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
}

TEST(Receive, DataWhileWaitingIsProtocolError) {
  Receiving r;
  r.feed({sstp::Data{r.down, text("x")}});
  expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
}

TEST(Receive, EndMessageWhileWaitingOrReadyIsProtocolError) {
  {
    Receiving r;
    r.feed({sstp::EndMessage{r.down}});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
  {
    Receiving r;
    r.feed({msg(r.down), sstp::EndMessage{r.down}});
    expect_closed_with(r.client, ConnectCloseReason::ProtocolError, errc::message_state);
  }
}

TEST(Receive, MessageBeforeOpenResponseIsProtocolError) {
  Connected p;
  std::uint32_t id = 0;
  ASSERT_FALSE(p.relay.conn.open_session(std::string(kChat), std::string(kBobIdentity), "", id));
  p.relay_to_client();
  p.client.feed(encode(msg(id)), p.now);
  expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::message_state);
}

TEST(Receive, MessageAndDataOnOwnSessionAreProtocolError) {
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    const std::uint32_t up = p.client_opens();
    const sstp::Command c = kind == 0   ? sstp::Command(msg(up))
                            : kind == 1 ? sstp::Command(sstp::Data{up, text("x")})
                                        : sstp::Command(sstp::EndMessage{up});
    p.client.feed(encode(c), p.now);
    expect_closed_with(p.client, ConnectCloseReason::ProtocolError, errc::message_on_own_session);
  }
}

TEST(Receive, MessageAndDataOnUnknownIdAreTooManyUnknownSessionCmds) {
  for (int kind = 0; kind < 2; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    const sstp::Command c =
        kind == 0 ? sstp::Command(msg(40)) : sstp::Command(sstp::Data{40, text("x")});
    p.client.feed(encode(c), p.now);
    expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::unknown_session);
  }
}

TEST(Receive, SixteenthUnknownSessionCommandCloses) {
  // §12.2: 15 are tolerated; the 16th closes; any mix of counted commands.
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Connected p;
    for (int i = 0; i < 15; ++i) {
      const std::uint32_t id = 100 + 2 * static_cast<std::uint32_t>(i);
      const sstp::Command c =
          kind == 0    ? sstp::Command(sstp::EndMessage{id})
          : kind == 1  ? sstp::Command(sstp::OpenResponse{id + 1, 0})
          : i % 3 == 0 ? sstp::Command(sstp::EndMessage{id})
          : i % 3 == 1 ? sstp::Command(sstp::SessionStatus{id + 1, 5, "", "grove://x/i/y", {}})
                       : sstp::Command(sstp::RegisterResponse{id + 1, 0, {}});
      p.client.feed(encode(c), p.now);
    }
    EXPECT_EQ(p.client.count<ConnectionClosed>(), 0u) << "15 are tolerated";
    EXPECT_TRUE(p.client.conn.pending_output().empty());
    // Unrelated valid traffic does not reset the count.
    p.client.feed(encode(sstp::Noop{0}), p.now);
    p.client.feed(encode(sstp::EndMessage{999}), p.now);
    expect_closed_with(p.client, ConnectCloseReason::TooManyUnknownSessionCmds,
                       errc::too_many_unknown_session_commands);
  }
}

TEST(Receive, MessageDataViewsAreValidUntilNextReceive) {
  // The zero-copy view of a Data in one receive() call points into the caller's buffer.
  Receiving r;
  const Bytes stream = concat({encode(msg(r.down)), encode(sstp::Data{r.down, text("abc")}),
                               encode(sstp::EndMessage{r.down})});
  ASSERT_EQ(r.client.conn.receive(stream, r.now), stream.size());
  bool seen = false;
  while (auto e = r.client.conn.next_event()) {
    if (auto* d = std::get_if<MessageData>(&*e)) {
      seen = true;
      EXPECT_GE(d->data.data(), stream.data());
      EXPECT_LE(d->data.data() + d->data.size(), stream.data() + stream.size());
      EXPECT_EQ(str(d->data), "abc");
    }
  }
  EXPECT_TRUE(seen);
}

TEST(Receive, FrameAssembledInBufferStopsTheReceiveCall) {
  // A Data split across receive() calls is handed out of the reader's buffer; receive() must
  // stop after it so that the view survives until the caller drained events.
  Receiving r;
  const Bytes data1 = encode(sstp::Data{r.down, text("first")});
  const Bytes data2 = encode(sstp::Data{r.down, text("second")});
  const Bytes all = concat({encode(msg(r.down)), data1, data2, encode(sstp::EndMessage{r.down})});
  const std::size_t cut = encode(msg(r.down)).size() + 3;  // inside data1
  ASSERT_EQ(r.client.conn.receive(ByteView(all).first(cut), r.now), cut);
  r.client.drain();
  ByteView rest = ByteView(all).subspan(cut);
  const std::size_t used = r.client.conn.receive(rest, r.now);
  EXPECT_EQ(used, data1.size() - 3) << "stops after the buffered frame";
  std::string got;
  while (auto e = r.client.conn.next_event())
    if (auto* d = std::get_if<MessageData>(&*e)) got += str(d->data);
  EXPECT_EQ(got, "first");
  r.client.feed(rest.subspan(used), r.now);
  EXPECT_EQ(payloads(r.client)[r.down], "second");
  EXPECT_EQ(r.client.count<MessageEnded>(), 1u);
}

}  // namespace
}  // namespace grove::engine::test
