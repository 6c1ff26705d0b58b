#include "sstp/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grove::sstp {
namespace {

TEST(Url, ValidPerSection33) {
  for (const char* u : {"grove://relay.example", "grove://relay.example/d/alice-pc", "grove:chat",
                        "a:", "x+y.z-1:rest", "grooveWanDPP:x"})
    EXPECT_TRUE(is_valid_url(u)) << u;
}

TEST(Url, Invalid) {
  for (const char* u : {"", ":nothing", "1grove:x", "grove", "gr ove:x", "grove:a b", "grö:x",
                        "gr_ove:x", "grove:\x7f"})
    EXPECT_FALSE(is_valid_url(u)) << u;
  EXPECT_TRUE(is_valid_url("g:" + std::string(1022, 'a')));
  EXPECT_FALSE(is_valid_url("g:" + std::string(1023, 'a')));  // 1025 bytes
}

}  // namespace
}  // namespace grove::sstp
