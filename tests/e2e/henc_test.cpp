// The HTTP encapsulations end to end (issue 5): real groved with its port-80 listener on a
// random loopback port, `grove send --path keepalive|longlived|polling` direct and through real
// squid and tinyproxy with Basic proxy authentication, and malformed requests from a raw socket
// client. Bob receives natively (and, in HencReceive, over each HTTP mode through squid); what
// arrives must be byte-identical.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "support/peers.hpp"
#include "support/relay_fixture.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

const std::vector<std::string> kModes = {"keepalive", "longlived", "polling"};
constexpr std::size_t kBigBytes = 20u << 20;

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

class HencE2E : public RelayFixture {
 protected:
  static void SetUpTestSuite() {
    files_ = new TempDir;
    write_random_file(*files_ / "big.bin", kBigBytes, 5);
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static std::string big_file() { return *files_ / "big.bin"; }

  void SetUp() override {
    isolate_environment(dir.path());
    add_devices({"alice", "bob"});
    start_relay({}, {"-v"});  // -vv: the relay logs every virtual connection
    ASSERT_GT(http_port, 0) << read_file(dir / "relay.err");
  }

  // grove send from alice to bob over one HTTP mode; returns the exit code.
  int send(const std::string& mode, const std::string& proxy, std::vector<std::string> what) {
    std::vector<std::string> argv = send_args("alice", "bob");
    argv.insert(argv.end(), {"-v", "--path", mode, "--http-port", std::to_string(http_port)});
    if (!proxy.empty()) argv.insert(argv.end(), {"--proxy", proxy});
    argv.insert(argv.end(), what.begin(), what.end());
    const int rc = run(argv, dir / "send.out", dir / "send.err");
    err = read_file(dir / "send.err");
    return rc;
  }

  // Bob takes everything stored for him into `inbox`: natively, or with `transport` added.
  void receive(const std::string& inbox, int count,
               const std::vector<std::string>& transport = {}) {
    std::vector<std::string> argv = receive_args("bob");
    argv.insert(argv.end(), {"-o", dir / inbox, "-n", std::to_string(count)});
    argv.insert(argv.end(), transport.begin(), transport.end());
    ASSERT_EQ(run(argv, dir / "recv.out", dir / "recv.err"), 0) << read_file(dir / "recv.err");
  }

  // The message suite: three texts of different sizes (one empty-ish, one over a Polling
  // chunk) and a small file, over `mode`; all must arrive intact.
  void suite(const std::string& mode, const std::string& proxy) {
    const std::string long_text(40000, 'x');
    std::ofstream(dir / "small.bin") << "small file through " << mode;
    ASSERT_EQ(send(mode, proxy, {"a", "hello through " + mode, long_text, "-f", dir / "small.bin"}),
              0)
        << err;
    EXPECT_NE(err.find(" " + mode + " "), std::string::npos) << err;
    EXPECT_NE(err.find("working after"), std::string::npos) << err;
    const std::string inbox = "in-" + mode;
    receive(inbox, 4);
    EXPECT_EQ(read_file(dir / (inbox + "/message-000001.bin")), "a");
    EXPECT_EQ(read_file(dir / (inbox + "/message-000002.bin")), "hello through " + mode);
    EXPECT_TRUE(read_file(dir / (inbox + "/message-000003.bin")) == long_text);
    EXPECT_EQ(read_file(dir / (inbox + "/small.bin")), "small file through " + mode);
  }

  void big(const std::string& mode, const std::string& proxy) {
    ASSERT_EQ(send(mode, proxy, {"-f", big_file()}), 0) << err;
    const std::string inbox = "big-" + mode;
    receive(inbox, 1);
    EXPECT_TRUE(read_file(dir / (inbox + "/big.bin")) == read_file(big_file()))
        << mode << ": big.bin differs";
  }

  static TempDir* files_;
  std::string err;
};

TempDir* HencE2E::files_ = nullptr;

TEST_F(HencE2E, DirectEveryMode) {
  for (const auto& m : kModes) suite(m, "");
}

TEST_F(HencE2E, ThroughSquidWithBasicEveryModeAnd20MB) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::basic, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  for (const auto& m : kModes) {
    suite(m, squid.url());
    big(m, squid.url());
  }
  // squid forwarded absolute-URI requests with its own headers, and authenticated them.
  EXPECT_NE(squid.access_log().find("POST http://127.0.0.1:" + std::to_string(http_port)),
            std::string::npos);
}

