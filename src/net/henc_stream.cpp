#include "net/henc_stream.hpp"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

#include "auth/grove_auth.hpp"
#include "net/tcp.hpp"
#include "proxy/errc.hpp"

namespace grove::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using henc::ClientCore;

// write_all waits while more than this much SSTP is queued and unsent (back-pressure).
constexpr std::size_t kSendHighWater = 512 * 1024;
constexpr std::size_t kReadChunk = 256 * 1024;
// After close(), the slots may still flush (KeepAlive and Polling send what is queued); this
// bounds how long they may take before everything is torn down.
constexpr std::chrono::seconds kCloseGrace{10};

void fill_random(std::span<Byte> out) {
  if (!auth::random_bytes(out)) throw std::runtime_error("the system random generator failed");
}

std::uint64_t now_filetime() {
  using namespace std::chrono;
  auto since_unix = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<std::uint64_t>(since_unix / 100) + 116444736000000000ull;
}

// State shared by the stream and its coroutines, which may outlive the stream by a little
// while they flush and close.
struct Shared {
  Shared(asio::any_io_executor e, henc::ClientOptions o, HencDialConfig c, DialTimeouts t)
      : ex(e),
        core(std::move(o), DialClock::now()),
        config(std::move(c)),
        timeouts(t),
        timer(e),
        readable(e),
        writable(e),
        changed(e),
        grace(e) {
    for (int i = 0; i < core.slots(); ++i) slots.push_back(std::make_unique<SlotIo>(e));
    for (asio::steady_timer* t2 : {&timer, &readable, &writable, &changed})
      t2->expires_at(DialClock::time_point::max());
  }

  struct SlotIo {
    explicit SlotIo(asio::any_io_executor e) : wake_writer(e), wake_reader(e) {
      wake_writer.expires_at(DialClock::time_point::max());
      wake_reader.expires_at(DialClock::time_point::max());
    }
    std::shared_ptr<tcp::socket> socket;
    asio::steady_timer wake_writer;
    asio::steady_timer wake_reader;
    bool connecting = false;
    // The LongLived GET streams SSTP: its reader stopped and the stream's read_some reads the
    // socket itself (ClientCore::stream_direct), until it hands the socket back once it has read
    // what arrived before the end; only then does the writer close it.
    bool handed_off = false;
    bool reading_direct = false;  // read_some waits in a read on the socket
    bool direct_writing = false;  // write_all writes to the socket: the writer leaves it alone
  };

  asio::any_io_executor ex;
  ClientCore core;
  HencDialConfig config;
  DialTimeouts timeouts;
  std::vector<std::unique_ptr<SlotIo>> slots;
  asio::steady_timer timer;     // woken to recompute the core's deadline
  asio::steady_timer readable;  // read_some waits here
  asio::steady_timer writable;  // write_all waits here
  asio::steady_timer changed;   // dial_henc waits here
  asio::steady_timer grace;
  bool stopped = false;        // everything torn down
  bool stream_closed = false;  // close() was called
  bool lingering = false;      // linger_get() holds the GET until the relay closes it

  HostPort tcp_target() const { return config.proxy ? config.proxy->proxy : config.relay; }

  // Something changed: every waiter re-checks its condition.
  void kick() {
    for (auto& s : slots) {
      s->wake_writer.cancel();
      s->wake_reader.cancel();
      if (s->reading_direct && s->socket && core.state() == ClientCore::State::closed) {
        // The virtual connection is over: read_some stops waiting for more, takes what already
        // arrived and hands the socket back.
        std::error_code ignored;
        s->socket->cancel(ignored);
      }
    }
    timer.cancel();
    readable.cancel();
    writable.cancel();
    changed.cancel();
  }

  bool finished() const {
    if (stopped) return true;
    if (core.state() != ClientCore::State::closed) return false;
    for (const auto& s : slots)
      if (s->socket || s->connecting) return false;
    return true;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    for (auto& s : slots) {
      if (s->socket) {
        std::error_code ignored;
        s->socket->close(ignored);
        s->socket.reset();
      }
    }
    grace.cancel();
    kick();
  }
};

