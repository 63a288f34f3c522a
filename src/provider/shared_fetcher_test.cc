#include "provider/shared_fetcher.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coffer::provider {
namespace {

// Answers "value-of-<key>" and counts calls; can be told to fail or to hold calls until released.
class CountingProvider : public Provider {
 public:
  Result<RemoteValue> GetSecret(const RemoteKey& key) override {
    calls_.fetch_add(1);
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
    }
    if (fail_) return Status::Unavailable("backend down");
    return RemoteValue{"value-of-" + key.key + "@" + key.version_stage, std::nullopt, "v1"};
  }
  Status Validate() override { return Status::Ok(); }
  std::uint64_t calls() const override { return calls_.load(); }

  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }
  void WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  std::atomic<bool> fail_{false};

 private:
  std::atomic<std::uint64_t> calls_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  int entered_ = 0;
};

SharedFetcher::Options Opts(const Clock* clock) {
  SharedFetcher::Options o;
  o.clock = clock;
  o.max_age = std::chrono::milliseconds(10000);
  return o;
}

TEST(SharedFetcherTest, SameKeyAndVersionShareOneCall) {
  FakeClock clock(1'000'000);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  for (int i = 0; i < 100; ++i) {
    auto v = fetcher.Get("ns/store/1", provider, {"db", "", ""});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->string, "value-of-db@");
  }
  EXPECT_EQ(provider.calls(), 1u);
  EXPECT_EQ(fetcher.stats().cache_hits, 99u);
  // Another version, key or store is another call.
  ASSERT_TRUE(fetcher.Get("ns/store/1", provider, {"db", "", "AWSPREVIOUS"}).ok());
  ASSERT_TRUE(fetcher.Get("ns/store/1", provider, {"api", "", ""}).ok());
  ASSERT_TRUE(fetcher.Get("ns/other/1", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 4u);
  EXPECT_EQ(fetcher.stats().backend_calls, 4u);
}

TEST(SharedFetcherTest, ConcurrentRequestsWaitForTheCallInFlight) {
  SharedFetcher fetcher(Opts(SystemClock::Get()));
  CountingProvider provider;
  provider.Hold();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto v = fetcher.Get("s", provider, {"hot", "", ""});
      if (v.ok() && v->string == "value-of-hot@") ok.fetch_add(1);
    });
  }
  provider.WaitEntered(1);
  // Let every other thread reach the wait before the call finishes.
  while (fetcher.stats().shared_waits < 7) std::this_thread::yield();
  provider.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(provider.calls(), 1u);
  EXPECT_EQ(fetcher.stats().shared_waits, 7u);
}

TEST(SharedFetcherTest, ErrorsAreSharedByWaitersButNotKept) {
  FakeClock clock(0);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  provider.fail_ = true;
  auto first = fetcher.Get("s", provider, {"db", "", ""});
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  provider.fail_ = false;
  auto second = fetcher.Get("s", provider, {"db", "", ""});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(provider.calls(), 2u);
}

TEST(SharedFetcherTest, ValuesExpireAndNewRoundForgetsThem) {
  FakeClock clock(0);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  clock.AdvanceMillis(9000);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 1u);
  clock.AdvanceMillis(2000);  // older than max_age
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 2u);
  fetcher.NewRound();
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 3u);
}

}  // namespace
}  // namespace coffer::provider
