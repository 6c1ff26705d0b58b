// PathMemory (net/path_memory.hpp): the step that last worked per relay, in memory and in a
// best-effort state file.
#include "net/path_memory.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"

namespace grove::net {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::time_point(1'700'000'000s);

TEST(PathMemory, InMemoryOnly) {
  PathMemory m;
  EXPECT_FALSE(m.preferred("relay:2492", kNow));
  m.remember("relay:2492", "tunnel", kNow);
  EXPECT_EQ(m.preferred("relay:2492", kNow + 1h), "tunnel");
  EXPECT_FALSE(m.preferred("other:2492", kNow));
  m.remember("relay:2492", "native", kNow);
  EXPECT_EQ(m.preferred("relay:2492", kNow), "native");
}

TEST(PathMemory, OldEntriesAreNotUsed) {
  PathMemory m({}, 24h);
  m.remember("relay:2492", "socks", kNow);
  EXPECT_EQ(m.preferred("relay:2492", kNow + 23h), "socks");
  EXPECT_FALSE(m.preferred("relay:2492", kNow + 25h));
}

TEST(PathMemory, FileRoundTrip) {
  test::TempDir dir;
  const auto file = dir.path() / "state" / "grove" / "paths";
  {
    PathMemory m(file);
    m.remember("relay:2492", "direct443", kNow);
    m.remember("[2001:db8::1]:2492", "tunnel", kNow);
  }
  PathMemory again(file);
  EXPECT_EQ(again.preferred("relay:2492", kNow), "direct443");
  EXPECT_EQ(again.preferred("[2001:db8::1]:2492", kNow), "tunnel");
  const std::string text = test::read_file(file.string());
  EXPECT_EQ(text.rfind("# grove", 0), 0u) << text;
  EXPECT_NE(text.find("1700000000 direct443 relay:2492\n"), std::string::npos) << text;
}

TEST(PathMemory, MalformedLinesAreIgnored) {
  test::TempDir dir;
  const auto file = dir.path() / "paths";
  std::ofstream(file) << "garbage\n"
                      << "12x native a:1\n"
                      << "1700000000 native\n"
                      << "1700000000 native b:1 extra\n"
                      << "1700000000 socks good:1\n";
  PathMemory m(file);
  EXPECT_EQ(m.preferred("good:1", kNow), "socks");
  EXPECT_FALSE(m.preferred("a:1", kNow));
  EXPECT_FALSE(m.preferred("b:1", kNow));
}

TEST(PathMemory, BoundedAndBestEffort) {
  test::TempDir dir;
  PathMemory m(dir.path() / "paths");
  for (std::size_t i = 0; i < PathMemory::kMaxEntries + 10; ++i)
    m.remember("relay" + std::to_string(i) + ":1", "native", kNow);
  EXPECT_FALSE(m.preferred("relay0:1", kNow));
  EXPECT_EQ(m.preferred("relay73:1", kNow), "native");
  m.remember("bad relay", "native", kNow);  // no spaces in the file format
  EXPECT_FALSE(m.preferred("bad relay", kNow));
  // An unwritable place is not an error.
  PathMemory nowhere("/proc/grove-cannot-write-here/paths");
  nowhere.remember("relay:1", "native", kNow);
  EXPECT_EQ(nowhere.preferred("relay:1", kNow), "native");
}

TEST(PathMemory, DefaultFile) {
  EXPECT_EQ(PathMemory::default_file("/x/state", "/home/u"), "/x/state/grove/paths");
  EXPECT_EQ(PathMemory::default_file(nullptr, "/home/u"), "/home/u/.local/state/grove/paths");
  EXPECT_EQ(PathMemory::default_file("relative", "/home/u"), "/home/u/.local/state/grove/paths");
  EXPECT_EQ(PathMemory::default_file(nullptr, nullptr), "");
}

}  // namespace
}  // namespace grove::net