awaitable<void> wait(asio::steady_timer& t) {
  t.expires_at(DialClock::time_point::max());
  (void)co_await t.async_wait(use_tuple);
}

awaitable<void> writer(std::shared_ptr<Shared> s, int i) {
  Shared::SlotIo& io = *s->slots[static_cast<std::size_t>(i)];
  Bytes chunk;  // swapped with the core's buffer: both keep their capacity between writes
  while (!s->stopped) {
    ClientCore& core = s->core;
    if (!io.socket && !io.connecting && core.wants_connect(i)) {
      io.connecting = true;
      std::error_code ec;
      tcp::socket sock = co_await dial_tcp(s->tcp_target(), s->timeouts.tcp_connect, ec);
      io.connecting = false;
      if (s->stopped) break;
      if (ec) {
        core.connect_failed(i, ec, DialClock::now());
      } else {
        sock.set_option(tcp::no_delay(true), ec);
        io.socket = std::make_shared<tcp::socket>(std::move(sock));
        core.connected(i, DialClock::now());
      }
      s->kick();
      continue;
    }
    if (io.socket && !core.output(i).empty() && !io.direct_writing) {
      // Taken, not viewed: the core may append to its buffer while the write runs. Never
      // beside write_all's direct write: two writes at once would interleave on the socket.
      core.take_output(i, chunk);
      auto sock = io.socket;
      auto [ec, n] = co_await asio::async_write(*sock, asio::buffer(chunk), use_tuple);
      if (s->stopped) break;
      core.wrote(i);
      // A failed write means the peer went away; reading the EOF tells the core what it means.
      if (ec && io.socket == sock) core.receive_eof(i, DialClock::now());
      s->kick();
      continue;
    }
    if (io.socket && core.wants_close(i) && !io.handed_off && !io.direct_writing) {
      std::error_code ignored;
      io.socket->shutdown(tcp::socket::shutdown_both, ignored);
      io.socket->close(ignored);
      io.socket.reset();
      core.closed(i, DialClock::now());
      s->kick();
      continue;
    }
    if (s->finished()) {
      s->stop();
      break;
    }
    co_await wait(io.wake_writer);
  }
}

// LongLived after close(): the POST carries the last SSTP bytes (ConnectClose, the last
// acknowledgements) and closes first. Through a proxy the GET's close can overtake them, and a
// relay that ends the virtual connection on it never reads them: the messages acknowledged
// there would come again next time. So the GET stays open, its bytes discarded (the SSTP side
// is done), until the relay closes it after reading the POST (about one round trip), or for
// kLingerMax at most: a relay or proxy that never closes it costs an exit that much.
constexpr std::chrono::seconds kLingerMax{2};
awaitable<void> linger_get(std::shared_ptr<Shared> s) {
  Shared::SlotIo& get = *s->slots[0];
  // The stream's own read, if one was waiting, ends first (kick() cancelled it).
  asio::steady_timer pause(s->ex);
  while (get.reading_direct && !s->stopped) {
    pause.expires_after(std::chrono::milliseconds(1));
    co_await pause.async_wait(use_tuple);
  }
  auto sock = get.socket;
  asio::steady_timer limit(s->ex);
  limit.expires_after(kLingerMax);
  limit.async_wait([sock](std::error_code ec) {
    std::error_code ignored;
    if (!ec && sock) sock->cancel(ignored);  // ends the read below
  });
  std::array<Byte, 4096> discard;
  while (sock && !s->stopped && get.socket == sock) {
    auto [ec, n] = co_await sock->async_read_some(asio::buffer(discard), use_tuple);
    if (ec) break;
  }
  limit.cancel();
  s->lingering = false;
  get.handed_off = false;  // the writer closes the GET now
  s->kick();
}

