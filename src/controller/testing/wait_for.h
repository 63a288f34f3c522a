#pragma once

// Test-only: polls a condition the controllers' threads make true. Header-only.

#include <chrono>
#include <functional>
#include <thread>

namespace coffer::controller::testing {

// Generous: the machines that run the tests are shared and slow.
inline constexpr std::chrono::seconds kDeadline{20};

// True as soon as `done()` is, polled every 20 ms; false if it still is not after `deadline`.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace coffer::controller::testing
