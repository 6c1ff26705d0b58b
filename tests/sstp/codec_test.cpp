// Tests of the SSTP codec (src/sstp/codec.hpp): one table of the byte examples of sstp.md §14 and
// auth.md §9 drives decode, encode and FrameReader (whole, byte by byte, split at every offset,
// with trailing bytes); every decode errc is produced from bytes; random commands round-trip.
#include "sstp/codec.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace grove::sstp {

// Failure messages show a command as its name and its 1.6 encoding.
void PrintTo(const Command& c, std::ostream* os) {
  Bytes b;
  *os << command_name(command_id(c));
  if (encode(c, kMinor16, b)) return;
  *os << " [";
  for (Byte x : b) {
    char h[4];
    std::snprintf(h, sizeof h, " %02x", x);
    *os << h;
  }
  *os << " ]";
}

namespace {

// "0d 0d 00" -> bytes; spaces are ignored.
Bytes hex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<Byte>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}
Bytes text(std::string_view s) { return {s.begin(), s.end()}; }
Bytes seq(Byte first, std::size_t n) {  // first, first+1, ... (the nonces of auth.md §9.1)
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<Byte>(first + i));
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// A grove-auth-1 token: "GRV1", type, payload (auth.md §3).
Bytes token(Byte type, Bytes payload) { return cat({text("GRV1"), {type}, payload}); }
// A command with CommandLength computed from the body.
Bytes frame(Byte id, const Bytes& body) {
  const std::size_t n = body.size() + kHeaderSize;
  return cat({{id, static_cast<Byte>(n), static_cast<Byte>(n >> 8)}, body});
}

// A Message without optional groups; tests set the rest field by field.
Message message(std::uint32_t session_id, std::uint32_t message_count = 0, Byte flags = 0,
                std::string user_ref = "") {
  Message m;
  m.session_id = session_id;
  m.message_count = message_count;
  m.flags = flags;
  m.user_ref = std::move(user_ref);
  return m;
}

const std::string kRelay = "grove://relay.example";
const std::string kAlicePc = "grove://relay.example/d/alice-pc";
const std::string kBob = "grove://relay.example/i/bob";
const std::string kBobPc = "grove://relay.example/d/bob-pc";
const std::string kCarol = "grove://relay.example/i/carol";

struct Example {
  std::string name;
  std::uint8_t minor;
  Bytes bytes;
  Command command;
  bool version_independent = true;  // decodes the same on 1.5 and 1.6
};
void PrintTo(const Example& e, std::ostream* os) { *os << e.name; }

