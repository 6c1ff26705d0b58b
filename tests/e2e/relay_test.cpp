// groved end to end: real groved and grove processes on loopback (issue 3).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "support/relay_fixture.hpp"

namespace grove::test {
namespace {

std::string http_get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    (void)!::write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::uint64_t metric(int admin_port, const std::string& name) {
  std::string body = http_get(admin_port, "/metrics");
  std::regex re("\n" + name + " ([0-9]+)");
  std::smatch m;
  return std::regex_search(body, m, re) ? std::stoull(m[1]) : 0;
}

std::vector<uint8_t> raw_exchange(int port, const std::vector<uint8_t>& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<uint8_t> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    (void)!::write(fd, bytes.data(), bytes.size());
    uint8_t buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

// `count` lines of 65535 bytes ("N " and padding), each a 64 KiB message for grove send --lines.
std::string big_lines(int count) {
  std::string lines;
  for (int i = 0; i < count; ++i) {
    std::string line = std::to_string(i) + " ";
    line.resize(65535, static_cast<char>('a' + i % 26));
    lines += line + "\n";
  }
  return lines;
}

// Waits until groved paused a sender for a live recipient's backlog (up to 60 s).
bool wait_for_pause(int admin_port) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (metric(admin_port, "grove_live_sender_pauses_total") == 0) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class RelayTest : public RelayFixture {
 protected:
  void SetUp() override {
    add_device("alice");
    add_device("bob");
    add_device("carol");
    start_relay();
    ASSERT_GT(port, 0);
  }
  void four_pairs(int loops);
};

TEST_F(RelayTest, StoresForOfflineDeviceAndDeliversInOrder) {
  auto a = send_args("alice", "bob");
  a.insert(a.end(), {"one", "two", "three"});
  ASSERT_EQ(run(a, dir / "send.out", dir / "send.err"), 0) << read_file(dir / "send.err");
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "3"});
  ASSERT_EQ(run(r, dir / "recv.out", dir / "recv.err"), 0) << read_file(dir / "recv.err");
  EXPECT_EQ(read_file(dir / "recv.out"), "one\ntwo\nthree\n");
  // Acknowledged copies are gone: a second receive gets nothing.
  r = receive_args("bob");
  r.insert(r.end(), {"--idle", "1"});
  ASSERT_EQ(run(r, dir / "recv2.out", dir / "recv2.err"), 0) << read_file(dir / "recv2.err");
  EXPECT_EQ(read_file(dir / "recv2.out"), "");
}

TEST_F(RelayTest, LiveRecipientGetsMessagesAndTheSslPortServesTheSameRelay) {
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "2"});
  Process receiver(r, dir / "recv.out", dir / "recv.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"))
      << read_file(dir / "relay.err");
  auto a = send_args("alice", "bob");
  a.push_back("via 2492");
  ASSERT_EQ(run(a, dir / "s1.out", dir / "s1.err"), 0) << read_file(dir / "s1.err");
  a = send_args("alice", "bob", ssl_port);
  a.push_back("via the ssl port");
  ASSERT_EQ(run(a, dir / "s2.out", dir / "s2.err"), 0) << read_file(dir / "s2.err");
  EXPECT_EQ(receiver.wait(), 0) << receiver.err();
  EXPECT_EQ(read_file(dir / "recv.out"), "via 2492\nvia the ssl port\n");
}

// A device sending to itself (its queue empty, so the live path would apply) is acknowledged
// at once: its own connection is not a live recipient (grove send takes no deliveries before
// its acknowledgements; the relay used to wait live_timeout, 10 s, before storing).
TEST_F(RelayTest, NoteToSelfIsStoredAtOnce) {
  auto a = send_args("alice", "alice");
  a.push_back("note to self");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(run(a, dir / "send.out", dir / "send.err"), 0) << read_file(dir / "send.err");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto r = receive_args("alice");
  r.insert(r.end(), {"-n", "1"});
  ASSERT_EQ(run(r, dir / "recv.out", dir / "recv.err"), 0) << read_file(dir / "recv.err");
  EXPECT_EQ(read_file(dir / "recv.out"), "note to self\n");
}

