// TLS over ByteStream (net/tls_stream.hpp): pins, the handshake on loopback TCP with a
// certificate made here, the auth.md §6 exporter on both sides, certificate refusals, and the
// relay's first-byte choice between TLS and plain SSTP (henc.md §8).
#include "net/tls_stream.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>

#include "net/tcp_stream.hpp"

namespace grove::net {
namespace {

// A self-signed P-256 certificate for relay.test and 127.0.0.1, written as PEM files.
struct TestCert {
  std::filesystem::path dir, cert, key;
  Sha256 spki{};

  TestCert() {
    char tmpl[] = "/tmp/grove-tls-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    cert = dir / "cert.pem";
    key = dir / "key.pem";
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("relay.test"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:relay.test,IP:127.0.0.1");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    unsigned int len = 0;
    EVP_Digest(der, static_cast<std::size_t>(n), spki.data(), &len, EVP_sha256(), nullptr);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
  ~TestCert() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::string hex(const Sha256& h) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (Byte b : h) (s += d[b >> 4]) += d[b & 15];
  return s;
}

// One TLS client and one relay-side accept over loopback TCP, on one io_context.
struct Outcome {
  ByteStreamPtr client, server;  // reset before the io_context goes; see the fields below
  bool client_ok = false, server_ok = false;
  std::optional<std::array<Byte, 32>> client_binding, server_binding;
  std::string client_describe, server_describe;
  std::error_code client_ec, server_ec;
  std::string client_why, server_why;
  std::string server_got;  // what the server read after the handshake
};

Outcome connect_pair(const TlsClientConfig& config, const TestCert& cert, bool use_tls = true) {
  asio::io_context io;
  Outcome o;
  std::string why;
  auto server_ctx = TlsContext::server(cert.cert.string(), cert.key.string(), why);
  EXPECT_TRUE(server_ctx) << why;
  auto client_ctx = TlsContext::client(config, why);
  EXPECT_TRUE(client_ctx) << why;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        auto [ec, s] = co_await acceptor.async_accept(use_tuple);
        o.server = co_await accept_sstp_stream(std::move(s), "sstp", server_ctx,
                                               std::chrono::seconds(5), o.server_ec, o.server_why);
        if (!o.server) co_return;
        Bytes buf(64);
        std::error_code rec;
        const std::size_t n = co_await o.server->read_some(buf, rec);
        o.server_got.assign(reinterpret_cast<const char*>(buf.data()), n);
        o.server->close();
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        asio::ip::tcp::socket s(io);
        auto [ec] =
            co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port}, use_tuple);
        EXPECT_FALSE(ec) << ec.message();
        ByteStreamPtr tcp = std::make_unique<TcpStream>(std::move(s), "tcp");
        if (use_tls) {
          o.client =
              co_await tls_connect(std::move(tcp), client_ctx, config,
                                   std::chrono::steady_clock::now() + std::chrono::seconds(5),
                                   o.client_ec, o.client_why);
        } else {
          o.client = std::move(tcp);
        }
        if (!o.client) co_return;
        std::error_code wec;
        co_await o.client->write_all(as_bytes("hello sstp"), wec);
      },
      asio::detached);
  io.run_for(std::chrono::seconds(10));
  // The streams' sockets belong to `io`: record what the tests look at, then drop them.
  o.client_ok = o.client != nullptr;
  o.server_ok = o.server != nullptr;
  if (o.client_ok) {
    o.client_binding = o.client->channel_binding();
    o.client_describe = o.client->describe();
  }
  if (o.server_ok) {
    o.server_binding = o.server->channel_binding();
    o.server_describe = o.server->describe();
  }
  o.client.reset();
  o.server.reset();
  return o;
}

TEST(TlsPin, ParsesHexAndBase64) {
  const std::string h(64, 'a');
  auto p = parse_tls_pin("sha256:" + h);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)[0], 0xaa);
  auto b = parse_tls_pin("sha256:tTut25+L7BcfuBtosjIWCyUOpHT0JCS0vvY+qcKrSPg=");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[0], 0xb5);
  for (const char* bad : {"", "sha256:", "sha1:aaaa", "sha256:xyz",
                          "sha256:tTut25+L7BcfuBtosjIWCyUOpHT0JCS0vvY+qcKrSP==",
                          "sha256:tTut25+L7Bcfu!tosjIWCyUOpHT0JCS0vvY+qcKrSPg="})
    EXPECT_FALSE(parse_tls_pin(bad)) << bad;
}

