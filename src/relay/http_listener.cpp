#include "relay/http_listener.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <ctime>
#include <list>
#include <map>
#include <memory>

#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

namespace grove::relay {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using henc::RelayCore;

namespace {

// A connection reads with a small buffer of its own (request heads, and the first bytes of a
// body) and switches to a kReadChunk one only while reads keep filling it: idle KeepAlive and
// LongLived GET connections hold no large buffer.
constexpr std::size_t kSmallRead = 4096;
constexpr std::size_t kReadChunk = 256 * 1024;
// The writer keeps its buffer between writes (take_output swaps it with the core's) unless a
// write made it larger than this.
constexpr std::size_t kKeepWriteBuffer = 256 * 1024;
// VcStream::write_all waits while this much SSTP output is queued for one client.
constexpr std::size_t kVcHighWater = 1 << 20;

net::awaitable<void> wait(asio::steady_timer& t) {
  t.expires_at(Clock::time_point::max());
  (void)co_await t.async_wait(net::use_tuple);
}

const char* type_name(RelayCore::VcType t) {
  switch (t) {
    case RelayCore::VcType::long_lived:
      return "http-longlived";
    case RelayCore::VcType::keep_alive:
      return "http-keepalive";
    case RelayCore::VcType::polling:
      return "http-polling";
  }
  return "http";
}

}  // namespace

struct HttpListener::State : std::enable_shared_from_this<State> {
  State(asio::io_context& i, henc::RelayCoreOptions o, std::function<void(net::ByteStreamPtr)> a)
      : io(i), core(std::move(o)), adopt(std::move(a)), timer(i) {}

  struct ConnIo {
    explicit ConnIo(asio::io_context& i) : wake(i) {}
    std::shared_ptr<tcp::socket> socket;
    asio::steady_timer wake;
    std::string peer;
    bool done = false;
    // A LongLived POST of an established VC: its reader stopped, the VC's stream reads the
    // socket straight into the SSTP engine's buffer (RelayCore::post_direct) and hands it back
    // when it has read what arrived before the VC ended; only then does the writer close it.
    bool handed_off = false;
    // The VC's stream is writing to the socket from the SSTP engine's buffer
    // (RelayCore::vc_send_direct): the writer neither writes nor closes meanwhile.
    bool direct_writing = false;
  };
  struct VcIo {
    explicit VcIo(asio::io_context& i) : wake(i) {}
    asio::steady_timer wake;
    // The LongLived POST connection handed to this VC's stream, and whether the stream is
    // waiting in a read on it.
    RelayCore::ConnId post_id = 0;
    std::shared_ptr<ConnIo> post;
    bool reading_post = false;
  };

  asio::io_context& io;
  RelayCore core;
  std::function<void(net::ByteStreamPtr)> adopt;
  std::list<tcp::acceptor> acceptors;
  std::map<RelayCore::ConnId, std::shared_ptr<ConnIo>> conns;
  std::map<RelayCore::VcId, std::shared_ptr<VcIo>> vcs;
  asio::steady_timer timer;
  Clock::time_point armed = Clock::time_point::max();
  bool stopped = false;

  // After every core call: hand out new VCs, wake what changed, re-arm the timer.
  void pump();
  void on_accept(tcp::socket s);
  net::awaitable<void> writer(RelayCore::ConnId id, std::shared_ptr<ConnIo> c);
  net::awaitable<void> reader(RelayCore::ConnId id, std::shared_ptr<ConnIo> c);
  net::awaitable<void> timers();
  void finish(RelayCore::ConnId id, ConnIo& c);
};

namespace {

// One virtual connection as the SSTP engine sees it.
class VcStream final : public net::ByteStream {
 public:
  VcStream(std::shared_ptr<HttpListener::State> s, RelayCore::VcId v,
           std::shared_ptr<HttpListener::State::VcIo> io)
      : s_(std::move(s)), v_(v), io_(std::move(io)) {
    description_ = std::string(type_name(s_->core.vc_type(v))) + " " + s_->core.vc_guid(v);
  }
  ~VcStream() override { close(); }