TEST_F(RelayTest, WrongSecretAndUnknownDeviceAreRefused) {
  auto r = receive_args("bob", "alice");  // bob's URL, alice's secret
  r.insert(r.end(), {"--idle", "1"});
  EXPECT_EQ(run(r, dir / "r.out", dir / "r.err"), 4);
  EXPECT_NE(read_file(dir / "r.err").find("DeviceAuthenticationFailed"), std::string::npos)
      << read_file(dir / "r.err");
  r = receive_args("mallory", "alice");
  r.insert(r.end(), {"--idle", "1"});
  EXPECT_EQ(run(r, dir / "r.out", dir / "r.err"), 4);
  EXPECT_NE(read_file(dir / "r.err").find("AuthenticationFailed"), std::string::npos);
  EXPECT_GE(metric(admin_port, "grove_auth_failures_total"), 1u);
}

TEST_F(RelayTest, OneDeviceCannotReadAnothersQueue) {
  auto a = send_args("alice", "bob");
  a.push_back("for bob only");
  ASSERT_EQ(run(a, dir / "s.out", dir / "s.err"), 0);
  auto r = receive_args("carol");
  r.insert(r.end(), {"--idle", "1"});
  ASSERT_EQ(run(r, dir / "carol.out", dir / "carol.err"), 0);
  EXPECT_EQ(read_file(dir / "carol.out"), "");
  r = receive_args("bob");
  r.insert(r.end(), {"-n", "1"});
  ASSERT_EQ(run(r, dir / "bob.out", dir / "bob.err"), 0);
  EXPECT_EQ(read_file(dir / "bob.out"), "for bob only\n");
}

TEST_F(RelayTest, GarbageOnEitherPortClosesOnlyThatConnection) {
  const std::vector<uint8_t> protocol_error = {0x04, 0x0b, 0, 0x03, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(raw_exchange(port, {0xee, 0x05, 0x00, 1, 2}), protocol_error);
  EXPECT_EQ(raw_exchange(ssl_port, {0x16, 0x03, 0x01, 0x02, 0x00}), protocol_error);  // a TLS hello
  auto a = send_args("alice", "bob");
  a.push_back("after garbage");
  EXPECT_EQ(run(a, dir / "s.out", dir / "s.err"), 0) << read_file(dir / "s.err");
  EXPECT_GE(metric(admin_port, "grove_protocol_errors_total"), 2u);
}

TEST_F(RelayTest, SurvivesSigkillWithEveryAcknowledgedMessageInOrder) {
  std::string lines;
  for (int i = 1; i <= 10000; ++i) lines += std::to_string(i) + "\n";
  { std::ofstream(dir / "lines.txt") << lines; }
  auto a = send_args("alice", "bob");
  // The relay stays down until the sender is gone: no reconnecting (resume_test covers that).
  a.insert(a.end(), {"--lines", "--retry-for", "0"});
  Process sender(a, dir / "s.out", dir / "s.err", dir / "lines.txt");
  // Kill the relay part-way, once it has stored a good share of the messages.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (metric(admin_port, "grove_messages_in_total") < 2000 &&
         std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  relay->kill(SIGKILL);
  auto src = sender.wait();
  ASSERT_TRUE(src.has_value());
  std::uint64_t confirmed = 10000;
  if (*src != 0) {
    std::smatch m;
    std::string err = read_file(dir / "s.err");
    ASSERT_TRUE(std::regex_search(err, m, std::regex("([0-9]+) of 10000 messages confirmed")))
        << err;
    confirmed = std::stoull(m[1]);
  }
  start_relay();
  // First take 100 and acknowledge them; they must never come again.
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "100", "--idle", "5"});
  const int rc1 = run(r, dir / "r1.out", dir / "r1.err");
  ASSERT_TRUE(rc1 == 0 || rc1 == 5)
      << rc1 << read_file(dir / "r1.err") << read_file(dir / "relay.err");
  r = receive_args("bob");
  r.insert(r.end(), {"--idle", "2"});
  ASSERT_EQ(run(r, dir / "r2.out", dir / "r2.err"), 0) << read_file(dir / "r2.err");
  std::istringstream got(read_file(dir / "r1.out") + read_file(dir / "r2.out"));
  std::string line;
  std::uint64_t expect = 1;
  while (std::getline(got, line)) {
    ASSERT_EQ(line, std::to_string(expect)) << "out of order or duplicated";
    ++expect;
  }
  EXPECT_GE(expect - 1, confirmed) << "a message the relay acknowledged was lost";
}

