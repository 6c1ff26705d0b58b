// detail/text: base64 (RFC 4648 §10 vectors), UTF-16LE, hex, CTL detection.
#include "proxy/detail/text.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace grove::proxy::detail {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> v[] = {{"", ""},
                                                   {"f", "Zg=="},
                                                   {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},
                                                   {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), enc);
    auto d = base64_decode(enc);
    ASSERT_TRUE(d) << enc;
    EXPECT_EQ(test::str(*d), plain);
  }
  // henc.md §7.2 check value.
  EXPECT_EQ(base64_encode(as_bytes("Aladdin:open sesame")), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(Base64, DecodeRejectsJunk) {
  EXPECT_TRUE(base64_decode("Zm9vYg"));  // padding optional
  EXPECT_FALSE(base64_decode("Zm9v!g=="));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zm9 v"));
  EXPECT_FALSE(base64_decode("Zh=="));  // non-zero leftover bits
  EXPECT_FALSE(base64_decode("Zm9vY==="));
}

TEST(Utf16le, AsciiBmpAstralAndMalformed) {
  EXPECT_EQ(test::hexs(utf16le("Ab")), "41006200");
  EXPECT_EQ(test::hexs(utf16le("\xc3\xa9")), "e900");              // é
  EXPECT_EQ(test::hexs(utf16le("\xe2\x82\xac")), "ac20");          // €
  EXPECT_EQ(test::hexs(utf16le("\xf0\x9f\x98\x80")), "3dd800de");  // U+1F600
  EXPECT_EQ(test::hexs(utf16le("\xff")), "fdff");                  // stray byte
  EXPECT_EQ(test::hexs(utf16le("\xc0\xaf")), "fdfffdff");          // overlong
  EXPECT_EQ(test::hexs(utf16le("\xe2\x82")), "fdfffdff");          // truncated
  EXPECT_EQ(test::hexs(utf16le("\xed\xa0\x80")), "fdfffdfffdff");  // surrogate
}

TEST(Text, HexCaseCtl) {
  EXPECT_EQ(hex(test::unhex("00ff10")), "00ff10");
  EXPECT_TRUE(iequals("Proxy-Authenticate", "proxy-AUTHENTICATE"));
  EXPECT_FALSE(iequals("a", "ab"));
  EXPECT_EQ(to_upper_ascii("User\xc3\xa9"), "USER\xc3\xa9");
  EXPECT_EQ(trim(" \t x y \t"), "x y");
  EXPECT_TRUE(has_ctl("a\r\nb"));
  EXPECT_TRUE(has_ctl(std::string_view("a\0", 2)));
  EXPECT_TRUE(has_ctl("\x7f"));
  EXPECT_FALSE(has_ctl("plain text"));
}

}  // namespace
}  // namespace grove::proxy::detail
