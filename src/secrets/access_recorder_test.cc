// LastAccessedDate through the AccessRecorder: reads queue, a background flush commits.

#include "secrets/access_recorder.h"

#include <chrono>
#include <thread>

#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

class AccessRecorderTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceOptions options;
    options.access_flush_interval_ms = 3600 * 1000;  // flushes only when the test says so
    Reconfigure(options);
    auto created = Create("a", "one", Token("v1"));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    arn_ = created->arn;
    ASSERT_TRUE(Put("a", "two", Token("v2")).ok());
  }

  // LastAccessedDate of each version, from ListSecretVersionIds with IncludeDeprecated.
  std::map<std::string, std::optional<std::int64_t>> LastAccessed() {
    std::map<std::string, std::optional<std::int64_t>> out;
    auto listed = service_->ListSecretVersionIds(ctx_, {"a", std::nullopt, std::nullopt, true});
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (listed.ok()) {
      for (const auto& v : listed->versions) out[v.version_id] = v.last_accessed_date_ms;
    }
    return out;
  }
  std::optional<std::int64_t> StoredLastAccessed(const std::string& version_id) {
    auto v = store_.GetVersion(arn_, version_id);
    EXPECT_TRUE(v.ok() && v->has_value());
    return v.ok() && v->has_value() ? (*v)->last_accessed_ms : std::nullopt;
  }

  std::string arn_;
};

TEST_F(AccessRecorderTest, ReadDoesNotCommitUntilTheFlush) {
  const auto commits = store_.commit_count();
  ASSERT_TRUE(Get("a").ok());
  ASSERT_TRUE(Get("a", Token("v1")).ok());
  EXPECT_EQ(store_.commit_count(), commits);  // nothing written on the read path
  EXPECT_FALSE(StoredLastAccessed(Token("v2")).has_value());

  service_->FlushAccessRecords();
  // One commit for the secret, carrying both versions.
  EXPECT_EQ(store_.commit_count(), commits + 1);
  const std::int64_t day = StartOfUtcDay(kStartMs);
  EXPECT_EQ(StoredLastAccessed(Token("v1")), day);
  EXPECT_EQ(StoredLastAccessed(Token("v2")), day);
  const auto listed = LastAccessed();
  EXPECT_EQ(listed.at(Token("v1")), day);
  EXPECT_EQ(listed.at(Token("v2")), day);

  // Once stored, further reads of the day queue nothing.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Get("a").ok());
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits + 1);
}

TEST_F(AccessRecorderTest, PendingReadsAreVisibleBeforeTheFlush) {
  ASSERT_TRUE(Get("a").ok());
  const std::int64_t day = StartOfUtcDay(kStartMs);
  EXPECT_FALSE(StoredLastAccessed(Token("v2")).has_value());
  EXPECT_EQ(Describe("a")->last_accessed_date_ms, day);
  EXPECT_EQ(LastAccessed().at(Token("v2")), day);
  EXPECT_FALSE(LastAccessed().at(Token("v1")).has_value());
}

TEST_F(AccessRecorderTest, ManyReadsOfOneDayAreOneWrite) {
  const auto commits = store_.commit_count();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Get("a").ok());
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits + 1);
  // The next day's read is a new write, at the new day.
  clock_.AdvanceMillis(kDayMs);
  ASSERT_TRUE(Get("a").ok());
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits + 2);
  EXPECT_EQ(StoredLastAccessed(Token("v2")), StartOfUtcDay(kStartMs + kDayMs));
}

TEST_F(AccessRecorderTest, FlushSurvivesAConcurrentWriteAndVanishedSecrets) {
  ASSERT_TRUE(Create("b", "x").ok());
  ASSERT_TRUE(Get("a").ok());
  ASSERT_TRUE(Get("b").ok());
  // The secret changes between the read and the flush: the flush re-reads its revision.
  ASSERT_TRUE(Put("a", "three", Token("v3")).ok());
  // And "b" is gone entirely.
  ASSERT_TRUE(Delete("b", std::nullopt, true).ok());
  const auto commits = store_.commit_count();
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits + 1);  // "a" only
  EXPECT_EQ(StoredLastAccessed(Token("v2")), StartOfUtcDay(kStartMs));
  EXPECT_EQ(GetString("a"), "three");
}

