// Fanout and identity delivery through a real groved (issue 3): one upload to many devices
// (sstp.md §10.7), Attach and Register (§11), the identity's pending queue.
#include <fstream>
#include <regex>
#include <thread>

#include "support/relay_fixture.hpp"

namespace grove::test {
namespace {

std::string file_of(const std::string& folder) {  // the one file a receive -o wrote
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec))
    if (e.is_regular_file()) return read_file(e.path());
  return {};
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class FanoutTest : public RelayFixture {};

// The done-means: one 5 MB message to 50 devices, 10 of them offline. The sender's
// acknowledgement comes only once every copy is durable: groved is killed the moment the
// sender reports success, and every device still gets the file, byte-identical.
TEST_F(FanoutTest, FiveMegabytesToFiftyDevicesTenOffline) {
  constexpr int kDevices = 50, kOnline = 40;
  add_device("sender");
  for (int i = 0; i < kDevices; ++i) add_device("d" + std::to_string(i));
  start_relay();
  std::string payload(5u << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>((i * 2654435761u) >> 13);
  { std::ofstream(dir / "big.bin", std::ios::binary) << payload; }

  std::vector<std::unique_ptr<Process>> online;
  for (int i = 0; i < kOnline; ++i) {
    const std::string name = "d" + std::to_string(i);
    auto r = receive_args(name);
    r.insert(r.end(), {"-n", "1", "-o", dir / ("in-" + name)});
    online.push_back(std::make_unique<Process>(r, "", dir / (name + ".err")));
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count_of(read_file(dir / "relay.err"), "event=authenticated") < kOnline &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(count_of(read_file(dir / "relay.err"), "event=authenticated"), std::size_t{kOnline});

  std::vector<std::string> s = {kGrove,
                                "send",
                                "--no-progress",
                                "-c",
                                "127.0.0.1:" + std::to_string(port),
                                "--relay-url",
                                kRelayUrl,
                                "--device-url",
                                dev("sender"),
                                "--secret-file",
                                dir / "sender.key",
                                "--retry-for",
                                "0",
                                "-f",
                                dir / "big.bin"};
  for (int i = 0; i < kDevices; ++i) s.insert(s.end(), {"--to", dev("d" + std::to_string(i))});
  ASSERT_EQ(run(s, dir / "send.out", dir / "send.err", {}, std::chrono::seconds(120)), 0)
      << read_file(dir / "send.err");
  relay->kill(SIGKILL);  // acknowledged = durable: nothing may be lost from here on
  relay->wait();
  for (auto& p : online) p->wait(std::chrono::seconds(30));  // done, or cut off by the kill

  start_relay();
  for (int i = 0; i < kDevices; ++i) {
    const std::string name = "d" + std::to_string(i);
    if (file_of(dir / ("in-" + name)) == payload) continue;  // delivered before the kill
    auto r = receive_args(name);
    r.insert(r.end(), {"-n", "1", "--idle", "20", "-o", dir / ("again-" + name)});
    ASSERT_EQ(run(r, "", dir / (name + ".err2")), 0) << name << read_file(dir / (name + ".err2"));
    EXPECT_TRUE(file_of(dir / ("again-" + name)) == payload) << name << " got a different file";
  }
  // Each device got exactly one copy: nothing is left queued.
  for (int i : {0, kDevices - 1}) {
    auto r = receive_args("d" + std::to_string(i));
    r.insert(r.end(), {"--idle", "1"});
    ASSERT_EQ(run(r, dir / "left.out", dir / "left.err"), 0) << read_file(dir / "left.err");
    EXPECT_EQ(read_file(dir / "left.out"), "");
  }
}

TEST_F(FanoutTest, UnknownRecipientsAreReportedAndTheOthersServed) {
  add_device("alice");
  add_device("bob");
  start_relay();
  auto s = send_args("alice", "bob");
  s.insert(s.end(), {"--to", dev("nobody"), "hello both"});
  ASSERT_EQ(run(s, dir / "s.out", dir / "s.err"), 0) << read_file(dir / "s.err");
  EXPECT_NE(read_file(dir / "s.err").find(dev("nobody") + " will not get the messages"),
            std::string::npos)
      << read_file(dir / "s.err");
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "1"});
  ASSERT_EQ(run(r, dir / "bob.out", dir / "bob.err"), 0) << read_file(dir / "bob.err");
  EXPECT_EQ(read_file(dir / "bob.out"), "hello both\n");
  // Only unknown recipients: refused, exit code 4.
  s = send_args("alice", "nobody");
  s.insert(s.end(), {"--to", dev("nobody-else"), "lost"});
  EXPECT_EQ(run(s, dir / "s2.out", dir / "s2.err"), 4) << read_file(dir / "s2.err");
}

// §10.4: a delivery session with nothing queued or in flight gets Close Idle; the next
// message opens a new one on the same connection.
TEST_F(FanoutTest, IdleDeliverySessionIsClosedAndReopened) {
  add_device("alice");
  add_device("bob");
  start_relay("delivery_idle_seconds = 1\n");
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "2"});
  Process receiver(r, dir / "bob.out", dir / "bob.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"));
  auto s = send_args("alice", "bob");
  s.push_back("first");
  ASSERT_EQ(run(s, dir / "s.out", dir / "s.err"), 0) << read_file(dir / "s.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=idle_close", std::chrono::seconds(15)))
      << read_file(dir / "relay.err");
  s.back() = "second";
  ASSERT_EQ(run(s, dir / "s.out", dir / "s.err"), 0) << read_file(dir / "s.err");
  EXPECT_EQ(receiver.wait(std::chrono::seconds(20)), 0) << receiver.err();
  EXPECT_EQ(read_file(dir / "bob.out"), "first\nsecond\n");
}

