// NTLM through HttpConnect (henc.md §7.4): three legs on one connection, byte-exact with the
// MS-NLMP §4.2.4 values, and the failures when the proxy does not keep the connection.
#include <gtest/gtest.h>

#include "connect_test_util.hpp"
#include "proxy/http_connect.hpp"

namespace grove::proxy {
namespace {

using test::feed;
using test::request_with;
using test::take_output;

constexpr std::string_view kNegotiate =
    "Proxy-Authorization: NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=";
// MS-NLMP §4.2.4.3 CHALLENGE_MESSAGE (see ntlm_test.cpp).
constexpr std::string_view kChallengeB64 =
    "TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgAC"
    "AAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=";
constexpr std::string_view kAuthenticate =
    "Proxy-Authorization: NTLM TlRMTVNTUAADAAAAGAAYAEAAAABUAFQAWAAAAAwADACsAAAACAAIALgAAAAQABAAwA"
    "AAAAAAAADQAAAAAYKIAIbDUJesnOwQJVR2SlfMzBmqqqqqqqqqqmjNCrhR5RyWqrySe+vvahwBAQAAAAAAAAAAAAAAAAAA"
    "qqqqqqqqqqoAAAAAAgAMAEQAbwBtAGEAaQBuAAEADABTAGUAcgB2AGUAcgAAAAAAAAAAAEQAbwBtAGEAaQBuAFUAcwBlA"
    "HIAQwBPAE0AUABVAFQARQBSAA==";

ConnectOptions ntlm_options() {
  AuthOptions a = test::auth_with("Domain\\User", "Password", "aaaaaaaaaaaaaaaa");
  a.workstation = "COMPUTER";
  return test::connect_options(a);
}

std::string leg0(std::string_view extra = "") {
  return "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\n"
         "Proxy-Authenticate: Basic realm=\"proxy\"\r\n" +
         std::string(extra) + "Content-Length: 4\r\n\r\nbody";
}

std::string leg1(std::string_view extra = "", std::string_view body = "") {
  return "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM " +
         std::string(kChallengeB64) + "\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST(HttpConnectNtlm, ThreeLegsOnOneConnection) {
  HttpConnect c(ntlm_options());
  (void)take_output(c);
  std::string r0 = leg0();
  EXPECT_EQ(feed(c, r0), r0.size());
  EXPECT_EQ(take_output(c), request_with(kNegotiate));
  std::string r1 = leg1("", "x");
  EXPECT_EQ(feed(c, r1), r1.size());
  EXPECT_EQ(take_output(c), request_with(kAuthenticate));
  EXPECT_EQ(c.requests(), 3u);
  std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
  EXPECT_EQ(feed(c, ok + "\x10\x07"), ok.size());
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.auth_scheme(), AuthScheme::ntlm);
}

TEST(HttpConnectNtlm, AllLegsSplitByteByByte) {
  HttpConnect c(ntlm_options());
  std::string wire = leg0() + leg1() + "HTTP/1.0 200 OK\r\n\r\nSSTP";
  std::size_t used = 0;
  for (std::size_t i = 0; i < wire.size() && !c.done() && !c.failed(); ++i) {
    used += feed(c, std::string_view(wire).substr(i, 1));
  }
  EXPECT_TRUE(c.done()) << c.error().message();
  EXPECT_EQ(used, wire.size() - 4);
}

TEST(HttpConnectNtlm, LegZeroClosingIsFine) {
  HttpConnect c(ntlm_options());
  (void)take_output(c);
  (void)feed(c, leg0("Connection: close\r\n"));
  ASSERT_TRUE(c.needs_new_connection());
  c.reconnected();
  EXPECT_EQ(take_output(c), request_with(kNegotiate));
  (void)feed(c, leg1());
  EXPECT_EQ(take_output(c), request_with(kAuthenticate));
}

TEST(HttpConnectNtlm, ProxyClosingDuringNtlmFails) {
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    (void)feed(c, leg1("Connection: close\r\n"));
    EXPECT_EQ(c.error(), errc::ntlm_connection_closed);
  }
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    c.receive_eof();  // no answer to NEGOTIATE
    EXPECT_EQ(c.error(), errc::ntlm_connection_closed);
  }
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    std::string r1 = leg1("", "0123456789");
    (void)feed(c, std::string_view(r1).substr(0, r1.size() - 3));
    c.receive_eof();  // closed while the challenge body was drained
    EXPECT_EQ(c.error(), errc::ntlm_connection_closed);
  }
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    (void)feed(c, "HTTP/1.0 407 A\r\nProxy-Authenticate: NTLM " + std::string(kChallengeB64) +
                      "\r\nContent-Length: 0\r\n\r\n");  // HTTP/1.0 without keep-alive
    EXPECT_EQ(c.error(), errc::ntlm_connection_closed);
  }
}

TEST(HttpConnectNtlm, ChallengeBodyTooLargeToDrain) {
  ConnectOptions o = ntlm_options();
  o.max_drain_bytes = 4;
  HttpConnect c(o);
  (void)feed(c, leg0());
  (void)feed(c, leg1("", "12345"));
  EXPECT_EQ(c.error(), errc::body_too_large);
}

TEST(HttpConnectNtlm, RejectedAfterAuthenticateAndBadChallenge) {
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    (void)feed(c, leg1());
    (void)feed(c, leg0());
    EXPECT_EQ(c.error(), errc::proxy_auth_failed);
  }
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    (void)feed(c,
               "HTTP/1.1 407 A\r\nProxy-Authenticate: NTLM AAAAAAAA\r\n"
               "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(c.error(), errc::bad_ntlm_challenge);
  }
  {
    HttpConnect c(ntlm_options());
    (void)feed(c, leg0());
    (void)feed(c, leg1());
    (void)feed(c, "HTTP/1.1 403 Forbidden\r\n\r\n");  // §7.4: not 407 = NTLM done; then 403
    EXPECT_EQ(c.error(), errc::proxy_forbidden);
  }
}

}  // namespace
}  // namespace grove::proxy
