// Grove's TLS 1.3 extension end to end (henc.md §8, auth.md §6): groved with a throw-away
// self-signed certificate serves TLS and plain SSTP on the same ports; `grove send --tls`
// reaches it through squid's CONNECT tunnel with grove-auth-1 bound to the TLS exporter, and a
// certificate that is not the relay's (wrong CA, pin or name) fails with exit code 4 before
// any SSTP byte.
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
std::string dev(const std::string& name) { return kRelayUrl + "/d/" + name; }

int port_of(const std::string& log, const std::string& kind) {
  std::regex re("listening on [^ ]*:([0-9]+) \\(" + kind + "\\)");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : -1;
}

int run(std::vector<std::string> argv, const std::string& out, const std::string& err) {
  Process p(std::move(argv), out, err);
  auto rc = p.wait(std::chrono::seconds(60));
  return rc ? *rc : -1;
}

class TlsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_program("openssl").empty()) GROVE_MISSING_PEER("the openssl command is not installed");
    ::setenv("XDG_STATE_HOME", dir_.path().c_str(), 1);
    for (const char* v : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                          "ALL_PROXY", "no_proxy", "NO_PROXY"})
      ::unsetenv(v);
    // The relay's certificate (for relay.test and 127.0.0.1) and an unrelated one.
    for (const auto& [name, subject] :
         {std::pair{"relay", "relay.test"}, {"other", "other.test"}}) {
      ASSERT_EQ(
          run({find_program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:P-256", "-nodes", "-keyout",
               dir_ / (std::string(name) + ".key.pem"), "-out", dir_ / (std::string(name) + ".pem"),
               "-days", "2", "-subj", std::string("/CN=") + subject, "-addext",
               std::string("subjectAltName=DNS:") + subject + ",IP:127.0.0.1"},
              dir_ / "openssl.out", dir_ / "openssl.err"),
          0)
          << read_file(dir_ / "openssl.err");
    }
    for (const char* name : {"alice", "bob"}) {
      ASSERT_EQ(run({kGroved, "--db", db_, "device", "add", dev(name)},
                    dir_ / (std::string(name) + ".key"), dir_ / "admin.err"),
                0)
          << read_file(dir_ / "admin.err");
      ::chmod((dir_ / (std::string(name) + ".key")).c_str(), 0600);
    }
    std::ofstream(dir_ / "groved.toml")
        << "tls_certificate = \"" << (dir_ / "relay.pem") << "\"\n"
        << "tls_private_key = \"" << (dir_ / "relay.key.pem") << "\"\n"
        << "http_listen = []\n";
    relay_ = std::make_unique<Process>(
        std::vector<std::string>{kGroved, "--db", db_, "run", "--config", dir_ / "groved.toml",
                                 "-l", "127.0.0.1:0", "--ssl-listen", "127.0.0.1:0",
                                 "--admin-listen", "127.0.0.1:0", "--device-url", kRelayUrl, "-v"},
        "", dir_ / "relay.err");
    ASSERT_TRUE(wait_for_text(dir_ / "relay.err", "(admin)")) << read_file(dir_ / "relay.err");
    const std::string log = read_file(dir_ / "relay.err");
    port_ = port_of(log, "sstp");
    ssl_port_ = port_of(log, "ssl-port");
    ASSERT_GT(port_, 0);
    ASSERT_GT(ssl_port_, 0);
  }

  // grove send from alice to bob with `args`; the exit code, stderr in err_.
  int send(std::vector<std::string> args) {
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
                                  "--retry-for",
                                  "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    const int rc = run(argv, dir_ / "send.out", dir_ / "send.err");
    err_ = read_file(dir_ / "send.err");
    return rc;
  }

  // No device ever got as far as an SSTP Connect on the relay.
  void expect_no_sstp_reached_the_relay() {
    const std::string log = read_file(dir_ / "relay.err");
    EXPECT_EQ(log.find("device=grove://"), std::string::npos) << log;
    EXPECT_EQ(log.find("event=authenticated"), std::string::npos) << log;
  }

  TempDir dir_;
  std::string db_ = dir_ / "relay.db";
  std::unique_ptr<Process> relay_;
  int port_ = -1, ssl_port_ = -1;
  std::string err_;
};

#define SKIP_UNLESS(peer)             \
  do {                                \
    if (auto why = peer::missing()) { \
      GROVE_MISSING_PEER(*why);       \
    }                                 \
  } while (0)

