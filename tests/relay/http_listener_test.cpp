// groved's HTTP listener and the client's dial_henc in one process over loopback, no proxy: the
// ByteStreams each side hands its SSTP engine carry bytes both ways intact in every mode. For
// LongLived that includes the switch from the cores' buffers to reading and writing the
// sockets directly, reads smaller than what arrived, a close after a large write, bytes that
// arrived before the other side closed, and the end of the stream at the byte budget (henc.md
// §3.4).
#include "relay/http_listener.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "henc/errc.hpp"
#include "net/henc_stream.hpp"

namespace grove::relay {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using net::awaitable;

Bytes pattern(std::size_t n, unsigned seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<Byte>((i * 131 + i / 251 + seed) & 0xff);
  return b;
}

// Writes `data` in pieces of varying size (the first ones small).
awaitable<void> write_pieces(net::ByteStream& s, const Bytes& data, std::error_code& ec) {
  static constexpr std::size_t kSizes[] = {5, 700, 70000, 300000, 1 << 20};
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < data.size() && !ec; ++i) {
    const std::size_t n = std::min(kSizes[i % std::size(kSizes)], data.size() - pos);
    co_await s.write_all(ByteView(data).subspan(pos, n), ec);
    pos += n;
  }
}

// Reads until `want` bytes or an error, with buffers of varying size (the first ones small,
// so bytes that arrived together are taken in several reads).
awaitable<Bytes> read_pieces(net::ByteStream& s, std::size_t want, std::error_code& ec) {
  static constexpr std::size_t kSizes[] = {7, 1000, 65536, 256 * 1024, 3};
  Bytes got;
  Bytes buf(256 * 1024);
  for (std::size_t i = 0; got.size() < want; ++i) {
    const std::size_t n = std::min(kSizes[i % std::size(kSizes)], want - got.size());
    const std::size_t r = co_await s.read_some(std::span<Byte>(buf.data(), n), ec);
    if (ec) break;
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r));
  }
  co_return got;
}

class HttpListenerTest : public ::testing::Test {
 protected:
  asio::io_context io;
  std::vector<net::ByteStreamPtr> adopted;
  HttpListener listener{io, henc::RelayCoreOptions{},
                        [this](net::ByteStreamPtr s) { adopted.push_back(std::move(s)); }};
  std::uint16_t port = listener.listen({"127.0.0.1", 0}).port();