const std::vector<Example>& examples() {
  static const std::vector<Example> table = [] {
    const Bytes relay_mac = hex("e0b5b847f92690b70cf1213103a9dea6c5b2e8a3b3760d42d12e20f15f7daa88");
    const Bytes device_mac =
        hex("7f00167041263b576742be18bbb68399c58b40eeea7ee520ac0386b14597f1c8");
    const Bytes relay_mac_tls =
        hex("18a3bd17815a726dbee0f8f19cea27e293f7624aec87b9fc15b011cf711a196a");
    const Bytes device_mac_tls =
        hex("760c8d913bbd6307152b7336d31f7e9d266b97b3e2ede100197e5dd9e9c9bb17");
    const Bytes account_relay_mac =
        hex("769f58ac7471e414af658f67ae034fe56a4cec950b4892bd53e44c478d1f6adf");
    const Bytes account_mac =
        hex("a907cdf21f8b14e1894f4e5ed85d71873f393d5bbcee476591c53c0623db9796");
    const FanoutOpen fanout{.session_id = 5,
                            .resource_url = "grove:chat",
                            .flags = 0,
                            .entries = {{kBob, kBobPc, "", ""}, {kCarol, "", "", ""}}};
    return std::vector<Example>{
        {"s14_1_Connect", kMinor16,
         hex("01 85 00 01 06 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d"
             "70 6c 65 00 01 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70"
             "6c 65 2f 64 2f 61 6c 69 63 65 2d 70 63 00 25 00 47 52 56 31 01 a0 a1 a2"
             "a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba"
             "bb bc bd be bf 47 72 6f 76 65 20 43 6c 69 65 6e 74 20 31 2e 30 20 31 00"
             "67 72 6f 76 65 2d 61 75 74 68 2d 31 00"),
         Connect{1,
                 6,
                 kRelay,
                 {kAlicePc},
                 token(1, seq(0xa0, 32)),
                 "Grove Client 1.0 1",
                 "grove-auth-1"}},
        {"s14_2_ConnectResponse", kMinor16,
         hex("02 6f 00 01 06 00 00 00 00 45 00 47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7"
             "c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df"
             "e0 b5 b8 47 f9 26 90 b7 0c f1 21 31 03 a9 de a6 c5 b2 e8 a3 b3 76 0d 42"
             "d1 2e 20 f1 5f 7d aa 88 47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20"
             "31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 00"),
         ConnectResponse{1, 6, ConnectResponseId::Ok, 0, token(2, cat({seq(0xc0, 32), relay_mac})),
                         "Grove Relay 1.0 1", "grove-auth-1"}},
        {"s14_3_ConnectAuthenticate", kMinor16,
         hex("03 2a 00 25 00 47 52 56 31 03 7f 00 16 70 41 26 3b 57 67 42 be 18 bb b6"
             "83 99 c5 8b 40 ee ea 7e e5 20 ac 03 86 b1 45 97 f1 c8"),
         ConnectAuthenticate{token(3, device_mac)}},
        {"s14_4_Open", kMinor16,
         hex("05 50 00 01 00 00 00 67 72 6f 76 65 3a 63 68 61 74 00 67 72 6f 76 65 3a"
             "2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62 00 67 72"
             "6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 64 2f 62 6f"
             "62 2d 70 63 00 00 00 00"),
         Open{1, "grove:chat", kBob, kBobPc, 0}},
        {"s14_5_OpenResponse", kMinor16, hex("07 09 00 01 00 00 00 00 00"), OpenResponse{1, 0}},
        {"s14_6_Message", kMinor16, hex("0d 0d 00 01 00 00 00 00 00 00 00 00 00"), message(1)},
        {"s14_7_Data_hello", kMinor16, hex("0e 0c 00 01 00 00 00 68 65 6c 6c 6f"),
         Data{1, as_bytes("hello")}},
        {"s14_8_Data_world", kMinor16, hex("0e 0d 00 01 00 00 00 20 77 6f 72 6c 64"),
         Data{1, as_bytes(" world")}},
        {"s14_9_EndMessage", kMinor16, hex("0f 07 00 01 00 00 00"), EndMessage{1}},
        {"s14_11_Noop", kMinor16, hex("10 07 00 03 00 00 00"), Noop{3}},
        {"s14_12_Close_Idle", kMinor16, hex("11 08 00 01 00 00 00 02"), Close{1, 0x02}},
        {"s14_13_ConnectClose_Resting", kMinor16, hex("04 0b 00 01 00 3c 00 00 00 00 00"),
         ConnectClose{ConnectCloseReason::Resting, 60, 0}},
        {"s14_14_Message_AES", kMinor16,
         hex("0d 31 00 03 00 00 00 02 00 00 00 16 6d 2d 31 37 00 00 0e 0e 6b 00 00 00"
             "00 0b 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
             "00"),
         [] {
           Message m = message(3, 2, 0x16, "m-17");  // S + A + E
           m.expiration_time = 1796083200;           // 2026-12-01T00:00:00Z
           m.stream_size.total_size = 11;
           return m;
         }()},
        {"s14_15_FanoutOpen_v16", kMinor16,
         hex("06 75 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61 74 00 00 02 00 67 72 6f"
             "76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62"
             "00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 64"
             "2f 62 6f 62 2d 70 63 00 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e"
             "65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 00 00 00 00 00"),
         fanout, false},
        {"s14_15_FanoutOpen_v15", kMinor15,
         hex("06 73 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61 74 00 00 02 00 67 72 6f"
             "76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62"
             "00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 64"
             "2f 62 6f 62 2d 70 63 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65"
             "78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 00 00 00 00"),
         fanout, false},
        {"s14_16_OpenResponse_fanout", kMinor16, hex("07 09 00 05 00 00 00 00 00"),
         OpenResponse{5, 0}},
        {"s14_17_SessionStatus_formB", kMinor16,
         hex("12 2c 00 05 00 00 00 05 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e"
             "65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 01 00 01 00"),
         SessionStatus{5, 0x05, "", kCarol, {1}}, false},
        {"auth9_5_ConnectResponse_tls", kMinor16,
         hex("02 73 00 01 06 00 00 00 00 45 00 47 52 56 31 02 c0 c1 c2 c3 c4 c5 c6 c7"
             "c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df"
             "18 a3 bd 17 81 5a 72 6d be e0 f8 f1 9c ea 27 e2 93 f7 62 4a ec 87 b9 fc"
             "15 b0 11 cf 71 1a 19 6a 47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20"
             "31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 20 74 6c 73 00"),
         ConnectResponse{1, 6, ConnectResponseId::Ok, 0,
                         token(2, cat({seq(0xc0, 32), relay_mac_tls})), "Grove Relay 1.0 1",
                         "grove-auth-1 tls"}},
        {"auth9_5_ConnectAuthenticate_tls", kMinor16,
         hex("03 2a 00 25 00 47 52 56 31 03 76 0c 8d 91 3b bd 63 07 15 2b 73 36 d3 1f"
             "7e 9d 26 6b 97 b3 e2 ed e1 00 19 7e 5d d9 e9 c9 bb 17"),
         ConnectAuthenticate{token(3, device_mac_tls)}},
        {"auth9_6_Attach", kMinor16,
         hex("08 4b 00 07 00 00 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78"
             "61 6d 70 6c 65 2f 69 2f 62 6f 62 00 25 00 47 52 56 31 04 e0 e1 e2 e3 e4"
             "e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 fa fb fc"
             "fd fe ff"),
         Attach{7, "", kBob, token(4, seq(0xe0, 32))}},
        {"auth9_6_AttachResponse", kMinor16,
         hex("09 50 00 07 00 00 00 00 00 45 00 47 52 56 31 05 60 61 62 63 64 65 66 67"
             "68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78 79 7a 7b 7c 7d 7e 7f"
             "76 9f 58 ac 74 71 e4 14 af 65 8f 67 ae 03 4f e5 6a 4c ec 95 0b 48 92 bd"
             "53 e4 4c 47 8d 1f 6a df"),
         AttachResponse{7, 0, token(5, cat({seq(0x60, 32), account_relay_mac}))}},
        {"auth9_6_AttachAuthenticate", kMinor16,
         hex("0a 2e 00 07 00 00 00 25 00 47 52 56 31 06 a9 07 cd f2 1f 8b 14 e1 89 4f"
             "4e 5e d8 5d 71 87 3f 39 3d 5b bc ee 47 65 91 c5 3c 06 23 db 97 96"),
         AttachAuthenticate{7, token(6, account_mac)}},
        {"auth9_6_Close_NoReason", kMinor16, hex("11 08 00 07 00 00 00 00"), Close{7, 0}},
        {"auth9_6_Register", kMinor16,
         hex("0b 25 00 09 00 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61"
             "6d 70 6c 65 2f 69 2f 62 6f 62 00 00 00"),
         Register{9, kBob, {}}},
        {"auth9_6_RegisterResponse", kMinor16, hex("0c 0b 00 09 00 00 00 00 00 00 00"),
         RegisterResponse{9, 0, {}}},
        {"auth9_7_ConnectResponse_AuthenticationFailed", kMinor16,
         hex("02 2a 00 01 06 06 00 00 00 00 00 47 72 6f 76 65 20 52 65 6c 61 79 20 31"
             "2e 30 20 31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 00"),
         ConnectResponse{1,
                         6,
                         ConnectResponseId::AuthenticationFailed,
                         0,
                         {},
                         "Grove Relay 1.0 1",
                         "grove-auth-1"}},
        {"auth9_7_ConnectClose_DeviceAuthenticationFailed", kMinor16,
         hex("04 0b 00 04 00 00 00 00 00 00 00"),
         ConnectClose{ConnectCloseReason::DeviceAuthenticationFailed, 0, 0}},
    };
  }();
  return table;
}

