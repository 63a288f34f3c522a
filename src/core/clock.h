#pragma once

// Clock is a seam: SigV4's skew window, deletion windows and tests all read time through it.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace coffer {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual std::int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance; SystemClock has no state.
  static SystemClock* Get() {
    static SystemClock clock;
    return &clock;
  }
};

// Another clock shifted by a fixed offset. coffer server uses it only when the test-only variable
// COFFER_TESTING_CLOCK_OFFSET_SECONDS is set, so that tests can create "old" secrets.
class OffsetClock final : public Clock {
 public:
  OffsetClock(const Clock* base, std::int64_t offset_ms) : base_(base), offset_ms_(offset_ms) {}
  std::int64_t NowMillis() const override { return base_->NowMillis() + offset_ms_; }

 private:
  const Clock* base_;
  std::int64_t offset_ms_;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now_ms) : now_ms_(now_ms) {}
  std::int64_t NowMillis() const override { return now_ms_.load(); }
  void SetMillis(std::int64_t ms) { now_ms_.store(ms); }
  void AdvanceMillis(std::int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace coffer
