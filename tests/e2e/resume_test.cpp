// Reconnect and resume (issue 4, "Getting through"): `grove send` loses its proxy mid-transfer,
// walks the transports again and re-sends what the relay had not acknowledged; `grove
// receive` gets every message and the file exactly once (sstp.md §9.5, docs/protocol.md
// "Message ids and duplicates"). Real groved, squid and dante on loopback.
#include <gtest/gtest.h>

#include "support/peers.hpp"
#include "support/relay_fixture.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

constexpr std::size_t kFileBytes = 50u << 20;
constexpr int kLines = 500;

class ResumeE2E : public RelayFixture {
 protected:
  void SetUp() override {
    isolate_environment(dir.path());
    write_random_file(dir / "big.bin", kFileBytes, 7);
    {
      std::ofstream lines(dir / "lines.txt");
      for (int i = 1; i <= kLines; ++i) lines << i << "\n";
    }
    add_devices({"alice", "bob"});
    start_relay();
  }

  // alice sends kLines lines, then the file, to bob through `transport` at 10 MiB/s (about
  // five seconds for the file, so there is time to break the path).
  std::unique_ptr<Process> start_sender(std::vector<std::string> transport) {
    std::vector<std::string> argv = send_args("alice", "bob");
    argv.insert(argv.end(), {"-v", "--port-443", std::to_string(ssl_port), "--limit-rate", "10M",
                             "--lines", "-f", dir / "big.bin"});
    argv.insert(argv.end(), transport.begin(), transport.end());
    return std::make_unique<Process>(argv, dir / "send.out", dir / "send.err", dir / "lines.txt");
  }

  // Waits until the sender is visibly mid-file: the lines are out and a few MB of the file.
  void wait_mid_transfer() {
    ASSERT_TRUE(wait_for_text(dir / "send.err", "working after", std::chrono::seconds(15)))
        << read_file(dir / "send.err");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }

  // bob takes everything from the relay: the lines once each, in order, and the file intact.
  void expect_everything_exactly_once() {
    std::filesystem::create_directories(dir / "in");
    std::vector<std::string> argv = receive_args("bob");
    argv.insert(argv.end(), {"-v", "-o", dir / "in", "--idle", "3"});
    Process r(argv, dir / "recv.out", dir / "recv.err");
    ASSERT_EQ(r.wait(std::chrono::seconds(60)), 0) << read_file(dir / "recv.err");
    for (int i = 1; i <= kLines; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "in/message-%06d.bin", i);
      ASSERT_EQ(read_file(dir / name), std::to_string(i)) << name << "\n"
                                                          << read_file(dir / "recv.err");
    }
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "in")) {
      (void)e;
      ++files;
    }
    EXPECT_EQ(files, std::size_t(kLines + 1)) << "a message was duplicated:\n"
                                              << read_file(dir / "recv.out");
    EXPECT_TRUE(read_file(dir / "in/big.bin") == read_file(dir / "big.bin")) << "big.bin differs";
  }

  // The number in "N to send again" of the sender's first lost connection.
  int resent() const {
    std::smatch m;
    const std::string err = read_file(dir / "send.err");
    return std::regex_search(err, m, std::regex("([0-9]+) to send again")) ? std::stoi(m[1]) : -1;
  }
};

// squid carries the transfer and is killed mid-file: the sender walks again, the dead tunnel
// fails at once and dante's SOCKS path finishes the job.
TEST_F(ResumeE2E, ProxyKilledMidTransferFinishesByTheNextPath) {
  SKIP_UNLESS(Squid);
  SKIP_UNLESS(Dante);
  Squid squid({Squid::Auth::none, "", "", {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  Dante dante({port});
  ASSERT_TRUE(dante.ready()) << dante.log();
  auto sender = start_sender({"--path", "tunnel,socks", "--proxy", "http://" + squid.address(),
                              "--socks", "socks5://" + dante.address()});
  wait_mid_transfer();
  ASSERT_FALSE(sender->wait(std::chrono::milliseconds(0)).has_value())
      << "finished before the proxy was killed:\n"
      << read_file(dir / "send.err");
  squid.stop();  // SIGKILL
  ASSERT_EQ(sender->wait(std::chrono::seconds(40)), 0) << read_file(dir / "send.err");
  const std::string err = read_file(dir / "send.err");
  EXPECT_NE(err.find("connection lost"), std::string::npos) << err;
  EXPECT_NE(err.find("reconnected by step socks"), std::string::npos) << err;
  EXPECT_GT(resent(), 0) << err;
  EXPECT_LT(resent(), kLines + 4) << "only unacknowledged messages are sent again\n" << err;
  expect_everything_exactly_once();
}

// The only path dies and comes back: the sender backs off, walks again until squid is back on
// its port, and completes.
TEST_F(ResumeE2E, OnlyPathDiesAndComesBack) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  auto sender = start_sender({"--path", "tunnel", "--proxy", "http://" + squid.address()});
  wait_mid_transfer();
  squid.stop();
  ASSERT_TRUE(
      wait_for_text(dir / "send.err", "walk 2: no transport reached", std::chrono::seconds(15)))
      << read_file(dir / "send.err");
  ASSERT_TRUE(squid.restart()) << squid.log();
  ASSERT_EQ(sender->wait(std::chrono::seconds(40)), 0) << read_file(dir / "send.err");
  EXPECT_NE(read_file(dir / "send.err").find("reconnected by step tunnel"), std::string::npos);
  expect_everything_exactly_once();
}

// --retry-for 0: a lost connection ends the run with exit code 5 and the count confirmed.
TEST_F(ResumeE2E, NoRetryReportsWhatWasConfirmed) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  auto sender = start_sender(
      {"--path", "tunnel", "--proxy", "http://" + squid.address(), "--retry-for", "0"});
  wait_mid_transfer();
  squid.stop();
  ASSERT_EQ(sender->wait(std::chrono::seconds(20)), 5) << read_file(dir / "send.err");
  EXPECT_TRUE(std::regex_search(
      read_file(dir / "send.err"),
      std::regex("[0-9]+ of " + std::to_string(kLines + 4) + " messages confirmed")))
      << read_file(dir / "send.err");
}

}  // namespace
}  // namespace grove::test