// The live path: an online recipient's acknowledgement acknowledges the sender; copies it
// never acknowledged (it left after the first) are stored and come, in order, next time.
TEST_F(FanoutTest, LiveCopiesFallBackToTheStoreWhenTheRecipientLeaves) {
  add_device("alice");
  add_device("bob");
  start_relay();
  auto r = receive_args("bob");
  r.insert(r.end(), {"-n", "1"});
  Process receiver(r, dir / "bob1.out", dir / "bob1.err");
  ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=authenticated"));
  auto s = send_args("alice", "bob");
  s.insert(s.end(), {"one", "two", "three"});
  ASSERT_EQ(run(s, dir / "s.out", dir / "s.err"), 0) << read_file(dir / "s.err");
  EXPECT_EQ(receiver.wait(std::chrono::seconds(20)), 0) << receiver.err();
  EXPECT_EQ(read_file(dir / "bob1.out"), "one\n");
  r = receive_args("bob");
  r.insert(r.end(), {"-n", "2"});
  ASSERT_EQ(run(r, dir / "bob2.out", dir / "bob2.err"), 0) << read_file(dir / "bob2.err");
  EXPECT_EQ(read_file(dir / "bob2.out"), "two\nthree\n");
}

class IdentityTest : public RelayFixture {
 protected:
  void SetUp() override {
    for (auto d : {"alice", "bob-phone", "bob-laptop", "eve"}) add_device(d);
    add_identity("bob");
    start_relay();
  }
  std::vector<std::string> as_bob(const std::string& device, const std::string& key = "id-bob") {
    auto r = receive_args(device);
    r.insert(r.end(), {"--identity", ident("bob"), "--identity-secret-file", dir / (key + ".key")});
    return r;
  }
  std::vector<std::string> to_bob(const std::string& text) {
    auto s = send_args("alice", "bob-phone");
    s.insert(s.end(), {"--identity", ident("bob"), "--to-identity", text});
    return s;
  }
};

TEST_F(IdentityTest, PendingMessagesGoToTheFirstDeviceThatRegisters) {
  ASSERT_EQ(run(to_bob("before anyone registered"), dir / "s.out", dir / "s.err"), 0)
      << read_file(dir / "s.err");
  auto r = as_bob("bob-phone");
  r.insert(r.end(), {"--register", "-n", "1"});
  ASSERT_EQ(run(r, dir / "phone.out", dir / "phone.err"), 0) << read_file(dir / "phone.err");
  EXPECT_EQ(read_file(dir / "phone.out"), "before anyone registered\n");
  // The pending copy is retained: a device registering later gets one too (§11 R2) ...
  r = as_bob("bob-laptop");
  r.insert(r.end(), {"--register", "-n", "1"});
  ASSERT_EQ(run(r, dir / "laptop.out", dir / "laptop.err"), 0) << read_file(dir / "laptop.err");
  EXPECT_EQ(read_file(dir / "laptop.out"), "before anyone registered\n");
  // ... and registering again is harmless and brings no second copy.
  r = as_bob("bob-laptop");
  r.insert(r.end(), {"--register", "--idle", "1"});
  ASSERT_EQ(run(r, dir / "again.out", dir / "again.err"), 0) << read_file(dir / "again.err");
  EXPECT_EQ(read_file(dir / "again.out"), "");
}

