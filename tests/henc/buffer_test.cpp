// detail::append_unread: the buffer behind the cores' SSTP queues keeps the unread bytes in
// order and stays within twice their size plus one append, however reads and appends mix.
#include "henc/detail/buffer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grove::henc::detail {
namespace {

TEST(AppendUnread, KeepsOrderAndStaysBounded) {
  Bytes buf;
  std::size_t pos = 0;
  std::string sent, got;
  for (int i = 0; i < 1000; ++i) {
    const std::string chunk(100 + i % 37, static_cast<char>(i));
    append_unread(buf, pos, as_bytes(chunk));
    sent += chunk;
    const std::size_t unread = buf.size() - pos;
    EXPECT_LE(buf.size(), 2 * (unread - chunk.size()) + chunk.size()) << i;
    const std::size_t n = unread * 3 / 4;  // the reader always leaves some behind
    got.append(reinterpret_cast<const char*>(buf.data() + pos), n);
    pos += n;
  }
  got.append(reinterpret_cast<const char*>(buf.data() + pos), buf.size() - pos);
  EXPECT_TRUE(got == sent);
}

TEST(AppendUnread, KeepsWhatWasReadWhileItIsTheSmallerPart) {
  Bytes buf;
  std::size_t pos = 0;
  append_unread(buf, pos, as_bytes("abcdef"));
  pos = 2;  // 2 read, 4 unread: cheaper to keep than to move
  append_unread(buf, pos, as_bytes("g"));
  EXPECT_EQ(pos, 2u);
  EXPECT_EQ(std::string(as_chars(buf)), "abcdefg");
  pos = 4;  // 4 read, 3 unread: dropped before the append
  append_unread(buf, pos, as_bytes("h"));
  EXPECT_EQ(pos, 0u);
  EXPECT_EQ(std::string(as_chars(buf)), "efgh");
}

}  // namespace
}  // namespace grove::henc::detail