// Decodes a frame handed out by FrameReader and compares it with the expected command.
void expect_frame(ByteView frame, const Example& e) {
  Command c;
  ASSERT_EQ(decode(frame, e.minor, c), errc::ok);
  EXPECT_EQ(c, e.command);
}

class ExampleTest : public testing::TestWithParam<Example> {};

TEST_P(ExampleTest, Decode) {
  const Example& e = GetParam();
  Command c;
  ASSERT_EQ(decode(e.bytes, e.minor, c), errc::ok);
  EXPECT_EQ(c, e.command);
  if (e.version_independent) {
    Command other;
    ASSERT_EQ(decode(e.bytes, e.minor == kMinor16 ? kMinor15 : kMinor16, other), errc::ok);
    EXPECT_EQ(other, e.command);
  }
}

TEST_P(ExampleTest, Encode) {
  const Example& e = GetParam();
  Bytes out = {0xaa};  // encode appends
  ASSERT_EQ(encode(e.command, e.minor, out), errc::ok);
  EXPECT_EQ(out, cat({{0xaa}, e.bytes}));
}

TEST_P(ExampleTest, FrameReaderWholeIsZeroCopy) {
  const Example& e = GetParam();
  FrameReader reader;
  const auto r = reader.next(e.bytes);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, e.bytes.size());
  EXPECT_EQ(r.frame.data(), e.bytes.data());
  EXPECT_EQ(r.frame.size(), e.bytes.size());
  EXPECT_EQ(reader.buffered(), 0u);
  expect_frame(r.frame, e);
}

TEST_P(ExampleTest, FrameReaderByteByByte) {
  const Example& e = GetParam();
  FrameReader reader;
  for (std::size_t i = 0; i < e.bytes.size(); ++i) {
    const auto r = reader.next(ByteView(e.bytes).subspan(i, 1));
    ASSERT_FALSE(r.error) << "at byte " << i;
    ASSERT_EQ(r.consumed, 1u);
    if (i + 1 < e.bytes.size()) {
      ASSERT_TRUE(r.frame.empty()) << "at byte " << i;
      ASSERT_EQ(reader.buffered(), i + 1);
    } else {
      ASSERT_TRUE(std::ranges::equal(r.frame, e.bytes));
      EXPECT_EQ(reader.buffered(), 0u);
      expect_frame(r.frame, e);
    }
  }
}

TEST_P(ExampleTest, FrameReaderSplitAtEveryOffset) {
  const Example& e = GetParam();
  for (std::size_t k = 1; k < e.bytes.size(); ++k) {
    FrameReader reader;
    const ByteView all(e.bytes);
    const auto r1 = reader.next(all.first(k));
    ASSERT_FALSE(r1.error);
    ASSERT_EQ(r1.consumed, k);
    ASSERT_TRUE(r1.frame.empty());
    const auto r2 = reader.next(all.subspan(k));
    ASSERT_FALSE(r2.error);
    ASSERT_EQ(r2.consumed, e.bytes.size() - k) << "split at " << k;
    ASSERT_TRUE(std::ranges::equal(r2.frame, e.bytes)) << "split at " << k;
    expect_frame(r2.frame, e);
  }
}

