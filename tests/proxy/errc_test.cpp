// The grove.proxy category: one distinct, non-empty message per value, none echoing input.
#include "proxy/errc.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace grove::proxy {
namespace {

TEST(ProxyErrc, CategoryNameAndMessages) {
  EXPECT_STREQ(proxy_category().name(), "grove.proxy");
  std::set<std::string> seen;
  int last = static_cast<int>(errc::url_bad_percent_encoding);
  for (int v = 0; v <= last; ++v) {
    std::string m = make_error_code(static_cast<errc>(v)).message();
    EXPECT_FALSE(m.empty()) << v;
    EXPECT_NE(m, "unknown grove.proxy error") << v;
    EXPECT_TRUE(seen.insert(m).second) << "duplicate message for " << v << ": " << m;
  }
  EXPECT_EQ(make_error_code(static_cast<errc>(last + 1)).message(), "unknown grove.proxy error");
}

TEST(ProxyErrc, ConvertsToErrorCode) {
  std::error_code ec = errc::proxy_forbidden;
  EXPECT_EQ(ec.category(), proxy_category());
  EXPECT_EQ(ec, errc::proxy_forbidden);
  EXPECT_FALSE(std::error_code(errc::ok));
}

}  // namespace
}  // namespace grove::proxy
