// The grove.http category: one distinct, non-empty message per value.
#include "http/errc.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace grove::http {
namespace {

TEST(HttpErrc, CategoryNameAndMessages) {
  EXPECT_STREQ(http_category().name(), "grove.http");
  std::set<std::string> seen;
  const int last = static_cast<int>(errc::bad_version);
  for (int v = 0; v <= last; ++v) {
    const std::string m = make_error_code(static_cast<errc>(v)).message();
    EXPECT_NE(m, "unknown grove.http error") << v;
    EXPECT_TRUE(seen.insert(m).second) << "duplicate message for " << v << ": " << m;
  }
  EXPECT_EQ(make_error_code(static_cast<errc>(last + 1)).message(), "unknown grove.http error");
  EXPECT_FALSE(std::error_code(errc::ok));
}

}  // namespace
}  // namespace grove::http
