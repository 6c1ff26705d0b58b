// dial_http_connect / dial_socks / dial_direct (net/proxy_dial.hpp) against a scripted proxy on
// loopback: what goes out, how answers become streams or step failures, the timers, and that
// no message carries credentials.
#include "net/proxy_dial.hpp"

#include <gtest/gtest.h>

#include "net/tcp.hpp"
#include "proxy/errc.hpp"

namespace grove::net {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

// One request/answer of a scripted connection. read_bytes 0 = an HTTP head (up to CRLF CRLF).
struct Exchange {
  std::size_t read_bytes = 0;
  std::string reply;
  bool close_after = false;
};

// Accepts one connection per script and plays it; records what the client sent.
class FakeProxy {
 public:
  FakeProxy(asio::io_context& io, std::vector<std::vector<Exchange>> scripts)
      : acceptor_(listen_tcp(io.get_executor(), HostPort{"127.0.0.1", 0})),
        scripts_(std::move(scripts)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  HostPort address() const { return {"127.0.0.1", acceptor_.local_endpoint().port()}; }
  std::vector<std::string> requests;
  int connections = 0;

 private:
  awaitable<void> serve() {
    for (auto& script : scripts_) {
      auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      ++connections;
      std::string pending;
      bool closed = false;
      for (const Exchange& x : script) {
        std::size_t end = 0;
        for (;;) {
          if (x.read_bytes == 0 && (end = pending.find("\r\n\r\n")) != std::string::npos) {
            end += 4;
            break;
          }
          if (x.read_bytes != 0 && pending.size() >= x.read_bytes) {
            end = x.read_bytes;
            break;
          }
          char buf[4096];
          auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf), use_tuple);
          if (rec) co_return;
          pending.append(buf, n);
        }
        requests.push_back(pending.substr(0, end));
        pending.erase(0, end);
        if (!x.reply.empty())
          (void)co_await asio::async_write(sock, asio::buffer(x.reply), use_tuple);
        if (x.close_after) {
          sock.close();
          closed = true;
          break;
        }
      }
      if (!closed) kept_.push_back(std::move(sock));
    }
  }

  tcp::acceptor acceptor_;
  std::vector<std::vector<Exchange>> scripts_;
  std::vector<tcp::socket> kept_;
};

template <typename F>
void run(asio::io_context& io, F body) {
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        co_await body();
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(5s);
  EXPECT_TRUE(done) << "the scenario did not finish";
}

awaitable<std::string> read_some_text(ByteStream& s) {
  Bytes buf(64);
  std::error_code ec;
  std::size_t n = co_await s.read_some(buf, ec);
  co_return std::string(reinterpret_cast<const char*>(buf.data()), n);
}

const HostPort kRelay443{"relay.example", 443};
const HostPort kRelay2492{"relay.example", 2492};

HttpProxyConfig http_proxy(const FakeProxy& p, bool with_credentials = false) {
  HttpProxyConfig c;
  c.proxy = p.address();
  if (with_credentials) c.credentials = proxy::Credentials{"alice", "wrong-secret"};
  return c;
}

const std::string k407Basic =
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"r\"\r\n"
    "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n";

TEST(DialHttpConnect, TunnelWithSurplusBytes) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0, "HTTP/1.1 200 Connection established\r\n\r\nSSTP"}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(http_proxy(proxy), kRelay443, {}, ec, r);
    EXPECT_FALSE(ec) << ec.message() << " " << r.reason;
    EXPECT_TRUE(s);
    if (!s) co_return;
    EXPECT_EQ(co_await read_some_text(*s), "SSTP");  // §6.2: bytes after the head are SSTP
    EXPECT_EQ(s->describe(), "connect-tunnel via " + proxy.address().to_string());
    EXPECT_EQ(r.requests, 1u);
  });
  ASSERT_EQ(proxy.requests.size(), 1u);
  EXPECT_EQ(proxy.requests[0],
            "CONNECT relay.example:443 HTTP/1.0\r\nUser-Agent: Grove/1.0\r\n"
            "Host: relay.example:443\r\nProxy-Connection: Keep-Alive\r\nPragma: no-cache\r\n\r\n");
}

