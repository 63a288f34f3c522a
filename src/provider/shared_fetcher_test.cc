#include "provider/shared_fetcher.h"

#include <algorithm>
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
      max_in_flight_ = std::max(max_in_flight_, entered_ - left_);
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
      ++left_;
    }
    if (fail_) return Status::Unavailable("backend down");
    return RemoteValue{
        (key.metadata ? "metadata-of-" : "value-of-") + key.key + "@" + key.version_stage,
        std::nullopt, "v1"};
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
  int max_in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  std::atomic<bool> fail_{false};

 private:
  std::atomic<std::uint64_t> calls_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  int entered_ = 0;
  int left_ = 0;
  int max_in_flight_ = 0;
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

TEST(SharedFetcherTest, MetadataAndValueAreFetchedSeparately) {
  FakeClock clock(0);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  RemoteKey value{"db", "", ""};
  RemoteKey metadata{"db", "", ""};
  metadata.metadata = true;
  auto v = fetcher.Get("s", provider, value);
  auto m = fetcher.Get("s", provider, metadata);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(v->string, "value-of-db@");
  EXPECT_EQ(m->string, "metadata-of-db@");
  ASSERT_TRUE(fetcher.Get("s", provider, metadata).ok());
  EXPECT_EQ(provider.calls(), 2u);
  EXPECT_EQ(fetcher.stats().cache_hits, 1u);
}

TEST(SharedFetcherTest, NotBeforeRejectsFetchesThatStartedEarlier) {
  FakeClock clock(1000);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());  // started at 1000
  clock.AdvanceMillis(10);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1000).ok());
  EXPECT_EQ(provider.calls(), 1u);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1001).ok());  // started at 1010
  EXPECT_EQ(provider.calls(), 2u);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1005).ok());
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 2u);
  EXPECT_EQ(fetcher.stats().cache_hits, 3u);
  // max_age still applies to a new enough fetch.
  clock.AdvanceMillis(10'001);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1005).ok());
  EXPECT_EQ(provider.calls(), 3u);
}

TEST(SharedFetcherTest, NotBeforeSharesANewEnoughCallInFlight) {
  FakeClock clock(1000);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  provider.Hold();
  std::thread first([&] { EXPECT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok()); });
  provider.WaitEntered(1);
  std::thread second([&] { EXPECT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1000).ok()); });
  while (fetcher.stats().shared_waits < 1) std::this_thread::yield();
  provider.Release();
  first.join();
  second.join();
  EXPECT_EQ(provider.calls(), 1u);
}

TEST(SharedFetcherTest, NotBeforeWaitsForAnOlderCallInFlightThenCallsAgain) {
  FakeClock clock(1000);
  SharedFetcher fetcher(Opts(&clock));
  CountingProvider provider;
  provider.Hold();
  std::thread old_caller([&] { EXPECT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok()); });
  provider.WaitEntered(1);  // the old call started at 1000 and is held
  clock.SetMillis(2000);
  std::thread new_caller([&] {
    EXPECT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1500).ok());
  });
  // The new caller waits for the old call instead of calling alongside it.
  while (fetcher.stats().superseded_waits < 1) std::this_thread::yield();
  EXPECT_EQ(provider.calls(), 1u);
  provider.Release();
  old_caller.join();
  new_caller.join();
  EXPECT_EQ(provider.calls(), 2u);
  EXPECT_EQ(provider.max_in_flight(), 1);
  EXPECT_EQ(fetcher.stats().shared_waits, 0u);
  // The second call's value (started at 2000) now answers later callers.
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}, 1500).ok());
  EXPECT_EQ(provider.calls(), 2u);
}

// A provider whose values carry a version that tests move, and that answers CurrentVersionId.
class VersionedProvider : public Provider {
 public:
  Result<RemoteValue> GetSecret(const RemoteKey& key) override {
    ++gets;
    if (gone) return Status::NotFound("secret " + key.key + " not found");
    return RemoteValue{"value-" + version, std::nullopt, version};
  }
  Result<std::string> CurrentVersionId(const RemoteKey& key) override {
    ++describes;
    if (down) return Status::Unavailable("backend down");
    if (gone) return Status::NotFound("secret " + key.key + " not found");
    return version;
  }
  Status Validate() override { return Status::Ok(); }
  std::uint64_t calls() const override { return gets + describes; }

