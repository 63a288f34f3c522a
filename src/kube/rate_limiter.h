#pragma once

// A token bucket: `burst` requests at once, then `qps` per second on average. The client-side
// throttle every Client applies before each request, like client-go's flowcontrol limiter.

#include <chrono>
#include <mutex>

namespace coffer::kube {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // qps <= 0 disables limiting. burst < 1 is treated as 1.
  RateLimiter(double qps, int burst);

  // Takes one token, returning how long the caller must wait before using it (zero when one was
  // available). Tokens are reserved in order, so concurrent callers queue fairly.
  Clock::duration Reserve(Clock::time_point now);

  // Reserve(now) and sleep for the delay.
  void Wait();

 private:
  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;             // may go negative: reservations not yet covered
  Clock::time_point last_{};  // when `tokens_` was last brought up to date
};

}  // namespace coffer::kube