TEST_F(AccessRecorderTest, AConflictFromElsewhereIsRetried) {
  ASSERT_TRUE(Get("a").ok());
  store_.FailNextCommit(Status::Aborted("injected conflict"));
  service_->FlushAccessRecords();
  EXPECT_EQ(StoredLastAccessed(Token("v2")), StartOfUtcDay(kStartMs));
}

TEST_F(AccessRecorderTest, ShutdownFlushesAndEndsRecording) {
  ASSERT_TRUE(Get("a").ok());
  const auto commits = store_.commit_count();
  service_->Shutdown();
  EXPECT_EQ(store_.commit_count(), commits + 1);
  EXPECT_EQ(StoredLastAccessed(Token("v2")), StartOfUtcDay(kStartMs));
  clock_.AdvanceMillis(kDayMs);
  ASSERT_TRUE(Get("a").ok());  // still answers, records nothing
  service_->Shutdown();
  service_.reset();
  EXPECT_EQ(store_.commit_count(), commits + 1);
}

TEST_F(AccessRecorderTest, DestroyingTheServiceWritesNothing) {
  ASSERT_TRUE(Get("a").ok());
  const auto commits = store_.commit_count();
  service_.reset();  // the store may be gone before the Service: no write here
  EXPECT_EQ(store_.commit_count(), commits);
}

TEST_F(AccessRecorderTest, BackgroundThreadFlushesOnItsOwn) {
  ServiceOptions options;
  options.access_flush_interval_ms = 20;
  Reconfigure(options);
  ASSERT_TRUE(Get("a").ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!StoredLastAccessed(Token("v2")).has_value() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(StoredLastAccessed(Token("v2")), StartOfUtcDay(kStartMs));
}

TEST(AccessRecorderUnitTest, ThresholdWakesTheFlusherEarly) {
  storage::MemorySecretStore store;
  WriteLocks locks;
  storage::Mutation m;
  m.secret.arn = "arn:aws:secretsmanager:r:000000000000:secret:s-abcdef";
  m.secret.region = "r";
  m.secret.name = "s";
  m.secret.meta_json = "{}";
  for (int i = 0; i < 3; ++i) {
    storage::VersionRecord v;
    v.version_id = "v" + std::to_string(i);
    m.new_versions.push_back(v);
  }
  ASSERT_TRUE(store.Commit(m).ok());
  auto secret = store.GetSecretByArn(m.secret.arn);
  ASSERT_TRUE(secret.ok() && secret->has_value());

  AccessRecorderOptions options;
  options.flush_interval = std::chrono::hours(1);
  options.flush_threshold = 3;
  AccessRecorder recorder(&store, &locks, options);
  recorder.Record(**secret, "v0", 1000);
  recorder.Record(**secret, "v0", 2000);  // a later day replaces the pending one
  recorder.Record(**secret, "v1", 1000);
  EXPECT_EQ(recorder.pending(), 2u);
  recorder.Record(**secret, "v2", 1000);  // the third entry wakes the flusher
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store.commit_count() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  recorder.Flush();  // waits for a flush in progress
  auto v0 = store.GetVersion(m.secret.arn, "v0");
  ASSERT_TRUE(v0.ok() && v0->has_value());
  EXPECT_EQ((*v0)->last_accessed_ms, 2000);
  EXPECT_EQ(store.commit_count(), 2);
  // An earlier day never overwrites a later one.
  recorder.Record(**secret, "v0", 1000);
  recorder.Flush();
  v0 = store.GetVersion(m.secret.arn, "v0");
  EXPECT_EQ((*v0)->last_accessed_ms, 2000);
  EXPECT_EQ(store.commit_count(), 2);
}

}  // namespace
}  // namespace coffer::secrets::testing
