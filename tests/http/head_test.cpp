// The shared head parser: requests and responses whole, byte by byte and split at every offset
// (Beast parsegrind), every grove.http value from bytes (failgrind), and the options that tell
// the henc and CONNECT readers apart. henc's §4.2 examples stay in tests/henc/head_test.cpp.
#include "http/head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace grove::http {
namespace {

constexpr std::string_view kChallenge =
    "HTTP/1.1 407 Proxy Authentication Required\r\n"
    "Proxy-Authenticate: NTLM\r\n"
    "proxy-authenticate:   Basic realm=\"x\"  \r\n"
    "Content-Length: 5\r\n"
    "Proxy-Connection: keep-alive\r\n"
    "\r\n";

Head::Feed feed(Head& h, std::string_view s) { return h.feed(as_bytes(s)); }

HeadOptions small(std::size_t max_bytes, std::size_t max_headers) {
  HeadOptions o;
  o.max_bytes = max_bytes;
  o.max_headers = max_headers;
  return o;
}

void expect_challenge(const Head& h) {
  EXPECT_EQ(h.status(), 407);
  EXPECT_EQ(h.reason(), "Proxy Authentication Required");
  EXPECT_EQ(h.minor_version(), 1u);
  EXPECT_EQ(h.header_values("Proxy-Authenticate"),
            (std::vector<std::string>{"NTLM", "Basic realm=\"x\""}));
  EXPECT_EQ(h.headers().size(), 4u);
  EXPECT_EQ(h.headers()[1].first, "proxy-authenticate");  // names as received
  EXPECT_EQ(*h.header("content-length"), "5");
  EXPECT_EQ(h.header("WWW-Authenticate"), nullptr);
  EXPECT_EQ(h.content_length(), 5u);
  EXPECT_FALSE(h.has_transfer_encoding());
  EXPECT_TRUE(h.keep_alive());
}

TEST(Head, ResponseStopsAtTheEmptyLine) {
  const std::string s = std::string(kChallenge) + "hello";
  Head h(Head::Kind::response);
  const Head::Feed f = feed(h, s);
  ASSERT_EQ(f.error, errc::ok);
  ASSERT_TRUE(f.complete);
  EXPECT_EQ(s.substr(f.consumed), "hello");
  EXPECT_EQ(h.size(), kChallenge.size());
  expect_challenge(h);
}

TEST(Head, SplitAtEveryOffsetEqualsAtOnce) {
  const std::string s = std::string(kChallenge) + "hello";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    Head h(Head::Kind::response);
    const Head::Feed a = feed(h, std::string_view(s).substr(0, cut));
    ASSERT_EQ(a.error, errc::ok) << cut;
    std::size_t used = a.consumed;
    if (!a.complete) {
      ASSERT_EQ(a.consumed, cut);
      const Head::Feed b = feed(h, std::string_view(s).substr(cut));
      ASSERT_EQ(b.error, errc::ok) << cut;
      ASSERT_TRUE(b.complete) << cut;
      used += b.consumed;
    }
    EXPECT_EQ(used, kChallenge.size()) << cut;
    expect_challenge(h);
  }
}

TEST(Head, ByteByByte) {
  Head h(Head::Kind::response);
  std::size_t used = 0;
  for (char c : kChallenge) {
    const Head::Feed f = feed(h, std::string_view(&c, 1));
    ASSERT_EQ(f.error, errc::ok);
    used += f.consumed;
    if (f.complete) break;
  }
  EXPECT_EQ(used, kChallenge.size());
  expect_challenge(h);
}

TEST(Head, Request) {
  Head h(Head::Kind::request);
  const Head::Feed f = feed(h, "POST /2.0/s/g,ConnType=KeepAlive HTTP/1.0\nHost: s\nX:\n\nbody");
  ASSERT_EQ(f.error, errc::ok);
  ASSERT_TRUE(f.complete);
  EXPECT_EQ(h.method(), "POST");
  EXPECT_EQ(h.target(), "/2.0/s/g,ConnType=KeepAlive");
  EXPECT_EQ(*h.header("x"), "");
  EXPECT_FALSE(h.keep_alive());  // HTTP/1.0 without keep-alive
}

// henc.md §13 row 3: the examples' lines end in spaces; a request line may too, whole or in
// pieces, and the spaces count as read.
TEST(Head, RequestLineMayEndInSpaces) {
  const std::string s =
      "GET /2.0/relay.test/g,ConnType=KeepAlive HTTP/1.0 \t \r\nHost: relay.test \r\n\r\nrest";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    Head h(Head::Kind::request);
    Head::Feed a = feed(h, std::string_view(s).substr(0, cut));
    ASSERT_EQ(a.error, errc::ok) << cut;
    std::size_t consumed = a.consumed;
    if (!a.complete) {
      Head::Feed b = feed(h, std::string_view(s).substr(cut));
      ASSERT_EQ(b.error, errc::ok) << cut;
      ASSERT_TRUE(b.complete) << cut;
      consumed += b.consumed;
    }
    EXPECT_EQ(s.substr(consumed), "rest") << cut;
    EXPECT_EQ(h.size(), s.size() - 4) << cut;
    EXPECT_EQ(h.method(), "GET");
    EXPECT_EQ(h.target(), "/2.0/relay.test/g,ConnType=KeepAlive");
    EXPECT_EQ(h.minor_version(), 0u);
    EXPECT_EQ(*h.header("Host"), "relay.test");
  }
  // Spaces inside the line still reach llhttp: a space in the target splits it.
  Head inside(Head::Kind::request);
  EXPECT_EQ(feed(inside, "GET /a b HTTP/1.0\r\n\r\n").error, errc::malformed_head);
  // Endless spaces are bounded like any other head.
  Head endless(Head::Kind::request, small(64, 10));
  EXPECT_EQ(feed(endless, "GET / HTTP/1.0" + std::string(100, ' ')).error, errc::head_too_large);
}

