// Reconnect and resume (issue 4, "Getting through"): `grove send` loses its proxy mid-transfer,
// walks the transports again and re-sends what the relay had not acknowledged; `grove
// receive` gets every message and the file exactly once (sstp.md §9.5, docs/protocol.md
// "Message ids and duplicates"). Real groved, squid and dante on loopback.
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "support/peers.hpp"
#include "support/process.hpp"

namespace grove::test {
namespace {

const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";
const std::string kGroved = std::string(GROVE_BIN_DIR) + "/relay/groved";
const std::string kRelayUrl = "grove://relay.test";
constexpr std::size_t kFileBytes = 50u << 20;
constexpr int kLines = 500;
std::string dev(const std::string& name) { return kRelayUrl + "/d/" + name; }

int port_of(const std::string& log, const std::string& kind) {
  std::regex re("listening on [^ ]*:([0-9]+) \\(" + kind + "\\)");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : -1;
}

class ResumeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("XDG_STATE_HOME", dir_.path().c_str(), 1);
    for (const char* v : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                          "ALL_PROXY", "no_proxy", "NO_PROXY"})
      ::unsetenv(v);
    {
      std::ofstream out(dir_ / "big.bin", std::ios::binary);
      std::mt19937_64 rng(7);
      std::vector<uint64_t> block(1 << 16);
      for (std::size_t i = 0; i < kFileBytes / (block.size() * 8); ++i) {
        for (auto& w : block) w = rng();
        out.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size() * 8));
      }
      std::ofstream lines(dir_ / "lines.txt");
      for (int i = 1; i <= kLines; ++i) lines << i << "\n";
    }
    for (const char* name : {"alice", "bob"}) {
      Process p({kGroved, "--db", db_, "device", "add", dev(name)},
                dir_ / (std::string(name) + ".key"), dir_ / "admin.err");
      ASSERT_EQ(p.wait(), 0) << read_file(dir_ / "admin.err");
      ::chmod((dir_ / (std::string(name) + ".key")).c_str(), 0600);
    }
    relay_ = std::make_unique<Process>(
        std::vector<std::string>{kGroved, "--db", db_, "run", "-l", "127.0.0.1:0", "--ssl-listen",
                                 "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--device-url",
                                 kRelayUrl, "-v"},
        "", dir_ / "relay.err");
    ASSERT_TRUE(wait_for_text(dir_ / "relay.err", "(admin)")) << read_file(dir_ / "relay.err");
    const std::string log = read_file(dir_ / "relay.err");
    port_ = port_of(log, "sstp");
    ssl_port_ = port_of(log, "ssl-port");
    ASSERT_GT(port_, 0);
    ASSERT_GT(ssl_port_, 0);
  }

  // alice sends kLines lines, then the file, to bob through `transport` at 10 MiB/s (about
  // five seconds for the file, so there is time to break the path).
  std::unique_ptr<Process> start_sender(std::vector<std::string> transport) {
    std::vector<std::string> argv{kGrove,
                                  "send",
                                  "--no-progress",
                                  "-v",
                                  "-c",
                                  "127.0.0.1:" + std::to_string(port_),
                                  "--port-443",
                                  std::to_string(ssl_port_),
                                  "--relay-url",
                                  kRelayUrl,
                                  "--device-url",
                                  dev("alice"),
                                  "--secret-file",
                                  dir_ / "alice.key",
                                  "--to",
                                  dev("bob"),
                                  "--limit-rate",
                                  "10M",
                                  "--lines",
                                  "-f",
                                  dir_ / "big.bin"};
    argv.insert(argv.end(), transport.begin(), transport.end());
    return std::make_unique<Process>(argv, dir_ / "send.out", dir_ / "send.err",
                                     dir_ / "lines.txt");
  }

  // Waits until the sender is visibly mid-file: the lines are out and a few MB of the file.
  void wait_mid_transfer() {
    ASSERT_TRUE(wait_for_text(dir_ / "send.err", "working after", std::chrono::seconds(15)))
        << read_file(dir_ / "send.err");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }

  // bob takes everything from the relay: the lines once each, in order, and the file intact.
  void expect_everything_exactly_once() {
    std::filesystem::create_directories(dir_ / "in");
    Process r({kGrove, "receive", "-v", "-c", "127.0.0.1:" + std::to_string(port_), "--relay-url",
               kRelayUrl, "--device-url", dev("bob"), "--secret-file", dir_ / "bob.key", "-o",
               dir_ / "in", "--idle", "3"},
              dir_ / "recv.out", dir_ / "recv.err");
    ASSERT_EQ(r.wait(std::chrono::seconds(60)), 0) << read_file(dir_ / "recv.err");
    for (int i = 1; i <= kLines; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "in/message-%06d.bin", i);
      ASSERT_EQ(read_file(dir_ / name), std::to_string(i)) << name << "\n"
                                                           << read_file(dir_ / "recv.err");
    }
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "in")) {
      (void)e;
      ++files;
    }
    EXPECT_EQ(files, std::size_t(kLines + 1)) << "a message was duplicated:\n"
                                              << read_file(dir_ / "recv.out");
    EXPECT_TRUE(read_file(dir_ / "in/big.bin") == read_file(dir_ / "big.bin")) << "big.bin differs";
  }

  // The number in "N to send again" of the sender's first lost connection.
  int resent() const {
    std::smatch m;
    const std::string err = read_file(dir_ / "send.err");
    return std::regex_search(err, m, std::regex("([0-9]+) to send again")) ? std::stoi(m[1]) : -1;
  }

  TempDir dir_;
  std::string db_ = dir_ / "relay.db";
  std::unique_ptr<Process> relay_;
  int port_ = -1, ssl_port_ = -1;
};

