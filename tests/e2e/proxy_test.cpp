// `grove send` and `grove connect` through real proxies on loopback (issue 4): squid with
// Basic, Digest and NTLM, tinyproxy with Basic, dante (SOCKS5) and microsocks (SOCKS5 with a
// password), and the fallback walk of henc.md §11. A `grove listen` on a random port stands in
// for the relay: its port plays both 2492 (SOCKS target) and 443 (CONNECT target).
#include <gtest/gtest.h>

#include "support/peers.hpp"
#include "support/process.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";
constexpr std::size_t kBigFileBytes = 50u << 20;

class ProxyE2E : public ::testing::Test {
 protected:
  // One 50 MB file of random bytes for the whole suite.
  static void SetUpTestSuite() {
    files_ = new TempDir;
    write_random_file(*files_ / "big.bin", kBigFileBytes, 4);
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static std::string big_file() { return *files_ / "big.bin"; }

  void SetUp() override {
    // The fallback memory of every grove started here lands in this test's folder.
    isolate_environment(dir_.path());
    std::filesystem::create_directories(dir_.path() / "in");
  }

  // `grove listen -o in -n count` on a random port.
  void start_listener(int count) {
    listener_ = std::make_unique<Process>(
        std::vector<std::string>{kGrove, "listen", "-l", "127.0.0.1:0", "-v", "-o", dir_ / "in",
                                 "-n", std::to_string(count)},
        dir_ / "listen.out", dir_ / "listen.err");
    port_ = listening_port(dir_ / "listen.err");
    ASSERT_GT(port_, 0) << read_file(dir_ / "listen.err");
  }
  std::string relay() const { return "127.0.0.1:" + std::to_string(port_); }

  // Runs grove with stdout and stderr captured; the exit code (-1: did not end in time).
  int grove(const std::string& command, std::vector<std::string> args) {
    std::vector<std::string> argv{kGrove, command};
    if (command == "send") argv.push_back("--no-progress");
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, dir_ / "grove.out", dir_ / "grove.err");
    auto rc = p.wait(std::chrono::seconds(40));
    out_ = read_file(dir_ / "grove.out");
    err_ = read_file(dir_ / "grove.err");
    return rc ? *rc : -1;
  }

  // A text message and the 50 MB file through `transport_args`; both must arrive intact.
  void exchange(std::vector<std::string> transport_args, const std::string& winning_step) {
    std::vector<std::string> args{"-v", "-c", relay()};
    args.insert(args.end(), transport_args.begin(), transport_args.end());
    args.insert(args.end(), {"hello through " + winning_step, "-f", big_file()});
    ASSERT_EQ(grove("send", args), 0) << err_;
    EXPECT_NE(err_.find(" " + winning_step + " "), std::string::npos) << err_;
    EXPECT_NE(err_.find("working after"), std::string::npos) << err_;
    ASSERT_EQ(listener_->wait(std::chrono::seconds(20)), 0) << read_file(dir_ / "listen.err");
    EXPECT_TRUE(read_file(dir_ / "in/big.bin") == read_file(big_file())) << "big.bin differs";
    EXPECT_EQ(read_file(dir_ / "in/message-000001.bin"), "hello through " + winning_step)
        << read_file(dir_ / "listen.out");
  }

  static TempDir* files_;
  TempDir dir_;
  std::unique_ptr<Process> listener_;
  int port_ = -1;
  std::string out_, err_;
};

TempDir* ProxyE2E::files_ = nullptr;

// ---------------------------------------------------------------- Secure Tunnel (henc.md §6, §7)