// Live back-pressure (docs/protocol.md, "Relay"): `grove send` keeps 1 MiB queued whatever
// is acknowledged, so 64 MiB of 64 KiB messages to an online receiver outrun it. The relay
// stops reading the sender while the receiver's backlog is full, instead of storing the rest:
// while the receiver stalls (SIGSTOP) the sender is paused with most messages not yet taken,
// nothing is lost or stored, and afterwards every message arrives once and in order with the
// relay's live copies bounded (2 windows waiting + 1 in flight + a read buffer, far below the
// 8 windows that used to spill into the store).
TEST_F(RelayTest, FastSenderToOnlineReceiverIsPausedInsteadOfStored) {
  relay->kill(SIGKILL);
  start_relay("live_timeout_seconds = 120\n");  // a slow test machine must not store anything
  constexpr int kCount = 1024;
  const std::string lines = big_lines(kCount);
  { std::ofstream(dir / "big.txt") << lines; }
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", std::to_string(kCount)});
  Process receiver(r, dir / "recv.out", dir / "recv.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"))
      << read_file(dir / "relay.err");
  ::kill(receiver.pid(), SIGSTOP);  // the receiver stalls: reads nothing, acknowledges nothing
  auto a = send_args("alice", "bob");
  a.push_back("--lines");
  Process sender(a, dir / "s.out", dir / "s.err", dir / "big.txt");
  ASSERT_TRUE(wait_for_pause(admin_port)) << read_file(dir / "relay.err");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::uint64_t taken = metric(admin_port, "grove_messages_in_total");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(metric(admin_port, "grove_messages_in_total"), taken) << "the sender was not paused";
  EXPECT_LT(taken, static_cast<std::uint64_t>(kCount) / 2);
  EXPECT_EQ(metric(admin_port, "grove_queue_messages"), 0u);
  EXPECT_FALSE(sender.wait(std::chrono::milliseconds(0)).has_value());
  ::kill(receiver.pid(), SIGCONT);
  EXPECT_EQ(sender.wait(std::chrono::seconds(120)), 0) << sender.err();
  EXPECT_EQ(receiver.wait(std::chrono::seconds(120)), 0) << receiver.err();
  EXPECT_TRUE(read_file(dir / "recv.out") == lines) << "lost, duplicated or out of order";
  EXPECT_EQ(metric(admin_port, "grove_live_acknowledged_total"),
            static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(metric(admin_port, "grove_live_stored_total"), 0u);
  EXPECT_EQ(metric(admin_port, "grove_queue_messages"), 0u);
  EXPECT_GE(metric(admin_port, "grove_live_sender_pauses_total"), 1u);
  const std::uint64_t peak = metric(admin_port, "grove_live_bytes_peak");
  EXPECT_GT(peak, 0u);
  EXPECT_LE(peak, std::uint64_t{26} << 20);
}