awaitable<void> reader(std::shared_ptr<Shared> s, int i) {
  Shared::SlotIo& io = *s->slots[static_cast<std::size_t>(i)];
  // Uninitialised: each read writes before anyone reads.
  const auto buf = std::make_unique_for_overwrite<Byte[]>(kReadChunk);
  while (!s->stopped) {
    if (s->core.stream_direct(i)) {
      // From here on HencStream::read_some reads this socket; wake it.
      io.handed_off = true;
      s->readable.cancel();
      co_return;
    }
    auto sock = io.socket;
    if (!sock || !s->core.can_receive(i) || s->core.state() == ClientCore::State::closed) {
      co_await wait(io.wake_reader);
      continue;
    }
    auto [ec, n] = co_await sock->async_read_some(asio::buffer(buf.get(), kReadChunk), use_tuple);
    if (s->stopped) break;
    if (io.socket != sock) continue;  // replaced or closed while reading
    if (n > 0) s->core.receive(i, ByteView(buf.get(), n), DialClock::now());
    if (ec) {
      s->core.receive_eof(i, DialClock::now());
      // Nothing more comes from this socket; the writer closes it when the core says so.
      if (s->core.state() != ClientCore::State::closed && !s->core.wants_close(i)) {
        std::error_code ignored;
        sock->close(ignored);
        io.socket.reset();
        s->core.closed(i, DialClock::now());
      }
      s->kick();
      while (!s->stopped && io.socket == sock) co_await wait(io.wake_reader);
      continue;
    }
    s->kick();
  }
}

awaitable<void> timers(std::shared_ptr<Shared> s) {
  while (!s->stopped) {
    const auto due = s->core.next_deadline();
    s->timer.expires_at(due);
    (void)co_await s->timer.async_wait(use_tuple);
    if (s->stopped) break;
    if (DialClock::now() >= s->core.next_deadline()) {
      s->core.on_timer(DialClock::now());
      s->kick();
    }
  }
}

