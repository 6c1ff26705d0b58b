// SOCKS5 (RFC 1928 + RFC 1929) and SOCKS4a/SOCKS4 byte exchanges (henc.md §9), split at every
// offset, SSTP bytes after the reply left unconsumed, and every reply code.
#include "proxy/socks.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_util.hpp"

namespace grove::proxy {
namespace {

using test::hexs;
using test::unhex;

SocksOptions v5(std::string host = "relay.example.com") {
  SocksOptions o;
  o.host = std::move(host);
  return o;
}

SocksOptions with_user(SocksOptions o) {
  o.credentials = Credentials{"user", "pass"};
  return o;
}

std::string take(SocksClient& c) {
  std::string h = hexs(c.pending_output());
  c.consume_output(c.pending_output().size());
  return h;
}

std::size_t feed(SocksClient& c, std::string_view hex) { return c.receive(unhex(hex)); }

constexpr const char* kConnectName = "050100031172656c61792e6578616d706c652e636f6d09bc";

TEST(Socks5, HencFullExampleWithUserPassword) {
  SocksClient c(with_user(v5()));
  EXPECT_EQ(c.state(), SocksClient::State::negotiating);
  EXPECT_EQ(take(c), "05020002");
  EXPECT_EQ(feed(c, "0502"), 2u);
  EXPECT_EQ(c.state(), SocksClient::State::authenticating);
  EXPECT_EQ(take(c), "0104757365720470617373");
  EXPECT_EQ(feed(c, "0100"), 2u);
  EXPECT_EQ(take(c), kConnectName);
  EXPECT_EQ(c.state(), SocksClient::State::connecting);
  EXPECT_EQ(feed(c,
                 "05000001c000020a09bc"
                 "100700"),
            10u);  // SSTP bytes stay
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.bound_address().atyp, 1);
  EXPECT_EQ(c.bound_address().host, "192.0.2.10");
  EXPECT_EQ(c.bound_address().port, 2492);
  EXPECT_EQ(feed(c, "1007"), 0u);
}

TEST(Socks5, NoAuthenticationAndAuthVersionTolerance) {
  SocksClient c(v5());
  EXPECT_EQ(take(c), "05020002");
  EXPECT_EQ(feed(c, "0500"), 2u);
  EXPECT_EQ(take(c), kConnectName);
  SocksClient t(with_user(v5()));
  (void)feed(t, "0502");
  EXPECT_EQ(feed(t, "0500"), 2u);  // §9.1: VER 0x05 tolerated in the RFC 1929 reply
  EXPECT_EQ(t.state(), SocksClient::State::connecting);
}

TEST(Socks5, IpLiteralsUseAtyp1And4) {
  SocksClient a(v5("192.0.2.10"));
  (void)take(a);
  (void)feed(a, "0500");
  EXPECT_EQ(take(a), "05010001c000020a09bc");
  for (const char* h : {"2001:db8::1", "[2001:db8::1]"}) {
    SocksOptions o = v5(h);
    o.port = 443;
    SocksClient b(o);
    (void)take(b);
    (void)feed(b, "0500");
    EXPECT_EQ(take(b),
              "0501000420010db8000000000000000000000001"
              "01bb");
  }
}

TEST(Socks5, ReplyWithEveryAddressTypeSplitAtEveryOffset) {
  struct Case {
    const char* reply;
    std::uint8_t atyp;
    const char* host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {"05000001c000020a09bc", 1, "192.0.2.10", 2492},
      {"05000004"
       "20010db8000000000000000000000001"
       "0050",
       4, "2001:db8::1", 80},
      {"05000003"
       "0b"
       "70726f78792e6c6f63616c"
       "1f90",
       3, "proxy.local", 8080},
      {"05000003"
       "00"
       "0000",
       3, "", 0},
      {"0500ff01000000000000", 1, "0.0.0.0", 0},  // RSV ignored on read
  };
  for (const Case& k : cases) {
    Bytes reply = unhex(k.reply);
    Bytes wire = unhex("0500");
    wire.insert(wire.end(), reply.begin(), reply.end());
    wire.push_back(0x10);  // first SSTP byte
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      SocksClient c(v5());
      std::size_t used = c.receive(ByteView(wire).first(cut));
      used += c.receive(ByteView(wire).subspan(used));
      EXPECT_EQ(used, wire.size() - 1) << k.reply << " cut " << cut;
      ASSERT_TRUE(c.done()) << k.reply;
      EXPECT_EQ(c.bound_address().atyp, k.atyp);
      EXPECT_EQ(c.bound_address().host, k.host);
      EXPECT_EQ(c.bound_address().port, k.port);
    }
    SocksClient c(v5());
    std::size_t used = 0;
    for (std::size_t i = 0; i < wire.size(); ++i) used += c.receive(ByteView(wire).subspan(i, 1));
    EXPECT_EQ(used, wire.size() - 1);
  }
}

TEST(Socks5, EveryReplyCode) {
  const std::pair<const char*, errc> cases[] = {
      {"01", errc::socks_general_failure},       {"02", errc::socks_not_allowed},
      {"03", errc::socks_network_unreachable},   {"04", errc::socks_host_unreachable},
      {"05", errc::socks_connection_refused},    {"06", errc::socks_ttl_expired},
      {"07", errc::socks_command_not_supported}, {"08", errc::socks_address_type_not_supported},
      {"09", errc::socks_unknown_reply},         {"ff", errc::socks_unknown_reply},
  };
  for (auto [rep, e] : cases) {
    SocksClient c(v5());
    (void)feed(c, "0500");
    (void)take(c);
    EXPECT_EQ(feed(c, std::string("05") + rep + "0001c000020a09bc"), 2u) << rep;
    EXPECT_EQ(c.error(), e) << rep;
    EXPECT_EQ(c.reply_code(), unhex(rep)[0]);
    EXPECT_TRUE(c.pending_output().empty());
  }
}

