// Proxy-Authenticate parsing (RFC 9110 §11.6.1).
#include "proxy/auth_challenge.hpp"

#include <gtest/gtest.h>

namespace grove::proxy {
namespace {

TEST(AuthChallenge, DigestParamsQuotedAndBare) {
  auto v = parse_challenges(
      "Digest realm=\"proxy\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=\"auth\", "
      "algorithm=MD5");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].scheme, "digest");
  ASSERT_NE(v[0].param("realm"), nullptr);
  EXPECT_EQ(*v[0].param("realm"), "proxy");
  EXPECT_EQ(*v[0].param("nonce"), "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(*v[0].param("qop"), "auth");
  EXPECT_EQ(*v[0].param("algorithm"), "MD5");
  EXPECT_EQ(v[0].param("opaque"), nullptr);
}

TEST(AuthChallenge, SeveralChallengesInOneValue) {
  auto v = parse_challenges("Basic realm=\"a, b\", NTLM, Negotiate, Digest realm=x, nonce=y");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].scheme, "basic");
  EXPECT_EQ(*v[0].param("realm"), "a, b");
  EXPECT_EQ(v[1].scheme, "ntlm");
  EXPECT_TRUE(v[1].params.empty());
  EXPECT_EQ(v[2].scheme, "negotiate");
  EXPECT_EQ(v[3].scheme, "digest");
  EXPECT_EQ(*v[3].param("nonce"), "y");
}

TEST(AuthChallenge, Token68) {
  auto v = parse_challenges("NTLM TlRMTVNTUAACAAAA+/==, Basic realm=r");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].token68, "TlRMTVNTUAACAAAA+/==");
  EXPECT_EQ(v[1].scheme, "basic");
}

TEST(AuthChallenge, EscapesCaseAndWhitespace) {
  auto v = parse_challenges("  ,DIGEST  REALM = \"a\\\"b\\\\c\" ,, Nonce=\"n\"  ");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].scheme, "digest");
  EXPECT_EQ(*v[0].param("realm"), "a\"b\\c");
  EXPECT_EQ(*v[0].param("nonce"), "n");
}

TEST(AuthChallenge, UnquotedBase64Nonce) {
  auto v = parse_challenges("Digest nonce=abc/def==, realm=r");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(*v[0].param("nonce"), "abc/def==");
}

TEST(AuthChallenge, SyntaxErrorDropsTheBrokenChallengeAndTheRest) {
  auto v = parse_challenges("Basic realm=x, Digest realm=\"unterminated, NTLM");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].scheme, "basic");
  EXPECT_TRUE(parse_challenges("=x").empty());
  EXPECT_TRUE(parse_challenges("Basic=x").empty());
  EXPECT_EQ(parse_challenges("Digest realm=").size(), 1u);  // "realm=" reads as a token68
  EXPECT_TRUE(parse_challenges("Digest realm=x nonce=y").empty());
  EXPECT_TRUE(parse_challenges("").empty());
}

TEST(AuthChallenge, Limits) {
  std::string many;
  for (int i = 0; i < 40; ++i) many += "Basic, ";
  EXPECT_EQ(parse_challenges(many).size(), kMaxChallengesPerHeader);
  std::string params = "Digest ";
  for (int i = 0; i < 40; ++i) params += "p" + std::to_string(i) + "=v, ";
  auto v = parse_challenges(params);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].params.size(), kMaxParamsPerChallenge);
}

}  // namespace
}  // namespace grove::proxy