// A wrong password: one retry with credentials, then a clear failure without a third request.
TEST(DialHttpConnect, RejectedCredentialsFailAfterOneRetry) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0, k407Basic}, {0, k407Basic}, {0, k407Basic}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(http_proxy(proxy, true), kRelay443, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, proxy::errc::proxy_auth_failed);
    EXPECT_EQ(r.reason, "proxy " + proxy.address().to_string() +
                            " rejected the proxy credentials (Basic, 407 Proxy Authentication "
                            "Required)");
    for (const auto& line : r.trace) EXPECT_EQ(line.find("wrong-secret"), std::string::npos);
  });
  ASSERT_EQ(proxy.requests.size(), 2u);
  EXPECT_NE(proxy.requests[1].find("Proxy-Authorization: Basic "), std::string::npos);
}

// §7.1: a 407 that closes the connection: the retry goes on a new one.
TEST(DialHttpConnect, ReconnectsWhenTheProxyCloses) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0,
                         "HTTP/1.0 407 Proxy Authentication Required\r\n"
                         "Proxy-Authenticate: Basic realm=\"r\"\r\nConnection: close\r\n\r\n",
                         true}},
                       {{0, "HTTP/1.0 200 OK\r\n\r\n"}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(http_proxy(proxy, true), kRelay443, {}, ec, r);
    EXPECT_TRUE(s) << r.reason;
    EXPECT_EQ(r.connections, 2u);
    EXPECT_EQ(r.requests, 2u);
    EXPECT_EQ(r.scheme, proxy::AuthScheme::basic);
  });
  EXPECT_EQ(proxy.connections, 2);
}

// §7.1: later connections to the same proxy send credentials at once; Basic warns once.
TEST(DialHttpConnect, MemoSendsCredentialsAtOnce) {
  asio::io_context io;
  FakeProxy proxy(
      io, {{{0, k407Basic}, {0, "HTTP/1.1 200 OK\r\n\r\n"}}, {{0, "HTTP/1.1 200 OK\r\n\r\n"}}});
  ProxyAuthMemos memos;
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r1, r2;
    auto s1 = co_await dial_http_connect(http_proxy(proxy, true), kRelay443, {}, ec, r1, &memos);
    EXPECT_TRUE(s1) << r1.reason;
    EXPECT_NE(r1.warning.find("Basic"), std::string::npos);
    auto s2 = co_await dial_http_connect(http_proxy(proxy, true), kRelay443, {}, ec, r2, &memos);
    EXPECT_TRUE(s2) << r2.reason;
    EXPECT_EQ(r2.requests, 1u);
    EXPECT_TRUE(r2.warning.empty());
  });
  ASSERT_EQ(proxy.requests.size(), 3u);
  EXPECT_NE(proxy.requests[2].find("Proxy-Authorization: Basic "), std::string::npos);
}

TEST(DialHttpConnect, ForbiddenNamesProxyTargetAndStatus) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(http_proxy(proxy), kRelay443, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, proxy::errc::proxy_forbidden);
    EXPECT_EQ(r.reason, "proxy " + proxy.address().to_string() +
                            " forbids CONNECT to relay.example:443 (403 Forbidden)");
  });
}

TEST(DialHttpConnect, MissingCredentialsSaysHowToGiveThem) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0, k407Basic}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(http_proxy(proxy), kRelay443, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, proxy::errc::proxy_auth_required);
    EXPECT_NE(r.reason.find("--proxy http://USER:PASSWORD@"), std::string::npos) << r.reason;
  });
}

// §10: the ConnectionEstablishment timer bounds the wait for the answer.
TEST(DialHttpConnect, SilentProxyTimesOut) {
  asio::io_context io;
  FakeProxy proxy(io, {{{0, ""}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    DialTimeouts t;
    t.establishment = 200ms;
    const auto start = DialClock::now();
    auto s = co_await dial_http_connect(http_proxy(proxy), kRelay443, t, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_GE(DialClock::now() - start, 200ms);
    EXPECT_EQ(r.reason, "proxy " + proxy.address().to_string() +
                            " did not answer CONNECT to relay.example:443 within 200 ms");
  });
}

TEST(DialHttpConnect, UnreachableProxy) {
  asio::io_context io;
  HttpProxyConfig c;
  {
    auto a = listen_tcp(io.get_executor(), HostPort{"127.0.0.1", 0});
    c.proxy = HostPort{"127.0.0.1", a.local_endpoint().port()};
  }  // closed again: nobody listens there
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_http_connect(c, kRelay443, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, asio::error::connection_refused);
    EXPECT_EQ(r.reason.rfind("cannot reach proxy " + c.proxy.to_string() + ": ", 0), 0u)
        << r.reason;
  });
}

