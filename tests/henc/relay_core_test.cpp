// The relay core against raw request bytes: dispatch (henc.md §2.7), errors answered with
// 400/404 or a close (§2.5), duplicate sessions (§3.6 row 3), Polling checks (§5.12), limits
// and timers (§2.7, §10). Other virtual connections are never disturbed.
#include "henc/relay_core.hpp"

#include <gtest/gtest.h>

namespace grove::henc {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

const std::string kGuid = "kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a";

struct RelayFixture : ::testing::Test {
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  RelayCore relay{RelayCoreOptions{}};

  RelayCore::ConnId open() { return relay.accept(now); }
  std::string send(RelayCore::ConnId c, std::string_view bytes) {
    relay.receive(c, as_bytes(bytes), now);
    ByteView out = relay.output(c);
    std::string s(as_chars(out));
    relay.consume(c, out.size());
    return s;
  }
  static std::string request(std::string method, std::string target, std::string extra = {}) {
    return method + " " + target + " HTTP/1.0\r\nHost: server.domain.net\r\n" + extra + "\r\n";
  }
  static std::string ll(std::string guid = kGuid, std::string cl = "2147479552") {
    return "/2.0/server.domain.net/" + guid + ",ConnType=LongLived,ContentLength=" + cl;
  }
  static std::string ka(std::string guid = kGuid) {
    return "/2.0/server.domain.net/" + guid + ",ConnType=KeepAlive";
  }
  std::string polling(RelayCore::ConnId c, std::uint32_t seq, std::string_view data,
                      std::optional<std::uint32_t> checksum = std::nullopt,
                      std::string guid = kGuid) {
    PollingPrefix p;
    p.server_url = "server.domain.net";
    p.guid = guid;
    p.sequence = seq;
    p.checksum = checksum ? *checksum : polling_checksum(as_bytes(data));
    Bytes body = encode_prefix(p);
    body.insert(body.end(), data.begin(), data.end());
    return send(c, request("POST", "/", "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                       std::string(as_chars(body)));
  }
};

TEST_F(RelayFixture, NotFoundAndBadVersion) {
  auto a = open();
  EXPECT_EQ(send(a, request("GET", "/favicon.ico")).substr(0, 24), "HTTP/1.0 404 Not Found\r\n");
  EXPECT_TRUE(relay.closing(a));
  auto b = open();
  EXPECT_EQ(send(b, request("GET", "/3.0/server.domain.net/g,ConnType=KeepAlive")).substr(0, 26),
            "HTTP/1.0 400 Bad Request\r\n");
  EXPECT_TRUE(relay.closing(b));
  auto c = open();
  EXPECT_EQ(send(c, request("GET", ll(kGuid, "100"))).substr(0, 26),
            "HTTP/1.0 400 Bad Request\r\n");
  EXPECT_EQ(relay.stats().answered_400, 2u);
}

TEST_F(RelayFixture, ClosesWithoutAnswer) {
  for (std::string bad : {request("GET", "/2.0/server.domain.net/g,ConnType=Bogus"),
                          request("GET", "/2.0/server.domain.net/bad-guid,ConnType=KeepAlive"),
                          request("GET", "/"),  // Polling must be a POST
                          request("POST", "/", "Content-Length: 40000\r\n"),
                          request("POST", "/", "Transfer-Encoding: chunked\r\n"),
                          "GET / HTTP/2.0\r\n\r\n"s, "\x16\x03\x01 garbage\r\n\r\n"s}) {
    auto c = open();
    EXPECT_EQ(send(c, bad), "") << bad;
    EXPECT_TRUE(relay.closing(c)) << bad;
  }
}

TEST_F(RelayFixture, ServerNamesAreChecked) {
  RelayCoreOptions o;
  o.server_names = {"Server.Domain.NET"};
  RelayCore r(o);
  auto c = r.accept(now);
  r.receive(c, as_bytes(request("GET", "/2.0/other.name/" + kGuid + ",ConnType=KeepAlive")), now);
  EXPECT_TRUE(r.closing(c));
  auto d = r.accept(now);
  r.receive(d, as_bytes(request("GET", ka())), now);
  EXPECT_FALSE(r.closing(d));
}

TEST_F(RelayFixture, LongLivedPairsEitherOrderAndRejectsDuplicates) {
  auto post = open();
  EXPECT_EQ(send(post, request("POST", ll(), "Content-Length: 2147479552\r\n") +
                           "GroovePing: 1.0,Ping\r\n"),
            "");
  auto get = open();
  std::string answer = send(get, request("GET", ll()));
  ASSERT_EQ(answer.substr(0, 17), "HTTP/1.0 200 OK\r\n");
  EXPECT_NE(answer.find("Content-Length: 2147479552\r\n"), std::string::npos);
  EXPECT_EQ(answer.substr(answer.size() - 22), "GroovePing: 1.0,Ping\r\n");
  auto vcs = relay.take_new_vcs();
  ASSERT_EQ(vcs.size(), 1u);
  // A second GET for the same GUID: 400 on the new connection only.
  auto dup = open();
  EXPECT_EQ(send(dup, request("GET", ll())).substr(0, 26), "HTTP/1.0 400 Bad Request\r\n");
  EXPECT_FALSE(relay.vc_finished(vcs[0]));
  // SSTP bytes flow both ways.
  send(post, "abc");
  EXPECT_EQ(std::string(as_chars(relay.vc_input(vcs[0]))), "abc");
  relay.vc_send(vcs[0], as_bytes("xyz"), now);
  EXPECT_EQ(std::string(as_chars(relay.output(get))), "xyz");
}

// An established LongLived VC as RelayFixture sees it: its GET and POST connections, the GET
// answer already taken.
struct LongLivedVc {
  RelayCore::ConnId get = 0, post = 0;
  RelayCore::VcId vc = 0;
};

LongLivedVc establish_long_lived(RelayFixture& f, const std::string& ccl = "2147479552") {
  LongLivedVc l;
  l.post = f.open();
  f.send(l.post, RelayFixture::request("POST", RelayFixture::ll(kGuid, ccl),
                                       "Content-Length: " + ccl + "\r\n") +
                     std::string(kEcho));
  l.get = f.open();
  f.send(l.get, RelayFixture::request("GET", RelayFixture::ll(kGuid, ccl)));
  auto vcs = f.relay.take_new_vcs();
  if (vcs.size() == 1) l.vc = vcs[0];
  return l;
}

TEST_F(RelayFixture, LongLivedPostGoesDirectOnceEstablished) {
  auto post = open();
  send(post, request("POST", ll(), "Content-Length: 2147479552\r\n") + std::string(kEcho));
  EXPECT_FALSE(relay.post_direct(post));  // no GET yet: not established
  auto get = open();
  send(get, request("GET", ll()));
  auto vcs = relay.take_new_vcs();
  ASSERT_EQ(vcs.size(), 1u);
  EXPECT_TRUE(relay.post_direct(post));
  EXPECT_FALSE(relay.post_direct(get));
  EXPECT_EQ(relay.conn_vc(post), vcs[0]);
  EXPECT_TRUE(relay.vc_received_direct(vcs[0], 1000, now));
  EXPECT_FALSE(relay.vc_finished(vcs[0]));
  relay.vc_close(vcs[0], now);
  EXPECT_FALSE(relay.post_direct(post));
}

// The GET closes while bytes the client sent before are still unread on the POST: they are
// taken (as receive() keeps what it read in vc_input()), until the POST connection is released.
TEST_F(RelayFixture, LongLivedDirectBytesAfterTheGetClosed) {
  LongLivedVc l = establish_long_lived(*this);
  ASSERT_NE(l.vc, 0u);
  relay.receive_eof(l.get, now);
  EXPECT_TRUE(relay.vc_finished(l.vc));
  EXPECT_TRUE(relay.closing(l.post));
  EXPECT_FALSE(relay.post_direct(l.post));
  EXPECT_TRUE(relay.vc_received_direct(l.vc, 100, now));
  relay.release(l.post, now);
  EXPECT_FALSE(relay.vc_received_direct(l.vc, 100, now));
}

TEST_F(RelayFixture, LongLivedDirectBytesWaitForBufferedOnes) {
  LongLivedVc l = establish_long_lived(*this);
  ASSERT_NE(l.vc, 0u);
  send(l.post, "abcdef");  // read by the listener before it handed the socket over
  // Bytes read past them would overtake them: refused until the input is drained.
  EXPECT_FALSE(relay.vc_received_direct(l.vc, 10, now));
  relay.vc_consume(l.vc, 4, now);
  EXPECT_EQ(std::string(as_chars(relay.vc_input(l.vc))), "ef");
  EXPECT_FALSE(relay.vc_received_direct(l.vc, 10, now));
  relay.vc_consume(l.vc, 2, now);
  EXPECT_TRUE(relay.vc_received_direct(l.vc, 10, now));
  EXPECT_FALSE(relay.vc_finished(l.vc));
}

TEST_F(RelayFixture, LongLivedDirectBytesCountAgainstTheBudget) {
  LongLivedVc l = establish_long_lived(*this, "1024");
  ASSERT_NE(l.vc, 0u);
  EXPECT_TRUE(relay.vc_received_direct(l.vc, 1000, now));  // 22 + 1000
  EXPECT_TRUE(relay.vc_received_direct(l.vc, 2, now));     // 1024: exactly the budget
  EXPECT_FALSE(relay.vc_received_direct(l.vc, 1, now));    // §3.4: one more is an error
  EXPECT_TRUE(relay.vc_finished(l.vc));
  EXPECT_EQ(relay.vc_error(l.vc), errc::budget_exceeded);
  EXPECT_FALSE(relay.vc_received_direct(l.vc, 1, now));  // nothing more after that
  EXPECT_TRUE(relay.closing(l.post));
  EXPECT_TRUE(relay.closing(l.get));
}

TEST_F(RelayFixture, LongLivedDirectSendKeepsOrderAndBudget) {
  LongLivedVc l = establish_long_lived(*this, "1024");
  ASSERT_NE(l.vc, 0u);
  // The answer head and echo were consumed by send(); nothing is queued or being written.
  const RelayCore::ConnId g = relay.vc_send_direct(l.vc, 100);
  EXPECT_EQ(g, l.get);
  EXPECT_EQ(relay.vc_backlog(l.vc), 100u);
  EXPECT_TRUE(relay.output(l.get).empty());
  // While that write runs, more bytes queue behind it.
  EXPECT_EQ(relay.vc_send_direct(l.vc, 3), 0u);
  relay.vc_send(l.vc, as_bytes("xyz"), now);
  EXPECT_EQ(std::string(as_chars(relay.output(l.get))), "xyz");
  EXPECT_EQ(relay.vc_backlog(l.vc), 103u);
  relay.wrote(l.get);
  EXPECT_EQ(relay.vc_backlog(l.vc), 3u);
  EXPECT_EQ(relay.vc_send_direct(l.vc, 3), 0u);  // "xyz" must go first
  Bytes out;
  relay.take_output(l.get, out);
  EXPECT_EQ(std::string(as_chars(out)), "xyz");
  relay.wrote(l.get);
  // 22 + 100 + 3 sent: 899 more fit, 900 do not (vc_send then renews, §3.4).
  EXPECT_EQ(relay.vc_send_direct(l.vc, 900), 0u);
  EXPECT_EQ(relay.vc_send_direct(l.vc, 899), l.get);
  relay.wrote(l.get);
  relay.vc_send(l.vc, as_bytes("!"), now);
  EXPECT_TRUE(relay.vc_finished(l.vc));
  EXPECT_EQ(relay.vc_error(l.vc), errc::renew);
}

TEST_F(RelayFixture, TakeOutputSwapsBuffers) {
  auto c = open();
  relay.receive(c, as_bytes(request("GET", "/favicon.ico")), now);
  const std::string all(as_chars(relay.output(c)));
  relay.consume(c, 9);  // "HTTP/1.0 " already written
  Bytes into = {1, 2, 3};
  relay.take_output(c, into);
  EXPECT_EQ(std::string(as_chars(into)), all.substr(9));
  EXPECT_TRUE(relay.output(c).empty());
  relay.take_output(c, into);
  EXPECT_TRUE(into.empty());
}

// A reader slower than the client: the unread bytes come out in order however reads and
// appends interleave (the buffer drops what was read instead of growing).
TEST_F(RelayFixture, VcInputKeepsOrderAcrossPartialReads) {
  LongLivedVc l = establish_long_lived(*this);
  ASSERT_NE(l.vc, 0u);
  std::string sent, got;
  for (int i = 0; i < 200; ++i) {
    std::string chunk(1000 + i, static_cast<char>('a' + i % 26));
    chunk[0] = static_cast<char>(i);
    send(l.post, chunk);
    sent += chunk;
    ByteView in = relay.vc_input(l.vc);
    const std::size_t n = in.size() * 2 / 3;  // always leave some behind
    got.append(as_chars(in.first(n)));
    relay.vc_consume(l.vc, n, now);
  }
  got.append(as_chars(relay.vc_input(l.vc)));
  EXPECT_TRUE(got == sent) << got.size() << " of " << sent.size();
}

TEST_F(RelayFixture, LongLivedBadEchoCloses) {
  auto get = open();
  send(get, request("GET", ll()));
  auto post = open();
  send(post, request("POST", ll(), "Content-Length: 2147479552\r\n") + "GroovePing: 2.0");
  EXPECT_TRUE(relay.closing(post));
  EXPECT_TRUE(relay.closing(get));
}

TEST_F(RelayFixture, LongLivedNtlmLegPostGets200) {
  auto c = open();
  std::string a = send(c, request("POST", ll(), "Content-Length: 0\r\n"));
  EXPECT_EQ(a.substr(0, 17), "HTTP/1.0 200 OK\r\n");
  EXPECT_NE(a.find("Connection: Keep-Alive"), std::string::npos);
  EXPECT_FALSE(relay.closing(c));
  EXPECT_EQ(relay.vc_count(), 0u);
}

TEST_F(RelayFixture, HalfOpenVirtualConnectionExpires) {
  auto get = open();
  send(get, request("GET", ll()));
  EXPECT_EQ(relay.vc_count(), 1u);
  now += 31s;
  relay.on_timer(now);
  EXPECT_EQ(relay.vc_count(), 0u);
  EXPECT_TRUE(relay.closing(get));
}

TEST_F(RelayFixture, KeepAliveHandshakeAndUnknownGuidData) {
  auto get = open();
  EXPECT_EQ(send(get, request("GET", ka())), "");  // held until the POST
  auto post = open();
  std::string a = send(post, request("POST", ka(), "Content-Length: 22\r\n") + std::string(kEcho));
  EXPECT_NE(a.find("Content-Length: 0\r\n"), std::string::npos);
  std::string g(as_chars(relay.output(get)));
  EXPECT_NE(g.find("Content-Length: 22\r\n"), std::string::npos);
  EXPECT_EQ(g.substr(g.size() - 26), "\r\n\r\nGroovePing: 1.0,Ping\r\n");
  EXPECT_EQ(relay.take_new_vcs().size(), 1u);
  // A data POST for a GUID nobody knows: closed, no answer.
  auto stray = open();
  EXPECT_EQ(send(stray, request("POST", ka("zzz"), "Content-Length: 3\r\n") + "abc"), "");
  EXPECT_TRUE(relay.closing(stray));
}

TEST_F(RelayFixture, PollingHandshakeSequenceAndChecksum) {
  auto probe = open();
  std::string a = polling(probe, 0, "");
  ASSERT_EQ(a.substr(0, 17), "HTTP/1.0 200 OK\r\n");
  EXPECT_NE(a.find("X-Grove-Poll-Min: 250\r\nX-Grove-Poll-Max: 8000\r\n"
                   "X-Grove-Poll-Repetitions: 4\r\n"),
            std::string::npos);
  EXPECT_TRUE(relay.closing(probe));
  auto hs = open();
  EXPECT_EQ(polling(hs, 0, "CONNECT"), "");  // held until the SSTP answer
  auto vcs = relay.take_new_vcs();
  ASSERT_EQ(vcs.size(), 1u);
  relay.vc_send(vcs[0], as_bytes("OK"), now);
  std::string h(as_chars(relay.output(hs)));
  EXPECT_NE(h.find("\0"s + "0\0"s + std::to_string(polling_checksum(as_bytes("OK"))) + "\0OK"s),
            std::string::npos);
  auto one = open();
  EXPECT_EQ(polling(one, 1, "data").substr(0, 17), "HTTP/1.0 200 OK\r\n");
  auto skip = open();
  EXPECT_EQ(polling(skip, 3, "data"), "");  // sequence gap: close, VC dropped
  EXPECT_TRUE(relay.vc_finished(vcs[0]));
  EXPECT_EQ(relay.vc_error(vcs[0]), errc::bad_sequence);
}

TEST_F(RelayFixture, PollingBadChecksumAndUnknownGuid) {
  auto c = open();
  EXPECT_EQ(polling(c, 5, "x", std::nullopt, "unknownguid"), "");
  EXPECT_TRUE(relay.closing(c));
  auto probe = open();
  polling(probe, 0, "");
  auto hs = open();
  EXPECT_EQ(polling(hs, 0, "CONNECT", 1234), "");
  EXPECT_TRUE(relay.closing(hs));
  EXPECT_EQ(relay.vc_count(), 0u);
}

TEST_F(RelayFixture, SlowAndTruncatedRequests) {
  auto slow = open();
  send(slow, "GET /2.0/ser");
  now += 29s;
  relay.on_timer(now);
  EXPECT_FALSE(relay.closing(slow));
  now += 2s;
  relay.on_timer(now);
  EXPECT_TRUE(relay.closing(slow));
  auto trunc = open();
  send(trunc, request("POST", "/", "Content-Length: 100\r\n") + "1.2");
  relay.receive_eof(trunc, now);
  EXPECT_EQ(relay.conn_error(trunc), errc::truncated_body);
  auto huge = open();
  send(huge, "GET / HTTP/1.0\r\nX: " + std::string(10000, 'a'));
  EXPECT_TRUE(relay.closing(huge));
  EXPECT_EQ(relay.conn_error(huge), errc::head_too_large);
}

TEST_F(RelayFixture, BadRequestsLeaveOtherVirtualConnectionsAlone) {
  auto get = open();
  send(get, request("GET", ka()));
  auto post = open();
  send(post, request("POST", ka(), "Content-Length: 22\r\n") + std::string(kEcho));
  auto vcs = relay.take_new_vcs();
  ASSERT_EQ(vcs.size(), 1u);
  for (std::string bad : {"garbage\r\n\r\n"s, request("GET", "/x"),
                          request("POST", "/", "Content-Length: 99999999999\r\n")}) {
    auto c = open();
    send(c, bad);
  }
  EXPECT_FALSE(relay.vc_finished(vcs[0]));
  EXPECT_EQ(send(post, request("POST", ka(), "Content-Length: 2\r\n") + "hi").substr(0, 17),
            "HTTP/1.0 200 OK\r\n");
  EXPECT_EQ(std::string(as_chars(relay.vc_input(vcs[0]))), "hi");
}

}  // namespace
}  // namespace grove::henc