TEST_P(ExampleTest, FrameReaderLeavesTrailingBytes) {
  const Example& e = GetParam();
  const Bytes noop = hex("10 07 00 03 00 00 00");
  const Bytes in = cat({e.bytes, noop, {0x11}});  // another command, then part of a third
  FrameReader reader;
  const auto r = reader.next(in);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.consumed, e.bytes.size());
  EXPECT_EQ(r.frame.data(), in.data());
  expect_frame(r.frame, e);
  const auto r2 = reader.next(ByteView(in).subspan(r.consumed));
  ASSERT_EQ(r2.consumed, noop.size());
  EXPECT_TRUE(std::ranges::equal(r2.frame, noop));
  const auto r3 = reader.next(ByteView(in).subspan(r.consumed + r2.consumed));
  EXPECT_EQ(r3.consumed, 1u);
  EXPECT_TRUE(r3.frame.empty());
  EXPECT_EQ(reader.buffered(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Spec, ExampleTest, testing::ValuesIn(examples()),
                         [](const testing::TestParamInfo<Example>& p) { return p.param.name; });

// sstp.md §14.10: the 45-byte stream of Message, Data, Data, EndMessage.
TEST(FrameReader, Stream14_10) {
  const Bytes stream =
      hex("0d 0d 00 01 00 00 00 00 00 00 00 00 00 0e 0c 00 01 00 00 00 68 65 6c 6c"
          "6f 0e 0d 00 01 00 00 00 20 77 6f 72 6c 64 0f 07 00 01 00 00 00");
  ASSERT_EQ(stream.size(), 45u);
  const std::vector<Command> expected = {message(1), Data{1, as_bytes("hello")},
                                         Data{1, as_bytes(" world")}, EndMessage{1}};
  for (std::size_t chunk : {std::size_t{45}, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    FrameReader reader;
    std::size_t got = 0;
    for (std::size_t pos = 0; pos < stream.size();) {
      ByteView in = ByteView(stream).subspan(pos, std::min(chunk, stream.size() - pos));
      while (!in.empty()) {
        const auto r = reader.next(in);
        ASSERT_FALSE(r.error);
        in = in.subspan(r.consumed);
        pos += r.consumed;
        if (r.frame.empty()) continue;
        // A Data payload views the frame, valid until the next call: compare right away.
        Command c;
        ASSERT_EQ(decode(r.frame, kMinor16, c), errc::ok);
        ASSERT_LT(got, expected.size());
        EXPECT_EQ(c, expected[got++]) << "chunk " << chunk;
      }
    }
    EXPECT_EQ(got, expected.size()) << "chunk " << chunk;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

// ------------------------------------------------------------------------------------------------
// Malformed bytes: every decode errc from bytes (sstp.md §3.5, §12.1 rows 1-4).

struct BadFrame {
  std::string name;
  std::uint8_t minor;
  Bytes bytes;
  errc expected;
};
void PrintTo(const BadFrame& b, std::ostream* os) { *os << b.name; }

const Bytes kSid1 = hex("01 00 00 00");
const Bytes kEmpty = {0x00};

std::vector<BadFrame> bad_frames() {
  const Bytes status_b =
      hex("12 2c 00 05 00 00 00 05 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e"
          "65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 01 00 01 00");
  const Bytes status_head = cat({kSid1, hex("05 00 00"), text("a"), kEmpty});
  const Bytes fanout_head = cat({kSid1, text("r"), kEmpty, kEmpty});  // ..., Flags 0
  const Bytes entry15 = cat({text("i"), kEmpty, kEmpty, kEmpty});
  const Bytes message_head = cat({kSid1, hex("00 00 00 00")});  // SessionId, MessageCount
  return {
      // P2
      {"id_0x00", kMinor16, hex("00 07 00 00 00 00 00"), errc::unknown_command_id},
      {"id_0x13", kMinor16, hex("13 07 00 00 00 00 00"), errc::unknown_command_id},
      {"id_0xff", kMinor16, hex("ff 07 00 00 00 00 00"), errc::unknown_command_id},
      // P3 (every id below Min and above Max is in the LengthLimits test)
      {"ConnectClose_len10", kMinor16, hex("04 0a 00 01 00 3c 00 00 00 00"),
       errc::bad_command_length},
      {"ConnectClose_len12", kMinor16, hex("04 0c 00 01 00 3c 00 00 00 00 00 00"),
       errc::bad_command_length},
      {"Close_len7", kMinor16, hex("11 07 00 01 00 00 00"), errc::bad_command_length},
      {"Close_len9", kMinor16, hex("11 09 00 01 00 00 00 02 00"), errc::bad_command_length},
      {"Data_2049_bytes", kMinor16, frame(0x0e, cat({kSid1, Bytes(2049, 0x61)})),
       errc::bad_command_length},
      {"Noop_len2", kMinor16, hex("10 02 00"), errc::bad_command_length},
      // the frame given to decode is shorter than its CommandLength
      {"frame_cut_short", kMinor16, hex("07 09 00 01 00 00 00 00"), errc::truncated_field},
      {"header_cut_short", kMinor16, hex("07 09"), errc::truncated_field},
      // fixed fields past the end
      {"Open_no_flags", kMinor16, frame(0x05, cat({kSid1, hex("61 00 62 00 63 00")})),
       errc::truncated_field},
      {"Open_half_reserved", kMinor16, frame(0x05, cat({kSid1, hex("61 00 00 00 00 00")})),
       errc::truncated_field},
      {"Connect_no_count", kMinor16, frame(0x01, cat({hex("01 06 00"), text("abcdefgh"), kEmpty})),
       errc::truncated_field},
      {"Attach_no_token_length", kMinor16, frame(0x08, cat({kSid1, hex("61 62 00 63 64 00")})),
       errc::truncated_field},
      {"Register_no_token_length", kMinor16, frame(0x0b, cat({kSid1, text("abcd"), kEmpty})),
       errc::truncated_field},
      {"FanoutOpen_no_flags", kMinor16, frame(0x06, cat({kSid1, text("abcdef"), kEmpty})),
       errc::truncated_field},
      {"FanoutOpen_half_reserved", kMinor16,
       frame(0x06, cat({kSid1, text("a"), kEmpty, hex("00 00 00 00")})), errc::truncated_field},
      // strings
      {"Open_resource_not_terminated", kMinor16, frame(0x05, cat({kSid1, text("aaaaaa")})),
       errc::string_not_terminated},
      {"Message_user_ref_not_terminated", kMinor16,
       frame(0x0d, cat({message_head, hex("00"), text("ab")})), errc::string_not_terminated},
      {"SessionStatus_identity_not_terminated", kMinor16,
       frame(0x12, cat({kSid1, hex("05 00 00"), text("abc")})), errc::string_not_terminated},
      {"Connect_capabilities_not_terminated", kMinor16,
       frame(0x01, cat({hex("01 06 00 00 00 00 00 00"), text("caps")})),
       errc::string_not_terminated},
      {"Open_byte_0x1f", kMinor16, frame(0x05, cat({kSid1, hex("1f 00 00 00 00 00 00")})),
       errc::bad_string_byte},
      {"Open_byte_0x80", kMinor16, frame(0x05, cat({kSid1, hex("80 00 00 00 00 00 00")})),
       errc::bad_string_byte},
      {"Open_byte_0x7f", kMinor16, frame(0x05, cat({kSid1, hex("61 7f 00 00 00 00 00 00")})),
       errc::bad_string_byte},
      {"Connect_source_byte_0x0a", kMinor16,
       frame(0x01, cat({hex("01 06 00 00 01 0a 00 00 00 00 00")})), errc::bad_string_byte},
      {"FanoutOpen_entry_byte_0x80", kMinor15,
       frame(0x06, cat({fanout_head, hex("01 00 80 00 00 00 00 00")})), errc::bad_string_byte},
      // tokens
      {"ConnectAuthenticate_token_past_end", kMinor16, frame(0x03, hex("05 00 aa aa")),
       errc::token_too_long},
      {"AttachResponse_token_past_end", kMinor16, frame(0x09, cat({kSid1, hex("00 00 01 00")})),
       errc::token_too_long},
      {"Connect_token_past_end", kMinor16, frame(0x01, hex("01 06 00 00 00 ff ff 00 00")),
       errc::token_too_long},
      // flags-announced groups (§5.13)
      {"Message_E_missing", kMinor16, frame(0x0d, cat({message_head, hex("02 00")})),
       errc::missing_optional_group},
      {"Message_S_short", kMinor16, frame(0x0d, cat({message_head, hex("10 00"), Bytes(8, 0)})),
       errc::missing_optional_group},
      {"Message_F_short", kMinor16, frame(0x0d, cat({message_head, hex("40 00"), Bytes(23, 0)})),
       errc::missing_optional_group},
      {"Message_ES_S_missing", kMinor16,
       frame(0x0d, cat({message_head, hex("12 00"), Bytes(8, 0)})), errc::missing_optional_group},
      {"Message_ESF_F_short", kMinor16,
       frame(0x0d, cat({message_head, hex("52 00"), Bytes(8 + 24 + 23, 0)})),
       errc::missing_optional_group},
      // P4 leftovers
      {"Open_extra_byte", kMinor16, frame(0x05, cat({kSid1, hex("61 00 62 00 00 00 00 00 00")})),
       errc::trailing_bytes},
      {"Message_group_without_flag", kMinor16,
       frame(0x0d, cat({message_head, hex("00 00"), Bytes(8, 0)})), errc::trailing_bytes},
      {"AttachResponse_extra", kMinor16, frame(0x09, cat({kSid1, hex("00 00 01 00 aa bb")})),
       errc::trailing_bytes},
      {"ConnectAuthenticate_extra", kMinor16, frame(0x03, hex("01 00 aa bb")),
       errc::trailing_bytes},
      {"SessionStatus_formB_on_v15", kMinor15, status_b, errc::trailing_bytes},
      {"SessionStatus_extra_index", kMinor16,
       frame(0x12, cat({status_head, hex("01 00 01 00 02 00")})), errc::trailing_bytes},
      {"frame_longer_than_length", kMinor16, hex("07 09 00 01 00 00 00 00 00 00"),
       errc::trailing_bytes},
      // FanoutOpen exact consumption (§5.6 [SPEC])
      {"FanoutOpen_v16_bytes_on_v15", kMinor15,
       hex("06 75 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61 74 00 00 02 00 67 72 6f"
           "76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62"
           "00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 64"
           "2f 62 6f 62 2d 70 63 00 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e"
           "65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 00 00 00 00 00"),
       errc::bad_fanout_entries},
      {"FanoutOpen_v15_bytes_on_v16", kMinor16,
       hex("06 73 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61 74 00 00 02 00 67 72 6f"
           "76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62"
           "00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f 64"
           "2f 62 6f 62 2d 70 63 00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65"
           "78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00 00 00 00 00"),
       errc::bad_fanout_entries},
      {"FanoutOpen_count_3_of_2", kMinor15,
       frame(0x06, cat({fanout_head, hex("03 00"), entry15, entry15, hex("00 00")})),
       errc::bad_fanout_entries},
      {"FanoutOpen_count_1_of_2", kMinor15,
       frame(0x06, cat({fanout_head, hex("01 00"), entry15, entry15, hex("00 00")})),
       errc::bad_fanout_entries},
      {"FanoutOpen_count_0_of_1", kMinor15,
       frame(0x06, cat({fanout_head, hex("00 00"), entry15, hex("00 00")})),
       errc::bad_fanout_entries},
      // SessionStatus form B (§5.18)
      {"SessionStatus_zero_indexes", kMinor16, frame(0x12, cat({status_head, hex("00 00")})),
       errc::bad_session_status},
      {"SessionStatus_odd_byte", kMinor16, frame(0x12, cat({status_head, hex("01")})),
       errc::bad_session_status},
      {"SessionStatus_odd_after_index", kMinor16,
       frame(0x12, cat({status_head, hex("01 00 01 00 02")})), errc::bad_session_status},
      {"SessionStatus_count_past_end", kMinor16,
       frame(0x12, cat({status_head, hex("02 00 01 00")})), errc::bad_session_status},
  };
}

class BadFrameTest : public testing::TestWithParam<BadFrame> {};

TEST_P(BadFrameTest, DecodeFails) {
  const BadFrame& b = GetParam();
  Command c = Noop{42};
  const std::error_code ec = decode(b.bytes, b.minor, c);
  EXPECT_EQ(ec, b.expected) << ec.message();
  EXPECT_EQ(&ec.category(), &sstp_category());
  EXPECT_EQ(c, Command(Noop{42})) << "out must be untouched on error";
}

INSTANTIATE_TEST_SUITE_P(Malformed, BadFrameTest, testing::ValuesIn(bad_frames()),
                         [](const testing::TestParamInfo<BadFrame>& p) { return p.param.name; });

TEST(Malformed, EveryDecodeErrcIsProduced) {
  std::set<errc> seen;
  for (const auto& b : bad_frames()) seen.insert(b.expected);
  for (int e = static_cast<int>(errc::unknown_command_id);
       e <= static_cast<int>(errc::bad_session_status); ++e) {
    EXPECT_TRUE(seen.count(static_cast<errc>(e)))
        << make_error_code(static_cast<errc>(e)).message();
  }
}

// P5: reserved bytes and bits are ignored on read and written as 0.
TEST(Reserved, IgnoredOnReadWrittenAsZero) {
  const struct {
    Bytes dirty;
    Bytes clean;
  } cases[] = {
      {hex("07 09 00 01 00 00 00 00 ff"), hex("07 09 00 01 00 00 00 00 00")},
      {hex("04 0b 00 01 ff 3c 00 00 00 00 00"), hex("04 0b 00 01 00 3c 00 00 00 00 00")},
      {hex("0d 0d 00 01 00 00 00 00 00 00 00 89 00"),
       hex("0d 0d 00 01 00 00 00 00 00 00 00 01 00")},
      {frame(0x05, cat({kSid1, hex("61 00 62 00 00 ff ff ff")})),
       frame(0x05, cat({kSid1, hex("61 00 62 00 00 01 00 00")}))},
      {frame(0x0d, cat({kSid1, hex("00 00 00 00 10 00 05 00 00 00 00 00 00 00"), Bytes(16, 0xee)})),
       frame(0x0d, cat({kSid1, hex("00 00 00 00 10 00 05 00 00 00 00 00 00 00"), Bytes(16, 0)}))},
  };
  for (const auto& c : cases) {
    Command dirty, clean;
    ASSERT_EQ(decode(c.dirty, kMinor16, dirty), errc::ok);
    ASSERT_EQ(decode(c.clean, kMinor16, clean), errc::ok);
    EXPECT_EQ(dirty, clean);
    Bytes out;
    ASSERT_EQ(encode(dirty, kMinor16, out), errc::ok);
    EXPECT_EQ(out, c.clean);
  }
}

// ------------------------------------------------------------------------------------------------
// Length limits (§3.4) and FrameReader framing errors.

TEST(LengthLimits, Table) {
  const LengthLimits expected[] = {{12, 2055},  {13, 2055}, {5, 2055},  {11, 11},   {13, 2055},
                                   {13, 65535}, {9, 9},     {11, 2055}, {11, 2055}, {9, 2055},
                                   {10, 2055},  {11, 2055}, {13, 2055}, {7, 2055},  {7, 7},
                                   {7, 7},      {8, 8},     {11, 65535}};
  for (int id = 0; id < 256; ++id) {
    LengthLimits l{};
    const bool known = id >= 1 && id <= 0x12;
    ASSERT_EQ(length_limits(static_cast<std::uint8_t>(id), l), known) << id;
    if (known) {
      EXPECT_EQ(l.min, expected[id - 1].min) << id;
      EXPECT_EQ(l.max, expected[id - 1].max) << id;
    }
  }
}

// For every id: CommandLength 0, 2, Min - 1 and Max + 1 fail before the body is looked at, both in
// decode and in FrameReader (which must not buffer a body for a bad header, P3).
TEST(LengthLimits, OutsideMinMaxForEveryId) {
  for (std::uint8_t id = 1; id <= 0x12; ++id) {
    LengthLimits l{};
    ASSERT_TRUE(length_limits(id, l));
    std::vector<std::size_t> lengths = {0, 2, l.min - 1u};
    if (l.max < 65535) lengths.push_back(l.max + 1u);
    for (std::size_t len : lengths) {
      Bytes bytes = {id, static_cast<Byte>(len), static_cast<Byte>(len >> 8)};
      bytes.resize(std::max<std::size_t>(len, kHeaderSize), 0);
      Command c;
      EXPECT_EQ(decode(bytes, kMinor16, c), errc::bad_command_length) << int(id) << " " << len;
      FrameReader whole;
      auto r = whole.next(bytes);
      EXPECT_EQ(r.error, errc::bad_command_length) << int(id) << " " << len;
      EXPECT_TRUE(r.frame.empty());
      FrameReader bytewise;
      for (std::size_t i = 0; i < 3; ++i) r = bytewise.next(ByteView(bytes).subspan(i, 1));
      EXPECT_EQ(r.error, errc::bad_command_length);
      EXPECT_LE(bytewise.buffered(), kHeaderSize);
    }
  }
}

TEST(FrameReader, UnknownIdFailsOnFirstByte) {
  for (Byte id : {Byte{0x00}, Byte{0x13}, Byte{0xff}}) {
    FrameReader reader;
    const Bytes one = {id};
    EXPECT_EQ(reader.next(one).error, errc::unknown_command_id);
  }
}

TEST(FrameReader, StaysFailedAfterError) {
  FrameReader reader;
  EXPECT_EQ(reader.next(hex("11 09 00")).error, errc::bad_command_length);
  const Bytes good = hex("10 07 00 03 00 00 00");
  for (int i = 0; i < 3; ++i) {
    const auto r = reader.next(good);
    EXPECT_EQ(r.error, errc::bad_command_length);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_TRUE(r.frame.empty());
  }
}

TEST(FrameReader, EmptyInputConsumesNothing) {
  FrameReader reader;
  const auto r = reader.next({});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(r.frame.empty());
}

TEST(FrameReader, BodyErrorIsLeftToDecode) {
  // FrameReader checks framing only (P1-P3); a bad body is found by decode.
  const Bytes bad = frame(0x05, cat({kSid1, text("aaaaaa")}));
  FrameReader reader;
  const auto r = reader.next(bad);
  ASSERT_FALSE(r.error);
  Command c;
  EXPECT_EQ(decode(r.frame, kMinor16, c), errc::string_not_terminated);
}

// ------------------------------------------------------------------------------------------------
// Encode errors (P6, §3.2) and the limits themselves.

TEST(Encode, DataAtAndOverTheLimit) {
  const Bytes payload(kMaxDataPayload + 1, 0x61);
  Bytes out = {0x01, 0x02};
  ASSERT_EQ(encode(Data{1, ByteView(payload).first(kMaxDataPayload)}, kMinor16, out), errc::ok);
  EXPECT_EQ(out.size(), 2 + 2055u);
  EXPECT_EQ(out[3], 0x07);  // 2055 = 0x0807
  EXPECT_EQ(out[4], 0x08);
  Bytes out2 = {0x01, 0x02};
  EXPECT_EQ(encode(Data{1, payload}, kMinor16, out2), errc::command_too_long);
  EXPECT_EQ(out2, (Bytes{0x01, 0x02})) << "nothing appended on failure";
}

TEST(Encode, DataHeaderMatchesEncode) {
  const Bytes payload = text("hello");
  Bytes fast;
  encode_data_header(0x04030201, payload.size(), fast);
  fast.insert(fast.end(), payload.begin(), payload.end());
  Bytes slow;
  ASSERT_EQ(encode(Data{0x04030201, payload}, kMinor16, slow), errc::ok);
  EXPECT_EQ(fast, slow);
}

TEST(Encode, HugeCommandsFail) {
  Bytes out = {0x55};
  Open open{1, std::string(3000, 'a'), kBob, "", 0};
  EXPECT_EQ(encode(open, kMinor16, out), errc::command_too_long);
  Connect connect;
  connect.source_device_urls.assign(256, "");  // does not fit the u8 NumSourceDeviceURLs
  EXPECT_EQ(encode(connect, kMinor16, out), errc::command_too_long);
  ConnectAuthenticate auth{Bytes(70000, 1)};
  EXPECT_EQ(encode(auth, kMinor16, out), errc::command_too_long);
  EXPECT_EQ(out, Bytes{0x55});
}

TEST(Encode, FanoutOpenAtMax65535) {
  // 13 fixed bytes + one 1.6 entry of (L + 1) + 3 bytes = 65535 for L = 65518.
  FanoutOpen f{.session_id = 5,
               .resource_url = "",
               .flags = 0,
               .entries = {{std::string(65518, 'i'), "", "", ""}}};
  Bytes out;
  ASSERT_EQ(encode(f, kMinor16, out), errc::ok);
  ASSERT_EQ(out.size(), 65535u);
  FrameReader reader;
  Command c;
  for (std::size_t pos = 0; pos < out.size();) {
    const auto r =
        reader.next(ByteView(out).subspan(pos, std::min<std::size_t>(1000, out.size() - pos)));
    ASSERT_FALSE(r.error);
    pos += r.consumed;
    if (!r.frame.empty()) {
      ASSERT_EQ(decode(r.frame, kMinor16, c), errc::ok);
    }
  }
  EXPECT_EQ(c, Command(f));
  f.entries[0].identity_url.push_back('i');
  out.clear();
  EXPECT_EQ(encode(f, kMinor16, out), errc::command_too_long);
  EXPECT_TRUE(out.empty());
}

TEST(Encode, BadStringBytes) {
  Bytes out;
  EXPECT_EQ(encode(Open{1, "grove:\x1f", kBob, "", 0}, kMinor16, out), errc::bad_string_byte);
  EXPECT_EQ(encode(Open{1, "grove:chat", "grove://\x80", "", 0}, kMinor16, out),
            errc::bad_string_byte);
  EXPECT_EQ(encode(message(1, 0, 0, std::string("a\0b", 3)), kMinor16, out), errc::bad_string_byte);
  Connect connect;
  connect.source_device_urls = {"grove://x\x7f"};
  EXPECT_EQ(encode(connect, kMinor16, out), errc::bad_string_byte);
  EXPECT_TRUE(out.empty());
}

TEST(Encode, SessionStatusFormBNeedsV16) {
  Bytes out;
  const SessionStatus s{5, 0x05, "", kCarol, {1}};
  EXPECT_EQ(encode(s, kMinor15, out), errc::bad_session_status_target);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encode(s, kMinor16, out), errc::ok);
}

// ------------------------------------------------------------------------------------------------
// Random round trips: decode(encode(x)) == x for every command type on 1.5 and 1.6.

class Gen {
 public:
  explicit Gen(std::uint32_t seed) : rng_(seed) {}

  template <typename T>
  T num() {
    return static_cast<T>(std::uniform_int_distribution<std::uint64_t>()(rng_));
  }
  std::size_t upto(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(rng_); }
  std::string str(std::size_t max = 40) {
    std::string s(upto(max), ' ');
    for (char& c : s) c = static_cast<char>(0x20 + upto(0x7e - 0x20));
    return s;
  }
  Bytes bytes(std::size_t max) {
    Bytes b(upto(max));
    for (Byte& x : b) x = num<Byte>();
    return b;
  }

  // A valid command of type `id`; Data payloads live in `storage`.
  Command make(CommandId id, bool v16, std::deque<Bytes>& storage) {
    switch (id) {
      case CommandId::Connect: {
        std::vector<std::string> sources(upto(3));
        for (auto& s : sources) s = str();
        return Connect{num<Byte>(), num<Byte>(), str(), sources, bytes(100), str(), str()};
      }
      case CommandId::ConnectResponse:
        return ConnectResponse{num<Byte>(),
                               num<Byte>(),
                               ConnectResponseId{num<Byte>()},
                               num<std::uint16_t>(),
                               bytes(100),
                               str(),
                               str()};
      case CommandId::ConnectAuthenticate:
        return ConnectAuthenticate{bytes(300)};
      case CommandId::ConnectClose:
        return ConnectClose{ConnectCloseReason{num<Byte>()}, num<std::uint16_t>(),
                            num<std::uint32_t>()};
      case CommandId::Open:
        return Open{num<std::uint32_t>(), str(), str(), str(), static_cast<Byte>(upto(1))};
      case CommandId::FanoutOpen: {
        FanoutOpen f{num<std::uint32_t>(), str(), static_cast<Byte>(upto(1)), {}};
        f.entries.resize(upto(5));
        for (auto& e : f.entries) e = {str(), str(), str(), v16 ? str(3) : ""};
        return f;
      }
      case CommandId::OpenResponse:
        return OpenResponse{num<std::uint32_t>(), num<Byte>()};
      case CommandId::Attach:
        return Attach{num<std::uint32_t>(), str(), str(), bytes(100)};
      case CommandId::AttachResponse:
        return AttachResponse{num<std::uint32_t>(), num<Byte>(), bytes(100)};
      case CommandId::AttachAuthenticate:
        return AttachAuthenticate{num<std::uint32_t>(), bytes(100)};
      case CommandId::Register:
        return Register{num<std::uint32_t>(), str(), bytes(10)};
      case CommandId::RegisterResponse:
        return RegisterResponse{num<std::uint32_t>(), num<Byte>(), bytes(10)};
      case CommandId::Message: {
        Message m = message(num<std::uint32_t>(), num<std::uint32_t>(),
                            static_cast<Byte>(num<Byte>() & ~message_flag::Reserved), str());
        if (m.flags & message_flag::Ephemeral) m.expiration_time = num<std::uint64_t>();
        if (m.flags & message_flag::StreamSize) m.stream_size.total_size = num<std::uint64_t>();
        if (m.flags & message_flag::Fragmentation) {
          for (Byte& b : m.fragmentation.fragment_message_id) b = num<Byte>();
          m.fragmentation.fragment_index = num<std::uint32_t>();
          m.fragmentation.fragment_count = num<std::uint32_t>();
        }
        return m;
      }
      case CommandId::Data:
        storage.push_back(bytes(kMaxDataPayload));
        return Data{num<std::uint32_t>(), storage.back()};
      case CommandId::EndMessage:
        return EndMessage{num<std::uint32_t>()};
      case CommandId::Noop:
        return Noop{num<std::uint32_t>()};
      case CommandId::Close:
        return Close{num<std::uint32_t>(), num<Byte>()};
      case CommandId::SessionStatus: {
        SessionStatus s{num<std::uint32_t>(), num<Byte>(), str(), str(), {}};
        if (v16) s.fanout_device_indexes.resize(upto(5));
        for (auto& i : s.fanout_device_indexes) i = num<std::uint16_t>();
        return s;
      }
    }
    return Noop{};
  }

 private:
  std::mt19937 rng_;
};

TEST(RoundTrip, RandomCommandsOfEveryTypeBothVersions) {
  for (std::uint8_t minor : {kMinor15, kMinor16}) {
    Gen gen(20240601u + minor);
    std::deque<Bytes> storage;
    std::vector<Command> sent;
    Bytes stream;
    for (int round = 0; round < 100; ++round) {
      for (std::uint8_t id = 1; id <= 0x12; ++id) {
        const Command cmd = gen.make(static_cast<CommandId>(id), minor == kMinor16, storage);
        const std::size_t start = stream.size();
        ASSERT_EQ(encode(cmd, minor, stream), errc::ok) << testing::PrintToString(cmd);
        const ByteView bytes = ByteView(stream).subspan(start);
        LengthLimits l{};
        ASSERT_TRUE(length_limits(id, l));
        ASSERT_GE(bytes.size(), l.min);
        ASSERT_LE(bytes.size(), l.max);
        Command back;
        ASSERT_EQ(decode(bytes, minor, back), errc::ok) << testing::PrintToString(cmd);
        ASSERT_EQ(back, cmd);
        sent.push_back(cmd);
      }
    }
    // The whole stream again, through FrameReader in random chunk sizes.
    FrameReader reader;
    std::vector<Command> got;
    for (std::size_t pos = 0; pos < stream.size();) {
      ByteView in =
          ByteView(stream).subspan(pos, std::min(gen.upto(3000) + 1, stream.size() - pos));
      while (!in.empty()) {
        const auto r = reader.next(in);
        ASSERT_FALSE(r.error);
        in = in.subspan(r.consumed);
        pos += r.consumed;
        if (!r.frame.empty()) {
          // Data views the frame, which is only valid until the next call: compare now.
          Command c;
          ASSERT_EQ(decode(r.frame, minor, c), errc::ok);
          ASSERT_LT(got.size(), sent.size());
          ASSERT_EQ(c, sent[got.size()]);
          got.push_back(Noop{});
        }
      }
    }
    EXPECT_EQ(got.size(), sent.size());
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

// ------------------------------------------------------------------------------------------------
// Error category and names.

TEST(Errc, CategoryAndMessages) {
  EXPECT_STREQ(sstp_category().name(), "grove.sstp");
  std::set<std::string> messages;
  for (int e = 0; e <= static_cast<int>(errc::connection_closed); ++e) {
    const std::string m = make_error_code(static_cast<errc>(e)).message();
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.find("unknown grove.sstp error"), std::string::npos) << e;
    EXPECT_TRUE(messages.insert(m).second) << "duplicate message for " << e << ": " << m;
  }
  EXPECT_NE(make_error_code(static_cast<errc>(999)).message().find("999"), std::string::npos);
  const std::error_code ok = errc::ok;
  EXPECT_FALSE(ok);
}

TEST(CommandName, EveryCommand) {
  const char* names[] = {"Connect",
                         "ConnectResponse",
                         "ConnectAuthenticate",
                         "ConnectClose",
                         "Open",
                         "FanoutOpen",
                         "OpenResponse",
                         "Attach",
                         "AttachResponse",
                         "AttachAuthenticate",
                         "Register",
                         "RegisterResponse",
                         "Message",
                         "Data",
                         "EndMessage",
                         "Noop",
                         "Close",
                         "SessionStatus"};
  for (int id = 1; id <= 0x12; ++id) {
    EXPECT_STREQ(command_name(static_cast<CommandId>(id)), names[id - 1]);
  }
  EXPECT_STREQ(command_name(static_cast<CommandId>(0x13)), "Unknown");
}

}  // namespace
}  // namespace grove::sstp