// auth.md §8: ten failed authentications within 60 s, then TryLater for that source.
TEST_F(IdentityTest, RepeatedAuthenticationFailuresAreRateLimited) {
  for (int i = 0; i < 10; ++i) {
    auto r = receive_args("bob-phone", "eve");  // eve's secret for bob's device
    r.insert(r.end(), {"--idle", "1"});
    ASSERT_EQ(run(r, dir / "r.out", dir / "r.err"), 4) << read_file(dir / "r.err");
  }
  auto r = receive_args("bob-phone");  // now even the right secret must wait
  r.insert(r.end(), {"--idle", "1"});
  EXPECT_NE(run(r, dir / "r.out", dir / "r.err"), 0);
  EXPECT_NE(read_file(dir / "r.err").find("TryLater"), std::string::npos)
      << read_file(dir / "r.err");
  EXPECT_NE(read_file(dir / "relay.err").find("event=auth_rate_limited"), std::string::npos);
}

TEST_F(IdentityTest, EveryRegisteredDeviceGetsItsOwnCopy) {
  for (auto d : {"bob-phone", "bob-laptop"}) {
    auto r = as_bob(d);
    r.insert(r.end(), {"--register", "--idle", "1"});
    ASSERT_EQ(run(r, dir / "reg.out", dir / "reg.err"), 0) << read_file(dir / "reg.err");
  }
  ASSERT_EQ(run(to_bob("for all of bob"), dir / "s.out", dir / "s.err"), 0)
      << read_file(dir / "s.err");
  for (auto d : {"bob-phone", "bob-laptop"}) {
    auto r = as_bob(d);
    r.insert(r.end(), {"-n", "1"});
    ASSERT_EQ(run(r, dir / "got.out", dir / "got.err"), 0) << d << read_file(dir / "got.err");
    EXPECT_EQ(read_file(dir / "got.out"), "for all of bob\n") << d;
  }
  // Without attaching the identity, a registered device is not given its messages (§10.4).
  ASSERT_EQ(run(to_bob("second"), dir / "s.out", dir / "s.err"), 0);
  auto r = receive_args("bob-phone");
  r.insert(r.end(), {"--idle", "1"});
  ASSERT_EQ(run(r, dir / "plain.out", dir / "plain.err"), 0) << read_file(dir / "plain.err");
  EXPECT_EQ(read_file(dir / "plain.out"), "");
}

TEST_F(IdentityTest, AnotherDeviceCannotReadTheIdentityWithoutItsSecret) {
  auto r = as_bob("bob-phone");
  r.insert(r.end(), {"--register", "--idle", "1"});
  ASSERT_EQ(run(r, dir / "reg.out", dir / "reg.err"), 0) << read_file(dir / "reg.err");
  ASSERT_EQ(run(to_bob("private"), dir / "s.out", dir / "s.err"), 0);
  // Eve has a device of her own but not bob's identity secret: refused, nothing delivered.
  r = as_bob("eve", "eve");
  r.insert(r.end(), {"--register", "--idle", "1"});
  EXPECT_EQ(run(r, dir / "eve.out", dir / "eve.err"), 4) << read_file(dir / "eve.err");
  EXPECT_EQ(read_file(dir / "eve.out"), "");
  EXPECT_NE(read_file(dir / "eve.err").find("did not accept its secret"), std::string::npos)
      << read_file(dir / "eve.err");
  r = as_bob("bob-phone");
  r.insert(r.end(), {"-n", "1"});
  ASSERT_EQ(run(r, dir / "phone.out", dir / "phone.err"), 0) << read_file(dir / "phone.err");
  EXPECT_EQ(read_file(dir / "phone.out"), "private\n");
}

TEST_F(IdentityTest, UnknownIdentityIsRefused) {
  auto s = send_args("alice", "bob-phone");
  s.insert(s.end(), {"--identity", ident("nobody"), "--to-identity", "x"});
  EXPECT_EQ(run(s, dir / "s.out", dir / "s.err"), 4) << read_file(dir / "s.err");
}

}  // namespace
}  // namespace grove::test
