#include "operator/work_queue.h"

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace coffer::op {
namespace {

constexpr std::int64_t kStart = 1'767'225'600'000;

// Get() for a test that knows an item is ready (so it does not block).
WorkItem MustGet(WorkQueue& queue) {
  EXPECT_GT(queue.ReadyCount(), 0u);
  std::optional<WorkItem> item = queue.Get();
  EXPECT_TRUE(item.has_value());
  return item.value_or(WorkItem{});
}

TEST(WorkQueueTest, AddDeduplicatesAndServesInOrder) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.Add("ns/a");
  clock.AdvanceMillis(5);
  queue.Add("ns/b");
  clock.AdvanceMillis(5);
  queue.Add("ns/a");
  EXPECT_EQ(queue.ReadyCount(), 2u);

  WorkItem a = MustGet(queue);
  EXPECT_EQ(a.key, "ns/a");
  EXPECT_EQ(a.trigger, Trigger::kEvent);
  EXPECT_EQ(a.queued_ms, kStart);  // the earliest Add()
  WorkItem b = MustGet(queue);
  EXPECT_EQ(b.key, "ns/b");
  EXPECT_EQ(b.queued_ms, kStart + 5);
  EXPECT_EQ(queue.ReadyCount(), 0u);
}

TEST(WorkQueueTest, EventLaneIsServedBeforeTimerLane) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/refresh", 0);
  clock.AdvanceMillis(1);
  queue.Add("ns/changed");
  EXPECT_EQ(queue.ReadyCount(), 2u);
  EXPECT_EQ(queue.TimerCount(), 0u);

  WorkItem first = MustGet(queue);
  EXPECT_EQ(first.key, "ns/changed");
  EXPECT_EQ(first.trigger, Trigger::kEvent);
  WorkItem second = MustGet(queue);
  EXPECT_EQ(second.key, "ns/refresh");
  EXPECT_EQ(second.trigger, Trigger::kTimer);
  EXPECT_EQ(second.queued_ms, kStart);
}

TEST(WorkQueueTest, TimersFallDueByTheClock) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/a", 1000);
  EXPECT_EQ(queue.TimerCount(), 1u);
  EXPECT_EQ(queue.ReadyCount(), 0u);

  clock.AdvanceMillis(999);
  queue.Wake();
  EXPECT_EQ(queue.ReadyCount(), 0u);
  EXPECT_EQ(queue.TimerCount(), 1u);

  clock.AdvanceMillis(1);
  queue.Wake();
  EXPECT_EQ(queue.ReadyCount(), 1u);
  EXPECT_EQ(queue.TimerCount(), 0u);
  WorkItem item = MustGet(queue);
  EXPECT_EQ(item.key, "ns/a");
  EXPECT_EQ(item.trigger, Trigger::kTimer);
  EXPECT_EQ(item.queued_ms, kStart + 1000);
}

TEST(WorkQueueTest, OnlyTheEarliestTimerOfAKeyIsKept) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/a", 5000);
  queue.AddAfter("ns/a", 1000);
  queue.AddAfter("ns/a", 3000);
  EXPECT_EQ(queue.TimerCount(), 1u);

  clock.AdvanceMillis(1000);
  queue.Wake();
  ASSERT_EQ(queue.ReadyCount(), 1u);
  EXPECT_EQ(queue.TimerCount(), 0u);  // the later ones were dropped, not kept for afterwards
  EXPECT_EQ(MustGet(queue).queued_ms, kStart + 1000);
}

TEST(WorkQueueTest, NonPositiveDelayIsDueNow) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/a", 0);
  queue.AddAfter("ns/b", -50);
  EXPECT_EQ(queue.ReadyCount(), 2u);
  EXPECT_EQ(queue.TimerCount(), 0u);
  WorkItem a = MustGet(queue);
  EXPECT_EQ(a.trigger, Trigger::kTimer);
  EXPECT_EQ(a.queued_ms, kStart);
}

TEST(WorkQueueTest, TimerLaneIsOrderedByDueTime) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/late", 200);
  queue.AddAfter("ns/early", 100);
  queue.AddAfter("ns/middle", 150);
  clock.AdvanceMillis(300);
  queue.Wake();
  ASSERT_EQ(queue.ReadyCount(), 3u);
  EXPECT_EQ(MustGet(queue).key, "ns/early");
  EXPECT_EQ(MustGet(queue).key, "ns/middle");
  EXPECT_EQ(MustGet(queue).key, "ns/late");
}

TEST(WorkQueueTest, AddMovesAKeyFromTheTimerLaneToTheEventLane) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.Add("ns/first");
  queue.AddAfter("ns/a", 0);
  clock.AdvanceMillis(10);
  queue.Add("ns/a");
  EXPECT_EQ(queue.ReadyCount(), 2u);

  EXPECT_EQ(MustGet(queue).key, "ns/first");
  WorkItem a = MustGet(queue);
  EXPECT_EQ(a.key, "ns/a");
  EXPECT_EQ(a.trigger, Trigger::kEvent);
  EXPECT_EQ(a.queued_ms, kStart + 10);
  EXPECT_EQ(queue.ReadyCount(), 0u);
}

TEST(WorkQueueTest, TimerOfAKeyInTheEventLaneDoesNotQueueItTwice) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.Add("ns/a");
  queue.AddAfter("ns/a", 10);
  clock.AdvanceMillis(10);
  queue.Wake();
  EXPECT_EQ(queue.ReadyCount(), 1u);
  EXPECT_EQ(queue.TimerCount(), 0u);
  WorkItem a = MustGet(queue);
  EXPECT_EQ(a.trigger, Trigger::kEvent);
  EXPECT_EQ(a.queued_ms, kStart);
}

