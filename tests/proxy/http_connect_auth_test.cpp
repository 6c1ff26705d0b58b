// HttpConnect with proxy authentication (henc.md §7): retries byte-exact, connection reuse and
// body draining, reconnects, NTLM on one connection, and every authentication errc.
#include <gtest/gtest.h>

#include "connect_test_util.hpp"
#include "proxy/http_connect.hpp"

namespace grove::proxy {
namespace {

using test::feed;
using test::kRequest;
using test::request_with;
using test::take_output;

constexpr std::string_view k407BasicKeep =
    "HTTP/1.1 407 Proxy Authentication Required\r\n"
    "Proxy-Authenticate: Basic realm=\"proxy\"\r\n"
    "Content-Length: 5\r\n\r\nabcde";
constexpr std::string_view k200 = "HTTP/1.0 200 Connection established\r\n\r\n";

TEST(HttpConnectAuth, BasicOnTheSameConnectionAfterDrainingTheBody) {
  std::string wire(k407BasicKeep);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
    EXPECT_EQ(take_output(c), kRequest);
    std::size_t used = feed(c, std::string_view(wire).substr(0, cut));
    used += feed(c, std::string_view(wire).substr(used));
    EXPECT_EQ(used, wire.size()) << cut;
    ASSERT_EQ(c.state(), HttpConnect::State::requested) << cut;
    EXPECT_EQ(take_output(c), request_with("Proxy-Authorization: Basic dXNlcjpwYXNz"));
    EXPECT_EQ(c.requests(), 2u);
    EXPECT_EQ(feed(c, std::string(k200) + "SSTP"), k200.size());
    EXPECT_TRUE(c.done());
    EXPECT_EQ(c.auth_scheme(), AuthScheme::basic);
  }
}

TEST(HttpConnectAuth, ReconnectWhenTheProxyDoesNotKeepTheConnection) {
  const char* closing[] = {
      "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\nConnection: close\r\n"
      "Content-Length: 0\r\n\r\n",
      "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\nProxy-Connection: close\r\n"
      "Content-Length: 0\r\n\r\n",
      "HTTP/1.0 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\n\r\nbody until close",
      "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\nTransfer-Encoding: chunked\r\n"
      "\r\n0\r\n\r\n",
      "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\nContent-Length: 70000\r\n\r\n",
  };
  for (const char* r : closing) {
    HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
    (void)take_output(c);
    std::string_view wire = r;
    std::size_t head = wire.find("\r\n\r\n") + 4;
    EXPECT_EQ(feed(c, wire), head) << r;
    ASSERT_TRUE(c.needs_new_connection()) << r;
    EXPECT_TRUE(c.pending_output().empty());
    EXPECT_EQ(feed(c, "more"), 0u);
    c.receive_eof();  // closing the old connection changes nothing
    ASSERT_TRUE(c.needs_new_connection());
    c.reconnected();
    EXPECT_EQ(take_output(c), request_with("Proxy-Authorization: Basic dXNlcjpwYXNz"));
    EXPECT_EQ(feed(c, k200), k200.size());
    EXPECT_TRUE(c.done()) << r;
  }
}

TEST(HttpConnectAuth, Http10KeepAliveIsReused) {
  for (const char* hdr : {"Proxy-Connection: keep-alive", "Connection: Keep-Alive"}) {
    HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
    (void)take_output(c);
    std::string r = std::string("HTTP/1.0 407 Auth\r\nProxy-Authenticate: Basic realm=r\r\n") +
                    hdr + "\r\nContent-Length: 2\r\n\r\nxy";
    EXPECT_EQ(feed(c, r), r.size());
    EXPECT_EQ(c.state(), HttpConnect::State::requested) << hdr;
  }
}

TEST(HttpConnectAuth, EofWhileDrainingMeansReconnectForBasic) {
  HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
  (void)take_output(c);
  (void)feed(c, k407BasicKeep.substr(0, k407BasicKeep.size() - 2));
  EXPECT_EQ(c.state(), HttpConnect::State::draining);
  c.receive_eof();
  EXPECT_TRUE(c.needs_new_connection());
}

TEST(HttpConnectAuth, DigestMd5MatchesHencExample) {
  // henc.md §7.3, byte for byte, with the example's cnonce as the random bytes.
  HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
  (void)take_output(c);
  std::string_view r =
      "HTTP/1.1 407 Proxy Authentication Required\r\n"
      "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
      "qop=\"auth\", algorithm=MD5\r\n"
      "Content-Length: 0\r\n"
      "Proxy-Connection: keep-alive\r\n\r\n";
  EXPECT_EQ(feed(c, r), r.size());
  EXPECT_EQ(take_output(c),
            "CONNECT relay.example.com:443 HTTP/1.0\r\n"
            "User-Agent: Grove/1.0\r\n"
            "Host: relay.example.com:443\r\n"
            "Proxy-Connection: Keep-Alive\r\n"
            "Pragma: no-cache\r\n"
            "Proxy-Authorization: Digest username=\"user\", realm=\"proxy\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"relay.example.com:443\", "
            "algorithm=MD5, response=\"6fbe537db642fdcbf5a7a4e4de51f9b0\", qop=auth, "
            "nc=00000001, cnonce=\"6b8f4e2c9d1a0f3e7c5b2a1908d7e6f5\"\r\n"
            "\r\n");
  EXPECT_EQ(feed(c, k200), k200.size());
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.auth_memo().scheme, AuthScheme::digest);
}

