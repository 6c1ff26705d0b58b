// The reconnect back-off of sstp.md §7.8, with the random number injected.
#include "cli/backoff.hpp"

#include <gtest/gtest.h>

namespace grove::cli {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr double kMiddle = 0.5;  // no jitter

TEST(Backoff, DoublesFromOneSecondToFiveMinutes) {
  Backoff b;
  const milliseconds want[] = {1s, 2s, 4s, 8s, 16s, 32s, 64s, 128s, 256s, 300s, 300s};
  for (auto w : want) EXPECT_EQ(b.next({}, kMiddle), w);
}

TEST(Backoff, JitterIsPlusMinusTwentyPercent) {
  Backoff low, high;
  EXPECT_EQ(low.next({}, 0.0), 800ms);
  EXPECT_EQ(high.next({}, 1.0), 1200ms);
  EXPECT_EQ(low.next({}, 0.0), 1600ms) << "the jitter does not change the doubling";
}

TEST(Backoff, ResetsAfterSixtySecondsEstablished) {
  Backoff b;
  for (int i = 0; i < 5; ++i) (void)b.next({}, kMiddle);
  EXPECT_EQ(b.next({.established_for = 59s}, kMiddle), 32s);
  EXPECT_EQ(b.next({.established_for = 60s}, kMiddle), 1s);
  EXPECT_EQ(b.next({}, kMiddle), 2s);
}

TEST(Backoff, RestingWaitsReturnTimePlusUpToTenPercent) {
  Backoff b;
  EXPECT_EQ(b.next({.resting = 60s}, 0.0), 60s);
  EXPECT_EQ(b.next({.resting = 60s}, 1.0), 66s);
  EXPECT_EQ(b.next({}, kMiddle), 1s) << "a peer's hint does not double the back-off";
}

TEST(Backoff, TryLaterWaitsRetryTime) {
  Backoff b;
  EXPECT_EQ(b.next({.retry_time = 30s}, 0.9), 30s);
  EXPECT_EQ(b.next({}, kMiddle), 1s);
}

TEST(Backoff, ZeroHintsUseTheBackoff) {
  Backoff b;
  EXPECT_EQ(b.next({.resting = 0s, .retry_time = 0s}, kMiddle), 1s);
  EXPECT_EQ(b.next({.resting = 0s}, kMiddle), 2s);
}

}  // namespace
}  // namespace grove::cli
