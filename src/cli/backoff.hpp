// How long `grove send` waits before walking the transport fallback again after a lost
// connection (sstp.md §7.8). Sans-I/O: the caller passes how the connection ended and a random
// number, and gets the wait; nothing here reads a clock or a random source.
#pragma once

#include <chrono>
#include <optional>

namespace grove::cli {

struct BackoffOptions {
  std::chrono::milliseconds first{1000};         // §7.8: 1 s ...
  std::chrono::milliseconds max{300000};         // ... doubling to 300 s
  double jitter = 0.2;                           // each wait randomised by ±20 %
  std::chrono::milliseconds reset_after{60000};  // back to `first` after 60 s established
};

class Backoff {
 public:
  // How the last connection or walk ended.
  struct Ended {
    // How long the connection stayed 'established' (0: the walk found no transport).
    std::chrono::milliseconds established_for{0};
    std::chrono::seconds resting{0};     // ConnectClose Resting with this ReturnTime
    std::chrono::seconds retry_time{0};  // ConnectResponse TryLater with this RetryTime
  };

  explicit Backoff(BackoffOptions o = {}) : o_(o), current_(o.first) {}

  // The wait before the next walk. `random` is uniform in [0, 1). Resting waits ReturnTime
  // plus 0-10 %, TryLater waits RetryTime (both only when > 0 and without doubling); anything
  // else waits the current back-off ±jitter and doubles it.
  [[nodiscard]] std::chrono::milliseconds next(const Ended& e, double random);

  [[nodiscard]] std::chrono::milliseconds current() const { return current_; }

 private:
  BackoffOptions o_;
  std::chrono::milliseconds current_;
};

}  // namespace grove::cli