TEST(HttpConnectAuth, DigestSha256AndStaleNonce) {
  HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
  (void)take_output(c);
  (void)feed(c,
             "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Digest realm=\"proxy\", "
             "nonce=\"old\", qop=\"auth\", algorithm=MD5\r\n"
             "Proxy-Authenticate: Digest realm=\"proxy\", "
             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=\"auth\", algorithm=SHA-256\r\n"
             "Content-Length: 0\r\n\r\n");
  std::string retry = take_output(c);
  EXPECT_NE(retry.find("algorithm=SHA-256, response=\"dac9be9ef44eb1ff8f913d768d1840632e0468b5636"
                       "4990e7ccdee0f1beaa86a\""),
            std::string::npos)
      << retry;
  (void)feed(c,
             "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Digest realm=\"proxy\", nonce=\"fresh\", "
             "qop=\"auth\", algorithm=SHA-256, stale=true\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(c.state(), HttpConnect::State::requested);
  retry = take_output(c);
  EXPECT_NE(retry.find("nonce=\"fresh\""), std::string::npos);
  EXPECT_NE(retry.find("nc=00000001"), std::string::npos);
  (void)feed(c,
             "HTTP/1.1 407 Auth\r\nProxy-Authenticate: Digest realm=\"proxy\", nonce=\"again\", "
             "qop=\"auth\"\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.error(), errc::proxy_auth_failed);
}

TEST(HttpConnectAuth, FailuresNeverCarryCredentials) {
  struct Case {
    AuthOptions auth;
    const char* response;
    errc e;
  };
  Case cases[] = {
      {{},
       "HTTP/1.1 407 A\r\nProxy-Authenticate: Basic realm=r\r\n\r\n",
       errc::proxy_auth_required},
      {test::auth_with("secretuser", "secretpass"),
       "HTTP/1.1 407 A\r\nProxy-Authenticate: Negotiate\r\n\r\n", errc::negotiate_not_supported},
      {test::auth_with("secretuser", "secretpass"), "HTTP/1.1 407 A\r\n\r\n",
       errc::no_usable_challenge},
      {test::auth_with("secret:user", "secretpass"),
       "HTTP/1.1 407 A\r\nProxy-Authenticate: Basic realm=r\r\n\r\n", errc::invalid_credentials},
  };
  for (Case& k : cases) {
    HttpConnect c(test::connect_options(k.auth));
    (void)take_output(c);
    (void)feed(c, k.response);
    EXPECT_EQ(c.error(), k.e) << k.response;
    EXPECT_EQ(c.status_code(), 407);
    EXPECT_EQ(c.error().message().find("secret"), std::string::npos);
  }
  HttpConnect c(test::connect_options(test::auth_with("secretuser", "secretpass")));
  (void)feed(c, "HTTP/1.1 407 A\r\nProxy-Authenticate: Basic realm=r\r\nContent-Length: 0\r\n\r\n");
  (void)feed(c, "HTTP/1.1 407 A\r\nProxy-Authenticate: Basic realm=r\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.error(), errc::proxy_auth_failed);  // never the same credentials twice
  EXPECT_EQ(c.error().message().find("secret"), std::string::npos);
}

TEST(HttpConnectAuth, WwwAuthenticateOn401) {
  HttpConnect c(test::connect_options(test::auth_with("user", "pass")));
  (void)take_output(c);
  (void)feed(c,
             "HTTP/1.1 401 Unauthorized\r\nProxy-Authenticate: Digest realm=x, nonce=y\r\n"
             "WWW-Authenticate: Basic realm=r\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(take_output(c), request_with("Authorization: Basic dXNlcjpwYXNz"));
}

TEST(HttpConnectAuth, MemoSendsCredentialsInTheFirstRequest) {
  AuthOptions a = test::auth_with("user", "pass");
  a.memo.scheme = AuthScheme::basic;
  HttpConnect c(test::connect_options(a));
  EXPECT_EQ(take_output(c), request_with("Proxy-Authorization: Basic dXNlcjpwYXNz"));
  (void)feed(c, k407BasicKeep);
  EXPECT_EQ(c.error(), errc::proxy_auth_failed);
}

TEST(HttpConnectAuth, AttemptLimit) {
  AuthOptions a = test::auth_with("user", "pass");
  a.max_attempts = 1;
  HttpConnect c(test::connect_options(a));
  (void)feed(c,
             "HTTP/1.1 407 A\r\nProxy-Authenticate: Digest realm=r, nonce=a\r\n"
             "Content-Length: 0\r\n\r\n");
  (void)feed(c,
             "HTTP/1.1 407 A\r\nProxy-Authenticate: Digest realm=r, nonce=b, stale=true\r\n"
             "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(c.error(), errc::auth_attempts_exhausted);
}

}  // namespace
}  // namespace grove::proxy