// ---------------------------------------------------------------- SOCKS

const std::string kSocksGreeting("\x05\x02\x00\x02", 4);
// CONNECT relay.example:2492 = 05 01 00 03 0d "relay.example" 09 bc: 4 + 1 + 13 + 2 bytes.
constexpr std::size_t kSocksConnectSize = 20;

TEST(DialSocks, Socks5WithSurplusBytes) {
  asio::io_context io;
  FakeProxy proxy(io, {{{4, std::string("\x05\x00", 2)},
                        {kSocksConnectSize,
                         std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x09\xbc", 10) + "SSTP"}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    SocksProxyConfig c;
    c.proxy = proxy.address();
    auto s = co_await dial_socks(c, kRelay2492, {}, ec, r);
    EXPECT_TRUE(s) << r.reason;
    if (!s) co_return;
    EXPECT_EQ(co_await read_some_text(*s), "SSTP");
    EXPECT_EQ(s->describe(), "socks5 via " + proxy.address().to_string());
  });
  ASSERT_EQ(proxy.requests.size(), 2u);
  EXPECT_EQ(proxy.requests[0], kSocksGreeting);
  EXPECT_EQ(proxy.requests[1], std::string("\x05\x01\x00\x03\x0d", 5) + "relay.example\x09\xbc");
}

TEST(DialSocks, RefusedByRuleset) {
  asio::io_context io;
  FakeProxy proxy(
      io, {{{4, std::string("\x05\x00", 2)},
            {kSocksConnectSize, std::string("\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00", 10)}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    SocksProxyConfig c;
    c.proxy = proxy.address();
    auto s = co_await dial_socks(c, kRelay2492, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, proxy::errc::socks_not_allowed);
    EXPECT_EQ(r.reason, "SOCKS proxy " + proxy.address().to_string() +
                            " forbids relay.example:2492 (REP 02)");
  });
}

TEST(DialSocks, RejectedPassword) {
  asio::io_context io;
  FakeProxy proxy(
      io, {{{4, std::string("\x05\x02", 2)}, {2 + 5 + 1 + 12, std::string("\x01\x01", 2)}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    SocksProxyConfig c;
    c.proxy = proxy.address();
    c.credentials = proxy::Credentials{"alice", "wrong-secret"};
    auto s = co_await dial_socks(c, kRelay2492, {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, proxy::errc::socks_auth_rejected);
    EXPECT_EQ(r.reason.find("wrong-secret"), std::string::npos);
    EXPECT_NE(r.reason.find("rejected the user name or password"), std::string::npos) << r.reason;
  });
}

TEST(DialSocks, SilentProxyTimesOut) {
  asio::io_context io;
  FakeProxy proxy(io, {{{4, ""}}});
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    SocksProxyConfig c;
    c.proxy = proxy.address();
    DialTimeouts t;
    t.socks_read = 150ms;  // NetworkReceiveIO, shorter than ConnectionEstablishment here
    auto s = co_await dial_socks(c, kRelay2492, t, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_NE(r.reason.find("did not answer within 150 ms (Negotiating)"), std::string::npos)
        << r.reason;
  });
}

TEST(DialDirect, RefusedNamesTheRelay) {
  asio::io_context io;
  HostPort target;
  {
    auto a = listen_tcp(io.get_executor(), HostPort{"127.0.0.1", 0});
    target = HostPort{"127.0.0.1", a.local_endpoint().port()};
  }
  run(io, [&]() -> awaitable<void> {
    std::error_code ec;
    DialReport r;
    auto s = co_await dial_direct(target, "direct443", {}, ec, r);
    EXPECT_FALSE(s);
    EXPECT_EQ(r.reason.rfind("cannot reach relay " + target.to_string() + ": ", 0), 0u) << r.reason;
  });
}

}  // namespace
}  // namespace grove::net
