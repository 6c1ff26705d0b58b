// HttpConnect without authentication: request bytes (henc.md §6.1), response heads (§6.2),
// split at every offset and byte by byte, SSTP bytes left unconsumed, every status errc.
#include "proxy/http_connect.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "connect_test_util.hpp"

namespace grove::proxy {
namespace {

using test::feed;
using test::kRequest;
using test::take_output;

constexpr std::string_view kSstp = "\x10\x07\x00\x00\x00\x00\x00";  // bytes after the head

TEST(HttpConnect, RequestIsByteExact) {
  HttpConnect c(test::connect_options());
  EXPECT_EQ(take_output(c), kRequest);
  EXPECT_EQ(c.requests(), 1u);
  EXPECT_EQ(c.state(), HttpConnect::State::requested);
  EXPECT_TRUE(c.pending_output().empty());
}

TEST(HttpConnect, Ipv6TargetInBrackets) {
  for (const char* host : {"2001:db8::1", "[2001:db8::1]"}) {
    ConnectOptions o = test::connect_options();
    o.host = host;
    o.port = 8443;
    o.user_agent = "Grove/2.5";
    HttpConnect c(o);
    EXPECT_EQ(
        take_output(c),
        "CONNECT [2001:db8::1]:8443 HTTP/1.0\r\nUser-Agent: Grove/2.5\r\n"
        "Host: [2001:db8::1]:8443\r\nProxy-Connection: Keep-Alive\r\nPragma: no-cache\r\n\r\n");
  }
}

TEST(HttpConnect, ConfigurationErrorsThrow) {
  for (const char* host : {"", "relay example", "relay\r\nX: y"}) {
    ConnectOptions o = test::connect_options();
    o.host = host;
    EXPECT_THROW(HttpConnect{o}, std::invalid_argument) << host;
  }
  ConnectOptions o = test::connect_options();
  o.user_agent = "Grove\r\nX: y";
  EXPECT_THROW(HttpConnect{o}, std::invalid_argument);
}

// Each response must open the tunnel after exactly its head; checked whole, split at every
// offset, and byte by byte, always followed by SSTP bytes that must stay unconsumed.
void expect_tunnel(const std::string& head, int status) {
  SCOPED_TRACE(head);
  std::string wire = head + std::string(kSstp);
  {
    HttpConnect c(test::connect_options());
    (void)take_output(c);
    EXPECT_EQ(feed(c, wire), head.size());
    EXPECT_TRUE(c.done());
    EXPECT_EQ(c.status_code(), status);
    EXPECT_FALSE(c.error());
    EXPECT_TRUE(c.pending_output().empty());  // §6.1: nothing more written by the core
    EXPECT_EQ(feed(c, kSstp), 0u);
  }
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    HttpConnect c(test::connect_options());
    std::string_view w = wire;
    std::size_t a = feed(c, w.substr(0, cut));
    std::size_t b = a == cut ? feed(c, w.substr(cut)) : 0;
    EXPECT_EQ(a + b, head.size()) << "cut " << cut;
    EXPECT_TRUE(c.done()) << "cut " << cut;
  }
  HttpConnect c(test::connect_options());
  std::size_t used = 0;
  for (std::size_t i = 0; i < wire.size() && !c.done(); ++i) {
    used += feed(c, std::string_view(wire).substr(i, 1));
  }
  EXPECT_EQ(used, head.size());
  EXPECT_TRUE(c.done());
}

TEST(HttpConnect, AnyTwoHundredOpensTheTunnel) {
  expect_tunnel("HTTP/1.0 200 Connection established\r\n\r\n", 200);
  expect_tunnel("HTTP/1.1 200 OK\r\n\r\n", 200);
  expect_tunnel(
      "HTTP/1.1 200 Connection Established\r\nProxy-Agent: squid/5\r\n"
      "Connection: close\r\n\r\n",
      200);
  expect_tunnel("HTTP/1.1 200\r\n\r\n", 200);
  expect_tunnel("HTTP/1.1 204 No Content\r\n\r\n", 204);
  expect_tunnel("HTTP/1.1 299 Odd But Fine\r\n\r\n", 299);
  expect_tunnel("HTTP/1.0 200 OK\n\n", 200);  // bare LF
  expect_tunnel("HTTP/1.0 200 OK\nVia: 1.1 p\n\n", 200);
  expect_tunnel("HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n",
                200);  // framing ignored on 2xx
  expect_tunnel("HTTP/1.1 200 OK\r\nEmpty:\r\nX-Long: a\r\n b\r\n\r\n", 200);
  expect_tunnel("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 200);  // §6.2 interim
  expect_tunnel(
      "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 102 Processing\r\nX: y\r\n\r\n"
      "HTTP/1.0 200 OK\r\n\r\n",
      200);
}

TEST(HttpConnect, StatusCodesMapToErrors) {
  struct Case {
    const char* line;
    errc e;
    int status;
    const char* reason;
  };
  const Case cases[] = {
      {"HTTP/1.1 400 Bad Request", errc::proxy_bad_request, 400, "Bad Request"},
      {"HTTP/1.1 403 Forbidden", errc::proxy_forbidden, 403, "Forbidden"},
      {"HTTP/1.1 404 Not Found", errc::relay_unreachable, 404, "Not Found"},
      {"HTTP/1.0 405 Method Not Allowed", errc::connect_not_supported, 405, "Method Not Allowed"},
      {"HTTP/1.1 500 Internal Server Error", errc::relay_unreachable, 500, "Internal Server Error"},
      {"HTTP/1.1 501 Not Implemented", errc::connect_not_supported, 501, "Not Implemented"},
      {"HTTP/1.1 502 Bad Gateway", errc::bad_gateway, 502, "Bad Gateway"},
      {"HTTP/1.1 503 Service Unavailable", errc::service_unavailable, 503, "Service Unavailable"},
      {"HTTP/1.1 504 Gateway Timeout", errc::gateway_timeout, 504, "Gateway Timeout"},
      {"HTTP/1.1 301 Moved Permanently", errc::other_status, 301, "Moved Permanently"},
      {"HTTP/1.1 101 Switching Protocols", errc::other_status, 101, "Switching Protocols"},
      {"HTTP/1.1 418 I'm a teapot", errc::other_status, 418, "I'm a teapot"},
      {"HTTP/1.1 600 Beyond", errc::other_status, 600, "Beyond"},
  };
  for (const Case& k : cases) {
    HttpConnect c(test::connect_options());
    (void)take_output(c);
    std::string head = std::string(k.line) + "\r\nContent-Length: 3\r\n\r\n";
    EXPECT_EQ(feed(c, head + "abc"), head.size()) << k.line;
    EXPECT_TRUE(c.failed()) << k.line;
    EXPECT_EQ(c.error(), k.e) << k.line;
    EXPECT_EQ(c.status_code(), k.status);
    EXPECT_EQ(c.reason_phrase(), k.reason);
    EXPECT_TRUE(c.pending_output().empty());
    EXPECT_EQ(feed(c, "more"), 0u);
  }
}

TEST(HttpConnect, MalformedResponses) {
  for (const char* r :
       {"HTTP/2 200 OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        "\x16\x03\x01\x02\x00"}) {
    HttpConnect c(test::connect_options());
    (void)feed(c, r);
    EXPECT_TRUE(c.failed()) << r;
    EXPECT_EQ(c.error(), errc::malformed_response) << r;
  }
}

TEST(HttpConnect, HeadLimitIs8192Bytes) {
  auto head_of = [](std::size_t total) {
    std::string start = "HTTP/1.1 200 OK\r\nX-Pad: ";
    std::string end = "\r\n\r\n";
    return start + std::string(total - start.size() - end.size(), 'p') + end;
  };
  {
    HttpConnect c(test::connect_options());
    std::string h = head_of(8192);
    EXPECT_EQ(feed(c, h + "SSTP"), 8192u);
    EXPECT_TRUE(c.done());
  }
  {
    HttpConnect c(test::connect_options());
    (void)feed(c, head_of(8193));
    EXPECT_EQ(c.error(), errc::head_too_large);
  }
  {
    HttpConnect c(test::connect_options());
    std::string h = head_of(9000);
    for (std::size_t i = 0; i < h.size() && !c.failed(); i += 100) {
      (void)feed(c, std::string_view(h).substr(i, 100));
    }
    EXPECT_EQ(c.error(), errc::head_too_large);
  }
  ConnectOptions small = test::connect_options();
  small.max_head_bytes = 20;
  HttpConnect c(small);
  (void)feed(c, "HTTP/1.1 200 OK\r\nX: y\r\n\r\n");
  EXPECT_EQ(c.error(), errc::head_too_large);
}

TEST(HttpConnect, TooManyInterimResponses) {
  ConnectOptions o = test::connect_options();
  o.max_interim_responses = 2;
  HttpConnect c(o);
  (void)feed(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_FALSE(c.failed());
  (void)feed(c, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(c.error(), errc::too_many_interim);
}

TEST(HttpConnect, EofBeforeTheHead) {
  for (const char* partial : {"", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\n\r"}) {
    HttpConnect c(test::connect_options());
    (void)feed(c, partial);
    c.receive_eof();
    EXPECT_EQ(c.error(), errc::closed_early) << partial;
  }
  HttpConnect open(test::connect_options());
  (void)feed(open, "HTTP/1.1 200 OK\r\n\r\n");
  open.receive_eof();  // the tunnel's own end is the SSTP engine's business
  EXPECT_TRUE(open.done());
  EXPECT_FALSE(open.error());
}

TEST(HttpConnect, StateNames) {
  EXPECT_EQ(HttpConnect::state_name(HttpConnect::State::requested), "Requested");
  EXPECT_EQ(HttpConnect::state_name(HttpConnect::State::draining), "Draining");
  EXPECT_EQ(HttpConnect::state_name(HttpConnect::State::reconnect), "Reconnect");
  EXPECT_EQ(HttpConnect::state_name(HttpConnect::State::tunnel), "Tunnel");
  EXPECT_EQ(HttpConnect::state_name(HttpConnect::State::failed), "Failed");
}

TEST(HttpConnect, PartialWritesAndEmptyInput) {
  HttpConnect c(test::connect_options());
  ByteView out = c.pending_output();
  ASSERT_EQ(out.size(), kRequest.size());
  c.consume_output(10);
  EXPECT_EQ(test::str(c.pending_output()), kRequest.substr(10));
  c.consume_output(1000);
  EXPECT_TRUE(c.pending_output().empty());
  EXPECT_EQ(c.receive({}), 0u);
  EXPECT_EQ(c.state(), HttpConnect::State::requested);
}

}  // namespace
}  // namespace grove::proxy
