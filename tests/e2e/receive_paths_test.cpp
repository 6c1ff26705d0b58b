// `grove receive` reaches the relay like `grove send` does (henc.md §11): real groved with its
// ssl port and its HTTP listener on loopback, messages stored for bob while he is offline, then
// `grove receive --path tunnel|keepalive|socks` through real squid and dante. Each run must print
// the winning attempt (-v), take every message, and leave nothing behind at the relay.
#include <gtest/gtest.h>

#include <sstream>

#include "support/peers.hpp"
#include "support/relay_fixture.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

class ReceivePaths : public RelayFixture {
 protected:
  void SetUp() override {
    isolate_environment(dir.path());
    add_devices({"alice", "bob"});
    start_relay();
    ASSERT_GT(http_port, 0) << read_file(dir / "relay.err");
  }

  // alice stores two messages for bob (offline) at the relay, natively.
  void store_for_bob(const std::string& tag) {
    auto s = send_args("alice", "bob");
    s.insert(s.end(), {"first via " + tag, "second via " + tag});
    ASSERT_EQ(run(s, dir / "send.out", dir / "send.err"), 0) << read_file(dir / "send.err");
  }

  // `grove receive -v -n 2` as bob with `transport` added; the exit code.
  int receive(const std::vector<std::string>& transport) {
    auto r = receive_args("bob");
    r.insert(r.end(), {"-v", "-n", "2"});
    r.insert(r.end(), transport.begin(), transport.end());
    const int rc = run(r, dir / "recv.out", dir / "recv.err", {}, std::chrono::seconds(40));
    out = read_file(dir / "recv.out");
    err = read_file(dir / "recv.err");
    return rc;
  }

  // Both messages arrived over `step`, the walk said so, and the relay's queue is empty now.
  void expect_received_over(const std::string& step, const std::string& tag) {
    EXPECT_EQ(out, "first via " + tag + "\nsecond via " + tag + "\n") << err;
    EXPECT_NE(err.find(" " + step + " "), std::string::npos) << err;
    EXPECT_NE(err.find("working after"), std::string::npos) << err;
    auto again = receive_args("bob");
    again.insert(again.end(), {"--path", "native", "--idle", "1"});
    ASSERT_EQ(run(again, dir / "again.out", dir / "again.err"), 0) << read_file(dir / "again.err");
    EXPECT_EQ(read_file(dir / "again.out"), "") << "acknowledged messages came again";
  }

  std::string out, err;
};

// Step 3: CONNECT through squid to the relay's ssl port, which speaks raw SSTP.
TEST_F(ReceivePaths, TunnelThroughSquid) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::none, .connect_ports = {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  store_for_bob("tunnel");
  ASSERT_EQ(receive({"--path", "tunnel", "--port-443", std::to_string(ssl_port), "--proxy",
                     "http://" + squid.address()}),
            0)
      << err;
  expect_received_over("tunnel", "tunnel");
  EXPECT_NE(err.find("via http proxy " + squid.address()), std::string::npos) << err;
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
  EXPECT_NE(squid.access_log().find("127.0.0.1:" + std::to_string(ssl_port)), std::string::npos)
      << squid.access_log();
}

// Step 5: SSTP in HTTP/1.0 requests through squid (with Basic) to groved's http_listen.
TEST_F(ReceivePaths, KeepAliveThroughSquidToTheHttpListener) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::basic, .connect_ports = {}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  store_for_bob("keepalive");
  ASSERT_EQ(receive({"--path", "keepalive", "--http-port", std::to_string(http_port), "--proxy",
                     squid.url()}),
            0)
      << err;
  expect_received_over("keepalive", "keepalive");
  EXPECT_NE(squid.access_log().find("POST http://127.0.0.1:" + std::to_string(http_port)),
            std::string::npos)
      << squid.access_log();
  EXPECT_EQ(err.find(squid.url()), std::string::npos) << "the proxy password was logged";
}

// Step 4: SOCKS5 through dante to the relay's native port.
TEST_F(ReceivePaths, SocksThroughDante) {
  if (auto why = Dante::missing()) GROVE_MISSING_PEER(*why);
  Dante dante({port});
  ASSERT_TRUE(dante.ready()) << dante.log();
  store_for_bob("socks");
  ASSERT_EQ(receive({"--path", "socks", "--socks", "socks5://" + dante.address()}), 0) << err;
  expect_received_over("socks", "socks");
  EXPECT_NE(err.find("via socks5 proxy " + dante.address()), std::string::npos) << err;
}

// --path tunnel needs an HTTP proxy: a usage error before anything is dialed.
TEST_F(ReceivePaths, TunnelWithoutProxyIsAUsageError) {
  store_for_bob("nothing");
  EXPECT_EQ(receive({"--path", "tunnel"}), 2) << err;
  EXPECT_NE(err.find("--path tunnel needs an HTTP proxy"), std::string::npos) << err;
  EXPECT_EQ(out, "");
  std::istringstream log(read_file(dir / "relay.err"));
  for (std::string line; std::getline(log, line);)
    EXPECT_FALSE(line.find("event=authenticated") != std::string::npos &&
                 line.find(dev("bob")) != std::string::npos)
        << "grove receive dialed the relay: " << line;
}

// No step reaches the relay: exit code 3, and every attempt is reported without -v.
TEST_F(ReceivePaths, NoStepReachesTheRelayExitThree) {
  const int closed = free_loopback_port();
  auto r = receive_args("bob");
  r[3] = "127.0.0.1:" + std::to_string(closed);  // -c
  r.insert(r.end(), {"--path", "native,direct443", "--port-443", std::to_string(closed)});
  EXPECT_EQ(run(r, dir / "recv.out", dir / "recv.err"), 3) << read_file(dir / "recv.err");
  const std::string e = read_file(dir / "recv.err");
  EXPECT_NE(e.find("no transport reached it"), std::string::npos) << e;
  EXPECT_NE(e.find("step 1 native"), std::string::npos) << e;
  EXPECT_NE(e.find("step 2 direct443"), std::string::npos) << e;
}

// The relay refuses bob's secret through the tunnel: exit code 4, as natively.
TEST_F(ReceivePaths, WrongSecretThroughTunnelExitFour) {
  if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
  Squid squid({.auth = Squid::Auth::none, .connect_ports = {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  auto r = receive_args("bob", "alice");
  r.insert(r.end(), {"--path", "tunnel", "--port-443", std::to_string(ssl_port), "--proxy",
                     "http://" + squid.address()});
  EXPECT_EQ(run(r, dir / "recv.out", dir / "recv.err"), 4) << read_file(dir / "recv.err");
}

}  // namespace
}  // namespace grove::test