// The receiver of a paused sender disappears: its live copies go to the store, the sender
// resumes (the rest takes the store path) and is acknowledged for everything, and the next
// receiver gets every message once, in order.
TEST_F(RelayTest, PausedSenderResumesThroughTheStoreWhenTheReceiverDies) {
  relay->kill(SIGKILL);
  start_relay("live_timeout_seconds = 120\n");
  constexpr int kCount = 768;
  const std::string lines = big_lines(kCount);
  { std::ofstream(dir / "big.txt") << lines; }
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", std::to_string(kCount)});
  auto receiver = std::make_unique<Process>(r, dir / "recv1.out", dir / "recv1.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"))
      << read_file(dir / "relay.err");
  ::kill(receiver->pid(), SIGSTOP);
  auto a = send_args("alice", "bob");
  a.push_back("--lines");
  Process sender(a, dir / "s.out", dir / "s.err", dir / "big.txt");
  ASSERT_TRUE(wait_for_pause(admin_port)) << read_file(dir / "relay.err");
  receiver->kill(SIGKILL);  // its connection ends with every live copy unacknowledged
  EXPECT_EQ(sender.wait(std::chrono::seconds(120)), 0) << sender.err();
  EXPECT_GE(metric(admin_port, "grove_live_stored_total"), 1u);
  EXPECT_EQ(metric(admin_port, "grove_live_bytes"), 0u);
  r = receive_args("bob");
  r.insert(r.end(), {"-n", std::to_string(kCount)});
  ASSERT_EQ(run(r, dir / "recv2.out", dir / "recv2.err", {}, std::chrono::seconds(120)), 0)
      << read_file(dir / "recv2.err");
  EXPECT_TRUE(read_file(dir / "recv1.out") + read_file(dir / "recv2.out") == lines)
      << "lost, duplicated or out of order";
}

