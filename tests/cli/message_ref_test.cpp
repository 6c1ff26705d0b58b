// Message ids in grove's UserRef and the receiver's memory of them (docs/protocol.md
// "Message ids and duplicates").
#include "cli/message_ref.hpp"

#include <gtest/gtest.h>

namespace grove::cli {
namespace {

MessageId id_of(unsigned char first) {
  MessageId id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<unsigned char>(first + i);
  return id;
}

TEST(MessageRef, FormatsTextAndFileRefs) {
  const MessageId id = id_of(0xf0);
  EXPECT_EQ(format_user_ref(id, ""), "msg:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  EXPECT_EQ(format_user_ref(id, "file:a b.txt"),
            "msg:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff file:a b.txt");
}

TEST(MessageRef, RoundTrips) {
  for (const char* rest : {"", "file:x", "file:with spaces", " leading"}) {
    const MessageId id = id_of(7);
    const std::string ref = format_user_ref(id, rest);
    const UserRef r = parse_user_ref(ref);
    ASSERT_TRUE(r.id) << ref;
    EXPECT_EQ(*r.id, id);
    EXPECT_EQ(r.rest, rest);
  }
}

TEST(MessageRef, OtherRefsHaveNoId) {
  for (const char* ref :
       {"", "file:report.pdf", "msg:", "msg:0011", "msg:zz0102030405060708090a0b0c0d0e0f",
        "msg:000102030405060708090A0B0C0D0E0F",  // upper case: not ours
        "msg:000102030405060708090a0b0c0d0e0fX", "MSG:000102030405060708090a0b0c0d0e0f"}) {
    const UserRef r = parse_user_ref(ref);
    EXPECT_FALSE(r.id) << ref;
    EXPECT_EQ(r.rest, ref);
  }
}

TEST(SeenIds, RemembersAndForgetsTheOldest) {
  SeenIds seen(2);
  seen.insert(id_of(1));
  seen.insert(id_of(2));
  seen.insert(id_of(1));  // again: no new entry
  EXPECT_TRUE(seen.contains(id_of(1)));
  EXPECT_TRUE(seen.contains(id_of(2)));
  seen.insert(id_of(3));
  EXPECT_FALSE(seen.contains(id_of(1)));
  EXPECT_TRUE(seen.contains(id_of(2)));
  EXPECT_TRUE(seen.contains(id_of(3)));
}

}  // namespace
}  // namespace grove::cli