TEST(Socks5, NegotiationFailures) {
  const std::tuple<bool, const char*, errc> cases[] = {
      {false, "0400", errc::socks_bad_version},
      {false, "05ff", errc::socks_no_acceptable_methods},
      {false, "0501", errc::socks_unexpected_method},  // GSSAPI, never offered
      {false, "0580", errc::socks_unexpected_method},
      {false, "0502", errc::socks_auth_required},
      {true, "05020101", errc::socks_auth_rejected},
      {true, "050201ff", errc::socks_auth_rejected},
      {true, "05020200", errc::socks_bad_version},
      {true, "050201000400", errc::socks_bad_version},
      {true, "05020100050000ff", errc::socks_bad_address_type},
  };
  for (auto [creds, wire, e] : cases) {
    SocksOptions o = v5();
    if (creds) o.credentials = Credentials{"s3cr3tuser", "s3cr3tpass"};
    SocksClient c(o);
    (void)feed(c, wire);
    EXPECT_TRUE(c.failed()) << wire;
    EXPECT_EQ(c.error(), e) << wire;
    EXPECT_EQ(c.error().message().find("s3cr3t"), std::string::npos);
  }
}

TEST(Socks5, EofBeforeOpen) {
  for (const char* partial : {"", "05", "0500", "050000", "0500050000030a"}) {
    SocksClient c(v5());
    (void)feed(c, partial);
    c.receive_eof();
    EXPECT_EQ(c.error(), errc::closed_early) << partial;
  }
  SocksClient open(v5());
  (void)feed(open,
             "05000500000100000000"
             "0000");
  open.receive_eof();
  EXPECT_TRUE(open.done());
}

TEST(Socks4, HencExamples) {
  SocksOptions a;
  a.version = SocksVersion::v4a;
  a.host = "relay.example.com";
  a.credentials = Credentials{"user", ""};
  SocksClient c(a);
  EXPECT_EQ(c.state(), SocksClient::State::connecting);
  EXPECT_EQ(take(c), "040109bc00000001757365720072656c61792e6578616d706c652e636f6d00");
  EXPECT_EQ(feed(c,
                 "005a000000000000"
                 "1007"),
            8u);
  EXPECT_TRUE(c.done());

  SocksOptions b;
  b.version = SocksVersion::v4;
  b.host = "192.0.2.10";
  SocksClient d(b);
  EXPECT_EQ(take(d), "040109bcc000020a00");
  EXPECT_EQ(feed(d, "045a09bcc000020a"), 8u);  // VN 0x04 tolerated
  EXPECT_TRUE(d.done());

  b.version = SocksVersion::v4a;  // an IPv4 literal through socks4a needs no proxy lookup
  SocksClient e(b);
  EXPECT_EQ(take(e), "040109bcc000020a00");
}

TEST(Socks4, ReplyCodesAndVersion) {
  const std::pair<const char*, errc> cases[] = {
      {"005b", errc::socks4_rejected},        {"005c", errc::socks4_identd_unreachable},
      {"005d", errc::socks4_identd_mismatch}, {"0000", errc::socks4_unknown_reply},
      {"055a", errc::socks_bad_version},
  };
  for (auto [reply, e] : cases) {
    SocksOptions o;
    o.version = SocksVersion::v4a;
    o.host = "relay.example.com";
    SocksClient c(o);
    (void)feed(c, std::string(reply) + "000000000000");
    EXPECT_EQ(c.error(), e) << reply;
  }
}

TEST(Socks, SplitRepliesByteByByteWithAuth) {
  Bytes wire = unhex(
      "0502"
      "0100"
      "05000001c000020a09bc"
      "aabb");
  SocksClient c(with_user(v5()));
  std::size_t used = 0;
  for (std::size_t i = 0; i < wire.size(); ++i) used += c.receive(ByteView(wire).subspan(i, 1));
  EXPECT_TRUE(c.done());
  EXPECT_EQ(used, wire.size() - 2);
  EXPECT_EQ(take(c),
            "05020002"
            "0104757365720470617373" +
                std::string(kConnectName));
}

TEST(Socks, StateNames) {
  EXPECT_EQ(SocksClient::state_name(SocksClient::State::negotiating), "Negotiating");
  EXPECT_EQ(SocksClient::state_name(SocksClient::State::authenticating), "Authenticating");
  EXPECT_EQ(SocksClient::state_name(SocksClient::State::connecting), "Connecting");
  EXPECT_EQ(SocksClient::state_name(SocksClient::State::open), "Open");
  EXPECT_EQ(SocksClient::state_name(SocksClient::State::failed), "Failed");
}

TEST(Socks, ConfigurationErrorsThrow) {
  auto make = [](SocksVersion v, std::string host, std::optional<Credentials> cr = {}) {
    SocksOptions o;
    o.version = v;
    o.host = std::move(host);
    o.credentials = std::move(cr);
    return SocksClient(o);
  };
  EXPECT_THROW(make(SocksVersion::v5, ""), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v5, std::string(256, 'a')), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v5, "h", Credentials{"", "p"}), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v5, "h", Credentials{"u", ""}), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v5, "h", Credentials{std::string(256, 'u'), "p"}),
               std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v4, "relay.example.com"), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v4a, "2001:db8::1"), std::invalid_argument);
  EXPECT_THROW(make(SocksVersion::v4a, "h", Credentials{std::string("u\0x", 3), ""}),
               std::invalid_argument);
  EXPECT_NO_THROW(make(SocksVersion::v5, std::string(255, 'a'),
                       Credentials{std::string(255, 'u'), std::string(255, 'p')}));
}

}  // namespace
}  // namespace grove::proxy
