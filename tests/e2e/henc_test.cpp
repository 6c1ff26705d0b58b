// The HTTP encapsulations end to end (issue 5): real groved with its port-80 listener on a
// random loopback port, `grove send --path keepalive|longlived|polling` direct and through real
// squid and tinyproxy with Basic proxy authentication, and malformed requests from a raw socket
// client. Bob receives natively; what arrives must be byte-identical.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>

#include "support/peers.hpp"
#include "support/process.hpp"

namespace grove::test {
namespace {

const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";
const std::string kGroved = std::string(GROVE_BIN_DIR) + "/relay/groved";
const std::string kRelayUrl = "grove://relay.test";
const std::vector<std::string> kModes = {"keepalive", "longlived", "polling"};
constexpr std::size_t kBigBytes = 20u << 20;

std::string dev(const std::string& name) { return kRelayUrl + "/d/" + name; }

int run(std::vector<std::string> argv, const std::string& out, const std::string& err,
        std::chrono::seconds timeout = std::chrono::seconds(60)) {
  Process p(std::move(argv), out, err);
  auto rc = p.wait(timeout);
  return rc ? *rc : -1;
}

int port_of(const std::string& log, const std::string& kind) {
  std::regex re("listening on [^ ]*:([0-9]+) \\(" + kind + "\\)");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : -1;
}

// A raw client socket to the relay's HTTP port.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool ok() const { return ok_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Reads until `needle` arrived (or 5 s pass, or the relay closes).
  std::string read_until(const std::string& needle) {
    std::string out;
    char buf[4096];
    while (out.find(needle) == std::string::npos) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Everything until the relay closes (or 5 s pass: then `closed` is false).
  std::string read_all(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

class HencE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new TempDir;
    std::ofstream out(*files_ / "big.bin", std::ios::binary);
    std::mt19937_64 rng(5);
    std::vector<uint64_t> block(1 << 16);
    for (std::size_t i = 0; i < kBigBytes / (block.size() * 8); ++i) {
      for (auto& w : block) w = rng();
      out.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size() * 8));
    }
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static std::string big_file() { return *files_ / "big.bin"; }

  void SetUp() override {
    ::setenv("XDG_STATE_HOME", dir.path().c_str(), 1);
    for (const char* v : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                          "ALL_PROXY", "no_proxy", "NO_PROXY"})
      ::unsetenv(v);
    for (const char* who : {"alice", "bob"}) {
      ASSERT_EQ(run({kGroved, "--db", db, "device", "add", dev(who)},
                    dir / (std::string(who) + ".key"), dir / "admin.err"),
                0)
          << read_file(dir / "admin.err");
      ::chmod((dir / (std::string(who) + ".key")).c_str(), 0600);
    }
    relay = std::make_unique<Process>(
        std::vector<std::string>{kGroved, "--db", db, "run", "-l", "127.0.0.1:0", "--ssl-listen",
                                 "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--device-url",
                                 kRelayUrl, "-vv"},
        "", dir / "relay.err");
    ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=started")) << read_file(dir / "relay.err");
    const std::string log = read_file(dir / "relay.err");
    port = port_of(log, "sstp");
    http_port = port_of(log, "http");
    ASSERT_GT(http_port, 0) << log;
  }

  // grove send from alice to bob over one HTTP mode; returns the exit code.
  int send(const std::string& mode, const std::string& proxy, std::vector<std::string> what) {
    std::vector<std::string> argv{kGrove,
                                  "send",
                                  "--no-progress",
                                  "-v",
                                  "-c",
                                  "127.0.0.1:" + std::to_string(port),
                                  "--relay-url",
                                  kRelayUrl,
                                  "--device-url",
                                  dev("alice"),
                                  "--secret-file",
                                  dir / "alice.key",
                                  "--to",
                                  dev("bob"),
                                  "--path",
                                  mode,
                                  "--http-port",
                                  std::to_string(http_port)};
    if (!proxy.empty()) argv.insert(argv.end(), {"--proxy", proxy});
    argv.insert(argv.end(), what.begin(), what.end());
    const int rc = run(argv, dir / "send.out", dir / "send.err");
    err = read_file(dir / "send.err");
    return rc;
  }

  // Bob takes everything stored for him (natively) into `inbox`.
  void receive(const std::string& inbox, int count) {
    ASSERT_EQ(run({kGrove, "receive", "-c", "127.0.0.1:" + std::to_string(port), "--relay-url",
                   kRelayUrl, "--device-url", dev("bob"), "--secret-file", dir / "bob.key", "-o",
                   dir / inbox, "-n", std::to_string(count)},
                  dir / "recv.out", dir / "recv.err"),
              0)
        << read_file(dir / "recv.err");
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
  TempDir dir;
  std::string db = dir / "relay.db";
  std::unique_ptr<Process> relay;
  int port = -1, http_port = -1;
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
  Raw held(http_port);
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(held.send("GET " + ka + " HTTP/1.0\r\nHost: relay.test\r\n\r\n"));

  auto answer = [&](const std::string& request, bool* closed) {
    Raw r(http_port);
    EXPECT_TRUE(r.ok());
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
  // Absurd Content-Length: close.
  EXPECT_EQ(answer("POST / HTTP/1.0\r\nContent-Length: 99999999999999\r\n\r\n", &closed), "");
  EXPECT_TRUE(closed);
  // Not HTTP at all: close.
  EXPECT_EQ(answer(std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 18), &closed), "");
  EXPECT_TRUE(closed);
  // Truncated body: the client gives up half-way; the relay closes too.
  {
    Raw r(http_port);
    r.send("POST / HTTP/1.0\r\nContent-Length: 100\r\n\r\n1.2");
    r.shutdown_write();
    EXPECT_EQ(r.read_all(&closed), "");
    EXPECT_TRUE(closed);
  }
  // Headers dripped slowly past 8192 bytes: closed, memory stays bounded.
  {
    Raw r(http_port);
    r.send("GET / HTTP/1.0\r\n");
    for (int i = 0; i < 100 && r.send("X-Drip: " + std::string(90, 'd') + "\r\n"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(r.read_all(&closed), "");
    EXPECT_TRUE(closed);
  }
  // Many junk connections at once do not grow the relay.
  const long before = rss_kib(relay->pid());
  {
    std::vector<std::unique_ptr<Raw>> junk;
    for (int i = 0; i < 200; ++i) {
      junk.push_back(std::make_unique<Raw>(http_port));
      junk.back()->send("POST / HTTP/1.0\r\nContent-Length: 32768\r\n\r\n" +
                        std::string(30000, 'j'));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long after = rss_kib(relay->pid());
  EXPECT_LT(after - before, 64 * 1024) << before << " KiB -> " << after << " KiB";

  // The held virtual connection is untouched: its handshake still completes.
  Raw post(http_port);
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