// A message and a 20 MB file through squid's CONNECT with TLS inside; the same relay ports
// still serve plain SSTP; bob gets both intact.
TEST_F(TlsE2E, MessageAndFileThroughSquidTunnel) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  {
    std::ofstream out(dir_ / "big.bin", std::ios::binary);
    std::mt19937_64 rng(11);
    std::vector<uint64_t> block(1 << 16);
    for (int i = 0; i < 40; ++i) {  // 20 MiB: two fragments
      for (auto& w : block) w = rng();
      out.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size() * 8));
    }
  }
  ASSERT_EQ(send({"--path", "tunnel", "--proxy", "http://" + squid.address(), "--tls", "--tls-ca",
                  dir_ / "relay.pem", "over tls", "-f", dir_ / "big.bin"}),
            0)
      << err_;
  EXPECT_NE(err_.find("tls+connect-tunnel via " + squid.address()), std::string::npos) << err_;
  // auth.md §6: both sides bound the MACs to the exporter, so the relay proof checked out.
  EXPECT_NE(err_.find("authenticated=true"), std::string::npos) << err_;
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
  ASSERT_EQ(send({"--path", "native", "plain on the same port"}), 0) << err_;

  std::filesystem::create_directories(dir_ / "in");
  ASSERT_EQ(run({kGrove, "receive", "-c", "127.0.0.1:" + std::to_string(port_), "--relay-url",
                 kRelayUrl, "--device-url", dev("bob"), "--secret-file", dir_ / "bob.key", "-o",
                 dir_ / "in", "-n", "3"},
                dir_ / "recv.out", dir_ / "recv.err"),
            0)
      << read_file(dir_ / "recv.err");
  EXPECT_EQ(read_file(dir_ / "in/message-000001.bin"), "over tls");
  EXPECT_TRUE(read_file(dir_ / "in/big.bin") == read_file(dir_ / "big.bin")) << "big.bin differs";
  EXPECT_EQ(read_file(dir_ / "in/message-000003.bin"), "plain on the same port");
}

// A CA that did not sign the relay's certificate, through the tunnel: exit 4, a sentence that
// names the problem, and the relay never sees an SSTP Connect.
TEST_F(TlsE2E, WrongCaThroughSquidFailsBeforeSstp) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port_}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  EXPECT_EQ(send({"--path", "tunnel", "--proxy", "http://" + squid.address(), "--tls", "--tls-ca",
                  dir_ / "other.pem", "secret"}),
            4)
      << err_;
  EXPECT_NE(err_.find("the relay's TLS certificate was refused: self-signed certificate"),
            std::string::npos)
      << err_;
  expect_no_sstp_reached_the_relay();
}

TEST_F(TlsE2E, WrongHostNameFailsBeforeSstp) {
  EXPECT_EQ(send({"--path", "direct443", "--tls", "--tls-ca", dir_ / "relay.pem", "--tls-name",
                  "other.test", "secret"}),
            4)
      << err_;
  EXPECT_NE(err_.find("hostname mismatch (it is not for other.test; see --tls-name)"),
            std::string::npos)
      << err_;
  expect_no_sstp_reached_the_relay();
}

// --tls-pin alone replaces the CA check: the right key's pin works, another one fails and
// prints the pin the relay has.
TEST_F(TlsE2E, PinnedCertificate) {
  auto pin_of = [&](const std::string& pem) {
    // The SPKI pin as `openssl` computes it, in hex (grove accepts hex and base64).
    Process p({"/bin/sh", "-c",
               "openssl x509 -in '" + pem +
                   "' -pubkey -noout | openssl pkey -pubin -outform der"
                   " | openssl dgst -sha256 -r | cut -c1-64"},
              dir_ / "pin.out", dir_ / "pin.err");
    (void)p.wait();
    std::string s = read_file(dir_ / "pin.out");
    return "sha256:" + s.substr(0, 64);
  };
  EXPECT_EQ(send({"--path", "direct443", "--tls", "--tls-pin", pin_of(dir_ / "other.pem"), "x"}), 4)
      << err_;
  EXPECT_NE(err_.find("does not match --tls-pin (its public key pin is sha256:"), std::string::npos)
      << err_;
  expect_no_sstp_reached_the_relay();
  EXPECT_EQ(
      send({"--path", "direct443", "--tls", "--tls-pin", pin_of(dir_ / "relay.pem"), "pinned"}), 0)
      << err_;
}

}  // namespace
}  // namespace grove::test