  std::string version = "v1";
  bool gone = false;
  bool down = false;
  int gets = 0;
  int describes = 0;
};

TEST(SharedFetcherTest, DescribeSecretFirstReusesTheHeldValueWhileItsVersionIsCurrent) {
  FakeClock clock(0);
  SharedFetcher::Options o = Opts(&clock);
  o.revalidate_for = std::chrono::hours(1);
  SharedFetcher fetcher(o);
  VersionedProvider provider;
  ASSERT_EQ(fetcher.Get("s", provider, {"db", "", ""})->string, "value-v1");
  EXPECT_EQ(provider.gets, 1);

  // Past max_age: one DescribeSecret, no value read; the result is shared like a read.
  clock.AdvanceMillis(20'000);
  ASSERT_EQ(fetcher.Get("s", provider, {"db", "", ""})->string, "value-v1");
  ASSERT_EQ(fetcher.Get("s", provider, {"db", "", ""})->string, "value-v1");
  EXPECT_EQ(provider.gets, 1);
  EXPECT_EQ(provider.describes, 1);
  EXPECT_EQ(fetcher.stats().revalidated, 1u);

  // A caller that needs a read after now (force-sync) also gets the check, not a blind reuse.
  provider.version = "v2";
  clock.AdvanceMillis(1);
  ASSERT_EQ(fetcher.Get("s", provider, {"db", "", ""}, clock.NowMillis())->string, "value-v2");
  EXPECT_EQ(provider.describes, 2);
  EXPECT_EQ(provider.gets, 2);  // the version moved: the value is read

  // The backend failing the check is an error like a failed read, and nothing stale is served.
  clock.AdvanceMillis(20'000);
  provider.down = true;
  EXPECT_EQ(fetcher.Get("s", provider, {"db", "", ""}).status().code(), StatusCode::kUnavailable);
  provider.down = false;
  ASSERT_EQ(fetcher.Get("s", provider, {"db", "", ""})->string, "value-v2");  // read again
  EXPECT_EQ(provider.gets, 3);

  // Deleted: NotFound from the check itself.
  clock.AdvanceMillis(20'000);
  provider.gone = true;
  EXPECT_EQ(fetcher.Get("s", provider, {"db", "", ""}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(provider.gets, 3);
}

TEST(SharedFetcherTest, DescribeSecretFirstEndsAfterRevalidateForAndIsOffByDefault) {
  FakeClock clock(0);
  SharedFetcher::Options o = Opts(&clock);
  o.revalidate_for = std::chrono::minutes(1);
  SharedFetcher fetcher(o);
  VersionedProvider provider;
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  clock.AdvanceMillis(61'000);  // older than revalidate_for: read, no check
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.gets, 2);
  EXPECT_EQ(provider.describes, 0);
  // Metadata keys are always read.
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", "", true}).ok());
  clock.AdvanceMillis(20'000);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", "", true}).ok());
  EXPECT_EQ(provider.describes, 0);

  SharedFetcher off(Opts(&clock));
  ASSERT_TRUE(off.Get("s", provider, {"db", "", ""}).ok());
  clock.AdvanceMillis(20'000);
  ASSERT_TRUE(off.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.describes, 0);
}

TEST(SharedFetcherTest, ProvidersWithoutAVersionCheckAreReadAsBefore) {
  FakeClock clock(0);
  SharedFetcher::Options o = Opts(&clock);
  o.revalidate_for = std::chrono::hours(1);
  SharedFetcher fetcher(o);
  CountingProvider provider;  // CurrentVersionId: FailedPrecondition
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  clock.AdvanceMillis(20'000);
  ASSERT_TRUE(fetcher.Get("s", provider, {"db", "", ""}).ok());
  EXPECT_EQ(provider.calls(), 2u);
}

}  // namespace
}  // namespace coffer::provider
