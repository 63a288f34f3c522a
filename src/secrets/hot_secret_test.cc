// Many writers on ONE secret (bench/README.md "hot secret"): writers in one process are serialised
// by the secret's WriteLocks stripe, so none of them loses a revision race. The tests run with
// commit_retries = 0: a single in-process conflict would fail a request.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "secrets/messages.h"
#include "secrets/secret_id.h"
#include "secrets/service_test_fixture.h"
#include "secrets/write_locks.h"
#include "storage/sqlite/sqlite_store.h"

namespace coffer::secrets::testing {
namespace {

constexpr int kThreads = 32;
constexpr int kPutsPerThread = 50;

// Counts of each staging label over all versions of `id`, with IncludeDeprecated.
struct LabelCounts {
  std::size_t versions = 0;
  int current = 0;
  int previous = 0;
  int other = 0;
  std::string current_id;
  std::string previous_id;
};

LabelCounts CountLabels(Service& service, const CallContext& ctx, const std::string& id) {
  LabelCounts out;
  ListSecretVersionIdsRequest r{id, std::nullopt, std::nullopt, true};
  // Pages of at most 100: walk them all.
  for (;;) {
    auto page = service.ListSecretVersionIds(ctx, r);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    out.versions += page->versions.size();
    for (const auto& v : page->versions) {
      for (const auto& s : v.version_stages.value_or(std::vector<std::string>{})) {
        if (s == "AWSCURRENT") {
          ++out.current;
          out.current_id = v.version_id;
        } else if (s == "AWSPREVIOUS") {
          ++out.previous;
          out.previous_id = v.version_id;
        } else {
          ++out.other;
        }
      }
    }
    if (!page->next_token) return out;
    r.next_token = page->next_token;
  }
}

// The value a hammer thread wrote with token Token(tag) is "value-" + tag.
std::string TagOf(const std::string& version_id) { return version_id.substr(0, version_id.find('-', 1)); }

PutSecretValueRequest PutRequest(const std::string& id, const std::string& tag) {
  PutSecretValueRequest r;
  r.secret_id = id;
  r.value = Str("value-" + tag);
  r.client_request_token = Token(tag);
  return r;
}

// kThreads threads each put kPutsPerThread new versions of secret "hot" (created by the caller,
// whose ARN is `arn`); a third of them name it by ARN, a third by partial ARN. Returns the
// failures by status code.
std::map<StatusCode, int> Hammer(Service& service, const CallContext& ctx, const std::string& arn,
                                 int threads, int puts_per_thread) {
  std::mutex mu;
  std::map<StatusCode, int> failures;
  std::vector<std::thread> workers;
  const std::string partial_arn = arn.substr(0, arn.size() - kArnSuffixLength - 1);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string id = t % 3 == 0 ? "hot" : t % 3 == 1 ? arn : partial_arn;
      for (int i = 0; i < puts_per_thread; ++i) {
        const std::string tag = "t" + std::to_string(t) + "x" + std::to_string(i);
        auto r = service.PutSecretValue(ctx, PutRequest(id, tag));
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          ++failures[r.status().code()];
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return failures;
}

// Every put succeeded and left a consistent label set.
void ExpectAllLanded(Service& service, const CallContext& ctx, int threads, int puts_per_thread) {
  const LabelCounts labels = CountLabels(service, ctx, "hot");
  EXPECT_EQ(labels.versions, 1u + static_cast<std::size_t>(threads * puts_per_thread));
  EXPECT_EQ(labels.current, 1);
  EXPECT_EQ(labels.previous, 1);
  EXPECT_EQ(labels.other, 0);
  ASSERT_NE(labels.current_id, labels.previous_id);
  // The labels and the values agree.
  GetSecretValueRequest get;
  get.secret_id = "hot";
  auto current = service.GetSecretValue(ctx, get);
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_EQ(current->version_id, labels.current_id);
  EXPECT_EQ(current->value.string, "value-" + TagOf(labels.current_id));
  get.version_stage = "AWSPREVIOUS";
  auto previous = service.GetSecretValue(ctx, get);
  ASSERT_TRUE(previous.ok()) << previous.status().ToString();
  EXPECT_EQ(previous->version_id, labels.previous_id);
}

ServiceOptions NoRetriesNoCap() {
  ServiceOptions options;
  options.commit_retries = 0;  // an in-process conflict would surface as kThrottled
  options.max_versions = 1 + kThreads * kPutsPerThread;
  return options;
}

TEST_F(ServiceTest, HotSecretWritersAllSucceedInMemory) {
  Reconfigure(NoRetriesNoCap());
  auto created = Create("hot", "v0", Token("init"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const auto commits = store_.commit_count();

  const auto failures = Hammer(*service_, ctx_, created->arn, kThreads, kPutsPerThread);
  EXPECT_TRUE(failures.empty()) << failures.size() << " kinds of failure, first code "
                                << static_cast<int>(failures.begin()->first);
  EXPECT_EQ(store_.commit_count(), commits + kThreads * kPutsPerThread);
  ExpectAllLanded(*service_, ctx_, kThreads, kPutsPerThread);
}

TEST_F(ServiceTest, HotSecretWritersAllSucceedOnSqlite) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coffer-hot-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    storage::SqliteOptions sqlite_options;
    sqlite_options.path = (dir / "coffer.db").string();
    auto store = storage::SqliteStore::Open(sqlite_options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Service service(store->get(), envelope_.get(), &clock_, NoRetriesNoCap());

    CreateSecretRequest create;
    create.name = "hot";
    create.value = Str("v0");
    create.client_request_token = Token("init");
    auto created = service.CreateSecret(ctx_, create);
    ASSERT_TRUE(created.ok()) << created.status().ToString();

    const auto failures = Hammer(service, ctx_, created->arn, kThreads, kPutsPerThread);
    EXPECT_TRUE(failures.empty()) << failures.size() << " kinds of failure, first code "
                                  << static_cast<int>(failures.begin()->first);
    ExpectAllLanded(service, ctx_, kThreads, kPutsPerThread);
  }
  std::filesystem::remove_all(dir);
}

// With the default quota (100 versions, all created within 24 h and none prunable), a hot secret
// fills up: exactly the versions that fit are created, the rest get LimitExceeded
// (kResourceExhausted), never a conflict error.
TEST_F(ServiceTest, HotSecretPastTheVersionQuotaGetsLimitExceeded) {
  ServiceOptions options;
  options.commit_retries = 0;
  Reconfigure(options);
  auto created = Create("hot", "v0", Token("init"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  constexpr int kWriters = 8, kEach = 16;  // 128 puts; 99 fit beside the first version
  const auto failures = Hammer(*service_, ctx_, created->arn, kWriters, kEach);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures.begin()->first, StatusCode::kResourceExhausted);
  EXPECT_EQ(failures.begin()->second, kWriters * kEach - (options.max_versions - 1));
  const LabelCounts labels = CountLabels(*service_, ctx_, "hot");
  EXPECT_EQ(labels.versions, static_cast<std::size_t>(options.max_versions));
  EXPECT_EQ(labels.current, 1);
  EXPECT_EQ(labels.previous, 1);

  // A day later the unlabeled versions may be pruned, and puts succeed again.
  clock_.AdvanceMillis(kDayMs + 1);
  EXPECT_TRUE(Put("hot", "next", Token("next")).ok());
  EXPECT_EQ(CountLabels(*service_, ctx_, "hot").versions,
            static_cast<std::size_t>(options.max_versions));
}

// Writers of different kinds (values, tags, label moves) on one secret, by name and by ARN.
TEST_F(ServiceTest, MixedWritersOnOneSecretNeverConflict) {
  ServiceOptions options;
  options.commit_retries = 0;
  Reconfigure(options);
  auto created = Create("hot", "v0", Token("init"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string arn = created->arn;

  constexpr int kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  workers.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!service_->PutSecretValue(ctx_, PutRequest(arn, "p" + std::to_string(i))).ok()) {
        ++failures;
      }
    }
  });
  workers.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!service_->TagResource(ctx_, {"hot", {{"k" + std::to_string(i % 10), "v"}}}).ok()) {
        ++failures;
      }
    }
  });
  workers.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      UpdateSecretRequest u;
      u.secret_id = arn;
      u.description = "d" + std::to_string(i);
      if (!service_->UpdateSecret(ctx_, u).ok()) ++failures;
    }
  });
  workers.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      // Moves a custom label onto the initial version and off again.
      UpdateSecretVersionStageRequest s;
      s.secret_id = "hot";
      s.version_stage = "CUSTOM";
      if (i % 2 == 0) {
        s.move_to_version_id = Token("init");
      } else {
        s.remove_from_version_id = Token("init");
      }
      if (!service_->UpdateSecretVersionStage(ctx_, s).ok()) ++failures;
    }
  });
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  auto d = Describe("hot");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->description, "d" + std::to_string(kRounds - 1));
  ASSERT_TRUE(d->tags.has_value());
  EXPECT_EQ(d->tags->size(), 10u);
  const LabelCounts labels = CountLabels(*service_, ctx_, "hot");
  EXPECT_EQ(labels.versions, 1u + kRounds);
  EXPECT_EQ(labels.current, 1);
  EXPECT_EQ(labels.previous, 1);
  EXPECT_EQ(labels.other, 0);  // CUSTOM was moved on and off an even number of times
}

TEST(WriteLocksTest, StripeDependsOnRegionAndName) {
  EXPECT_EQ(WriteLocks::StripeOf("us-east-1", "a"), WriteLocks::StripeOf("us-east-1", "a"));
  EXPECT_LT(WriteLocks::StripeOf("us-east-1", "a"), WriteLocks::kStripes);
  // The separator keeps ("a", "b\nc") and ("a\nb", "c") apart in meaning; most names land on
  // different stripes.
  std::set<std::size_t> stripes;
  for (int i = 0; i < 64; ++i) stripes.insert(WriteLocks::StripeOf("r", "n" + std::to_string(i)));
  EXPECT_GT(stripes.size(), 48u);
}

}  // namespace
}  // namespace coffer::secrets::testing