  // Runs `body` on the io_context until it completes; fails the test after 60 s.
  void run(std::function<awaitable<void>()> body) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io, body(), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    ASSERT_TRUE(done) << "timed out";
    if (error) std::rethrow_exception(error);
  }

  // A LongLived VC by hand: connects `get` and `post` and sends the GET's head for `guid`.
  // Returns the request target, for the POST's head.
  awaitable<std::string> raw_long_lived_get(asio::ip::tcp::socket& get, asio::ip::tcp::socket& post,
                                            const char* guid) {
    const std::string target =
        std::string("/2.0/relay.test/") + guid + ",ConnType=LongLived,ContentLength=2147479552";
    const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
    co_await get.async_connect(at, net::use_tuple);
    co_await post.async_connect(at, net::use_tuple);
    const std::string get_head = "GET " + target + " HTTP/1.0\r\nHost: relay.test\r\n\r\n";
    co_await asio::async_write(get, asio::buffer(get_head), net::use_tuple);
    co_return target;
  }

  // Waits up to 2 s for the listener to adopt a VC; the newest one, or null.
  awaitable<net::ByteStream*> wait_adopted() {
    asio::steady_timer t(io);
    for (int i = 0; i < 2000 && adopted.empty(); ++i) {
      t.expires_after(1ms);
      co_await t.async_wait(net::use_tuple);
    }
    co_return adopted.empty() ? nullptr : adopted.back().get();
  }

  // Dials the listener in `mode`; returns both ends (null on failure).
  awaitable<std::pair<net::ByteStreamPtr, net::ByteStream*>> open(henc::Mode mode,
                                                                  std::uint64_t budget) {
    net::HencDialConfig cfg;
    cfg.mode = mode;
    cfg.relay = {"127.0.0.1", port};
    cfg.budget = budget;
    std::error_code ec;
    net::DialReport report;
    net::ByteStreamPtr client = co_await net::dial_henc(cfg, net::DialTimeouts{}, ec, report);
    EXPECT_TRUE(client) << report.reason;
    asio::steady_timer t(io);
    // Polling's relay side exists once the first SSTP bytes arrive (henc.md §5.6).
    for (int i = 0; i < 2000 && adopted.empty() && mode != henc::Mode::polling; ++i) {
      t.expires_after(1ms);
      co_await t.async_wait(net::use_tuple);
    }
    co_return std::pair{std::move(client), adopted.empty() ? nullptr : adopted.back().get()};
  }

  // Moves `up` bytes client→relay and `down` bytes relay→client at the same time.
  void both_ways(henc::Mode mode, std::size_t up, std::size_t down) {
    run([&]() -> awaitable<void> {
      auto [client, relay] = co_await open(mode, henc::kLongLivedBudget);
      if (!client) co_return;
      const Bytes to_relay = pattern(up, 1), to_client = pattern(down, 2);
      std::error_code cw, cr, rw, rr;
      if (relay == nullptr) {  // Polling: the relay's stream appears with the first bytes
        co_await client->write_all(ByteView(to_relay).first(1), cw);
        asio::steady_timer t(io);
        for (int i = 0; i < 2000 && adopted.empty(); ++i) {
          t.expires_after(1ms);
          co_await t.async_wait(net::use_tuple);
        }
        if (adopted.empty()) ADD_FAILURE() << "no virtual connection at the relay";
        if (adopted.empty()) co_return;
        relay = adopted.back().get();
        Bytes first = co_await read_pieces(*relay, 1, rr);
        EXPECT_EQ(first, Bytes(to_relay.begin(), to_relay.begin() + 1));
      }
      const std::size_t skip = mode == henc::Mode::polling ? 1 : 0;
      const Bytes rest(to_relay.begin() + static_cast<std::ptrdiff_t>(skip), to_relay.end());
      auto [at_relay, at_client] =
          co_await ((write_pieces(*client, rest, cw) && read_pieces(*relay, rest.size(), rr)) &&
                    (write_pieces(*relay, to_client, rw) && read_pieces(*client, down, cr)));
      EXPECT_FALSE(cw || cr || rw || rr) << cw.message() << " / " << cr.message() << " / "
                                         << rw.message() << " / " << rr.message();
      EXPECT_TRUE(at_relay == rest) << "client→relay: " << at_relay.size() << " of " << rest.size();
      EXPECT_TRUE(at_client == to_client)
          << "relay→client: " << at_client.size() << " of " << to_client.size();
      relay->close();
      client->close();
    });
  }
};

TEST_F(HttpListenerTest, LongLivedBothWays) { both_ways(henc::Mode::long_lived, 8 << 20, 8 << 20); }

TEST_F(HttpListenerTest, KeepAliveBothWays) { both_ways(henc::Mode::keep_alive, 1 << 20, 1 << 20); }

TEST_F(HttpListenerTest, PollingBothWays) { both_ways(henc::Mode::polling, 200000, 200000); }

