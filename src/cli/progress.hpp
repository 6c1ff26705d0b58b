// A one-line progress bar on stderr for long transfers; silent unless stderr is a terminal.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace grove::cli {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total, bool enabled)
      : label_(std::move(label)), total_(total), enabled_(enabled && ::isatty(2)) {}

  void update(std::uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? double(done) / secs / 1e6 : 0.0;
    const int pct = total_ ? int(100.0 * double(done) / double(total_)) : 100;
    const int filled = pct / 5;
    std::fprintf(stderr, "\r%s [%-20s] %3d%% %8.1f MB %7.1f MB/s", label_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(), pct,
                 double(done) / 1e6, rate);
    std::fflush(stderr);
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fputc('\n', stderr);
    shown_ = false;
  }
  ~Progress() { finish(); }

 private:
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace grove::cli
