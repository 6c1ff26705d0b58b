#include "cli/backoff.hpp"

#include <algorithm>

namespace grove::cli {

using std::chrono::milliseconds;

namespace {
milliseconds scaled(milliseconds base, double factor) {
  return milliseconds(static_cast<milliseconds::rep>(static_cast<double>(base.count()) * factor));
}
}  // namespace

milliseconds Backoff::next(const Ended& e, double random) {
  random = std::clamp(random, 0.0, 1.0);
  // §7.8: the back-off restarts once a connection stayed established for 60 s.
  if (e.established_for >= o_.reset_after) current_ = o_.first;
  // §7.8: the peer's own hints win, without doubling (jitter 0-10 % for Resting).
  if (e.resting.count() > 0) return scaled(e.resting, 1.0 + 0.1 * random);
  if (e.retry_time.count() > 0) return e.retry_time;
  const milliseconds wait = scaled(current_, 1.0 + o_.jitter * (2.0 * random - 1.0));
  current_ = std::min(current_ * 2, o_.max);
  return wait;
}

}  // namespace grove::cli
