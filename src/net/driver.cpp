#include "net/driver.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <vector>

namespace grove::net {

using namespace asio::experimental::awaitable_operators;

namespace {

// An idle connection waits in read_some() with only this much of its own buffer (in the
// reader's coroutine frame): SSTP keep-alives, acknowledgements and handshake commands fit.
// A read that fills it means more is queued, and the reader switches to a full-size buffer
// borrowed from the thread's pool; a full-size read that comes back short means the socket is
// drained, and the buffer goes back to the pool. So 10,000 idle connections hold no 256 KiB
// buffers, and a busy one costs one extra small read per drained socket.
constexpr std::size_t kIdleRead = 512;
// The writer's buffer is dropped when the output drains if it grew beyond this, once the
// writer has had nothing to write for kIdleFree: a busy connection keeps its two output buffers
// (the writer's and the engine's, swapped by take_output) instead of growing a fresh one from
// nothing for every write, which cost a copy of every byte (vector growth) and page faults.
constexpr std::size_t kIdleOutput = 1024;
constexpr auto kIdleFree = std::chrono::seconds(1);

// False once this thread's pool is destroyed (thread exit): a buffer released later is freed.
thread_local bool read_pool_alive = false;

// Full-size read buffers shared by the drivers of one thread. Uninitialised (no zeroing), so a
// buffer's untouched pages cost no RSS. Keeps at most kKeep spare buffers.
class ReadBufferPool {
 public:
  ReadBufferPool() { read_pool_alive = true; }
  ~ReadBufferPool() { read_pool_alive = false; }
  ReadBufferPool(const ReadBufferPool&) = delete;
  ReadBufferPool& operator=(const ReadBufferPool&) = delete;

  std::unique_ptr<Byte[]> take(std::size_t size) {
    if (size != size_) {
      free_.clear();
      size_ = size;
    }
    if (free_.empty()) return std::unique_ptr<Byte[]>(new Byte[size]);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::unique_ptr<Byte[]> b, std::size_t size) {
    if (size == size_ && free_.size() < kKeep) free_.push_back(std::move(b));
  }

 private:
  static constexpr std::size_t kKeep = 4;
  std::size_t size_ = 0;
  std::vector<std::unique_ptr<Byte[]>> free_;
};

thread_local ReadBufferPool read_pool;

// A buffer borrowed from read_pool for as long as the reader needs it.
class BorrowedBuffer {
 public:
  BorrowedBuffer() = default;
  BorrowedBuffer(const BorrowedBuffer&) = delete;
  BorrowedBuffer& operator=(const BorrowedBuffer&) = delete;
  ~BorrowedBuffer() { release(); }
  void borrow(std::size_t size) {
    release();
    buf_ = read_pool.take(size);
    size_ = size;
  }
  void release() {
    if (buf_ && read_pool_alive) read_pool.give(std::move(buf_), size_);
    buf_.reset();
    size_ = 0;
  }
  explicit operator bool() const { return buf_ != nullptr; }
  std::span<Byte> span() { return {buf_.get(), size_}; }

 private:
  std::unique_ptr<Byte[]> buf_;
  std::size_t size_ = 0;
};

}  // namespace

Driver::Driver(ByteStream& stream, engine::Connection& conn, ConnectionHandler& handler,
               DriverOptions options)
    : stream_(stream), conn_(conn), handler_(handler), options_(options) {}

awaitable<void> Driver::run() {
  auto ex = co_await asio::this_coro::executor;
  wake_.emplace(ex);
  deadline_.emplace(ex);
  drain();  // an initiator may already have events (none today, but cheap)
  co_await (reader() && writer() && timers());
}

void Driver::drain() {
  if (draining_) return;  // a handler calling back into us must not re-enter
  draining_ = true;
  while (auto e = conn_.next_event()) handler_.on_event(conn_, *e);
  draining_ = false;
}

void Driver::kick() {
  if (wake_) wake_->cancel();
  if (deadline_) {
    auto d = conn_.next_deadline();
    if (d && *d < armed_) deadline_->cancel();
  }
}

void Driver::resume_reading() {
  paused_ = false;
  if (resume_) resume_->cancel();
}

awaitable<void> Driver::reader() {
  std::array<Byte, kIdleRead> small;  // uninitialised: read_some writes before anyone reads
  const std::size_t small_size = std::min(kIdleRead, options_.read_buffer);
  BorrowedBuffer big;  // borrowed only while data keeps coming (see kIdleRead)
  while (!closed_) {
    if (paused_) {
      big.release();  // a paused connection holds no read buffer
      if (!resume_) resume_.emplace(co_await asio::this_coro::executor);  // first pause only
      resume_->expires_at(engine::TimePoint::max());
      (void)co_await resume_->async_wait(use_tuple);
      continue;  // resumed, or closed_ (the writer cancels the wait when it ends)
    }
    std::error_code ec;
    const std::span<Byte> buf = big ? big.span() : std::span<Byte>(small.data(), small_size);
    const std::size_t n = co_await stream_.read_some(buf, ec);
    if (closed_) break;
    if (ec || n == 0) {
      conn_.receive_eof();  // C13
      drain();
      kick();
      break;
    }
    ByteView in(buf.data(), n);
    const auto now = engine::Clock::now();
    while (!in.empty()) {
      const std::size_t used = conn_.receive(in, now);
      drain();  // MessageData views into `buf` are valid only until the next receive()
      in = in.subspan(used);
      if (conn_.finished()) break;
    }
    kick();
    // The views into `buf` are gone (drained above): switch buffers for the next read.
    if (!big && n == buf.size() && options_.read_buffer > small_size) {
      big.borrow(options_.read_buffer);
    } else if (big && n < buf.size()) {
      big.release();
    }
  }
}

awaitable<void> Driver::writer() {
  Bytes out;
  for (;;) {
    if (!conn_.pending_output().empty()) {
      conn_.take_output(out);  // swap, no copy: `out` stays valid during the async write
      std::error_code ec;
      co_await stream_.write_all(out, ec);
      if (ec) {
        conn_.receive_eof();  // the stream is broken: same as the peer closing it
        drain();
      } else if (conn_.pending_output().size() < options_.low_water) {
        handler_.on_output_drained(conn_);
        drain();
      }
      continue;
    }
    if (conn_.finished()) break;
    // Holding a large buffer: wait at most kIdleFree, then free it rather than keep it while
    // the connection idles; the engine's spare buffer too (take_output swaps it for an empty one).
    const bool holding = out.capacity() > kIdleOutput;
    wake_->expires_at(holding ? engine::Clock::now() + kIdleFree : engine::TimePoint::max());
    auto [ec] = co_await wake_->async_wait(use_tuple);
    if (!ec && holding && conn_.pending_output().empty()) {
      Bytes().swap(out);
      Bytes spare;
      conn_.take_output(spare);
    }
  }
  closed_ = true;
  stream_.close();
  deadline_->cancel();
  if (resume_) resume_->cancel();
}

awaitable<void> Driver::timers() {
  while (!closed_) {
    const auto d = conn_.next_deadline();
    armed_ = d.value_or(engine::TimePoint::max());
    deadline_->expires_at(armed_);
    (void)co_await deadline_->async_wait(use_tuple);
    if (closed_) break;
    const auto now = engine::Clock::now();
    if (d && now >= *d) {
      conn_.on_timer(now);
      drain();
      if (wake_) wake_->cancel();
    }
  }
}

}  // namespace grove::net
