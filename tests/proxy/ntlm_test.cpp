// NTLMv2 against the [MS-NLMP] §4.2.4 vectors (henc.md §7.4): user "User", domain "Domain",
// password "Password", ServerChallenge 0123456789abcdef, client challenge aa*8, time 0.
// The whole AUTHENTICATE_MESSAGE was rebuilt independently in Python (hmac, struct, OpenSSL's
// legacy MD4) from the layout of henc.md §7.4.
#include "proxy/ntlm.hpp"

#include <gtest/gtest.h>

#include "proxy/detail/text.hpp"
#include "test_util.hpp"

namespace grove::proxy::ntlm {
namespace {

using test::hexs;
using test::unhex;

constexpr const char* kTargetInfo =
    "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";
// MS-NLMP §4.2.4.3's CHALLENGE_MESSAGE: flags 0xe28a8233, TargetName "Server", that TargetInfo.
constexpr const char* kChallenge =
    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef0000000000000000"
    "2400240044000000060070170000000f53006500720076006500720002000c0044006f006d0061"
    "0069006e0001000c0053006500720076006500720000000000";
constexpr const char* kAuthenticate =
    "4e544c4d5353500003000000180018004000000054005400580000000c000c00ac000000080008"
    "00b800000010001000c000000000000000d00000000182880086c35097ac9cec102554764a57cc"
    "cc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000000000"
    "00aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c00530065007200"
    "760065007200000000000000000044006f006d00610069006e00550073006500720043004f004d"
    "0050005500540045005200";

Block8 block(std::string_view h) {
  Block8 b{};
  Bytes v = unhex(h);
  std::copy(v.begin(), v.end(), b.begin());
  return b;
}

TEST(Ntlm, NegotiateMessage) {
  Bytes m = negotiate_message();
  EXPECT_EQ(hexs(m),
            "4e544c4d535350000100000007820800000000002000000000000000200000"
            "00");
  EXPECT_EQ(detail::base64_encode(m), "TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=");
}

TEST(Ntlm, MsNlmpNtowfv2AndResponses) {
  EXPECT_EQ(hexs(nt_hash("Password")), "a4f49c406510bdcab6824ee7c30fd852");
  Hash16 key = ntowfv2("Password", "User", "Domain");
  EXPECT_EQ(hexs(key), "0c868a403bfd7a93a3001ef22ef02e3f");
  EXPECT_EQ(hexs(ntowfv2("Password", "user", "Domain")), hexs(key));  // user upper-cased
  EXPECT_NE(hexs(ntowfv2("Password", "User", "DOMAIN")), hexs(key));  // domain is not

  Ntlmv2Responses r = ntlmv2_responses(key, block("0123456789abcdef"), block("aaaaaaaaaaaaaaaa"), 0,
                                       unhex(kTargetInfo));
  EXPECT_EQ(hexs(ByteView(r.nt).first(16)), "68cd0ab851e51c96aabc927bebef6a1c");
  EXPECT_EQ(hexs(ByteView(r.nt).subspan(16)), std::string("0101000000000000") + "0000000000000000" +
                                                  "aaaaaaaaaaaaaaaa" + "00000000" + kTargetInfo +
                                                  "00000000");
  EXPECT_EQ(hexs(r.lm), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
}

TEST(Ntlm, ParseChallenge) {
  auto c = parse_challenge(unhex(kChallenge));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->flags, 0xe28a8233u);
  EXPECT_EQ(hexs(c->server_challenge), "0123456789abcdef");
  EXPECT_EQ(hexs(c->target_info), kTargetInfo);
  EXPECT_FALSE(c->timestamp);
}

TEST(Ntlm, AuthenticateMessageByteExact) {
  auto c = parse_challenge(unhex(kChallenge));
  ASSERT_TRUE(c);
  AuthenticateInput in{"User", "Domain", "COMPUTER", "Password", block("aaaaaaaaaaaaaaaa"), 0};
  auto m = authenticate_message(*c, in);
  ASSERT_TRUE(m);
  EXPECT_EQ(hexs(*m), kAuthenticate);
}

TEST(Ntlm, OemStringsWhenUnicodeNotOffered) {
  auto c = parse_challenge(unhex(kChallenge));
  ASSERT_TRUE(c);
  c->flags = 0x00000206;  // OEM | REQUEST_TARGET | NTLM
  AuthenticateInput in{"User", "Domain", "", "Password", block("aaaaaaaaaaaaaaaa"), 0};
  auto m = authenticate_message(*c, in);
  ASSERT_TRUE(m);
  Bytes& b = *m;
  EXPECT_EQ(hexs(ByteView(b).subspan(60, 4)), "06020000");
  // DomainNameFields: length 6 (8-bit), then "Domain" at its offset.
  EXPECT_EQ(b[28], 6);
  std::size_t off = b[32] | (b[33] << 8);
  EXPECT_EQ(test::str(ByteView(b).subspan(off, 6)), "Domain");
}

TEST(Ntlm, TimestampInTargetInfoZeroesLmAndIsUsed) {
  // TargetInfo: MsvAvTimestamp = 0x0102030405060708, MsvAvEOL.
  Bytes info = unhex(
      "070008000807060504030201"
      "00000000");
  Bytes msg = unhex(
      "4e544c4d535350000200000000000000300000000100000001234567"
      "89abcdef"
      "0000000000000000");
  msg.push_back(static_cast<Byte>(info.size()));
  for (Byte x : unhex("00"
                      "0c00"
                      "30000000"))
    msg.push_back(x);
  msg.insert(msg.end(), info.begin(), info.end());
  auto c = parse_challenge(msg);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->timestamp);
  EXPECT_EQ(*c->timestamp, 0x0102030405060708u);
  AuthenticateInput in{"User", "Domain", "", "Password", block("aaaaaaaaaaaaaaaa"), 999};
  auto m = authenticate_message(*c, in);
  ASSERT_TRUE(m);
  EXPECT_EQ(hexs(ByteView(*m).subspan(64, 24)), std::string(48, '0'));
  // The NT response's temp carries the challenge's time, not now_filetime.
  EXPECT_EQ(hexs(ByteView(*m).subspan(64 + 24 + 16 + 8, 8)), "0807060504030201");
}

TEST(Ntlm, MissingTargetInfoReadsAsEolOnly) {
  Bytes short_msg = unhex(kChallenge);
  short_msg.resize(32);
  short_msg[12] = short_msg[14] = 0;  // no TargetName either
  auto c = parse_challenge(short_msg);
  ASSERT_TRUE(c);
  EXPECT_EQ(hexs(c->target_info), "00000000");
}

TEST(Ntlm, ParseRejectsEveryBoundsViolation) {
  Bytes good = unhex(kChallenge);
  auto bad = [&](auto edit) {
    Bytes b = good;
    edit(b);
    return !parse_challenge(b).has_value();
  };
  EXPECT_TRUE(bad([](Bytes& b) { b[0] = 'X'; }));     // signature
  EXPECT_TRUE(bad([](Bytes& b) { b[8] = 3; }));       // MessageType
  EXPECT_TRUE(bad([](Bytes& b) { b.resize(31); }));   // no server challenge
  EXPECT_FALSE(bad([](Bytes& b) { b[16] = 0xf0; }));  // TargetName is unused: not checked
  EXPECT_FALSE(bad([](Bytes& b) { b[12] = 0xff; }));
  EXPECT_TRUE(bad([](Bytes& b) { b[40] = 0x40; }));  // TargetInfo length past the end
  EXPECT_TRUE(bad([](Bytes& b) {
    b[44] = 0xff;
    b[45] = 0xff;
  }));                                                     // TargetInfo offset
  EXPECT_TRUE(bad([](Bytes& b) { b[0x44 + 2] = 0x40; }));  // AvLen past TargetInfo
  EXPECT_TRUE(bad([](Bytes& b) { b[40] = 0x22; }));        // AV pair cut in the middle
  EXPECT_FALSE(bad([](Bytes&) {}));
}

// squid 5.7's ntlm_fake_auth: a 40-byte header without NEGOTIATE_TARGET_INFO, TargetName
// "WORKGROUP" right after it, and an uninitialised TargetName offset.
TEST(Ntlm, SquidFakeAuthChallenge) {
  auto c =
      parse_challenge(unhex("4e544c4d535350000200000009000900aeaaaaaa078208a2743e9d4385d52cd9"
                            "0000000000003a00574f524b47524f5550"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->flags, 0xa2088207u);
  EXPECT_EQ(hexs(c->server_challenge), "743e9d4385d52cd9");
  EXPECT_EQ(hexs(c->target_info), "00000000");
  EXPECT_FALSE(c->timestamp);
}

TEST(Ntlm, SplitAccount) {
  Account a = split_account("CORP\\alice");
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.domain, "CORP");
  a = split_account("bob@corp.example");
  EXPECT_EQ(a.user, "bob");
  EXPECT_EQ(a.domain, "corp.example");
  a = split_account("carol");
  EXPECT_EQ(a.user, "carol");
  EXPECT_EQ(a.domain, "");
}

}  // namespace
}  // namespace grove::proxy::ntlm