// Bytes that came with the POST head, before the listener handed the socket to the VC's
// stream, are read first (from the core's buffer, in reads smaller than what arrived), then the
// bytes read straight from the socket; nothing is lost or reordered at the switch.
TEST_F(HttpListenerTest, LongLivedBufferedBytesComeBeforeDirectOnes) {
  run([&]() -> awaitable<void> {
    asio::ip::tcp::socket get(io), post(io);
    const std::string target = co_await raw_long_lived_get(get, post, "abcdefgh12345678");
    // Wait for the GET to be recorded, so the POST below establishes the VC.
    asio::steady_timer t(io);
    t.expires_after(50ms);
    co_await t.async_wait(net::use_tuple);
    const Bytes data = pattern(1 << 20, 6);
    const std::size_t early = 5000;
    std::string first = "POST " + target +
                        " HTTP/1.0\r\nHost: relay.test\r\nContent-Length: 2147479552\r\n\r\n" +
                        std::string(henc::kEcho);
    first.append(reinterpret_cast<const char*>(data.data()), early);
    co_await asio::async_write(post, asio::buffer(first), net::use_tuple);
    net::ByteStream* adopted_vc = co_await wait_adopted();
    EXPECT_EQ(adopted.size(), 1u);
    if (adopted_vc == nullptr) co_return;
    net::ByteStream& relay = *adopted_vc;
    std::error_code ec;
    // 7 bytes, then 1000: both come from the 5000 buffered ones.
    Bytes got = co_await read_pieces(relay, 1007, ec);
    auto rest = [&]() -> awaitable<void> {
      co_await asio::async_write(post, asio::buffer(data.data() + early, data.size() - early),
                                 net::use_tuple);
    };
    Bytes more = co_await (rest() && read_pieces(relay, data.size() - got.size(), ec));
    EXPECT_FALSE(ec) << ec.message();
    got.insert(got.end(), more.begin(), more.end());
    EXPECT_TRUE(got == data) << got.size() << " of " << data.size();
    // The GET carries the answer head, the echo and then what the relay's side writes.
    co_await relay.write_all(as_bytes("hello"), ec);
    std::string answer;
    char buf[4096];
    while (answer.size() < 5 || answer.substr(answer.size() - 5) != "hello") {
      auto [rec, n] = co_await get.async_read_some(asio::buffer(buf), net::use_tuple);
      if (rec) break;
      answer.append(buf, n);
    }
    EXPECT_EQ(answer.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("\r\n\r\n" + std::string(henc::kEcho) + "hello"), std::string::npos)
        << answer;
    relay.close();
  });
}

// The client sends and closes its GET while the relay's SSTP side is not reading: what was
// sent before still reaches the SSTP side, then the end (as with the bytes a listener read
// into the core's buffer before the close).
TEST_F(HttpListenerTest, LongLivedBytesSentBeforeTheGetClosedStillArrive) {
  run([&]() -> awaitable<void> {
    asio::ip::tcp::socket get(io), post(io);
    const std::string target = co_await raw_long_lived_get(get, post, "abcdefgh12345679");
    const std::string post_head = "POST " + target +
                                  " HTTP/1.0\r\nHost: relay.test\r\nContent-Length: "
                                  "2147479552\r\n\r\n" +
                                  std::string(henc::kEcho);
    co_await asio::async_write(post, asio::buffer(post_head), net::use_tuple);
    net::ByteStream* adopted_vc = co_await wait_adopted();
    EXPECT_EQ(adopted.size(), 1u);
    if (adopted_vc == nullptr) co_return;
    net::ByteStream& relay = *adopted_vc;
    asio::steady_timer t(io);
    // A first read, so the listener hands the POST socket over and the stream waits in it.
    const Bytes data = pattern(100000, 7);
    auto first = [&]() -> awaitable<void> {
      co_await asio::async_write(post, asio::buffer(data.data(), 10), net::use_tuple);
    };
    std::error_code ec;
    Bytes got = co_await (first() && read_pieces(relay, 10, ec));
    // The rest is sent, then the GET closes; the SSTP side reads only afterwards.
    co_await asio::async_write(post, asio::buffer(data.data() + 10, data.size() - 10),
                               net::use_tuple);
    t.expires_after(20ms);
    co_await t.async_wait(net::use_tuple);
    get.close();
    t.expires_after(50ms);
    co_await t.async_wait(net::use_tuple);
    Bytes rest = co_await read_pieces(relay, data.size(), ec);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_TRUE(ec) << "the stream did not end";
    EXPECT_TRUE(got == data) << got.size() << " of " << data.size();
    relay.close();
  });
}