  net::awaitable<std::size_t> read_some(std::span<Byte> buf, std::error_code& ec) override {
    auto s = s_;
    auto io = io_;
    if (buf.empty()) co_return 0;
    for (;;) {
      ByteView in = s->core.vc_input(v_);
      if (!in.empty()) {
        const std::size_t n = std::min(in.size(), buf.size());
        std::copy_n(in.begin(), n, buf.begin());
        s->core.vc_consume(v_, n, Clock::now());
        s->pump();
        co_return n;
      }
      if (!closed_ && io->post) {
        // LongLived, nothing buffered: read the POST body into `buf` itself, the one copy a
        // TCP stream makes too. The core only counts the bytes (§3.4).
        std::shared_ptr<HttpListener::State::ConnIo> post = io->post;
        auto socket = post->socket;  // alive until the read completes, even if closed
        if (s->core.vc_finished(v_)) {
          // The VC ended (the GET closed, a renewal, the budget): what the client sent before
          // and is already here still counts, the rest is not waited for.
          std::error_code dec;
          std::size_t n = 0;
          if (!post->done && socket->available(dec) > 0 && !dec)
            n = socket->read_some(asio::buffer(buf.data(), buf.size()), dec);
          if (n > 0 && s->core.vc_received_direct(v_, n, Clock::now())) co_return n;
          hand_back();
          continue;
        }
        io->reading_post = true;
        auto [rec, n] =
            co_await socket->async_read_some(asio::buffer(buf.data(), buf.size()), net::use_tuple);
        io->reading_post = false;
        if (n > 0 && !closed_ && s->core.vc_received_direct(v_, n, Clock::now())) co_return n;
        // operation_aborted: pump() cancelled the read because the VC ended.
        if (rec && rec != asio::error::operation_aborted)
          s->core.receive_eof(io->post_id, Clock::now());
        s->pump();
        continue;
      }
      if (closed_ || s->core.vc_finished(v_)) {
        ec = asio::error::eof;
        co_return 0;
      }
      co_await wait(io->wake);
    }
  }

