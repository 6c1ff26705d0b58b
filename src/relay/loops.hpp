// The event loops that serve groved's connections beyond the main one, each run by its own
// thread. A connection lives on one loop for its whole life; the relay's shared state stays
// on the main loop, and the two talk only by posting (relay.hpp).
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "net/asio.hpp"

namespace grove::relay {

class Loops {
 public:
  // Starts `extra` loops and their threads; they run until stop().
  explicit Loops(std::size_t extra);
  ~Loops();
  Loops(const Loops&) = delete;
  Loops& operator=(const Loops&) = delete;

  // Stops every loop and joins its thread. The io_contexts stay until the destructor, so
  // sockets and timers made on them may still be destroyed after stop().
  void stop();
  [[nodiscard]] std::size_t size() const { return ios_.size(); }
  asio::io_context& at(std::size_t i) { return *ios_[i]; }

  // The number of loops `event_loops` asks for: itself, or one per core when 0.
  static std::size_t wanted(std::size_t event_loops);

 private:
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace grove::relay
