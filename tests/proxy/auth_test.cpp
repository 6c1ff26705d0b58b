// Authenticator: scheme choice (henc.md §7.1), rounds, attempt limit and the memo.
#include "proxy/auth.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "proxy/errc.hpp"
#include "test_util.hpp"

namespace grove::proxy {
namespace {

using Values = std::vector<std::string>;

std::string scheme_of(const std::string& v) { return v.substr(0, v.find(' ')); }

TEST(Authenticator, PreferenceDigestThenNtlmThenBasic) {
  struct Case {
    Values offer;
    std::string expect;
  };
  const Case cases[] = {
      {{"Basic realm=r", "NTLM", "Digest realm=r, nonce=n"}, "Digest"},
      {{"Basic realm=r, NTLM"}, "NTLM"},
      {{"Negotiate", "NTLM"}, "NTLM"},
      {{"Basic realm=r", "Negotiate"}, "Basic"},
      {{"Digest realm=r, nonce=n, qop=auth-int", "Basic realm=r"}, "Basic"},
      {{"Digest realm=r, nonce=n, algorithm=SHA-1", "NTLM"}, "NTLM"},
  };
  for (const Case& c : cases) {
    Authenticator a(test::auth_with("user", "pass"));
    ASSERT_FALSE(a.on_challenge(c.offer, "CONNECT", "h:443"));
    EXPECT_EQ(scheme_of(a.authorization()), c.expect);
  }
}

TEST(Authenticator, StrongestDigestAlgorithmWins) {
  Authenticator a(test::auth_with("user", "pass"));
  Values offer = {"Digest realm=r, nonce=a, algorithm=MD5",
                  "Digest realm=r, nonce=b, algorithm=SHA-256-sess",
                  "Digest realm=r, nonce=c, algorithm=SHA-512-256",
                  "Digest realm=r, nonce=d, algorithm=SHA-256"};
  ASSERT_FALSE(a.on_challenge(offer, "CONNECT", "h:443"));
  EXPECT_NE(a.authorization().find("nonce=\"d\""), std::string::npos);
  EXPECT_NE(a.authorization().find("algorithm=SHA-256,"), std::string::npos);
}

TEST(Authenticator, ErrorsWithoutAUsableOffer) {
  Authenticator a(test::auth_with("user", "pass"));
  EXPECT_EQ(a.on_challenge(Values{"Negotiate"}, "CONNECT", "h:443"), errc::negotiate_not_supported);
  Authenticator b(test::auth_with("user", "pass"));
  EXPECT_EQ(b.on_challenge(Values{"Bearer realm=x"}, "CONNECT", "h:443"),
            errc::no_usable_challenge);
  Authenticator c(test::auth_with("user", "pass"));
  EXPECT_EQ(c.on_challenge(Values{}, "CONNECT", "h:443"), errc::no_usable_challenge);
  Authenticator d(AuthOptions{});
  EXPECT_EQ(d.on_challenge(Values{"Basic realm=r"}, "CONNECT", "h:443"), errc::proxy_auth_required);
  Authenticator e(test::auth_with("us:er", "pass"));
  EXPECT_EQ(e.on_challenge(Values{"Basic realm=r"}, "CONNECT", "h:443"), errc::invalid_credentials);
}

TEST(Authenticator, SecondChallengeAfterCredentialsFails) {
  for (const char* offer : {"Basic realm=r", "Digest realm=r, nonce=n"}) {
    Authenticator a(test::auth_with("user", "pass"));
    ASSERT_FALSE(a.on_challenge(Values{offer}, "CONNECT", "h:443"));
    EXPECT_EQ(a.on_challenge(Values{offer}, "CONNECT", "h:443"), errc::proxy_auth_failed);
  }
}

TEST(Authenticator, DigestStaleRetriesWithNewNonceUpToTheLimit) {
  AuthOptions o = test::auth_with("user", "pass");
  o.max_attempts = 3;
  Authenticator a(o);
  ASSERT_FALSE(a.on_challenge(Values{"Digest realm=r, nonce=n1, qop=auth"}, "CONNECT", "h:1"));
  ASSERT_FALSE(
      a.on_challenge(Values{"Digest realm=r, nonce=n2, qop=auth, stale=true"}, "CONNECT", "h:1"));
  EXPECT_NE(a.authorization().find("nonce=\"n2\""), std::string::npos);
  EXPECT_NE(a.authorization().find("nc=00000001"), std::string::npos);
  ASSERT_FALSE(
      a.on_challenge(Values{"Digest realm=r, nonce=n3, qop=auth, stale=true"}, "CONNECT", "h:1"));
  EXPECT_EQ(a.attempts(), 3u);
  EXPECT_EQ(
      a.on_challenge(Values{"Digest realm=r, nonce=n4, qop=auth, stale=true"}, "CONNECT", "h:1"),
      errc::auth_attempts_exhausted);
}

TEST(Authenticator, NtlmLegs) {
  Authenticator a(test::auth_with("Domain\\User", "Password", "aaaaaaaaaaaaaaaa"));
  ASSERT_FALSE(a.on_challenge(Values{"NTLM"}, "CONNECT", "h:443"));
  EXPECT_EQ(a.authorization(), "NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=");
  EXPECT_TRUE(a.awaiting_ntlm_challenge());
  EXPECT_FALSE(a.needs_same_connection());
  EXPECT_EQ(a.on_challenge(Values{"NTLM !!!"}, "CONNECT", "h:443"), errc::proxy_auth_failed);
}

TEST(Authenticator, NtlmBadChallenge) {
  Authenticator a(test::auth_with("User", "Password"));
  ASSERT_FALSE(a.on_challenge(Values{"NTLM"}, "CONNECT", "h:443"));
  EXPECT_EQ(a.on_challenge(Values{"NTLM AAAA"}, "CONNECT", "h:443"), errc::bad_ntlm_challenge);
  Authenticator b(test::auth_with("User", "Password"));
  ASSERT_FALSE(b.on_challenge(Values{"NTLM"}, "CONNECT", "h:443"));
  EXPECT_EQ(b.on_challenge(Values{"NTLM TlRM="}, "CONNECT", "h:443"), errc::bad_ntlm_challenge);
}

TEST(Authenticator, MemoMakesLaterConnectionsSendCredentialsAtOnce) {
  Authenticator first(test::auth_with("user", "pass"));
  EXPECT_FALSE(first.initial("CONNECT", "h:443"));
  ASSERT_FALSE(
      first.on_challenge(Values{"Digest realm=proxy, nonce=n, qop=auth"}, "CONNECT", "h:443"));
  AuthMemo memo = first.memo();
  EXPECT_EQ(memo.scheme, AuthScheme::digest);
  EXPECT_EQ(memo.nc, 1u);

  AuthOptions o = test::auth_with("user", "pass");
  o.memo = memo;
  Authenticator later(o);
  auto v = later.initial("CONNECT", "h:443");
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("nc=00000002"), std::string::npos);  // §7.1: last nonce, next nc
  EXPECT_NE(v->find("cnonce=\"" + memo.cnonce + "\""), std::string::npos);
  EXPECT_EQ(later.memo().nc, 2u);

  AuthOptions ob = test::auth_with("user", "pass");
  ob.memo.scheme = AuthScheme::basic;
  EXPECT_EQ(Authenticator(ob).initial("CONNECT", "h:443"), "Basic dXNlcjpwYXNz");
  ob.memo.scheme = AuthScheme::ntlm;
  EXPECT_EQ(Authenticator(ob).initial("CONNECT", "h:443"),
            "NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=");
  AuthOptions none;
  none.memo.scheme = AuthScheme::basic;
  EXPECT_FALSE(Authenticator(none).initial("CONNECT", "h:443"));
}

TEST(Authenticator, ConfigurationErrors) {
  AuthOptions no_random = test::auth_with("u", "p");
  no_random.random = nullptr;
  EXPECT_THROW(Authenticator{no_random}, std::invalid_argument);
  AuthOptions no_clock = test::auth_with("u", "p");
  no_clock.now_filetime = nullptr;
  EXPECT_THROW(Authenticator{no_clock}, std::invalid_argument);
  EXPECT_THROW(Authenticator{test::auth_with("u\r\nX-Evil: 1", "p")}, std::invalid_argument);
  EXPECT_NO_THROW(Authenticator{AuthOptions{}});
}

}  // namespace
}  // namespace grove::proxy
