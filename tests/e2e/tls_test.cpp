// Grove's TLS 1.3 extension end to end (henc.md §8, auth.md §6): groved with a throw-away
// self-signed certificate serves TLS and plain SSTP on the same ports; `grove send --tls`
// reaches it through squid's CONNECT tunnel with grove-auth-1 bound to the TLS exporter, and a
// certificate that is not the relay's (wrong CA, pin or name) fails with exit code 4 before
// any SSTP byte.
#include <gtest/gtest.h>

#include "support/peers.hpp"
#include "support/relay_fixture.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

class TlsE2E : public RelayFixture {
 protected:
  void SetUp() override {
    if (find_program("openssl").empty()) GROVE_MISSING_PEER("the openssl command is not installed");
    isolate_environment(dir.path());
    // The relay's certificate (for relay.test and 127.0.0.1) and an unrelated one.
    for (const auto& [name, subject] :
         {std::pair{"relay", "relay.test"}, {"other", "other.test"}}) {
      ASSERT_EQ(
          run({find_program("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:P-256", "-nodes", "-keyout",
               dir / (std::string(name) + ".key.pem"), "-out", dir / (std::string(name) + ".pem"),
               "-days", "2", "-subj", std::string("/CN=") + subject, "-addext",
               std::string("subjectAltName=DNS:") + subject + ",IP:127.0.0.1"},
              dir / "openssl.out", dir / "openssl.err"),
          0)
          << read_file(dir / "openssl.err");
    }
    add_devices({"alice", "bob"});
    start_relay("tls_certificate = \"" + (dir / "relay.pem") + "\"\n" + "tls_private_key = \"" +
                (dir / "relay.key.pem") + "\"\n");
  }

  // grove send from alice to bob with `args`; the exit code, stderr in err_.
  int send(std::vector<std::string> args) {
    std::vector<std::string> argv = send_args("alice", "bob");
    argv.insert(argv.end(), {"-v", "--port-443", std::to_string(ssl_port), "--retry-for", "0"});
    argv.insert(argv.end(), args.begin(), args.end());
    const int rc = run(argv, dir / "send.out", dir / "send.err");
    err_ = read_file(dir / "send.err");
    return rc;
  }

  // No device ever got as far as an SSTP Connect on the relay.
  void expect_no_sstp_reached_the_relay() {
    const std::string log = read_file(dir / "relay.err");
    EXPECT_EQ(log.find("device=grove://"), std::string::npos) << log;
    EXPECT_EQ(log.find("event=authenticated"), std::string::npos) << log;
  }

  std::string err_;
};

// A message and a 20 MB file through squid's CONNECT with TLS inside; the same relay ports
// still serve plain SSTP; bob gets both intact.
TEST_F(TlsE2E, MessageAndFileThroughSquidTunnel) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  write_random_file(dir / "big.bin", 20u << 20, 11);  // two fragments
  ASSERT_EQ(send({"--path", "tunnel", "--proxy", "http://" + squid.address(), "--tls", "--tls-ca",
                  dir / "relay.pem", "over tls", "-f", dir / "big.bin"}),
            0)
      << err_;
  EXPECT_NE(err_.find("tls+connect-tunnel via " + squid.address()), std::string::npos) << err_;
  // auth.md §6: both sides bound the MACs to the exporter, so the relay proof checked out.
  EXPECT_NE(err_.find("authenticated=true"), std::string::npos) << err_;
  EXPECT_NE(squid.access_log().find("TCP_TUNNEL/200"), std::string::npos) << squid.access_log();
  ASSERT_EQ(send({"--path", "native", "plain on the same port"}), 0) << err_;

  std::filesystem::create_directories(dir / "in");
  ASSERT_EQ(run({kGrove, "receive", "-c", "127.0.0.1:" + std::to_string(port), "--relay-url",
                 kRelayUrl, "--device-url", dev("bob"), "--secret-file", dir / "bob.key", "-o",
                 dir / "in", "-n", "3"},
                dir / "recv.out", dir / "recv.err"),
            0)
      << read_file(dir / "recv.err");
  EXPECT_EQ(read_file(dir / "in/message-000001.bin"), "over tls");
  EXPECT_TRUE(read_file(dir / "in/big.bin") == read_file(dir / "big.bin")) << "big.bin differs";
  EXPECT_EQ(read_file(dir / "in/message-000003.bin"), "plain on the same port");
}

// A CA that did not sign the relay's certificate, through the tunnel: exit 4, a sentence that
// names the problem, and the relay never sees an SSTP Connect.
TEST_F(TlsE2E, WrongCaThroughSquidFailsBeforeSstp) {
  SKIP_UNLESS(Squid);
  Squid squid({Squid::Auth::none, "", "", {ssl_port}});
  ASSERT_TRUE(squid.ready()) << squid.log();
  EXPECT_EQ(send({"--path", "tunnel", "--proxy", "http://" + squid.address(), "--tls", "--tls-ca",
                  dir / "other.pem", "secret"}),
            4)
      << err_;
  EXPECT_NE(err_.find("the relay's TLS certificate was refused: self-signed certificate"),
            std::string::npos)
      << err_;
  expect_no_sstp_reached_the_relay();
}

TEST_F(TlsE2E, WrongHostNameFailsBeforeSstp) {
  EXPECT_EQ(send({"--path", "direct443", "--tls", "--tls-ca", dir / "relay.pem", "--tls-name",
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
              dir / "pin.out", dir / "pin.err");
    (void)p.wait();
    std::string s = read_file(dir / "pin.out");
    return "sha256:" + s.substr(0, 64);
  };
  EXPECT_EQ(send({"--path", "direct443", "--tls", "--tls-pin", pin_of(dir / "other.pem"), "x"}), 4)
      << err_;
  EXPECT_NE(err_.find("does not match --tls-pin (its public key pin is sha256:"), std::string::npos)
      << err_;
  expect_no_sstp_reached_the_relay();
  EXPECT_EQ(
      send({"--path", "direct443", "--tls", "--tls-pin", pin_of(dir / "relay.pem"), "pinned"}), 0)
      << err_;
}

}  // namespace
}  // namespace grove::test