TEST(WorkQueueTest, KeyHeldByAWorkerIsReadyAgainOnlyAfterDone) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.Add("ns/a");
  WorkItem held = MustGet(queue);
  ASSERT_EQ(held.key, "ns/a");

  clock.AdvanceMillis(10);
  queue.Add("ns/a");
  clock.AdvanceMillis(10);
  queue.Add("ns/a");
  queue.AddAfter("ns/a", 5);
  clock.AdvanceMillis(5);
  queue.Wake();
  EXPECT_EQ(queue.ReadyCount(), 0u);  // not handed to a second worker

  queue.Done("ns/a");
  ASSERT_EQ(queue.ReadyCount(), 1u);
  WorkItem again = MustGet(queue);
  EXPECT_EQ(again.trigger, Trigger::kEvent);  // an Add() wins over the timer
  EXPECT_EQ(again.queued_ms, kStart + 10);    // the earliest Add() while held
  queue.Done("ns/a");
  EXPECT_EQ(queue.ReadyCount(), 0u);  // the reasons were consumed

  // Only a timer while held: ready again in the timer lane with its due time.
  queue.Add("ns/a");
  WorkItem third = MustGet(queue);
  queue.AddAfter("ns/a", 100);
  clock.AdvanceMillis(100);
  queue.Wake();
  EXPECT_EQ(queue.ReadyCount(), 0u);
  queue.Done(third.key);
  WorkItem fourth = MustGet(queue);
  EXPECT_EQ(fourth.trigger, Trigger::kTimer);
  EXPECT_EQ(fourth.queued_ms, clock.NowMillis());
  queue.Done(fourth.key);
  EXPECT_EQ(queue.ReadyCount(), 0u);
}

TEST(WorkQueueTest, ForgetDropsThePendingTimer) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  queue.AddAfter("ns/deleted", 100);
  queue.AddAfter("ns/kept", 100);
  queue.Forget("ns/deleted");
  queue.Forget("ns/never-added");
  EXPECT_EQ(queue.TimerCount(), 1u);
  clock.AdvanceMillis(100);
  queue.Wake();
  ASSERT_EQ(queue.ReadyCount(), 1u);
  EXPECT_EQ(MustGet(queue).key, "ns/kept");
}

TEST(WorkQueueTest, ShutDownReleasesABlockedGet) {
  WorkQueue queue;
  std::optional<WorkItem> got = WorkItem{"sentinel"};
  std::thread worker([&] { got = queue.Get(); });
  queue.ShutDown();
  worker.join();
  EXPECT_FALSE(got.has_value());
  queue.Add("ns/a");
  EXPECT_FALSE(queue.Get().has_value());  // no more items once shut down
}

TEST(WorkQueueTest, BlockedGetWakesForAnAddAndForADueTimer) {
  FakeClock clock(kStart);
  WorkQueue queue(&clock);
  std::optional<WorkItem> first;
  std::optional<WorkItem> second;
  std::thread worker([&] {
    first = queue.Get();
    second = queue.Get();
  });
  queue.Add("ns/a");
  queue.AddAfter("ns/b", 60'000);
  clock.AdvanceMillis(60'000);
  queue.Wake();
  worker.join();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->key, "ns/a");
  EXPECT_EQ(second->key, "ns/b");
  EXPECT_EQ(second->trigger, Trigger::kTimer);
}

TEST(WorkQueueTest, WorkersNeverProcessAKeyConcurrently) {
  constexpr int kKeys = 8;
  constexpr int kRounds = 300;
  constexpr int kWorkers = 4;
  WorkQueue queue;
  std::array<std::atomic<bool>, kKeys> in_flight{};
  std::array<std::atomic<int>, kKeys> generation{};
  std::array<std::atomic<int>, kKeys> seen{};
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (std::optional<WorkItem> item = queue.Get()) {
        const int k = std::stoi(item->key.substr(item->key.find('/') + 1));
        if (in_flight[k].exchange(true)) overlaps.fetch_add(1);
        // Read after Get(): a later Add() of the key hands it out again.
        const int gen = generation[k].load();
        if (gen > seen[k].load()) seen[k].store(gen);
        std::this_thread::yield();
        in_flight[k].store(false);
        processed.fetch_add(1);
        queue.Done(item->key);
      }
    });
  }
  for (int round = 1; round <= kRounds; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      generation[k].store(round);
      if (round % 3 == 0) {
        queue.AddAfter("ns/" + std::to_string(k), 0);
      } else {
        queue.Add("ns/" + std::to_string(k));
      }
    }
  }
  // Every key is processed at least once after its last Add(); a lost wake-up fails here.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto all_seen = [&] {
    for (int k = 0; k < kKeys; ++k) {
      if (seen[k].load() != kRounds) return false;
    }
    return true;
  };
  while (!all_seen() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  queue.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_TRUE(all_seen());
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_LE(processed.load(), kKeys * kRounds);
}

TEST(JitteredDelayTest, AddsUpToATenthCappedAtTenSeconds) {
  EXPECT_EQ(JitteredDelay(60'000, 0.0), 60'000);
  EXPECT_EQ(JitteredDelay(60'000, 0.5), 63'000);
  EXPECT_EQ(JitteredDelay(3'600'000, 0.5), 3'605'000);  // a tenth would be 360 s; capped at 10 s
  EXPECT_LT(JitteredDelay(3'600'000, 0.999999), 3'610'000);
  EXPECT_LT(JitteredDelay(60'000, 1.0), 66'000);  // u is clamped below 1
  EXPECT_EQ(JitteredDelay(60'000, -1.0), 60'000);
  EXPECT_EQ(JitteredDelay(0, 0.5), 0);
}

}  // namespace
}  // namespace coffer::op
