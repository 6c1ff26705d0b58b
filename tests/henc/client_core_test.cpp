// The client core against scripted answers: proxy authentication (henc.md §7), refusals
// (§2.5), echo checks (§3.3, §4.4) and the request lines of §2.1.
#include <gtest/gtest.h>

#include "pair.hpp"
#include "proxy/errc.hpp"

namespace grove::henc::test {
namespace {

std::string take(ClientCore& c, int slot) {
  ByteView out = c.output(slot);
  std::string s(as_chars(out));
  c.consume(slot, out.size());
  return s;
}

void answer(ClientCore& c, int slot, std::string_view s, TimePoint now = {}) {
  c.receive(slot, as_bytes(s), now);
}

ClientOptions proxied(Mode m) {
  ClientOptions o = client_options(m);
  o.proxied = true;
  o.http_port = 18080;
  o.auth.credentials = proxy::Credentials{"user", "pass"};
  return o;
}

TEST(ClientCore, ProxiedRequestsUseAbsoluteUris) {
  ClientCore c(proxied(Mode::polling), {});
  c.connected(0, {});
  std::string r = take(c, 0);
  EXPECT_EQ(r.substr(0, r.find("\r\n")), "POST http://server.domain.net:18080 HTTP/1.0");
  EXPECT_NE(r.find("Host: server.domain.net:18080\r\n"), std::string::npos);
  EXPECT_EQ(r.find("Proxy-Connection"), std::string::npos);
  ClientCore k(proxied(Mode::keep_alive), {});
  k.connected(0, {});
  std::string g = take(k, 0);
  EXPECT_EQ(g.rfind("GET http://server.domain.net:18080/2.0/server.domain.net/", 0), 0u);
  EXPECT_NE(g.find("Connection: Keep-Alive\r\nProxy-Connection: Keep-Alive\r\n"),
            std::string::npos);
}

TEST(ClientCore, Basic407RetriesOnANewConnectionThenSendsAtOnce) {
  ClientCore c(proxied(Mode::keep_alive), {});
  c.connected(0, {});
  c.connected(1, {});
  take(c, 0);
  take(c, 1);
  answer(c, 0,
         "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
         "Connection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(c.wants_close(0));
  c.closed(0, {});
  EXPECT_TRUE(c.wants_connect(0));
  c.connected(0, {});
  EXPECT_NE(take(c, 0).find("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"), std::string::npos);
  answer(c, 0,
         "HTTP/1.1 200 OK\r\nContent-Length: 22\r\nConnection: keep-alive\r\n\r\n" +
             std::string(kEcho));
  EXPECT_EQ(c.auth_scheme(), proxy::AuthScheme::basic);
  // The POST, still without credentials, gets its own 407 on a kept-alive connection.
  answer(c, 1,
         "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
         "Content-Length: 3\r\n\r\nabc");
  EXPECT_NE(take(c, 1).find("Proxy-Authorization: Basic"), std::string::npos);
  answer(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.state(), ClientCore::State::established);
  // The data GET carries the credentials at once (§7.1).
  EXPECT_NE(take(c, 0).find("Proxy-Authorization: Basic"), std::string::npos);
}

// MS-NLMP §4.2.4.3 CHALLENGE_MESSAGE, as tests/proxy/http_connect_ntlm_test.cpp uses it.
constexpr std::string_view kNtlmChallenge =
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM "
    "TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgAC"
    "AAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view kNtlmWanted =
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\n"
    "Content-Length: 0\r\n\r\n";
constexpr std::string_view kNegotiateHeader =
    "Proxy-Authorization: NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=\r\n";

// Runs one slot of a KeepAlive handshake through the three NTLM legs on one connection.
void ntlm_legs(ClientCore& c, int slot, std::string_view final_answer) {
  answer(c, slot, kNtlmWanted);
  const std::string leg1 = take(c, slot);
  EXPECT_NE(leg1.find(kNegotiateHeader), std::string::npos) << leg1;
  answer(c, slot, kNtlmChallenge);
  const std::string leg2 = take(c, slot);
  EXPECT_NE(leg2.find("Proxy-Authorization: NTLM TlRMTVNTUAAD"), std::string::npos) << leg2;
  answer(c, slot, final_answer);
}

TEST(ClientCore, NtlmAuthenticatesTheConnectionOnceThenRequestsGoAsTheyAre) {
  ClientOptions o = proxied(Mode::keep_alive);
  o.auth.credentials = proxy::Credentials{"DOMAIN\\user", "pass"};
  ClientCore c(o, {});
  c.connected(0, {});
  c.connected(1, {});
  take(c, 0);
  take(c, 1);
  ntlm_legs(c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n" + std::string(kEcho));
  ntlm_legs(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(c.state(), ClientCore::State::established);
  EXPECT_EQ(c.auth_scheme(), proxy::AuthScheme::ntlm);
  // §7.4: the POST connection is authenticated: the SSTP bytes go at once, with their body.
  c.send(as_bytes("sstp-bytes"), {});
  const std::string post = take(c, 1);
  EXPECT_EQ(post.find("Proxy-Authorization"), std::string::npos) << post;
  EXPECT_NE(post.find("Content-Length: 10\r\n"), std::string::npos) << post;
  EXPECT_EQ(post.substr(post.size() - 10), "sstp-bytes");
  // A new connection starts with the NEGOTIATE leg at once (§7.1).
  answer(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(c.wants_close(1));
  c.closed(1, {});
  c.send(as_bytes("more"), {});
  ASSERT_TRUE(c.wants_connect(1));
  c.connected(1, {});
  const std::string fresh = take(c, 1);
  EXPECT_NE(fresh.find(kNegotiateHeader), std::string::npos) << fresh;
  EXPECT_NE(fresh.find("Content-Length: 0\r\n"), std::string::npos) << fresh;
}

TEST(ClientCore, NtlmNegotiateLegLetThroughIsFollowedByTheRealPost) {
  ClientOptions o = proxied(Mode::keep_alive);
  o.auth.credentials = proxy::Credentials{"user", "pass"};
  o.auth.memo.scheme = proxy::AuthScheme::ntlm;  // an earlier connection needed NTLM
  ClientCore c(o, {});
  c.connected(0, {});
  c.connected(1, {});
  take(c, 0);
  const std::string leg1 = take(c, 1);
  ASSERT_NE(leg1.find(kNegotiateHeader), std::string::npos) << leg1;
  ASSERT_NE(leg1.find("Content-Length: 0\r\n"), std::string::npos) << leg1;
  // The proxy forwarded the body-less POST; the relay answered it (§7.4 row 2).
  answer(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  const std::string real = take(c, 1);
  EXPECT_EQ(real.find("Proxy-Authorization"), std::string::npos) << real;
  EXPECT_NE(real.find("Content-Length: 22\r\n"), std::string::npos) << real;
  EXPECT_EQ(real.substr(real.size() - 22), kEcho);
  EXPECT_NE(c.state(), ClientCore::State::closed);
}

TEST(ClientCore, RejectedCredentialsFailTheStep) {
  ClientCore c(proxied(Mode::polling), {});
  c.connected(0, {});
  take(c, 0);
  const std::string challenge =
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
      "Content-Length: 0\r\n\r\n";
  answer(c, 0, challenge);
  take(c, 0);
  answer(c, 0, challenge);
  EXPECT_EQ(c.state(), ClientCore::State::closed);
  EXPECT_EQ(c.error(), proxy::errc::proxy_auth_failed);
}

TEST(ClientCore, NoCredentialsMeansAuthRequired) {
  ClientOptions o = client_options(Mode::polling);
  o.proxied = true;
  ClientCore c(o, {});
  c.connected(0, {});
  answer(c, 0,
         "HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
         "\r\n");
  EXPECT_EQ(c.error(), proxy::errc::proxy_auth_required);
}

TEST(ClientCore, StatusCodesFailWithTheirMeaning) {
  for (auto [status, want] : std::vector<std::pair<std::string, std::error_code>>{
           {"400 Bad Request", errc::relay_rejected_version},
           {"404 Not Found", errc::not_found},
           {"503 Service Unavailable", errc::http_status}}) {
    ClientCore c(client_options(Mode::long_lived), {});
    c.connected(0, {});
    answer(c, 0, "HTTP/1.0 " + status + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(c.error(), want) << status;
    EXPECT_EQ(c.last_status(), std::stoi(status));
  }
}

TEST(ClientCore, WrongEchoFails) {
  ClientCore c(client_options(Mode::long_lived), {});
  c.connected(0, {});
  answer(c, 0, "HTTP/1.0 200 OK\r\nContent-Length: 2147479552\r\n\r\nGroovePong");
  EXPECT_EQ(c.error(), errc::bad_echo);
  ClientCore k(client_options(Mode::keep_alive), {});
  k.connected(0, {});
  answer(k, 0, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(k.error(), errc::bad_echo);
}

TEST(ClientCore, PollingAnswerChecks) {
  ClientCore c(client_options(Mode::polling), {});
  c.connected(0, {});
  const Bytes wrong = encode_polling_body("other.name", c.guid(), 0, {});
  answer(c, 0,
         "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(wrong.size()) + "\r\n\r\n" +
             std::string(as_chars(wrong)));
  EXPECT_EQ(c.error(), errc::bad_prefix);
  ClientCore d(client_options(Mode::polling), {});
  d.connected(0, {});
  answer(d, 0, "HTTP/1.0 200 OK\r\nContent-Length: 40000\r\n\r\n");
  EXPECT_EQ(d.error(), errc::bad_content_length);
}

TEST(ClientCore, TransferEncodingIsAProtocolError) {
  ClientCore c(client_options(Mode::keep_alive), {});
  c.connected(0, {});
  answer(c, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(c.error(), errc::transfer_encoding);
}

}  // namespace
}  // namespace grove::henc::test
