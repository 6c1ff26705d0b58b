#include "relay/loops.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace grove::relay {

Loops::Loops(std::size_t extra) {
  for (std::size_t i = 0; i < extra; ++i) {
    ios_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*ios_.back()));
  }
  for (auto& io : ios_) {
    threads_.emplace_back([&io = *io] {
      try {
        io.run();
      } catch (const std::exception& e) {
        // A handler that throws is a bug, and a loop that stopped would strand its
        // connections silently: end the process as the main loop would.
        spdlog::critical("event loop failed: {}", e.what());
        std::abort();
      }
    });
  }
}

Loops::~Loops() { stop(); }

void Loops::stop() {
  guards_.clear();
  for (auto& io : ios_) io->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::size_t Loops::wanted(std::size_t event_loops) {
  if (event_loops) return event_loops;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace grove::relay
