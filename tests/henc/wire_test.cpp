// Byte examples of henc.md §3.1, §4.1, §5.3-§5.10 and the §2 common elements.
#include "henc/wire.hpp"

#include <gtest/gtest.h>

namespace grove::henc {
namespace {

Bytes hex_dump(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<Byte>(x));
  return b;
}

const std::string kName = "server.domain.net";
const std::string kGuid = "kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a";

TEST(Checksum, WorkedExamples) {
  const Bytes ex1 = hex_dump({0x41, 0x42, 0xff, 0x80});
  EXPECT_EQ(polling_checksum(ex1), 4294966988u);
  const Bytes noop = hex_dump({0x10, 0x07, 0, 0, 0, 0, 0});
  EXPECT_EQ(polling_checksum(noop), 58u);
  EXPECT_EQ(polling_checksum({}), 0u);
}

TEST(Checksum, WrapsModulo2To32) {
  Bytes big(200000, 0x7f);  // 128 × Σ(i+1) overflows 32 bits
  std::uint64_t expect = 0;
  for (std::uint64_t i = 0; i < big.size(); ++i) expect += 128 * (i + 1);
  EXPECT_EQ(polling_checksum(big), static_cast<std::uint32_t>(expect));
}

TEST(PollingBody, ProbeIs66Bytes) {
  const Bytes expect =
      hex_dump({0x31, 0x2e, 0x32, 0x00, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x2e, 0x64, 0x6f, 0x6d,
                0x61, 0x69, 0x6e, 0x2e, 0x6e, 0x65, 0x74, 0x00, 0x6b, 0x69, 0x63, 0x78, 0x70, 0x38,
                0x72, 0x72, 0x67, 0x77, 0x71, 0x64, 0x77, 0x68, 0x66, 0x37, 0x63, 0x36, 0x78, 0x73,
                0x67, 0x62, 0x61, 0x67, 0x6d, 0x63, 0x64, 0x6e, 0x78, 0x6d, 0x39, 0x70, 0x68, 0x74,
                0x76, 0x62, 0x6a, 0x35, 0x61, 0x00, 0x30, 0x00, 0x30, 0x00});
  const Bytes body = encode_polling_body(kName, kGuid, 0, {});
  EXPECT_EQ(body, expect);
  EXPECT_EQ(body.size(), 66u);
  ParsedBody p = parse_polling_body(body);
  ASSERT_FALSE(p.error);
  EXPECT_EQ(p.prefix.server_url, kName);
  EXPECT_EQ(p.prefix.guid, kGuid);
  EXPECT_EQ(p.prefix.sequence, 0u);
  EXPECT_EQ(p.prefix.checksum, 0u);
  EXPECT_TRUE(p.data.empty());
}

TEST(PollingBody, IdlePollIs74Bytes) {
  Bytes expect = encode_polling_body(kName, kGuid, 0, {});
  // Replace "0\0" "0\0" by "1\0" "58\0" then the Noop, as in the §5.10 dump.
  expect.resize(62);
  for (int b : {0x31, 0x00, 0x35, 0x38, 0x00, 0x10, 0x07, 0, 0, 0, 0, 0})
    expect.push_back(static_cast<Byte>(b));
  const Bytes noop = hex_dump({0x10, 0x07, 0, 0, 0, 0, 0});
  const Bytes body = encode_polling_body(kName, kGuid, 1, noop);
  EXPECT_EQ(body, expect);
  EXPECT_EQ(body.size(), 74u);
  ParsedBody p = parse_polling_body(body);
  ASSERT_FALSE(p.error);
  EXPECT_EQ(p.prefix.sequence, 1u);
  EXPECT_EQ(p.prefix.checksum, 58u);
  EXPECT_EQ(Bytes(p.data.begin(), p.data.end()), noop);
}

TEST(PollingBody, FourBytesIs79Bytes) {
  const Bytes data = hex_dump({0x41, 0x42, 0xff, 0x80});
  const Bytes body = encode_polling_body(kName, kGuid, 0, data);
  ASSERT_EQ(body.size(), 79u);
  const std::string tail(reinterpret_cast<const char*>(body.data()) + 64, 11);
  EXPECT_EQ(tail, std::string("4294966988") + '\0');
  EXPECT_EQ(body[75], 0x41);
  EXPECT_EQ(body[78], 0x80);
}

TEST(PollingBody, ParseFailures) {
  auto parse = [](std::string s) { return parse_polling_body(as_bytes(s)).error; };
  using namespace std::string_literals;
  EXPECT_EQ(parse("1.2\0name\0guid\0"s + "0\0"s), errc::bad_prefix);  // four fields
  EXPECT_EQ(parse("1.3\0name\0guid\0"s + "0\0"s + "0\0"s), errc::bad_polling_version);
  EXPECT_EQ(parse("1.2\0\0guid\0"s + "0\0"s + "0\0"s), errc::bad_prefix);    // empty name
  EXPECT_EQ(parse("1.2\0n\0gu-id\0"s + "0\0"s + "0\0"s), errc::bad_prefix);  // bad GUID
  EXPECT_EQ(parse("1.2\0n\0g\0"s + "x\0"s + "0\0"s), errc::bad_prefix);      // bad sequence
  EXPECT_EQ(parse("1.2\0n\0g\0"s + "4294967296\0"s + "0\0"s), errc::bad_prefix);
  EXPECT_EQ(parse("1.2\0n\0g\0"s + "0\0"s + "12345678901\0"s), errc::bad_prefix);
  EXPECT_EQ(parse("1.2\0n\0g\0"s + "4294967295\0"s + "4294967295\0"s), std::error_code{});
  EXPECT_EQ(parse(""), errc::bad_prefix);
}

TEST(PollingBody, RoomLeavesSpaceForATenDigitChecksum) {
  const std::size_t room = polling_data_room(kName, kGuid, 0);
  EXPECT_EQ(room, kPollingMaxBody - 66 - 9);  // "0" → ten digits
  Bytes data(room, 0x80);
  EXPECT_LE(encode_polling_body(kName, kGuid, 0, data).size(), kPollingMaxBody);
  // §5.9 says 78 bytes / 32690; with a 10-digit checksum the prefix is 79 (docs/protocol.md).
  EXPECT_EQ(polling_data_room(kName, kGuid, 99999), 32689u);
}

TEST(Uri, GroveBuildsTheSpecificationExamples) {
  EXPECT_EQ(
      encapsulation_path(ConnType::long_lived, kName, "hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72"),
      "/2.0/server.domain.net/hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,ConnType=LongLived,"
      "ContentLength=2147479552");
  EXPECT_EQ(encapsulation_path(ConnType::keep_alive, kName, kGuid),
            "/2.0/server.domain.net/kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a,ConnType=KeepAlive");
  EXPECT_EQ(http_url(kName, 80), "http://server.domain.net");
  EXPECT_EQ(http_url("127.0.0.1", 18080), "http://127.0.0.1:18080");
  EXPECT_EQ(http_url("2001:db8::1", 80), "http://[2001:db8::1]");
  EXPECT_EQ(host_header("2001:db8::1", 8080), "[2001:db8::1]:8080");
}

TEST(Uri, RelayParsesTheSpecificationExamples) {
  TargetResult a = parse_target(
      "/2.0/server.domain.net/hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,ConnType=LongLived,"
      "ContentLength=2147479552");
  ASSERT_FALSE(a.error);
  EXPECT_EQ(a.target.kind, Target::Kind::encapsulation);
  EXPECT_EQ(a.target.type, ConnType::long_lived);
  EXPECT_EQ(a.target.server_name, kName);
  EXPECT_EQ(a.target.guid, "hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72");
  EXPECT_EQ(a.target.content_length, 2147479552u);
  // §13 #2: the space before ID= (written %20 on a request line) is trimmed; ID= ignored.
  TargetResult b = parse_target(
      "http://server.domain.net/2.0/server.domain.net/hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,"
      "ConnType=LongLived,ContentLength=2147479552,%20ID=ugqrvphxsc2yqfjqh8ijah6crkziz8qrspvh9ja");
  ASSERT_FALSE(b.error);
  EXPECT_EQ(b.target.guid, "hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72");
  TargetResult c = parse_target(
      "http://server.domain.net/2.0/server.domain.net/kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a,"
      "ConnType=KeepAlive,ID=ugqrvphxsc2yqfjqh8ijah6crkziz8qrspvh9ja");
  ASSERT_FALSE(c.error);
  EXPECT_EQ(c.target.type, ConnType::keep_alive);
  EXPECT_FALSE(c.target.content_length);
}

TEST(Uri, RelayDispatchRules) {
  EXPECT_EQ(parse_target("/").target.kind, Target::Kind::polling);
  EXPECT_EQ(parse_target("http://relay.test:18080").target.kind, Target::Kind::polling);
  EXPECT_EQ(parse_target("http://relay.test/").target.kind, Target::Kind::polling);
  EXPECT_EQ(parse_target("/favicon.ico").target.kind, Target::Kind::not_found);
  EXPECT_EQ(parse_target("/3.0/n/g,ConnType=KeepAlive").target.kind, Target::Kind::bad_version);
  EXPECT_EQ(parse_target("/2.0/n/g,ConnType=Other").error, errc::bad_conn_type);
  EXPECT_EQ(parse_target("/2.0/n/g").error, errc::bad_conn_type);
  EXPECT_EQ(parse_target("/2.0/n/g-x,ConnType=KeepAlive").error, errc::bad_guid);
  EXPECT_EQ(parse_target("/2.0/n/g,ConnType=LongLived").error, errc::bad_uri);
  EXPECT_EQ(parse_target("/2.0/n/g,ConnType=LongLived,ContentLength=x").error, errc::bad_uri);
  EXPECT_EQ(parse_target("/2.0/n/x/g,ConnType=KeepAlive").error, errc::bad_uri);
  EXPECT_EQ(parse_target(" g , conntype = keepalive").error, errc::bad_uri);
  // Case-insensitive token names and ConnType value; spaces trimmed.
  TargetResult r = parse_target("/2.0/n/Gx1,%20conntype=KEEPALIVE%20,foo=bar");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.target.guid, "Gx1");
  EXPECT_EQ(r.target.type, ConnType::keep_alive);
  // An IPv6 name is compared without its brackets.
  EXPECT_EQ(parse_target("/2.0/[::1]/g,ConnType=KeepAlive").target.server_name, "::1");
}

TEST(Guid, ShapeAndValidation) {
  std::uint8_t counter = 0;
  auto rnd = [&](std::span<Byte> out) {
    for (Byte& b : out) b = counter++;
  };
  const std::string g = make_guid(rnd);
  EXPECT_EQ(g.size(), 39u);
  for (char ch : g) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) << g;
  EXPECT_TRUE(valid_guid(g));
  EXPECT_TRUE(valid_guid(std::string(64, 'A')));
  EXPECT_FALSE(valid_guid(std::string(65, 'a')));
  EXPECT_FALSE(valid_guid(""));
  EXPECT_FALSE(valid_guid("ab_c"));
}

TEST(Date, ImfFixdate) {
  EXPECT_EQ(imf_fixdate(1198698626), "Wed, 26 Dec 2007 19:50:26 GMT");
  EXPECT_EQ(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(Echo, Is22Bytes) {
  EXPECT_EQ(kEcho.size(), 22u);
  EXPECT_EQ(kLongLivedBudget, 0x7ffff000u);
}

}  // namespace
}  // namespace grove::henc