// groved with `loops` event loops and four pairs at once: two live (receivers online) and two
// through the store (receivers offline until their senders are done). Every message arrives
// once and in order, and the connections were spread over the loops.
void RelayTest::four_pairs(int loops) {
  relay->kill(SIGKILL);
  constexpr int kPairs = 4, kCount = 300;
  for (int i = 0; i < kPairs; ++i) {
    add_device("s" + std::to_string(i));
    add_device("r" + std::to_string(i));
  }
  start_relay({}, {"--event-loops", std::to_string(loops)});
  ASSERT_NE(read_file(dir / "relay.err").find("event_loops=" + std::to_string(loops)),
            std::string::npos);
  std::vector<std::string> lines(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    for (int n = 0; n < kCount; ++n) {
      std::string line = "pair " + std::to_string(i) + " message " + std::to_string(n) + " ";
      line.resize(1000, static_cast<char>('a' + (i + n) % 26));
      lines[i] += line + "\n";
    }
    std::ofstream(dir / ("lines" + std::to_string(i))) << lines[i];
  }
  auto receive = [&](int i) {
    auto r = receive_args("r" + std::to_string(i));
    r.insert(r.end(), {"-n", std::to_string(kCount)});
    return std::make_unique<Process>(r, dir / ("recv" + std::to_string(i)),
                                     dir / ("recv" + std::to_string(i) + ".err"));
  };
  auto authenticated = [&] {
    const std::string log = read_file(dir / "relay.err");
    std::size_t n = 0;
    for (auto at = log.find("event=authenticated"); at != std::string::npos;
         at = log.find("event=authenticated", at + 1))
      ++n;
    return n;
  };
  std::vector<std::unique_ptr<Process>> receivers;
  receivers.push_back(receive(0));
  receivers.push_back(receive(1));
  for (int w = 0; w < 600 && authenticated() < 2; ++w)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(authenticated(), 2u) << read_file(dir / "relay.err");
  std::vector<std::unique_ptr<Process>> senders;
  for (int i = 0; i < kPairs; ++i) {
    auto a = send_args("s" + std::to_string(i), "r" + std::to_string(i));
    a.push_back("--lines");
    senders.push_back(std::make_unique<Process>(a, dir / ("s" + std::to_string(i) + ".out"),
                                                dir / ("s" + std::to_string(i) + ".err"),
                                                dir / ("lines" + std::to_string(i))));
  }
  for (auto& s : senders) EXPECT_EQ(s->wait(std::chrono::seconds(120)), 0) << s->err();
  receivers.push_back(receive(2));
  receivers.push_back(receive(3));
  for (auto& r : receivers) EXPECT_EQ(r->wait(std::chrono::seconds(120)), 0) << r->err();
  for (int i = 0; i < kPairs; ++i)
    EXPECT_TRUE(read_file(dir / ("recv" + std::to_string(i))) == lines[i])
        << "pair " << i << ": lost, duplicated or out of order";
  EXPECT_GE(metric(admin_port, "grove_live_acknowledged_total"), 1u);
  // Every stored copy was acknowledged: the queue totals come back to zero once the deletes
  // are committed.
  for (int w = 0; w < 200 && metric(admin_port, "grove_queue_messages") != 0; ++w)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(metric(admin_port, "grove_queue_messages"), 0u);
  EXPECT_EQ(metric(admin_port, "grove_queue_bytes"), 0u);
  const std::string log = read_file(dir / "relay.err");
  std::set<std::string> used;
  std::regex re("event=authenticated [^\n]* loop=([0-9]+)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it)
    used.insert((*it)[1]);
  if (loops == 1)
    EXPECT_EQ(used, std::set<std::string>{"0"});
  else
    EXPECT_GE(used.size(), 2u) << "every connection on one loop";
}

TEST_F(RelayTest, FourPairsOverFourEventLoopsKeepEveryMessageInOrder) { four_pairs(4); }
TEST_F(RelayTest, FourPairsOnOneEventLoopKeepEveryMessageInOrder) { four_pairs(1); }

// A device reconnects (crossed connections, §7.9) while live copies wait unacknowledged on its
// old connection: they are stored ahead of anything routed to the new one, so the new
// connection gets every message once, in order: carol's, sent before it connected, then
// alice's, sent after (one delivery session: same resource, device-targeted).
TEST_F(RelayTest, CrossedConnectionGetsTheOldConnectionsLiveCopiesFirst) {
  relay->kill(SIGKILL);
  start_relay("live_timeout_seconds = 120\n");
  constexpr int kHalf = 200;
  const std::string lines = big_lines(2 * kHalf);
  const std::size_t half = lines.size() / 2;  // every line is 65536 bytes with its newline
  { std::ofstream(dir / "first.txt") << lines.substr(0, half); }
  { std::ofstream(dir / "second.txt") << lines.substr(half); }
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", std::to_string(2 * kHalf)});
  auto old_receiver = std::make_unique<Process>(r, dir / "recv1.out", dir / "recv1.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"))
      << read_file(dir / "relay.err");
  ::kill(old_receiver->pid(), SIGSTOP);  // its connection stays, reading nothing
  auto a = send_args("carol", "bob");
  a.push_back("--lines");
  Process first(a, dir / "s1.out", dir / "s1.err", dir / "first.txt");
  for (int w = 0; w < 600 && metric(admin_port, "grove_messages_in_total") < kHalf; ++w)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(metric(admin_port, "grove_messages_in_total"), static_cast<std::uint64_t>(kHalf));
  EXPECT_EQ(metric(admin_port, "grove_live_stored_total"), 0u);
  Process new_receiver(r, dir / "recv2.out", dir / "recv2.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=crossed")) << read_file(dir / "relay.err");
  a = send_args("alice", "bob");
  a.push_back("--lines");
  Process second(a, dir / "s2.out", dir / "s2.err", dir / "second.txt");
  EXPECT_EQ(first.wait(std::chrono::seconds(120)), 0) << first.err();
  EXPECT_EQ(second.wait(std::chrono::seconds(120)), 0) << second.err();
  EXPECT_EQ(new_receiver.wait(std::chrono::seconds(120)), 0) << new_receiver.err();
  EXPECT_TRUE(read_file(dir / "recv2.out") == lines) << "lost, duplicated or out of order";
  EXPECT_GE(metric(admin_port, "grove_live_stored_total"), 1u);
  old_receiver->kill(SIGKILL);
}

TEST_F(RelayTest, SighupReloadsDevicesAndSigtermDrains) {
  add_device("dave");  // added while groved runs: unknown until SIGHUP
  auto r = receive_args("dave");
  r.insert(r.end(), {"--idle", "1"});
  EXPECT_EQ(run(r, dir / "r.out", dir / "r.err"), 4);
  relay->kill(SIGHUP);
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "devices=4"));
  EXPECT_EQ(run(r, dir / "r.out", dir / "r.err"), 0) << read_file(dir / "r.err");
  relay->kill(SIGTERM);
  EXPECT_EQ(relay->wait(std::chrono::seconds(15)), 0);
}

}  // namespace
}  // namespace grove::test
