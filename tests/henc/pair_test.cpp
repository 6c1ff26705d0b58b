// Client and relay cores talking to each other in memory: every mode establishes, carries
// bytes both ways, cuts Polling data at 32768, renews LongLived at its budget, and closes.
#include "pair.hpp"

#include <gtest/gtest.h>

namespace grove::henc::test {
namespace {

class PairTest : public ::testing::TestWithParam<Mode> {};

TEST_P(PairTest, EstablishesAndCarriesBytesBothWays) {
  Pair p(GetParam());
  p.client.send(as_bytes("CONNECT"), p.now);  // the SSTP Connect, queued until Established
  p.run();
  if (GetParam() != Mode::polling) {
    ASSERT_EQ(p.client.state(), ClientCore::State::established) << p.client.error().message();
  }
  ASSERT_EQ(p.vcs.size(), 1u);
  p.relay_send("RESPONSE");
  ASSERT_EQ(p.client.state(), ClientCore::State::established) << p.client.error().message();
  EXPECT_EQ(p.relay_sstp(), "CONNECT");
  EXPECT_EQ(p.client_input(), "RESPONSE");
  // 200 kB each way.
  std::string up(200000, 'u'), down(200000, 'd');
  for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<char>(i * 7);
  for (std::size_t i = 0; i < down.size(); ++i) down[i] = static_cast<char>(i * 11);
  p.at_relay.clear();
  p.client.send(as_bytes(up), p.now);
  p.relay.vc_send(p.vcs[0], as_bytes(down), p.now);
  p.run();
  std::string got = p.client_input();
  for (int i = 0; i < 200 && got.size() < down.size(); ++i) {  // Polling fetches on its timer
    p.advance(std::chrono::milliseconds(250));
    got += p.client_input();
  }
  EXPECT_TRUE(p.relay_sstp() == up) << p.relay_sstp().size();
  EXPECT_TRUE(got == down) << got.size();
  EXPECT_EQ(p.client.state(), ClientCore::State::established) << p.client.error().message();
}

TEST_P(PairTest, SstpCloseOnTheClientEndsTheVirtualConnection) {
  Pair p(GetParam());
  p.client.send(as_bytes("CONNECT"), p.now);
  p.run();
  p.relay_send("RESPONSE");
  p.client.send(as_bytes("BYE"), p.now);
  p.client.close(p.now);
  p.run();
  EXPECT_EQ(p.client.state(), ClientCore::State::closed);
  EXPECT_FALSE(p.client.error()) << p.client.error().message();
  EXPECT_EQ(p.relay_sstp(), "CONNECTBYE");
}

TEST_P(PairTest, SstpCloseOnTheRelayFlushesThenCloses) {
  Pair p(GetParam());
  p.client.send(as_bytes("CONNECT"), p.now);
  p.run();
  p.relay_send("RESPONSE");
  p.relay.vc_send(p.vcs[0], as_bytes("CLOSE"), p.now);
  p.relay.vc_close(p.vcs[0], p.now);
  p.run();
  for (int i = 0; i < 20 && p.client.state() != ClientCore::State::closed; ++i)
    p.advance(std::chrono::milliseconds(300));
  EXPECT_EQ(p.client_input(), "RESPONSECLOSE");
  EXPECT_EQ(p.client.state(), ClientCore::State::closed);
}

INSTANTIATE_TEST_SUITE_P(Modes, PairTest,
                         ::testing::Values(Mode::long_lived, Mode::keep_alive, Mode::polling),
                         [](const auto& p) { return std::string(mode_name(p.param)); });

TEST(PairLongLived, RenewsBeforeTheBudget) {
  ClientOptions co = client_options(Mode::long_lived);
  co.budget = 4096;
  Pair p(Mode::long_lived, {}, co);
  p.run();
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  p.client.send(Bytes(4000, 1), p.now);
  p.run();
  EXPECT_EQ(p.client.state(), ClientCore::State::established);
  p.client.send(Bytes(100, 1), p.now);  // 22 + 4000 + 100 > 4096
  EXPECT_EQ(p.client.state(), ClientCore::State::closed);
  EXPECT_EQ(p.client.error(), errc::renew);
}

TEST(PairLongLived, RelayClosesAtItsBudget) {
  ClientOptions co = client_options(Mode::long_lived);
  co.budget = 2048;
  Pair p(Mode::long_lived, {}, co);
  p.run();
  ASSERT_EQ(p.vcs.size(), 1u);
  p.relay.vc_send(p.vcs[0], Bytes(2000, 2), p.now);  // 22 + 2000 fits
  p.run();
  EXPECT_FALSE(p.relay.vc_finished(p.vcs[0]));
  p.relay.vc_send(p.vcs[0], Bytes(100, 2), p.now);  // 2122 > 2048
  p.run();
  EXPECT_TRUE(p.relay.vc_finished(p.vcs[0]));
  EXPECT_EQ(p.relay.vc_error(p.vcs[0]), errc::renew);
  EXPECT_EQ(p.client.state(), ClientCore::State::closed);
}

TEST(PairLongLived, ClientGoesDirectOnceEstablished) {
  ClientOptions co = client_options(Mode::long_lived);
  co.budget = 4096;
  Pair p(Mode::long_lived, {}, co);
  EXPECT_FALSE(p.client.stream_direct(0));
  EXPECT_FALSE(p.client.send_direct(10));  // not established: send() queues
  p.run();
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  EXPECT_TRUE(p.client.stream_direct(0));
  EXPECT_FALSE(p.client.stream_direct(1));  // the POST only ever carries an error answer
  // 4000 bytes written by the caller itself: counted, not queued.
  ASSERT_TRUE(p.client.send_direct(4000));
  EXPECT_TRUE(p.client.output(1).empty());
  EXPECT_EQ(p.client.send_backlog(), 4000u);
  // While that write runs, more bytes queue behind it; they go after it.
  EXPECT_FALSE(p.client.send_direct(10));
  p.client.send(as_bytes("abc"), p.now);
  EXPECT_EQ(std::string(as_chars(p.client.output(1))), "abc");
  p.client.wrote(1);
  EXPECT_EQ(p.client.send_backlog(), 3u);
}

TEST(PairLongLived, ClientDirectSendKeepsTheBudget) {
  ClientOptions co = client_options(Mode::long_lived);
  co.budget = 4096;
  Pair p(Mode::long_lived, {}, co);
  p.run();
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  EXPECT_FALSE(p.client.send_direct(4075));  // 22 + 4075 > 4096: send() renews
  ASSERT_TRUE(p.client.send_direct(4074));
  p.client.wrote(1);
  EXPECT_FALSE(p.client.send_direct(1));
  p.client.send(as_bytes("x"), p.now);
  EXPECT_EQ(p.client.error(), errc::renew);
}

TEST(PairKeepAlive, NoDirectPaths) {
  Pair p(Mode::keep_alive);
  p.run();
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  EXPECT_FALSE(p.client.stream_direct(0));
  EXPECT_FALSE(p.client.send_direct(10));
}

// The client's input keeps its order when the SSTP side reads less than arrived each time.
TEST(PairLongLived, ClientInputKeepsOrderAcrossPartialReads) {
  Pair p(Mode::long_lived);
  p.run();
  ASSERT_EQ(p.vcs.size(), 1u);
  std::string sent, got;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(3000 + i, static_cast<char>('A' + i % 26));
    chunk[0] = static_cast<char>(i);
    p.relay.vc_send(p.vcs[0], as_bytes(chunk), p.now);
    p.run();
    sent += chunk;
    ByteView in = p.client.input();
    const std::size_t n = in.size() / 2;
    got.append(as_chars(in.first(n)));
    p.client.consume_input(n);
  }
  got += p.client_input();
  EXPECT_TRUE(got == sent) << got.size() << " of " << sent.size();
}

TEST(PairPolling, IdlePollsBackOffAndCarryNoops) {
  Pair p(Mode::polling);
  p.client.send(as_bytes("CONNECT"), p.now);
  p.run();
  p.relay_send("RESPONSE");
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  p.at_relay.clear();
  const Bytes noop = {0x10, 0x07, 0, 0, 0, 0, 0};
  std::vector<long> intervals;
  for (int i = 0; i < 24; ++i) {
    intervals.push_back(p.client.poll_interval().count());
    p.advance(p.client.poll_interval());
  }
  // §5.8: 4 empty exchanges at 250 ms (the first is the immediate poll after the data answer),
  // 4 at 500, 4 at 1 s, 4 at 2 s, 4 at 4 s, then 8 s.
  const std::vector<long> expect = {250,  250,  250,  500,  500,  500,  500,  1000,
                                    1000, 1000, 1000, 2000, 2000, 2000, 2000, 4000,
                                    4000, 4000, 4000, 8000, 8000, 8000, 8000, 8000};
  EXPECT_EQ(intervals, expect);
  ASSERT_EQ(p.at_relay.size() % 7, 0u);
  EXPECT_EQ(p.at_relay.size(), 7u * 24);
  EXPECT_TRUE(std::equal(noop.begin(), noop.end(), p.at_relay.begin()));
  // Data resets the interval to the minimum.
  p.relay_send("x");
  p.advance(p.client.poll_interval());
  EXPECT_EQ(p.client.poll_interval().count(), 250);
  EXPECT_EQ(p.client_input(), "RESPONSEx");
}

TEST(PairPolling, EveryPostUsesItsOwnConnectionAndFitsIn32768) {
  Pair p(Mode::polling);
  p.client.send(Bytes(100000, 3), p.now);
  p.run();
  p.relay_send("R");
  p.run();
  EXPECT_EQ(p.relay_sstp().size(), 100000u);
  EXPECT_GE(p.connections, 2u + 3u);  // probe, handshake, then ≥ 3 data POSTs of ≤ 32768
}

TEST(PairKeepAlive, HeldGetIsAnsweredEmptyAfter30s) {
  Pair p(Mode::keep_alive);
  p.run();
  ASSERT_EQ(p.client.state(), ClientCore::State::established);
  const unsigned before = p.client.requests();
  p.advance(std::chrono::seconds(31));
  EXPECT_EQ(p.client.state(), ClientCore::State::established);
  EXPECT_EQ(p.client.requests(), before + 1);  // the empty answer, then a new GET
  p.relay_send("late");
  EXPECT_EQ(p.client_input(), "late");
}

TEST(PairKeepAlive, RelayDropsAnIdleVirtualConnection) {
  Pair p(Mode::keep_alive);
  p.run();
  ASSERT_EQ(p.vcs.size(), 1u);
  // The client keeps a GET held, so the VC stays; without it (client gone) it expires.
  p.link.clear();
  p.now += std::chrono::seconds(31);
  p.relay.on_timer(p.now);
  p.now += std::chrono::seconds(91);
  p.relay.on_timer(p.now);
  EXPECT_TRUE(p.relay.vc_finished(p.vcs[0]));
  EXPECT_EQ(p.relay.vc_error(p.vcs[0]), errc::idle_timeout);
}

TEST(PairHandshake, ClientTimesOutWithoutRelay) {
  ClientCore c(client_options(Mode::keep_alive), TimePoint{});
  EXPECT_TRUE(c.wants_connect(0));
  c.on_timer(TimePoint{} + std::chrono::seconds(16));
  EXPECT_EQ(c.state(), ClientCore::State::closed);
  EXPECT_EQ(c.error(), errc::establishment_timeout);
}

}  // namespace
}  // namespace grove::henc::test