TEST_F(ProxyE2E, SquidBasicTunnel) {
  SKIP_UNLESS(Squid);
  start_listener(2);
  Squid squid({Squid::Auth::basic, "grove", "s3cret-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  exchange({"--path", "tunnel", "--port-443", std::to_string(port_), "--proxy", squid.url()},
           "tunnel");
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
  // §7.1: Basic is announced once; the password never reaches the log.
  EXPECT_NE(err_.find("Basic authentication"), std::string::npos) << err_;
  EXPECT_EQ(err_.find("s3cret-pass"), std::string::npos) << err_;
}

TEST_F(ProxyE2E, SquidDigestTunnel) {
  SKIP_UNLESS(Squid);
  start_listener(2);
  Squid squid({Squid::Auth::digest, "grove", "digest-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  exchange({"--path", "tunnel", "--port-443", std::to_string(port_), "--proxy", squid.url()},
           "tunnel");
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
  EXPECT_NE(squid.access_log().find(" grove "), std::string::npos) << squid.access_log();
}

TEST_F(ProxyE2E, SquidNtlmTunnel) {
  SKIP_UNLESS(Squid);
  start_listener(2);
  Squid squid({Squid::Auth::ntlm, "grove", "ntlm-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  exchange({"--path", "tunnel", "--port-443", std::to_string(port_), "--proxy",
            squid.url("WORKGROUP%5Cgrove", "ntlm-pass")},
           "tunnel");
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
}

TEST_F(ProxyE2E, TinyproxyBasicTunnel) {
  SKIP_UNLESS(Tinyproxy);
  start_listener(2);
  Tinyproxy tiny("grove", "tiny-pass", {port_});
  ASSERT_TRUE(tiny.ready()) << tiny.log();
  exchange({"--path", "tunnel", "--port-443", std::to_string(port_), "--proxy", tiny.url()},
           "tunnel");
}

// ---------------------------------------------------------------- SOCKS (henc.md §9)

TEST_F(ProxyE2E, DanteSocks5) {
  SKIP_UNLESS(Dante);
  start_listener(2);
  Dante dante({port_});
  ASSERT_TRUE(dante.ready()) << dante.log();
  exchange({"--path", "socks", "--socks", "socks5://" + dante.address()}, "socks");
}

TEST_F(ProxyE2E, MicrosocksSocks5WithPassword) {
  SKIP_UNLESS(Microsocks);
  start_listener(2);
  Microsocks ms("grove", "socks-pass");
  ASSERT_TRUE(ms.ready()) << ms.log();
  exchange({"--path", "socks", "--socks", ms.url()}, "socks");
  EXPECT_EQ(err_.find("socks-pass"), std::string::npos) << err_;
}

// ---------------------------------------------------------------- failures and the fallback walk

// A wrong proxy password: one retry with the credentials, then a clear error and exit code 4
// (the user must fix the password); squid logs the two requests and no more.
TEST_F(ProxyE2E, WrongProxyPasswordFailsOnceWithExitFour) {
  SKIP_UNLESS(Squid);
  start_listener(1);
  Squid squid({Squid::Auth::basic, "grove", "s3cret-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  EXPECT_EQ(grove("send", {"-c", relay(), "--path", "tunnel", "--port-443", std::to_string(port_),
                           "--proxy", squid.url("grove", "wrong-pass"), "x"}),
            4)
      << err_;
  EXPECT_NE(err_.find("proxy " + squid.address() + " rejected the proxy credentials"),
            std::string::npos)
      << err_;
  EXPECT_NE(err_.find("407"), std::string::npos) << err_;
  EXPECT_EQ(err_.find("wrong-pass"), std::string::npos) << err_;
  EXPECT_LE(squid.connect_requests(), 2) << squid.access_log();
  EXPECT_GE(squid.connect_requests(), 1) << squid.access_log();
  // `grove connect` says the same with the same exit code.
  EXPECT_EQ(grove("connect", {"-c", relay(), "--path", "tunnel", "--port-443",
                              std::to_string(port_), "--proxy", squid.url("grove", "wrong-pass")}),
            4)
      << out_ << err_;
  EXPECT_NE(out_.find("rejected the proxy credentials"), std::string::npos) << out_;
}

// squid refuses CONNECT to the relay's port (403): the walk moves on to SOCKS through dante,
// and the -v report says why the tunnel failed.
TEST_F(ProxyE2E, ForbiddenTunnelFallsBackToSocks) {
  SKIP_UNLESS(Squid);
  SKIP_UNLESS(Dante);
  start_listener(2);
  Squid squid({Squid::Auth::none, "", "", {2492}});  // not the listener's port
  ASSERT_TRUE(squid.ready()) << squid.log();
  Dante dante({port_});
  ASSERT_TRUE(dante.ready()) << dante.log();
  ASSERT_EQ(grove("send", {"-v", "-c", relay(), "--path", "tunnel,socks", "--port-443",
                           std::to_string(port_), "--proxy", "http://" + squid.address(), "--socks",
                           "socks5://" + dante.address(), "first", "second"}),
            0)
      << err_;
  EXPECT_NE(err_.find("step 3 tunnel"), std::string::npos) << err_;
  EXPECT_NE(err_.find("forbids CONNECT to " + relay() + " (403 Forbidden)"), std::string::npos)
      << err_;
  EXPECT_NE(
      err_.find("step 4 socks " + relay() + " via socks5 proxy " + dante.address() + ": working"),
      std::string::npos)
      << err_;
  EXPECT_EQ(listener_->wait(std::chrono::seconds(10)), 0);
  EXPECT_EQ(read_file(dir_ / "in/message-000002.bin"), "second");
}

// A proxy is configured but the relay's native port answers: step 1 wins and the proxy never
// sees a request. Forcing --path tunnel uses the proxy.
TEST_F(ProxyE2E, DirectPathWinsOverConfiguredProxy) {
  SKIP_UNLESS(Squid);
  start_listener(1);
  Squid squid({Squid::Auth::basic, "grove", "s3cret-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  const std::vector<std::string> proxy_args{
      "-c", relay(), "--port-443", std::to_string(port_), "--proxy", squid.url()};
  ASSERT_EQ(grove("connect", proxy_args), 0) << out_ << err_;
  EXPECT_NE(out_.find("step 1 native " + relay() + ": working"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("tunnel"), std::string::npos) << out_;
  EXPECT_EQ(squid.connect_requests(), 0) << squid.access_log();

  auto forced = proxy_args;
  forced.insert(forced.end(), {"--path", "tunnel"});
  ASSERT_EQ(grove("connect", forced), 0) << out_ << err_;
  EXPECT_NE(
      out_.find("step 3 tunnel " + relay() + " via http proxy " + squid.address() + ": working"),
      std::string::npos)
      << out_;
  EXPECT_NE(out_.find("result: tunnel (connect-tunnel via " + squid.address() + ")"),
            std::string::npos)
      << out_;
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos);
  listener_->kill(SIGTERM);
}

// The native port is closed: direct 443 (here the listener's port) carries the connection,
// and the next run tries it first (the remembered step, henc.md §11.2).
TEST_F(ProxyE2E, DirectPortWhenNativeIsClosedAndRemembered) {
  start_listener(2);
  const std::string closed = "127.0.0.1:" + std::to_string(free_loopback_port());
  ASSERT_EQ(grove("send", {"-v", "-c", closed, "--port-443", std::to_string(port_), "one"}), 0)
      << err_;
  EXPECT_NE(err_.find("step 1 native " + closed + ": failed"), std::string::npos) << err_;
  EXPECT_NE(err_.find("step 2 direct443 " + relay() + ": working"), std::string::npos) << err_;
  ASSERT_EQ(grove("send", {"-v", "-c", closed, "--port-443", std::to_string(port_), "two"}), 0)
      << err_;
  EXPECT_NE(err_.find("first=direct443"), std::string::npos) << err_;
  EXPECT_EQ(err_.find("step 1 native " + closed + ": failed"), std::string::npos) << err_;
  EXPECT_EQ(listener_->wait(std::chrono::seconds(10)), 0);
}

// Every step fails: exit code 3 and one line per step, also without -v.
TEST_F(ProxyE2E, AllStepsFailedExitThree) {
  const std::string closed = "127.0.0.1:" + std::to_string(free_loopback_port());
  const std::string no_proxy = "127.0.0.1:" + std::to_string(free_loopback_port());
  EXPECT_EQ(grove("send", {"-c", closed, "--port-443", "1", "--proxy", "http://" + no_proxy,
                           "--socks", "socks5://" + no_proxy, "x"}),
            3)
      << err_;
  for (const char* step : {"step 1 native", "step 2 direct443", "step 3 tunnel", "step 4 socks"})
    EXPECT_NE(err_.find(step), std::string::npos) << step << "\n" << err_;
  EXPECT_NE(err_.find("cannot reach proxy " + no_proxy), std::string::npos) << err_;
}

// https_proxy from the environment is used; --no-proxy-env and no_proxy turn it off.
TEST_F(ProxyE2E, ProxyFromEnvironment) {
  SKIP_UNLESS(Squid);
  start_listener(1);
  Squid squid({Squid::Auth::basic, "grove", "s3cret-pass", {port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  ::setenv("https_proxy", squid.url().c_str(), 1);
  const std::vector<std::string> args{"-c",     relay(), "--port-443", std::to_string(port_),
                                      "--path", "tunnel"};
  EXPECT_EQ(grove("connect", args), 0) << out_ << err_;
  EXPECT_NE(out_.find("via http proxy " + squid.address() + ": working"), std::string::npos)
      << out_;
  auto no_env = args;
  no_env.push_back("--no-proxy-env");
  EXPECT_EQ(grove("connect", no_env), 2) << out_ << err_;  // --path tunnel without a proxy
  ::setenv("no_proxy", "127.0.0.1", 1);
  EXPECT_EQ(grove("connect", args), 2) << out_ << err_;
  ::unsetenv("https_proxy");
  ::unsetenv("no_proxy");
  listener_->kill(SIGTERM);
}

}  // namespace
}  // namespace grove::test
