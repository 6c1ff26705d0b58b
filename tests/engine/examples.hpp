// Byte examples of sstp.md §14 and auth.md §9, and small builders for hand-made peer input,
// shared by the engine tests.
#pragma once

#include "engine/pair.hpp"

namespace grove::engine::test {

// sstp.md §14.1
inline const Bytes kConnect = hex(R"(
  01 85 00 01 06 00 67 72 6f 76 65 3a 2f 2f 72 65
  6c 61 79 2e 65 78 61 6d 70 6c 65 00 01 67 72 6f
  76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70
  6c 65 2f 64 2f 61 6c 69 63 65 2d 70 63 00 25 00
  47 52 56 31 01 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa
  ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba
  bb bc bd be bf 47 72 6f 76 65 20 43 6c 69 65 6e
  74 20 31 2e 30 20 31 00 67 72 6f 76 65 2d 61 75
  74 68 2d 31 00)");

// sstp.md §14.2
inline const Bytes kConnectResponse = hex(R"(
  02 6f 00 01 06 00 00 00 00 45 00 47 52 56 31 02
  c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf
  d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df
  e0 b5 b8 47 f9 26 90 b7 0c f1 21 31 03 a9 de a6
  c5 b2 e8 a3 b3 76 0d 42 d1 2e 20 f1 5f 7d aa 88
  47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20
  31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 00)");

// sstp.md §14.3
inline const Bytes kConnectAuthenticate = hex(R"(
  03 2a 00 25 00 47 52 56 31 03 7f 00 16 70 41 26
  3b 57 67 42 be 18 bb b6 83 99 c5 8b 40 ee ea 7e
  e5 20 ac 03 86 b1 45 97 f1 c8)");

// auth.md §9.5: ConnectResponse Ok and ConnectAuthenticate with channel binding.
inline const Bytes kConnectResponseTls = hex(R"(
  02 73 00 01 06 00 00 00 00 45 00 47 52 56 31 02
  c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf
  d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db dc dd de df
  18 a3 bd 17 81 5a 72 6d be e0 f8 f1 9c ea 27 e2
  93 f7 62 4a ec 87 b9 fc 15 b0 11 cf 71 1a 19 6a
  47 72 6f 76 65 20 52 65 6c 61 79 20 31 2e 30 20
  31 00 67 72 6f 76 65 2d 61 75 74 68 2d 31 20 74
  6c 73 00)");

inline const Bytes kConnectAuthenticateTls = hex(R"(
  03 2a 00 25 00 47 52 56 31 03 76 0c 8d 91 3b bd
  63 07 15 2b 73 36 d3 1f 7e 9d 26 6b 97 b3 e2 ed
  e1 00 19 7e 5d d9 e9 c9 bb 17)");

// auth.md §9.7: the relay's answer for an unknown device.
inline const Bytes kAuthenticationFailed = hex(R"(
  02 2a 00 01 06 06 00 00 00 00 00 47 72 6f 76 65
  20 52 65 6c 61 79 20 31 2e 30 20 31 00 67 72 6f
  76 65 2d 61 75 74 68 2d 31 00)");

// auth.md §9.7: ConnectClose DeviceAuthenticationFailed.
inline const Bytes kDeviceAuthFailed = hex("04 0b 00 04 00 00 00 00 00 00 00");

// sstp.md §14.4
inline const Bytes kOpen = hex(R"(
  05 50 00 01 00 00 00 67 72 6f 76 65 3a 63 68 61
  74 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e
  65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62 00 67 72
  6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65 78 61 6d
  70 6c 65 2f 64 2f 62 6f 62 2d 70 63 00 00 00 00)");

// sstp.md §14.5
inline const Bytes kOpenResponseOk1 = hex("07 09 00 01 00 00 00 00 00");

// sstp.md §14.12
inline const Bytes kCloseIdle1 = hex("11 08 00 01 00 00 00 02");

// sstp.md §14.15
inline const Bytes kFanoutOpen = hex(R"(
  06 75 00 05 00 00 00 67 72 6f 76 65 3a 63 68 61
  74 00 00 02 00 67 72 6f 76 65 3a 2f 2f 72 65 6c
  61 79 2e 65 78 61 6d 70 6c 65 2f 69 2f 62 6f 62
  00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e 65
  78 61 6d 70 6c 65 2f 64 2f 62 6f 62 2d 70 63 00
  00 00 67 72 6f 76 65 3a 2f 2f 72 65 6c 61 79 2e
  65 78 61 6d 70 6c 65 2f 69 2f 63 61 72 6f 6c 00
  00 00 00 00 00)");

// sstp.md §14.16
inline const Bytes kOpenResponseOk5 = hex("07 09 00 05 00 00 00 00 00");

// sstp.md §14.17
inline const Bytes kSessionStatusB = hex(R"(
  12 2c 00 05 00 00 00 05 00 00 67 72 6f 76 65 3a
  2f 2f 72 65 6c 61 79 2e 65 78 61 6d 70 6c 65 2f
  69 2f 63 61 72 6f 6c 00 01 00 01 00)");

// sstp.md §14.10 (= §14.6 + §14.7 + §14.8 + §14.9)
inline const Bytes kHelloWorld = hex(R"(
  0d 0d 00 01 00 00 00 00 00 00 00 00 00 0e 0c 00
  01 00 00 00 68 65 6c 6c 6f 0e 0d 00 01 00 00 00
  20 77 6f 72 6c 64 0f 07 00 01 00 00 00)");

// sstp.md §14.14
inline const Bytes kMessageAES = hex(R"(
  0d 31 00 03 00 00 00 02 00 00 00 16 6d 2d 31 37
  00 00 0e 0e 6b 00 00 00 00 0b 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00)");

// sstp.md §14.11
inline const Bytes kNoop3 = hex("10 07 00 03 00 00 00");

// sstp.md §14.13
inline const Bytes kConnectCloseResting60 = hex("04 0b 00 01 00 3c 00 00 00 00 00");

inline Bytes connect_with(std::uint8_t major, std::uint8_t minor, Bytes token,
                          std::string caps = "grove-auth-1",
                          std::string target = std::string(kRelayUrl),
                          std::vector<std::string> sources = {std::string(kAliceUrl)}) {
  sstp::Connect c;
  c.major_version = major;
  c.minor_version = minor;
  c.target_device_url = std::move(target);
  c.source_device_urls = std::move(sources);
  c.authentication_token = std::move(token);
  c.peer_product_version = "Grove Client 1.0 1";
  c.peer_product_capabilities = std::move(caps);
  return encode(c);
}

inline Bytes hello_token() {
  return auth::make_token(auth::TokenType::DeviceHello, sequence32(0xa0));
}

inline sstp::ConnectResponse decode_response(ByteView b) {
  auto cmds = commands(b);
  EXPECT_EQ(cmds.size(), 1u);
  if (cmds.empty() || !std::holds_alternative<sstp::ConnectResponse>(cmds[0])) {
    ADD_FAILURE() << "not a ConnectResponse";
    return {};
  }
  return std::get<sstp::ConnectResponse>(cmds[0]);
}

inline Bytes open_response(std::uint32_t id, sstp::OpenResponseId r) {
  return encode(sstp::OpenResponse{id, static_cast<std::uint8_t>(r)});
}

inline std::vector<sstp::FanoutDeviceEntry> fanout_entries() {
  return {{std::string(kBobIdentity), std::string(kBobDevice), "", ""},
          {std::string(kCarolIdentity), "", "", ""}};
}

inline ByteView text(std::string_view s) { return as_bytes(s); }

inline std::string str(ByteView b) { return std::string(as_chars(b)); }

inline sstp::Message msg(std::uint32_t id) { return sstp::Message{id, 0, 0, "", 0, {}, {}}; }

}  // namespace grove::engine::test
