#pragma once

// The controller's work queue: keys ("namespace/name") waiting to be reconciled, in the manner of
// client-go's rate-limited delaying workqueue.
//
//  - Two ready lanes. Add() puts a key in the EVENT lane (a watch event: something changed);
//    a due AddAfter() timer puts it in the TIMER lane (a periodic refresh, a retry after an
//    error). Get() serves the event lane first, FIFO, then the timer lane by due time, so a burst
//    of refreshes never delays a user's change.
//  - A key is in the ready lanes at most once. Add() of a key waiting in the timer lane moves it
//    to the event lane.
//  - A key is handed to one worker at a time: a key Add()ed (or whose timer fell due) while a
//    worker holds it is kept aside and becomes ready when the worker calls Done().
//  - Timers: only a key's earliest pending timer is kept. Due times are read from the Clock, so
//    tests drive the queue with a FakeClock and Wake().
//
// Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/clock.h"

namespace coffer::op {

enum class Trigger { kEvent, kTimer };

struct WorkItem {
  std::string key;
  Trigger trigger = Trigger::kEvent;  // kEvent if any pending reason was an Add()
  // Epoch ms (Clock): for kEvent the earliest Add() time since the key was last handed out; for
  // kTimer the time the timer was due.
  std::int64_t queued_ms = 0;
};

class WorkQueue {
 public:
  explicit WorkQueue(const Clock* clock = SystemClock::Get());
  ~WorkQueue();  // ShutDown()

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Ready now, in the event lane.
  void Add(const std::string& key);
  // Ready after `delay_ms` (<= 0: a timer that is due now), in the timer lane. Only the earliest
  // pending timer of a key is kept.
  void AddAfter(const std::string& key, std::int64_t delay_ms);
  // Blocks until an item is ready; nullopt once ShutDown() was called. The caller owns the key
  // until it calls Done(key).
  std::optional<WorkItem> Get();
  // Processing of `key` finished; if it was Add()ed or fell due meanwhile, it is ready again now.
  void Done(const std::string& key);
  // Drops the key's pending timer (e.g. the object was deleted).
  void Forget(const std::string& key);
  // Wakes every Get() caller; they return nullopt from now on.
  void ShutDown();

  // Items ready in both lanes.
  std::size_t ReadyCount() const;
  // Pending timers.
  std::size_t TimerCount() const;
  // Re-checks the timers against the clock now (tests with a FakeClock call it after advancing).
  void Wake();

 private:
  // Why a key is ready (or will be when its worker is done).
  struct Pending {
    bool event = false;
    std::int64_t event_ms = 0;  // earliest Add() while pending
    bool timer = false;
    std::int64_t timer_ms = 0;  // earliest due time while pending
  };

  // All guarded by mu_.
  void PromoteDueLocked(std::int64_t now_ms);
  void MakeReadyLocked(const std::string& key, const Pending& why);
  void TimerDueLocked(const std::string& key, std::int64_t due_ms);
  void RemoveTimerLocked(const std::string& key);

  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool shut_down_ = false;
  std::deque<std::string> event_lane_;
  std::set<std::pair<std::int64_t, std::string>> timer_lane_;  // (due, key)
  std::map<std::string, WorkItem> ready_;                      // every key in either lane
  std::map<std::string, Pending> processing_;                  // handed out; what arrived meanwhile
  std::map<std::string, std::int64_t> timers_;                 // key -> due
  std::set<std::pair<std::int64_t, std::string>> timer_order_;  // (due, key)
};

// A periodic refresh delay with jitter so refreshes do not stampede:
// delay + u * min(delay / 10, 10'000) ms, u in [0, 1) (clamped). A delay <= 0 is returned as is.
std::int64_t JitteredDelay(std::int64_t delay_ms, double u);

}  // namespace coffer::op