#define SKIP_UNLESS(peer)             \
  do {                                \
    if (auto why = peer::missing()) { \
      GROVE_MISSING_PEER(*why);       \
    }                                 \
  } while (0)

// squid carries the transfer and is killed mid-file: the sender walks again, the dead tunnel
// fails at once and dante's SOCKS path finishes the job.
TEST_F(ResumeE2E, ProxyKilledMidTransferFinishesByTheNextPath) {
  SKIP_UNLESS(Squid);
  SKIP_UNLESS(Dante);
  Squid squid({Squid::Auth::none, "", "", {ssl_port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  Dante dante({port_});
  ASSERT_TRUE(dante.ready()) << dante.log();
  auto sender = start_sender({"--path", "tunnel,socks", "--proxy", "http://" + squid.address(),
                              "--socks", "socks5://" + dante.address()});
  wait_mid_transfer();
  ASSERT_FALSE(sender->wait(std::chrono::milliseconds(0)).has_value())
      << "finished before the proxy was killed:\n"
      << read_file(dir_ / "send.err");
  squid.stop();  // SIGKILL
  ASSERT_EQ(sender->wait(std::chrono::seconds(40)), 0) << read_file(dir_ / "send.err");
  const std::string err = read_file(dir_ / "send.err");
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
  Squid squid({Squid::Auth::none, "", "", {ssl_port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  auto sender = start_sender({"--path", "tunnel", "--proxy", "http://" + squid.address()});
  wait_mid_transfer();
  squid.stop();
  ASSERT_TRUE(
      wait_for_text(dir_ / "send.err", "walk 2: no transport reached", std::chrono::seconds(15)))
      << read_file(dir_ / "send.err");
  ASSERT_TRUE(squid.restart()) << squid.log();
  ASSERT_EQ(sender->wait(std::chrono::seconds(40)), 0) << read_file(dir_ / "send.err");
  EXPECT_NE(read_file(dir_ / "send.err").find("reconnected by step tunnel"), std::string::npos);
  expect_everything_exactly_once();
}

// --retry-for 0: a lost connection ends the run with exit code 5 and the count confirmed.
TEST_F(ResumeE2E, NoRetryReportsWhatWasConfirmed) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  auto sender = start_sender(
      {"--path", "tunnel", "--proxy", "http://" + squid.address(), "--retry-for", "0"});
  wait_mid_transfer();
  squid.stop();
  ASSERT_EQ(sender->wait(std::chrono::seconds(20)), 5) << read_file(dir_ / "send.err");
  EXPECT_TRUE(std::regex_search(
      read_file(dir_ / "send.err"),
      std::regex("[0-9]+ of " + std::to_string(kLines + 4) + " messages confirmed")))
      << read_file(dir_ / "send.err");
}

}  // namespace
}  // namespace grove::test