TEST(TlsStream, HandshakeGivesBothSidesTheSameExporter) {
  TestCert cert;
  TlsClientConfig c;
  c.ca_file = cert.cert.string();
  c.server_name = "relay.test";
  Outcome o = connect_pair(c, cert);
  ASSERT_TRUE(o.client_ok) << o.client_why;
  ASSERT_TRUE(o.server_ok) << o.server_why;
  EXPECT_EQ(o.server_got, "hello sstp");
  ASSERT_TRUE(o.client_binding);
  EXPECT_EQ(o.client_binding, o.server_binding);
  EXPECT_EQ(o.client_describe.rfind("tls+tcp 127.0.0.1:", 0), 0u) << o.client_describe;
  EXPECT_EQ(o.server_describe.rfind("tls+sstp 127.0.0.1:", 0), 0u) << o.server_describe;
}

TEST(TlsStream, IpAddressNameIsCheckedAgainstIpSans) {
  TestCert cert;
  TlsClientConfig c;
  c.ca_file = cert.cert.string();
  c.server_name = "127.0.0.1";
  Outcome o = connect_pair(c, cert);
  EXPECT_TRUE(o.client_ok) << o.client_why;
}

TEST(TlsStream, WrongNameIsRefusedBeforeAnyData) {
  TestCert cert;
  TlsClientConfig c;
  c.ca_file = cert.cert.string();
  c.server_name = "other.test";
  Outcome o = connect_pair(c, cert);
  EXPECT_FALSE(o.client_ok);
  EXPECT_EQ(o.client_ec, tls_errc::certificate_name_mismatch);
  EXPECT_TRUE(is_certificate_error(o.client_ec));
  EXPECT_NE(o.client_why.find("hostname mismatch"), std::string::npos) << o.client_why;
  EXPECT_EQ(o.server_got, "");
}

TEST(TlsStream, UntrustedCertificateIsRefused) {
  TestCert cert, other;
  TlsClientConfig c;
  c.ca_file = other.cert.string();
  c.server_name = "relay.test";
  Outcome o = connect_pair(c, cert);
  EXPECT_FALSE(o.client_ok);
  EXPECT_EQ(o.client_ec, tls_errc::certificate_untrusted);
}

TEST(TlsStream, PinAloneDecides) {
  TestCert cert, other;
  TlsClientConfig c;
  c.pin = parse_tls_pin("sha256:" + hex(cert.spki));
  c.server_name = "any.name";  // a pin alone does not check the name
  Outcome good = connect_pair(c, cert);
  EXPECT_TRUE(good.client_ok) << good.client_why;
  EXPECT_EQ(good.server_got, "hello sstp");
  c.pin = other.spki;
  Outcome bad = connect_pair(c, cert);
  EXPECT_FALSE(bad.client_ok);
  EXPECT_EQ(bad.client_ec, tls_errc::pin_mismatch);
  EXPECT_EQ(bad.server_got, "");
}

TEST(TlsStream, RelayServesPlainSstpWhenTheFirstByteIsNotTls) {
  TestCert cert;
  Outcome o = connect_pair({}, cert, /*use_tls=*/false);
  ASSERT_TRUE(o.server_ok) << o.server_why;
  EXPECT_FALSE(o.server_binding);
  EXPECT_EQ(o.server_got, "hello sstp");
}

TEST(TlsContext, UnreadableFilesAreConfigurationErrors) {
  std::string why;
  EXPECT_FALSE(TlsContext::server("/nonexistent/cert.pem", "/nonexistent/key.pem", why));
  EXPECT_NE(why.find("tls_certificate"), std::string::npos) << why;
  TlsClientConfig c;
  c.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(TlsContext::client(c, why));
  EXPECT_NE(why.find("--tls-ca"), std::string::npos) << why;
}

}  // namespace
}  // namespace grove::net