// The relay sends and closes while the client's SSTP side is not reading: everything sent
// before the close still reaches the client's SSTP side, then the end.
TEST_F(HttpListenerTest, LongLivedRelayCloseWhileTheClientIsNotReading) {
  run([&]() -> awaitable<void> {
    auto [client, relay] = co_await open(henc::Mode::long_lived, henc::kLongLivedBudget);
    EXPECT_NE(relay, nullptr) << "no virtual connection at the relay";
    if (!client || relay == nullptr) co_return;
    const Bytes data = pattern(100000, 8);
    std::error_code ec;
    // A first read, so the client's reader hands the GET socket over.
    auto first = [&]() -> awaitable<void> {
      co_await relay->write_all(ByteView(data).first(10), ec);
    };
    Bytes got = co_await (first() && read_pieces(*client, 10, ec));
    co_await relay->write_all(ByteView(data).subspan(10), ec);
    relay->close();
    asio::steady_timer t(io);
    t.expires_after(50ms);
    co_await t.async_wait(net::use_tuple);
    Bytes rest = co_await read_pieces(*client, data.size(), ec);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_TRUE(ec) << "the stream did not end";
    EXPECT_TRUE(got == data) << got.size() << " of " << data.size();
    client->close();
  });
}

// The relay's SSTP side writes a lot and closes at once: everything arrives, then the end.
TEST_F(HttpListenerTest, LongLivedRelayCloseFlushesFirst) {
  run([&]() -> awaitable<void> {
    auto [client, relay] = co_await open(henc::Mode::long_lived, henc::kLongLivedBudget);
    EXPECT_NE(relay, nullptr) << "no virtual connection at the relay";
    if (!client || relay == nullptr) co_return;
    const Bytes data = pattern(3 << 20, 3);
    std::error_code wec, rec;
    auto write_then_close = [&]() -> awaitable<void> {
      co_await write_pieces(*relay, data, wec);
      relay->close();
    };
    const Bytes got = co_await (write_then_close() && read_pieces(*client, data.size() + 1, rec));
    EXPECT_FALSE(wec) << wec.message();
    EXPECT_TRUE(rec) << "the stream did not end";
    EXPECT_TRUE(got == data) << got.size() << " of " << data.size();
    client->close();
  });
}

// §3.4 on both sides: the client renews before its POST would pass the budget, and the relay
// ends the virtual connection before its GET would; the other side sees the stream end.
TEST_F(HttpListenerTest, LongLivedEndsAtTheBudget) {
  run([&]() -> awaitable<void> {
    auto [client, relay] = co_await open(henc::Mode::long_lived, 65536);
    EXPECT_NE(relay, nullptr) << "no virtual connection at the relay";
    if (!client || relay == nullptr) co_return;
    const Bytes data = pattern(40000, 4);
    std::error_code ec, rec;
    co_await client->write_all(data, ec);  // 22 + 40000 fit
    EXPECT_FALSE(ec) << ec.message();
    Bytes got = co_await read_pieces(*relay, data.size(), rec);
    EXPECT_TRUE(got == data) << got.size();
    co_await client->write_all(data, ec);  // 80022 would not
    EXPECT_EQ(ec, henc::errc::renew) << ec.message();
    Bytes more = co_await read_pieces(*relay, 1, rec);
    EXPECT_TRUE(rec) << "the relay's stream did not end";
    EXPECT_TRUE(more.empty());
    client->close();
    relay->close();
  });
  run([&]() -> awaitable<void> {
    auto [client, relay] = co_await open(henc::Mode::long_lived, 65536);
    EXPECT_NE(relay, nullptr) << "no virtual connection at the relay";
    if (!client || relay == nullptr) co_return;
    const Bytes data = pattern(40000, 5);
    std::error_code ec, rec;
    co_await relay->write_all(data, ec);
    EXPECT_FALSE(ec) << ec.message();
    Bytes got = co_await read_pieces(*client, data.size(), rec);
    EXPECT_TRUE(got == data) << got.size();
    co_await relay->write_all(data, ec);  // the relay closes instead (renew)
    Bytes more = co_await read_pieces(*client, 1, rec);
    EXPECT_TRUE(rec) << "the client's stream did not end";
    EXPECT_TRUE(more.empty());
    client->close();
    relay->close();
  });
}

}  // namespace
}  // namespace grove::relay