TEST(Head, KeepAliveTokens) {
  const auto keep = [](std::string_view head) {
    Head h(Head::Kind::response);
    EXPECT_TRUE(feed(h, head).complete) << head;
    return h.keep_alive();
  };
  EXPECT_TRUE(keep("HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nProxy-Connection: close\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\n\r\n"));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK\r\nProxy-Connection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
}

TEST(Head, ResetReadsTheNextHead) {
  Head h(Head::Kind::response);
  ASSERT_TRUE(feed(h, "HTTP/1.1 100 Continue\r\nX: 1\r\n\r\n").complete);
  EXPECT_EQ(feed(h, "HTTP/1.1 200 OK\r\n\r\n").error, errc::malformed_head);  // dead until reset
  h.reset();
  ASSERT_TRUE(feed(h, "HTTP/1.1 200 OK\r\n\r\n").complete);
  EXPECT_EQ(h.status(), 200);
  EXPECT_TRUE(h.headers().empty());
  EXPECT_EQ(h.size(), 19u);
}

TEST(Head, CopyCarriesOn) {
  Head h(Head::Kind::response);
  ASSERT_FALSE(feed(h, "HTTP/1.1 407 Auth\r\nProxy-Auth").complete);
  Head copy = h;
  ASSERT_TRUE(feed(copy, "enticate: NTLM\r\n\r\n").complete);
  EXPECT_EQ(copy.header_values("proxy-authenticate"), std::vector<std::string>{"NTLM"});
  EXPECT_TRUE(h.headers().empty());
}

TEST(Head, LengthWithTransferEncodingIsAnOption) {
  constexpr std::string_view s =
      "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n";
  Head strict(Head::Kind::response);
  EXPECT_EQ(feed(strict, s).error, errc::malformed_head);
  HeadOptions o;
  o.length_with_transfer_encoding = true;
  Head lenient(Head::Kind::response, o);
  const Head::Feed f = feed(lenient, s);
  ASSERT_EQ(f.error, errc::ok);
  EXPECT_TRUE(lenient.has_transfer_encoding());
  lenient.reset();
  EXPECT_EQ(feed(lenient, s).error, errc::ok);
}

// failgrind: each value from bytes.
TEST(Head, Errors) {
  Head junk(Head::Kind::request);
  EXPECT_EQ(feed(junk, "\x01\x02garbage\r\n\r\n").error, errc::malformed_head);
  Head twice(Head::Kind::request);
  EXPECT_EQ(feed(twice, "POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error,
            errc::malformed_head);

  Head big(Head::Kind::request, small(64, kMaxHeaders));
  const Head::Feed f = feed(big, "GET / HTTP/1.0\r\nX: " + std::string(100, 'a'));
  EXPECT_EQ(f.error, errc::head_too_large);
  EXPECT_EQ(f.consumed, 64u);  // llhttp never saw more than the limit
  EXPECT_EQ(feed(big, "\r\n\r\n").error, errc::malformed_head);
  Head exact(Head::Kind::request, small(18, kMaxHeaders));
  EXPECT_TRUE(feed(exact, "GET / HTTP/1.0\r\n\r\n").complete);  // 18 bytes: complete wins

  // One line over the limit, found where that line ends: with more lines after it, or last.
  Head more(Head::Kind::request, small(8192, 2));
  EXPECT_EQ(feed(more, "GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n").error,
            errc::too_many_headers);
  Head last(Head::Kind::request, small(8192, 2));
  EXPECT_EQ(feed(last, "GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n").error,
            errc::too_many_headers);
  Head fits(Head::Kind::request, small(8192, 2));
  EXPECT_TRUE(feed(fits, "GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r\n").complete);
  // Malformed bytes and the limit are found in byte order however the input is split.
  constexpr std::string_view both = "GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nbad line\r\n\r\n";
  for (std::size_t cut = 0; cut <= both.size(); ++cut) {
    Head h(Head::Kind::request, small(8192, 2));
    Head::Feed f2 = feed(h, both.substr(0, cut));
    if (f2.error == errc::ok && !f2.complete) f2 = feed(h, both.substr(cut));
    EXPECT_EQ(f2.error, errc::too_many_headers) << cut;
  }

  Head version(Head::Kind::response);
  const Head::Feed v = feed(version, "HTTP/2.0 200 OK\r\n\r\nrest");
  EXPECT_EQ(v.error, errc::bad_version);
  EXPECT_TRUE(v.complete);
  EXPECT_EQ(v.consumed, 19u);
}

}  // namespace
}  // namespace grove::http