// The other direction: 20 MiB stored for bob reach him over one HTTP mode through squid (the
// relay streams GET bodies, the client reads them), byte-identical. One relay per mode, so
// each download starts from a known queue.
class HencReceive : public HencE2E, public ::testing::WithParamInterface<std::string> {};

TEST_P(HencReceive, ThroughSquid20MB) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::basic, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  const std::string& m = GetParam();
  ASSERT_EQ(send("native", "", {"-f", big_file()}), 0) << err;
  receive("in", 1, {"--path", m, "--http-port", std::to_string(http_port), "--proxy", squid.url()});
  EXPECT_TRUE(read_file(dir / "in/big.bin") == read_file(big_file())) << m << ": big.bin differs";
}

INSTANTIATE_TEST_SUITE_P(Modes, HencReceive, ::testing::ValuesIn(kModes),
                         [](const auto& p) { return p.param; });

// grove receive -n 1 over LongLived through squid, five times: each run must get the next
// message, never one it already had. The client closes its POST, which carries the last
// acknowledgements, before its GET; through squid the GET's close could overtake those bytes,
// the relay ended the virtual connection first, and the next receive got the message again.
TEST_F(HencE2E, LongLivedReceiveThroughSquidAcknowledgesBeforeItCloses) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::none, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) {
    const std::string f = dir / ("m" + std::to_string(i) + ".txt");
    write_random_file(f, 3000 + static_cast<std::size_t>(i), static_cast<unsigned>(40 + i));
    files.push_back(f);
  }
  std::vector<std::string> args;
  for (const auto& f : files) args.insert(args.end(), {"-f", f});
  ASSERT_EQ(send("native", "", args), 0) << err;
  std::set<std::string> got;
  for (int i = 0; i < 5; ++i) {
    const std::string inbox = "in" + std::to_string(i);
    receive(
        inbox, 1,
        {"--path", "longlived", "--http-port", std::to_string(http_port), "--proxy", squid.url()});
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir / inbox))
      names.push_back(e.path().filename());
    ASSERT_EQ(names.size(), 1u) << inbox;
    EXPECT_TRUE(got.insert(names[0]).second) << "run " << i << " got " << names[0] << " again";
  }
  EXPECT_EQ(got.size(), 5u);
}

TEST_F(HencE2E, ThroughSquidWithDigestEveryMode) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::digest, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  for (const auto& m : kModes) suite(m, squid.url());
}

TEST_F(HencE2E, ThroughSquidWithNtlmEveryMode) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::ntlm, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  for (const auto& m : kModes) suite(m, squid.url());
}

TEST_F(HencE2E, ThroughSquidWrongPasswordFailsTheStep) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::basic, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  EXPECT_EQ(send("keepalive", squid.url("grove", "wrong"), {"x"}), 4) << err;
  EXPECT_NE(err.find("rejected the proxy credentials"), std::string::npos) << err;
}

TEST_F(HencE2E, ThroughTinyproxyWithBasicEveryMode) {
  if (auto why = Tinyproxy::missing()) GROVE_MISSING_PEER(*why);
  Tinyproxy tp("grove", "tiny-pass", {});
  ASSERT_TRUE(tp.ready()) << tp.log();
  for (const auto& m : kModes) suite(m, tp.url());
}

