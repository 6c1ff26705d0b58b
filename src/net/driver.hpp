// Runs one engine::Connection over one ByteStream: a reader, a writer and a timer coroutine on
// the connection's executor (one writer per stream, no locks). The owner's handler sees every
// engine event in order and may call engine methods from it.
#pragma once

#include "engine/connection.hpp"
#include "net/stream.hpp"

namespace grove::net {

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Every engine event, in order. May call any engine method.
  virtual void on_event(engine::Connection& c, engine::Event& e) = 0;
  // Pending output fell below the low-water mark: a sender may queue more data now.
  virtual void on_output_drained(engine::Connection&) {}
};

struct DriverOptions {
  // Size of the reads while data keeps coming; idle connections wait with 512 bytes and borrow
  // a buffer of this size from a per-thread pool only while busy (driver.cpp).
  std::size_t read_buffer = 256 * 1024;
  std::size_t low_water = 512 * 1024;  // ask the handler for more below this
};

class Driver {
 public:
  Driver(ByteStream& stream, engine::Connection& conn, ConnectionHandler& handler,
         DriverOptions options = {});
  // Completes when the connection is over and the stream closed.
  awaitable<void> run();
  // Call after engine methods invoked from outside the handler (a signal, another connection):
  // wakes the writer and re-arms the timer.
  void kick();
  [[nodiscard]] bool closed() const { return closed_; }
  // Back-pressure: stop reading the stream once the bytes already read are handed to the engine
  // (at most one read buffer more), until resume_reading(). Writing and timers go on, so
  // everything the engine queues (acknowledgements, keep-alives) still goes out. The peer's
  // bytes wait in the socket buffers and TCP flow control stops it.
  void pause_reading() { paused_ = true; }
  void resume_reading();
  [[nodiscard]] bool reading_paused() const { return paused_; }

 private:
  awaitable<void> reader();
  awaitable<void> writer();
  awaitable<void> timers();
  void drain();

  ByteStream& stream_;
  engine::Connection& conn_;
  ConnectionHandler& handler_;
  DriverOptions options_;
  std::optional<asio::steady_timer> wake_;
  std::optional<asio::steady_timer> deadline_;
  // The paused reader waits on it; made on the first pause.
  std::optional<asio::steady_timer> resume_;
  engine::TimePoint armed_ = engine::TimePoint::max();
  bool closed_ = false;
  bool draining_ = false;
  bool paused_ = false;
};

}  // namespace grove::net
