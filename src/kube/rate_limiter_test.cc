#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace coffer::kube {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiterTest, BurstThenSteadyRate) {
  RateLimiter limiter(10, 3);  // a token every 100 ms, 3 at once
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(limiter.Reserve(t0), Clock::duration::zero());
  EXPECT_EQ(limiter.Reserve(t0), Clock::duration::zero());
  EXPECT_EQ(limiter.Reserve(t0), Clock::duration::zero());
  // The bucket is empty: callers queue 100 ms apart.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(limiter.Reserve(t0)), 100ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(limiter.Reserve(t0)), 200ms);
  // 1 s later the bucket has refilled, but never beyond the burst.
  const Clock::time_point t1 = t0 + 1s;
  EXPECT_EQ(limiter.Reserve(t1), Clock::duration::zero());
  EXPECT_EQ(limiter.Reserve(t1), Clock::duration::zero());
  EXPECT_EQ(limiter.Reserve(t1), Clock::duration::zero());
  EXPECT_GT(limiter.Reserve(t1), Clock::duration::zero());
}

TEST(RateLimiterTest, DisabledWhenQpsIsZero) {
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.Reserve(Clock::now()), Clock::duration::zero());
}

TEST(RateLimiterTest, WaitSleeps) {
  RateLimiter limiter(20, 1);
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) limiter.Wait();  // 1 free, then 4 x 50 ms
  EXPECT_GE(Clock::now() - start, 190ms);
}

}  // namespace
}  // namespace coffer::kube
