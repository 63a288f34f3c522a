// Concurrent writers on one secret: optimistic concurrency with retries never loses a label move.

#include <thread>

#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

TEST_F(ServiceTest, ConcurrentPutsKeepLabelsConsistent) {
  constexpr int kThreads = 8;
  constexpr int kPutsPerThread = 12;  // 1 + 96 versions stays under the 100-version quota
  ServiceOptions options;
  options.commit_retries = 1000;
  Reconfigure(options);
  ASSERT_TRUE(Create("hot", "v0", Token("init")).ok());

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        const std::string tag = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!Put("hot", "value-" + tag, Token(tag)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  ListSecretVersionIdsRequest r{"hot", std::nullopt, std::nullopt, true};
  auto versions = service_->ListSecretVersionIds(ctx_, r);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->versions.size(), 1u + kThreads * kPutsPerThread);
  int current = 0, previous = 0, other = 0;
  for (const auto& v : versions->versions) {
    for (const auto& s : v.version_stages.value_or(std::vector<std::string>{})) {
      if (s == "AWSCURRENT") {
        ++current;
      } else if (s == "AWSPREVIOUS") {
        ++previous;
      } else {
        ++other;
      }
    }
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(previous, 1);
  EXPECT_EQ(other, 0);
  // AWSPREVIOUS sits on the version committed just before the current one.
  const auto stages = Stages("hot");
  ASSERT_EQ(stages.size(), 2u);
  std::string current_id;
  for (const auto& [id, labels] : stages) {
    if (labels == std::vector<std::string>{"AWSCURRENT"}) current_id = id;
  }
  EXPECT_EQ(GetString("hot"), "value-" + current_id.substr(0, current_id.find('-', 3)));
}

TEST_F(ServiceTest, ConcurrentCreatesOfOneNameHaveOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> created{0}, exists{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = Create("race", "v" + std::to_string(t), Token("r" + std::to_string(t)));
      if (r.ok()) {
        ++created;
      } else if (r.status().code() == StatusCode::kAlreadyExists) {
        ++exists;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(exists.load(), kThreads - 1);
}

TEST_F(ServiceTest, RevisionConflictIsRetriedTransparently) {
  ASSERT_TRUE(Create("c", "one", Token("v1")).ok());
  store_.FailNextCommit(Status::Aborted("injected conflict"));
  auto r = Put("c", "two", Token("v2"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(GetString("c"), "two");
}

TEST_F(ServiceTest, StoreFailureSurfacesAndChangesNothing) {
  ASSERT_TRUE(Create("c", "one", Token("v1")).ok());
  const auto before = Stages("c");
  store_.FailNextCommit(Status::Unavailable("disk gone"));
  EXPECT_THAT(Put("c", "two", Token("v2")).status(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(Stages("c"), before);
  EXPECT_EQ(GetString("c"), "one");
}

TEST_F(ServiceTest, EndlessConflictsEndInThrottling) {
  ServiceOptions options;
  options.commit_retries = 0;
  Reconfigure(options);
  ASSERT_TRUE(Create("c", "one", Token("v1")).ok());
  // Conflicts come only from other processes now; the injected one stands in for them.
  store_.FailNextCommit(Status::Aborted("injected conflict"));
  EXPECT_THAT(Put("c", "two", Token("v2")).status(),
              StatusIs(StatusCode::kThrottled, std::string(msg::kTooManyChanges)));
  EXPECT_EQ(GetString("c"), "one");
}

}  // namespace
}  // namespace coffer::secrets::testing