TEST_F(HencE2E, MalformedRequestsGetTheRightAnswerAndLeaveOthersAlone) {
  // A KeepAlive virtual connection in the middle of its handshake, to be checked at the end.
  const std::string guid = "e2eguid0000000000000000000000000000000";
  const std::string ka = "/2.0/relay.test/" + guid + ",ConnType=KeepAlive";
  RawClient held(http_port);
  ASSERT_TRUE(held.connected());
  ASSERT_TRUE(held.send("GET " + ka + " HTTP/1.0\r\nHost: relay.test\r\n\r\n"));

  auto answer = [&](const std::string& request, bool* closed) {
    RawClient r(http_port);
    EXPECT_TRUE(r.connected());
    r.send(request);
    return r.read_all(closed);
  };
  bool closed = false;
  // Bad URI on /2.0/: close without an answer.
  EXPECT_EQ(answer("GET /2.0/relay.test/x,ConnType=Bogus HTTP/1.0\r\n\r\n", &closed), "");
  EXPECT_TRUE(closed);
  // Wrong encapsulation version: 400.
  EXPECT_EQ(
      answer("GET /3.0/relay.test/g,ConnType=KeepAlive HTTP/1.0\r\n\r\n", &closed).substr(0, 26),
      "HTTP/1.0 400 Bad Request\r\n");
  // Unknown path: 404.
  EXPECT_EQ(answer("GET /favicon.ico HTTP/1.0\r\n\r\n", &closed).substr(0, 24),
            "HTTP/1.0 404 Not Found\r\n");
  // A request line ending in a space (henc.md §13 row 3) is still read.
  EXPECT_EQ(
      answer("GET /favicon.ico HTTP/1.0 \r\nHost: relay.test \r\n\r\n", &closed).substr(0, 24),
      "HTTP/1.0 404 Not Found\r\n");
  // Absurd Content-Length: close.
  EXPECT_EQ(answer("POST / HTTP/1.0\r\nContent-Length: 99999999999999\r\n\r\n", &closed), "");
  EXPECT_TRUE(closed);
  // Not HTTP at all: close.
  EXPECT_EQ(answer(std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 18), &closed), "");
  EXPECT_TRUE(closed);
  // Truncated body: the client gives up half-way; the relay closes too.
  {
    RawClient r(http_port);
    r.send("POST / HTTP/1.0\r\nContent-Length: 100\r\n\r\n1.2");
    r.shutdown_write();
    EXPECT_EQ(r.read_all(&closed), "");
    EXPECT_TRUE(closed);
  }
  // Headers dripped slowly past 8192 bytes: closed, memory stays bounded.
  {
    RawClient r(http_port);
    r.send("GET / HTTP/1.0\r\n");
    for (int i = 0; i < 100 && r.send("X-Drip: " + std::string(90, 'd') + "\r\n"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(r.read_all(&closed), "");
    EXPECT_TRUE(closed);
  }
  // Many junk connections at once do not grow the relay.
  const long before = rss_kib(relay->pid());
  {
    std::vector<std::unique_ptr<RawClient>> junk;
    for (int i = 0; i < 200; ++i) {
      junk.push_back(std::make_unique<RawClient>(http_port));
      junk.back()->send("POST / HTTP/1.0\r\nContent-Length: 32768\r\n\r\n" +
                        std::string(30000, 'j'));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long after = rss_kib(relay->pid());
  EXPECT_LT(after - before, 64 * 1024) << before << " KiB -> " << after << " KiB";

  // The held virtual connection is untouched: its handshake still completes.
  RawClient post(http_port);
  ASSERT_TRUE(post.send("POST " + ka +
                        " HTTP/1.0\r\nHost: relay.test\r\nContent-Length: 22\r\n\r\n"
                        "GroovePing: 1.0,Ping\r\n"));
  const std::string got = held.read_until("GroovePing: 1.0,Ping\r\n");
  EXPECT_NE(got.find("Content-Length: 22\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.size() >= 22 ? got.substr(got.size() - 22) : got, "GroovePing: 1.0,Ping\r\n");
  // And real transfers still work.
  suite("polling", "");
}

}  // namespace
}  // namespace grove::test