class HencStream final : public ByteStream {
 public:
  explicit HencStream(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  ~HencStream() override { close(); }

  awaitable<std::size_t> read_some(std::span<Byte> buf, std::error_code& ec) override {
    std::shared_ptr<Shared> s = s_;
    if (buf.empty()) co_return 0;
    for (;;) {
      ByteView in = s->core.input();
      if (!in.empty()) {
        const std::size_t n = std::min(in.size(), buf.size());
        std::copy_n(in.begin(), n, buf.begin());
        const bool was_full = !s->core.can_receive(0);
        s->core.consume_input(n);
        if (was_full) s->kick();  // readers paused by back-pressure may go on
        co_return n;
      }
      Shared::SlotIo& get = *s->slots[0];
      if (get.handed_off && get.socket && !s->stopped) {
        // LongLived, nothing buffered: read the GET body into `buf` itself, the one copy a TCP
        // stream makes too.
        auto sock = get.socket;  // alive until the read completes, even if closed meanwhile
        if (s->core.state() == ClientCore::State::closed) {
          // Over (the POST failed, the relay closed, close()): what the relay sent before and
          // is already here still counts, the rest is not waited for.
          if (s->lingering) {  // linger_get() has the socket now: one reader at a time
            ec = make_error_code(asio::error::eof);
            co_return 0;
          }
          std::error_code dec;
          std::size_t n = 0;
          if (sock->available(dec) > 0 && !dec)
            n = sock->read_some(asio::buffer(buf.data(), buf.size()), dec);
          if (n > 0) co_return n;
          hand_back();
          continue;
        }
        get.reading_direct = true;
        auto [rec, n] =
            co_await sock->async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
        get.reading_direct = false;
        if (n > 0 && !s->stopped) co_return n;
        // operation_aborted: kick() cancelled the read because the core closed.
        if (rec && rec != asio::error::operation_aborted && !s->stopped && get.socket == sock) {
          s->core.receive_eof(0, DialClock::now());
          s->kick();
        }
        continue;
      }
      if (s->core.state() == ClientCore::State::closed || s->stopped) {
        ec = s->core.error() ? s->core.error() : make_error_code(asio::error::eof);
        co_return 0;
      }
      co_await wait(s->readable);
    }
  }

  awaitable<void> write_all(ByteView data, std::error_code& ec) override {
    std::shared_ptr<Shared> s = s_;
    if (s->core.state() == ClientCore::State::closed || s->stopped) {
      ec = s->core.error() ? s->core.error() : make_error_code(asio::error::broken_pipe);
      co_return;
    }
    std::shared_ptr<tcp::socket> post = s->slots.size() > 1 ? s->slots[1]->socket : nullptr;
    if (post && s->core.send_direct(data.size())) {
      // LongLived with nothing queued on the POST: write from the engine's buffer, no copy.
      Shared::SlotIo& io = *s->slots[1];
      io.direct_writing = true;
      auto [wec, n] =
          co_await asio::async_write(*post, asio::buffer(data.data(), data.size()), use_tuple);
      io.direct_writing = false;
      if (s->stopped) {
        ec = make_error_code(asio::error::broken_pipe);
        co_return;
      }
      s->core.wrote(1);
      // As in writer(): a failed write means the peer went away.
      if (wec && s->slots[1]->socket == post) s->core.receive_eof(1, DialClock::now());
      // The slot's writer may be waiting for this write to end before it closes.
      if (s->core.state() == ClientCore::State::closed) {
        s->kick();
        if (s->core.error()) ec = s->core.error();
      }
      co_return;
    }
    s->core.send(data, DialClock::now());
    s->kick();
    while (s->core.send_backlog() > kSendHighWater) {
      if (s->core.state() == ClientCore::State::closed || s->stopped) {
        ec = s->core.error() ? s->core.error() : make_error_code(asio::error::broken_pipe);
        co_return;
      }
      co_await wait(s->writable);
    }
    if (s->core.state() == ClientCore::State::closed && s->core.error()) ec = s->core.error();
  }

  void close() override {
    if (s_->stream_closed) return;
    s_->stream_closed = true;
    s_->core.close(DialClock::now());
    Shared::SlotIo& get = *s_->slots[0];
    if (s_->core.mode() == henc::Mode::long_lived && get.handed_off && get.socket &&
        !s_->core.error() && !s_->stopped) {
      s_->lingering = true;
      asio::co_spawn(s_->ex, linger_get(s_), asio::detached);
    } else {
      hand_back();
    }
    s_->kick();
    // Bound the flush: whatever is still open after the grace period is closed hard.
    std::shared_ptr<Shared> s = s_;
    s->grace.expires_after(kCloseGrace);
    s->grace.async_wait([s](std::error_code) { s->stop(); });
  }

  std::string describe() const override {
    std::string d = fmt::format("http-{}", henc::mode_name(s_->core.mode()));
    if (s_->config.proxy) return d + " via " + s_->config.proxy->proxy.to_string();
    return d + " " + s_->config.relay.to_string();
  }

 private:
  // Done with the GET socket: the slot's writer closes it when the core says so.
  void hand_back() {
    Shared::SlotIo& get = *s_->slots[0];
    if (!get.handed_off) return;
    get.handed_off = false;
    if (get.reading_direct && get.socket) {
      std::error_code ignored;
      get.socket->cancel(ignored);
    }
    s_->kick();
  }

  std::shared_ptr<Shared> s_;
};

std::string status_text(const ClientCore& c) {
  if (c.last_status() == 0) return {};
  std::string s = std::to_string(c.last_status());
  if (!c.last_reason().empty()) s += " " + c.last_reason();
  return s;
}

// One line naming the relay or proxy, the mode and the cause (henc.md §11.2 report).
std::string failure_reason(const ClientCore& c, const HencDialConfig& cfg, const DialTimeouts& t) {
  const std::error_code e = c.error();
  const std::string mode = henc::mode_name(cfg.mode);
  const std::string relay = cfg.relay.to_string();
  const std::string via = cfg.proxy ? "proxy " + cfg.proxy->proxy.to_string() : "relay " + relay;
  const std::string status = status_text(c);
  const std::string paren = status.empty() ? "" : " (" + status + ")";
  if (e == henc::errc::relay_rejected_version)
    return fmt::format("{}: relay rejected encapsulation version{}", mode, paren);
  if (e == henc::errc::not_found)
    return fmt::format("{}: relay {} has no HTTP encapsulation there{}", mode, relay, paren);
  if (e == henc::errc::http_status)
    return fmt::format("{}: {} answered {}", mode, via,
                       status.empty() ? "an unexpected status" : status);
  if (e == henc::errc::establishment_timeout)
    return fmt::format("{}: no answer through {} within {} s", mode, via,
                       t.establishment.count() / 1000);
  if (e == proxy::errc::proxy_auth_required)
    return fmt::format(
        "{}: {} requires authentication{}; give credentials as --proxy "
        "http://USER:PASSWORD@{}",
        mode, via, paren, cfg.proxy ? cfg.proxy->proxy.to_string() : "PROXY");
  if (e == proxy::errc::proxy_auth_failed)
    return fmt::format("{}: {} rejected the proxy credentials{}", mode, via, paren);
  if (e.category() == asio::error::get_system_category() || e == asio::error::timed_out)
    return fmt::format("{}: cannot reach {}: {}", mode, via, e.message());
  return fmt::format("{}: {}: {}{}", mode, via, e.message(), paren);
}

}  // namespace

