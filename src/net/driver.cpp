#include "net/driver.hpp"

namespace grove::net {

using namespace asio::experimental::awaitable_operators;

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

awaitable<void> Driver::reader() {
  Bytes buf(options_.read_buffer);
  while (!closed_) {
    std::error_code ec;
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
    wake_->expires_at(engine::TimePoint::max());
    (void)co_await wake_->async_wait(use_tuple);
  }
  closed_ = true;
  stream_.close();
  deadline_->cancel();
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
