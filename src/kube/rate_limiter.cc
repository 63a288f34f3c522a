#include "kube/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace coffer::kube {

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps), burst_(std::max(burst, 1)), tokens_(burst_) {}

RateLimiter::Clock::duration RateLimiter::Reserve(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();
  std::lock_guard<std::mutex> lock(mu_);
  if (last_ == Clock::time_point{}) last_ = now;
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

void RateLimiter::Wait() {
  const Clock::duration delay = Reserve(Clock::now());
  if (delay > Clock::duration::zero()) std::this_thread::sleep_for(delay);
}

}  // namespace coffer::kube
