// Header-field text rules: ASCII case, optional whitespace, comma-separated lists.
#include "http/text.hpp"

#include <gtest/gtest.h>

namespace grove::http {
namespace {

TEST(Text, Iequals) {
  EXPECT_TRUE(iequals("Proxy-Connection", "proxy-CONNECTION"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("close", "closed"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // ASCII letters only: É is not é
  EXPECT_FALSE(iequals("[", "{"));                // 0x5b vs 0x7b: not letters
}

TEST(Text, Trim) {
  EXPECT_EQ(trim(" \t Basic realm=x \t"), "Basic realm=x");
  EXPECT_EQ(trim("value\r"), "value");
  EXPECT_EQ(trim("  "), "");
  EXPECT_EQ(trim("a b"), "a b");
}

TEST(Text, HasToken) {
  EXPECT_TRUE(has_token("Upgrade, Close", "close"));
  EXPECT_TRUE(has_token(" keep-alive ", "Keep-Alive"));
  EXPECT_FALSE(has_token("closed, keep", "close"));
  EXPECT_FALSE(has_token("", "close"));
  EXPECT_TRUE(has_token(",,close,", "close"));
}

}  // namespace
}  // namespace grove::http
