// Digest (RFC 7616) against the RFC's §3.9.1 example and henc.md §7.3's CONNECT example.
// Values not printed in either were computed independently with Python's hashlib.
#include "proxy/digest.hpp"

#include <gtest/gtest.h>

namespace grove::proxy {
namespace {

DigestChallenge rfc7616(DigestAlgorithm a) {
  DigestChallenge c;
  c.realm = "http-auth@example.org";
  c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  c.opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
  c.algorithm = a;
  c.qop_auth = true;
  return c;
}

const DigestInput kRfcInput{"Mufasa",
                            "Circle of Life",
                            "GET",
                            "/dir/index.html",
                            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                            1};

TEST(Digest, Rfc7616Section391Md5) {
  EXPECT_EQ(digest_response(rfc7616(DigestAlgorithm::md5), kRfcInput),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc7616Section391Sha256) {
  EXPECT_EQ(digest_response(rfc7616(DigestAlgorithm::sha256), kRfcInput),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, Rfc7616HeaderCarriesOpaque) {
  std::string v = digest_authorization(rfc7616(DigestAlgorithm::sha256), kRfcInput);
  EXPECT_EQ(v,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
            "algorithm=SHA-256, "
            "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
            "qop=auth, nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
            "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
}

DigestChallenge henc(DigestAlgorithm a) {
  DigestChallenge c;
  c.realm = "proxy";
  c.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  c.algorithm = a;
  c.qop_auth = true;
  return c;
}

const DigestInput kHencInput{
    "user", "pass", "CONNECT", "relay.example.com:443", "6b8f4e2c9d1a0f3e7c5b2a1908d7e6f5", 1};

TEST(Digest, HencConnectExampleMd5) {
  EXPECT_EQ(digest_authorization(henc(DigestAlgorithm::md5), kHencInput),
            "Digest username=\"user\", realm=\"proxy\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"relay.example.com:443\", "
            "algorithm=MD5, response=\"6fbe537db642fdcbf5a7a4e4de51f9b0\", qop=auth, "
            "nc=00000001, cnonce=\"6b8f4e2c9d1a0f3e7c5b2a1908d7e6f5\"");
}

TEST(Digest, HencConnectExampleSha256AndOthers) {
  EXPECT_EQ(digest_response(henc(DigestAlgorithm::sha256), kHencInput),
            "dac9be9ef44eb1ff8f913d768d1840632e0468b56364990e7ccdee0f1beaa86a");
  EXPECT_EQ(digest_response(henc(DigestAlgorithm::sha512_256), kHencInput),
            "3be0a085dc34f3932894001e363f3b1696fbbbe69106edd09c82f7300b28ec59");
  EXPECT_EQ(digest_response(henc(DigestAlgorithm::md5_sess), kHencInput),
            "d12cc56445dc2d9afdd44075e3999702");
  EXPECT_EQ(digest_response(henc(DigestAlgorithm::sha256_sess), kHencInput),
            "ec4a05f0377b3f7a70275ea8cab86590dcdb9727adc33227986223df87e0e74f");
  DigestInput nc2 = kHencInput;
  nc2.nc = 2;
  EXPECT_EQ(digest_response(henc(DigestAlgorithm::md5), nc2), "814682017ca7a84bd8bddb7323cc4269");
}

TEST(Digest, Rfc2069FormWithoutQop) {
  DigestChallenge c = henc(DigestAlgorithm::md5);
  c.qop_auth = false;
  EXPECT_EQ(digest_response(c, kHencInput), "f82747a2eff91bde9941638f4d949976");
  EXPECT_EQ(digest_authorization(c, kHencInput),
            "Digest username=\"user\", realm=\"proxy\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"relay.example.com:443\", "
            "algorithm=MD5, response=\"f82747a2eff91bde9941638f4d949976\"");
}

TEST(Digest, UserhashAndQuoting) {
  DigestChallenge c = henc(DigestAlgorithm::sha256);
  c.userhash = true;
  std::string v = digest_authorization(c, kHencInput);
  EXPECT_NE(v.find("username=\"962d178f5f584d4123d96570ffade48c94e39b5b0a60d1f8e542f0e03cb6a2f6\""),
            std::string::npos);
  EXPECT_EQ(v.substr(v.size() - 15), ", userhash=true");
  c.userhash = false;
  DigestInput odd = kHencInput;
  odd.user = "a\"b\\c";
  EXPECT_EQ(digest_authorization(c, odd).rfind("Digest username=\"a\\\"b\\\\c\", ", 0), 0u);
}

TEST(Digest, ReadChallenge) {
  auto parse = [](std::string_view v) {
    auto cs = parse_challenges(v);
    return cs.empty() ? std::nullopt : read_digest_challenge(cs[0]);
  };
  auto d = parse(
      "Digest realm=\"r\", nonce=\"n\", opaque=\"o\", algorithm=sha-256-SESS, "
      "qop=\"auth-int, auth\", stale=TRUE, userhash=true");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->realm, "r");
  EXPECT_EQ(d->nonce, "n");
  EXPECT_EQ(d->opaque, "o");
  EXPECT_EQ(d->algorithm, DigestAlgorithm::sha256_sess);
  EXPECT_TRUE(d->qop_auth);
  EXPECT_TRUE(d->stale);
  EXPECT_TRUE(d->userhash);

  auto plain = parse("Digest realm=r, nonce=n");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->algorithm, DigestAlgorithm::md5);  // absent = MD5
  EXPECT_FALSE(plain->qop_auth);
  EXPECT_FALSE(plain->stale);

  EXPECT_FALSE(parse("Digest realm=r"));                             // no nonce
  EXPECT_FALSE(parse("Digest realm=r, nonce=n, algorithm=SHA-1"));   // unknown algorithm
  EXPECT_FALSE(parse("Digest realm=r, nonce=n, qop=\"auth-int\""));  // §7.3: auth-int only
  EXPECT_FALSE(parse("Digest realm=\"a\rb\", nonce=n"));             // CTL echoed into a header
  EXPECT_FALSE(parse("Basic realm=r, nonce=n"));
}

TEST(Digest, AlgorithmNamesAndPreference) {
  EXPECT_EQ(digest_algorithm_name(DigestAlgorithm::sha512_256_sess), "SHA-512-256-sess");
  EXPECT_GT(digest_preference(DigestAlgorithm::sha256),
            digest_preference(DigestAlgorithm::sha256_sess));
  EXPECT_GT(digest_preference(DigestAlgorithm::sha256_sess),
            digest_preference(DigestAlgorithm::sha512_256));
  EXPECT_GT(digest_preference(DigestAlgorithm::sha512_256_sess),
            digest_preference(DigestAlgorithm::md5));
  EXPECT_GT(digest_preference(DigestAlgorithm::md5), digest_preference(DigestAlgorithm::md5_sess));
}

}  // namespace
}  // namespace grove::proxy
