#include "operator/work_queue.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace coffer::op {
namespace {

// Get() re-reads the clock at least this often while a timer is pending, so a clock that jumps
// (or a FakeClock advanced without Wake()) is noticed.
constexpr std::int64_t kMaxTimerWaitMs = 50;

}  // namespace

WorkQueue::WorkQueue(const Clock* clock) : clock_(clock) {}

WorkQueue::~WorkQueue() { ShutDown(); }

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = clock_->NowMillis();
  if (auto p = processing_.find(key); p != processing_.end()) {
    Pending& pending = p->second;
    if (!pending.event || now < pending.event_ms) pending.event_ms = now;
    pending.event = true;
    return;
  }
  if (auto r = ready_.find(key); r != ready_.end()) {
    if (r->second.trigger == Trigger::kEvent) return;  // already queued; keeps its earlier time
    timer_lane_.erase({r->second.queued_ms, key});
    ready_.erase(r);
  }
  Pending why;
  why.event = true;
  why.event_ms = now;
  MakeReadyLocked(key, why);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, std::int64_t delay_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = clock_->NowMillis();
  const std::int64_t due = now + std::max<std::int64_t>(delay_ms, 0);
  if (auto t = timers_.find(key); t != timers_.end()) {
    if (t->second <= due) return;  // an earlier timer is already pending
    timer_order_.erase({t->second, key});
    timers_.erase(t);
  }
  if (delay_ms <= 0) {
    TimerDueLocked(key, due);
    cv_.notify_one();
    return;
  }
  timers_.emplace(key, due);
  timer_order_.emplace(due, key);
  // A waiting Get() may now have to wake earlier.
  cv_.notify_all();
}

std::optional<WorkItem> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shut_down_) return std::nullopt;
    const std::int64_t now = clock_->NowMillis();
    PromoteDueLocked(now);
    std::optional<std::string> key;
    if (!event_lane_.empty()) {
      key = std::move(event_lane_.front());
      event_lane_.pop_front();
    } else if (!timer_lane_.empty()) {
      key = timer_lane_.begin()->second;
      timer_lane_.erase(timer_lane_.begin());
    }
    if (key) {
      auto r = ready_.find(*key);
      WorkItem item = std::move(r->second);
      ready_.erase(r);
      processing_.emplace(*key, Pending{});
      return item;
    }
    if (timer_order_.empty()) {
      cv_.wait(lock);
    } else {
      const std::int64_t until_due = std::max<std::int64_t>(timer_order_.begin()->first - now, 0);
      cv_.wait_for(lock, std::chrono::milliseconds(std::min(until_due, kMaxTimerWaitMs)));
    }
  }
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto p = processing_.find(key);
  if (p == processing_.end()) return;
  const Pending why = p->second;
  processing_.erase(p);
  if (why.event || why.timer) {
    MakeReadyLocked(key, why);
    cv_.notify_one();
  }
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  RemoveTimerLocked(key);
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
  }
  cv_.notify_all();
}

std::size_t WorkQueue::ReadyCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_.size();
}

std::size_t WorkQueue::TimerCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.size();
}

void WorkQueue::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    PromoteDueLocked(clock_->NowMillis());
  }
  cv_.notify_all();
}

void WorkQueue::PromoteDueLocked(std::int64_t now_ms) {
  while (!timer_order_.empty() && timer_order_.begin()->first <= now_ms) {
    auto [due, key] = *timer_order_.begin();
    timer_order_.erase(timer_order_.begin());
    timers_.erase(key);
    TimerDueLocked(key, due);
  }
}

void WorkQueue::TimerDueLocked(const std::string& key, std::int64_t due_ms) {
  if (auto p = processing_.find(key); p != processing_.end()) {
    Pending& pending = p->second;
    if (!pending.timer || due_ms < pending.timer_ms) pending.timer_ms = due_ms;
    pending.timer = true;
    return;
  }
  if (auto r = ready_.find(key); r != ready_.end()) {
    // Already ready: an event keeps its lane; an earlier due time keeps its place.
    if (r->second.trigger == Trigger::kEvent || r->second.queued_ms <= due_ms) return;
    timer_lane_.erase({r->second.queued_ms, key});
    ready_.erase(r);
  }
  Pending why;
  why.timer = true;
  why.timer_ms = due_ms;
  MakeReadyLocked(key, why);
}

void WorkQueue::MakeReadyLocked(const std::string& key, const Pending& why) {
  WorkItem item;
  item.key = key;
  if (why.event) {
    item.trigger = Trigger::kEvent;
    item.queued_ms = why.event_ms;
    event_lane_.push_back(key);
  } else {
    item.trigger = Trigger::kTimer;
    item.queued_ms = why.timer_ms;
    timer_lane_.emplace(why.timer_ms, key);
  }
  ready_[key] = std::move(item);
}

void WorkQueue::RemoveTimerLocked(const std::string& key) {
  auto t = timers_.find(key);
  if (t == timers_.end()) return;
  timer_order_.erase({t->second, key});
  timers_.erase(t);
}

std::int64_t JitteredDelay(std::int64_t delay_ms, double u) {
  if (delay_ms <= 0) return delay_ms;
  if (!(u >= 0.0)) u = 0.0;  // also NaN
  if (u >= 1.0) u = std::nextafter(1.0, 0.0);
  const std::int64_t spread = std::min<std::int64_t>(delay_ms / 10, 10'000);
  return delay_ms + static_cast<std::int64_t>(u * static_cast<double>(spread));
}

}  // namespace coffer::op