awaitable<ByteStreamPtr> dial_henc(const HencDialConfig& cfg, const DialTimeouts& timeouts,
                                   std::error_code& ec, DialReport& report, ProxyAuthMemos* memos) {
  report.timer_start = DialClock::now();
  henc::ClientOptions o;
  o.mode = cfg.mode;
  o.server_host = cfg.relay.host;
  o.http_port = cfg.relay.port;
  o.proxied = cfg.proxy.has_value();
  o.user_agent = cfg.user_agent;
  o.random = fill_random;
  o.establishment = timeouts.establishment;
  o.budget = cfg.budget;
  if (cfg.proxy) {
    o.user_agent = cfg.proxy->user_agent;
    o.auth.credentials = cfg.proxy->credentials;
    o.auth.workstation = cfg.proxy->workstation;
    o.auth.random = fill_random;
    o.auth.now_filetime = now_filetime;
    if (memos != nullptr && cfg.proxy->credentials) o.auth.memo = memos->get(cfg.proxy->proxy);
  }
  auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<Shared> s;
  try {
    s = std::make_shared<Shared>(ex, std::move(o), cfg, timeouts);
  } catch (const std::invalid_argument& e) {
    ec = std::make_error_code(std::errc::invalid_argument);
    report.reason = fmt::format("{}: bad configuration: {}", henc::mode_name(cfg.mode), e.what());
    co_return nullptr;
  }
  for (int i = 0; i < s->core.slots(); ++i) {
    asio::co_spawn(ex, writer(s, i), asio::detached);
    asio::co_spawn(ex, reader(s, i), asio::detached);
  }
  asio::co_spawn(ex, timers(s), asio::detached);
  report.connections = static_cast<unsigned>(s->core.slots());

  // Cancellation (the fallback walk ending) tears everything down.
  struct Guard {
    std::shared_ptr<Shared> s;
    bool keep = false;
    ~Guard() {
      if (!keep) s->stop();
    }
  } guard{s};
  while (!s->core.ready() && s->core.state() != ClientCore::State::closed) {
    co_await wait(s->changed);
  }
  report.requests = s->core.requests();
  for (const auto& line : s->core.trace()) report.trace.push_back(line);
  report.scheme = s->core.auth_scheme();
  if (!s->core.ready()) {
    ec = s->core.error() ? s->core.error() : make_error_code(henc::errc::closed);
    report.reason = failure_reason(s->core, cfg, timeouts);
    co_return nullptr;
  }
  if (memos != nullptr && cfg.proxy && cfg.proxy->credentials) {
    memos->put(cfg.proxy->proxy, s->core.auth_memo());
    if (report.scheme == proxy::AuthScheme::basic && memos->first_basic_warning()) {
      report.warning = fmt::format(
          "proxy {} uses Basic authentication: the proxy password crosses the network only "
          "base64-encoded (henc.md §7.1)",
          cfg.proxy->proxy.to_string());
    }
  }
  guard.keep = true;
  co_return std::make_unique<HencStream>(s);
}

}  // namespace grove::net