  net::awaitable<void> write_all(ByteView data, std::error_code& ec) override {
    auto s = s_;
    auto io = io_;
    if (closed_ || s->core.vc_finished(v_)) {
      ec = asio::error::broken_pipe;
      co_return;
    }
    if (const RelayCore::ConnId id = s->core.vc_send_direct(v_, data.size())) {
      // LongLived with nothing queued on the GET: write from the engine's buffer, no copy.
      if (auto it = s->conns.find(id); it != s->conns.end() && !it->second->done) {
        std::shared_ptr<HttpListener::State::ConnIo> get = it->second;
        auto socket = get->socket;
        get->direct_writing = true;
        auto [wec, n] = co_await asio::async_write(*socket, asio::buffer(data.data(), data.size()),
                                                   net::use_tuple);
        get->direct_writing = false;
        get->wake.cancel();  // its writer waited for this write to end
        s->core.wrote(id);
        if (wec) s->finish(id, *get);
        s->pump();
        if (wec) ec = asio::error::broken_pipe;
        co_return;
      }
      s->core.wrote(id);  // not reached: the core's connections are the listener's
    }
    s->core.vc_send(v_, data, Clock::now());
    s->pump();
    while (s->core.vc_backlog(v_) > kVcHighWater) {
      if (closed_ || s->core.vc_finished(v_)) {
        ec = asio::error::broken_pipe;
        co_return;
      }
      co_await wait(io->wake);
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    s_->core.vc_close(v_, Clock::now());
    hand_back();
    io_->wake.cancel();
    s_->vcs.erase(v_);
    s_->pump();
  }

  std::string describe() const override { return description_; }

 private:
  // Done with the POST connection: its writer closes it (now, if the core says so).
  void hand_back() {
    if (!io_->post) return;
    io_->post->handed_off = false;
    io_->post->wake.cancel();
    if (io_->reading_post) {
      std::error_code ignored;
      io_->post->socket->cancel(ignored);
    }
    io_->post.reset();
  }

  std::shared_ptr<HttpListener::State> s_;
  RelayCore::VcId v_;
  std::shared_ptr<HttpListener::State::VcIo> io_;
  std::string description_;
  bool closed_ = false;
};

}  // namespace

void HttpListener::State::pump() {
  for (RelayCore::VcId v : core.take_new_vcs()) {
    auto io_ptr = std::make_shared<VcIo>(io);
    vcs[v] = io_ptr;
    spdlog::debug("event=http_vc type={} guid={}", type_name(core.vc_type(v)), core.vc_guid(v));
    adopt(std::make_unique<VcStream>(shared_from_this(), v, io_ptr));
  }
  std::vector<RelayCore::ConnId> dc;
  std::vector<RelayCore::VcId> dv;
  core.take_dirty(dc, dv);
  for (auto id : dc) {
    auto it = conns.find(id);
    if (it != conns.end()) it->second->wake.cancel();
  }
  for (auto id : dv) {
    auto it = vcs.find(id);
    if (it == vcs.end()) continue;
    VcIo& v = *it->second;
    v.wake.cancel();
    if (v.reading_post && v.post && core.vc_finished(id)) {
      // The stream waits for more POST bytes of a VC that is over: stop waiting (it then
      // takes what already arrived, and ends).
      std::error_code ignored;
      v.post->socket->cancel(ignored);
    }
  }
  if (core.next_deadline() < armed) timer.cancel();
}

void HttpListener::State::on_accept(tcp::socket s) {
  if (stopped) return;
  std::error_code ignored;
  s.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<ConnIo>(io);
  c->peer = net::to_string(s.remote_endpoint(ignored));
  c->socket = std::make_shared<tcp::socket>(std::move(s));
  const RelayCore::ConnId id = core.accept(Clock::now());
  conns[id] = c;
  auto self = shared_from_this();
  asio::co_spawn(io, self->writer(id, c), asio::detached);
  asio::co_spawn(io, self->reader(id, c), asio::detached);
  pump();
}

void HttpListener::State::finish(RelayCore::ConnId id, ConnIo& c) {
  if (c.done) return;
  c.done = true;
  if (const std::error_code e = core.conn_error(id))
    spdlog::debug("event=http_close peer={} reason=\"{}\"", c.peer, e.message());
  std::error_code ignored;
  if (c.socket) {
    c.socket->shutdown(tcp::socket::shutdown_both, ignored);
    c.socket->close(ignored);
  }
  core.release(id, Clock::now());
  conns.erase(id);
  c.wake.cancel();
  pump();
}

net::awaitable<void> HttpListener::State::writer(RelayCore::ConnId id, std::shared_ptr<ConnIo> c) {
  auto self = shared_from_this();
  Bytes chunk;
  while (!c->done) {
    if (c->direct_writing || c->handed_off) {
      co_await wait(c->wake);  // the VC's stream uses the socket; it wakes us when done
      continue;
    }
    if (!core.output(id).empty()) {
      // Taken, not viewed: the core may append to its buffer while the write runs.
      core.take_output(id, chunk);
      pump();
      auto [ec, n] = co_await asio::async_write(*c->socket, asio::buffer(chunk), net::use_tuple);
      if (!c->done) core.wrote(id);
      if (chunk.capacity() > kKeepWriteBuffer) Bytes().swap(chunk);
      pump();
      if (ec) {
        finish(id, *c);
        break;
      }
      continue;
    }
    if (core.closing(id)) {
      finish(id, *c);
      break;
    }
    co_await wait(c->wake);
  }
}

net::awaitable<void> HttpListener::State::reader(RelayCore::ConnId id, std::shared_ptr<ConnIo> c) {
  auto self = shared_from_this();
  std::array<Byte, kSmallRead> small;  // uninitialised: the read writes before anyone reads
  std::unique_ptr<Byte[]> big;         // while reads keep filling the buffer
  bool eof = false;
  while (!c->done) {
    if (!eof && core.post_direct(id)) {
      if (auto it = vcs.find(core.conn_vc(id)); it != vcs.end()) {
        // From here on the VC's stream reads this socket (VcStream::read_some); wake it.
        c->handed_off = true;
        it->second->post_id = id;
        it->second->post = c;
        it->second->wake.cancel();
        co_return;
      }
    }
    if (eof || !core.can_receive(id)) {
      big.reset();
      co_await wait(c->wake);
      continue;
    }
    const std::span<Byte> buf =
        big ? std::span<Byte>(big.get(), kReadChunk) : std::span<Byte>(small);
    auto [ec, n] =
        co_await c->socket->async_read_some(asio::buffer(buf.data(), buf.size()), net::use_tuple);
    if (c->done) break;
    if (n > 0) core.receive(id, ByteView(buf.data(), n), Clock::now());
    if (!big && n == buf.size()) {
      big = std::make_unique_for_overwrite<Byte[]>(kReadChunk);
    } else if (big && n < buf.size()) {
      big.reset();
    }
    if (ec) {
      core.receive_eof(id, Clock::now());
      eof = true;
    }
    pump();
    if (eof && !core.closing(id)) finish(id, *c);  // nothing more can come on it
  }
}

net::awaitable<void> HttpListener::State::timers() {
  auto self = shared_from_this();
  while (!stopped) {
    armed = core.next_deadline();
    timer.expires_at(armed);
    (void)co_await timer.async_wait(net::use_tuple);
    armed = Clock::time_point::max();
    if (stopped) break;
    const auto now = Clock::now();
    if (now >= core.next_deadline()) {
      core.on_timer(now);
      pump();
    }
  }
}

HttpListener::HttpListener(asio::io_context& io, henc::RelayCoreOptions options,
                           std::function<void(net::ByteStreamPtr)> adopt) {
  options.unix_now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  s_ = std::make_shared<State>(io, std::move(options), std::move(adopt));
  asio::co_spawn(io, s_->timers(), asio::detached);
}

HttpListener::~HttpListener() {
  stop();
  s_->stopped = true;
  s_->timer.cancel();
  for (auto& [id, c] : std::map(s_->conns)) {
    std::error_code ignored;
    if (c->socket) c->socket->close(ignored);
  }
}

tcp::endpoint HttpListener::listen(const net::HostPort& where) {
  s_->acceptors.push_back(net::listen_tcp(s_->io.get_executor(), where));
  auto& a = s_->acceptors.back();
  std::fprintf(stderr, "listening on %s (http)\n", net::to_string(a.local_endpoint()).c_str());
  std::weak_ptr<State> weak = s_;
  asio::co_spawn(
      s_->io,
      net::accept_loop(
          a,
          [weak](tcp::socket s) {
            if (auto s2 = weak.lock()) s2->on_accept(std::move(s));
          },
          [](const std::error_code& ec) { spdlog::warn("accept failed: {}", ec.message()); }),
      asio::detached);
  return a.local_endpoint();
}

void HttpListener::stop() {
  for (auto& a : s_->acceptors) {
    std::error_code ignored;
    a.close(ignored);
  }
}

}  // namespace grove::relay
