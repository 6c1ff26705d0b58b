// MD4 against the RFC 1320 §A.5 test suite and block-boundary lengths (expected values from
// OpenSSL's legacy provider: `openssl dgst -md4 -provider legacy`).
#include "proxy/md4.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace grove::proxy {
namespace {

std::string md4_hex(std::string_view s) { return test::hexs(md4(as_bytes(s))); }

TEST(Md4, Rfc1320TestSuite) {
  EXPECT_EQ(md4_hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
  EXPECT_EQ(md4_hex("a"), "bde52cb31de33e46245e05fbdbd6fb24");
  EXPECT_EQ(md4_hex("abc"), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(md4_hex("message digest"), "d9130a8164549fe818874806e1c7014b");
  EXPECT_EQ(md4_hex("abcdefghijklmnopqrstuvwxyz"), "d79e1c308aa5bbcdeea8ed63df412da9");
  EXPECT_EQ(md4_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "043f8582f241db351ce627e153e7f0e4");
  EXPECT_EQ(md4_hex("1234567890123456789012345678901234567890123456789012345678901234567890"
                    "1234567890"),
            "e33b4ddc9c38f2199c3e7b164fcc0536");
}

TEST(Md4, PaddingBoundaries) {
  struct Case {
    std::size_t n;
    const char* hex;
  };
  const Case cases[] = {
      {55, "c889c81dd86c4d2e025778944ea02881"},  {56, "d5f9a9e9257077a5f08b0b92f348b0ad"},
      {57, "872097e6f78e3b53f890459d03bc6fb7"},  {63, "7ea3da77432d44c323671097d1348fc8"},
      {64, "52f5076fabd22680234a3fa9f9dc5732"},  {65, "330e377bf231f3cacfecc2c182fe7e5b"},
      {119, "e65dd227ccef97fa1d34d70189120f76"}, {120, "b03ddbd470b47c013e0c7ab2ddd763db"},
      {128, "cb4a20a561558e29460190c91dced59f"}, {1000, "5f1bf26a8067c9159b91f1440f7c9e8a"},
  };
  for (const Case& c : cases) EXPECT_EQ(md4_hex(std::string(c.n, 'a')), c.hex) << c.n;
}

TEST(Md4, NtHashOfPassword) {
  // MS-NLMP §4.2.4.1.1 via henc.md §7.4: MD4(UTF16LE("Password")).
  EXPECT_EQ(md4_hex(std::string("P\0a\0s\0s\0w\0o\0r\0d\0", 16)),
            "a4f49c406510bdcab6824ee7c30fd852");
}

}  // namespace
}  // namespace grove::proxy
