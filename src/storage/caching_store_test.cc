// CachingStore: the conformance suite (over the in-memory fake and over SQLite), plus what the
// suite cannot see: that reads are served from memory, invalidation on every commit and rewrap,
// the generation guard against a commit racing a fill, and the size bounds.

#include "storage/caching_store.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_store.h"
#include "storage/store_conformance.h"
#include "storage/testing/memory_store.h"

namespace coffer::storage {
namespace {

// --- the conformance suite through the cache ---

std::unique_ptr<SecretStore> CachedFake() {
  return std::make_unique<CachingStore>(std::make_unique<MemorySecretStore>());
}

std::unique_ptr<SecretStore> CachedSqlite() {
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{":memory:"});
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return nullptr;
  }
  return std::make_unique<CachingStore>(std::move(*opened));
}

// A tiny cache (4 shards of 2 entries): every test also runs with constant evictions.
std::unique_ptr<SecretStore> CachedTiny() {
  CachingOptions options;
  options.max_entries = 8;
  options.shards = 4;
  return std::make_unique<CachingStore>(std::make_unique<MemorySecretStore>(), options);
}

INSTANTIATE_TEST_SUITE_P(Caching, SecretStoreConformance,
                         ::testing::Values(StoreFactory{"OverFake", &CachedFake},
                                           StoreFactory{"OverSqliteMemory", &CachedSqlite},
                                           StoreFactory{"TinyOverFake", &CachedTiny}),
                         StoreFactoryName);

// --- a backend that counts reads and can run code in the middle of one ---

class SpyStore final : public SecretStore {
 public:
  // Runs once, inside the next cached read, after the backend has answered and before the answer
  // goes back to the cache: the moment a concurrent commit would do the most harm.
  void RunDuringNextRead(std::function<void()> fn) { during_read_ = std::move(fn); }

  int by_arn = 0;
  int by_name = 0;
  int by_stage = 0;

  Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& a) override {
    ++by_arn;
    auto r = inner_.GetSecretByArn(a);
    Interleave();
    return r;
  }
  Result<std::optional<SecretRecord>> GetSecretByName(const std::string& r,
                                                      const std::string& n) override {
    ++by_name;
    auto found = inner_.GetSecretByName(r, n);
    Interleave();
    return found;
  }
  Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& a,
                                                         const std::string& s) override {
    ++by_stage;
    auto r = inner_.GetVersionByStage(a, s);
    Interleave();
    return r;
  }
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& r) override {
    return inner_.ListSecrets(r);
  }
  Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) override {
    return inner_.ListDueForPurge(now_ms);
  }
  Result<std::int64_t> CountSecrets() override { return inner_.CountSecrets(); }
  Result<std::vector<SecretRecord>> ListAllSecrets() override { return inner_.ListAllSecrets(); }
  Result<std::optional<IamEntityRecord>> GetIamEntity(const std::string& k,
                                                      const std::string& key) override {
    return inner_.GetIamEntity(k, key);
  }
  Result<std::vector<IamEntityRecord>> ListIamEntities(const std::string& k) override {
    return inner_.ListIamEntities(k);
  }
  Status PutIamEntity(const IamEntityRecord& r, std::int64_t rev) override {
    return inner_.PutIamEntity(r, rev);
  }
  Status DeleteIamEntity(const std::string& k, const std::string& key,
                         std::int64_t rev) override {
    return inner_.DeleteIamEntity(k, key, rev);
  }
  Result<std::vector<VersionRecord>> ListVersions(const std::string& a) override {
    return inner_.ListVersions(a);
  }
  Result<std::optional<VersionRecord>> GetVersion(const std::string& a,
                                                  const std::string& v) override {
    return inner_.GetVersion(a, v);
  }
  Status Commit(const Mutation& m) override { return inner_.Commit(m); }
  Status PutAccessKey(const AccessKeyRecord& k) override { return inner_.PutAccessKey(k); }
  Result<std::optional<AccessKeyRecord>> GetAccessKey(const std::string& id) override {
    return inner_.GetAccessKey(id);
  }
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override {
    return inner_.ListAccessKeys();
  }
  Status DeleteAccessKey(const std::string& id) override { return inner_.DeleteAccessKey(id); }
  Result<std::vector<WrappedRef>> ListStaleWrapped(std::uint32_t v, std::size_t n) override {
    return inner_.ListStaleWrapped(v, n);
  }
  Result<bool> ReplaceWrapped(const WrappedRef& r, const std::string& c, std::uint32_t v) override {
    return inner_.ReplaceWrapped(r, c, v);
  }
  Result<std::optional<std::string>> GetSetting(const std::string& k) override {
    return inner_.GetSetting(k);
  }
  Status PutSetting(const std::string& k, const std::string& v) override {
    return inner_.PutSetting(k, v);
  }

 private:
  void Interleave() {
    if (!during_read_) return;
    auto fn = std::move(during_read_);
    during_read_ = nullptr;
    fn();
  }

  MemorySecretStore inner_;
  std::function<void()> during_read_;
};

constexpr char kRegion[] = "us-east-1";

std::string ArnFor(const std::string& name) {
  return "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf";
}

SecretRecord Secret(const std::string& name) {
  SecretRecord s;
  s.arn = ArnFor(name);
  s.region = kRegion;
  s.name = name;
  s.created_ms = 1000;
  s.meta_json = "{}";
  return s;
}

VersionRecord Version(const std::string& id, std::vector<std::string> stages,
                      std::string ciphertext = "") {
  VersionRecord v;
  v.version_id = id;
  v.stages = std::move(stages);
  v.created_ms = 2000;
  v.ciphertext = ciphertext.empty() ? "ct-" + id : std::move(ciphertext);
  v.key_version = 1;
  return v;
}

class CachingStoreTest : public ::testing::Test {
 protected:
  explicit CachingStoreTest(CachingOptions options = {}) {
    auto spy = std::make_unique<SpyStore>();
    spy_ = spy.get();
    cache_ = std::make_unique<CachingStore>(std::move(spy), options);
  }

  // Creates `name` with version v1 as AWSCURRENT; returns its revision (1).
  void Create(const std::string& name) {
    Mutation m;
    m.secret = Secret(name);
    m.new_versions.push_back(Version("v1", {"AWSCURRENT"}));
    ASSERT_TRUE(cache_->Commit(m).ok());
  }

  // Adds version `id` as AWSCURRENT, moving the label off `previous`.
  Status PutVersion(const std::string& name, std::int64_t expected_revision,
                    const std::string& id, const std::string& previous) {
    Mutation m;
    m.secret = Secret(name);
    m.expected_revision = expected_revision;
    VersionUpdate moved;
    moved.version_id = previous;
    moved.stages = std::vector<std::string>{"AWSPREVIOUS"};
    m.version_updates.push_back(moved);
    m.new_versions.push_back(Version(id, {"AWSCURRENT"}));
    return cache_->Commit(m);
  }

  std::string CurrentVersionId(const std::string& name) {
    auto v = cache_->GetVersionByStage(ArnFor(name), "AWSCURRENT");
    EXPECT_TRUE(v.ok());
    return v.ok() && *v ? (*v)->version_id : "(none)";
  }

  SpyStore* spy_;
  std::unique_ptr<CachingStore> cache_;
};

TEST_F(CachingStoreTest, RepeatedReadsAreServedFromMemory) {
  Create("db");
  for (int i = 0; i < 5; ++i) {
    auto by_name = cache_->GetSecretByName(kRegion, "db");
    ASSERT_TRUE(by_name.ok() && by_name->has_value());
    EXPECT_EQ((*by_name)->arn, ArnFor("db"));
    auto by_arn = cache_->GetSecretByArn(ArnFor("db"));
    ASSERT_TRUE(by_arn.ok() && by_arn->has_value());
    EXPECT_EQ((*by_arn)->revision, 1);
    auto current = cache_->GetVersionByStage(ArnFor("db"), "AWSCURRENT");
    ASSERT_TRUE(current.ok() && current->has_value());
    EXPECT_EQ((*current)->ciphertext, "ct-v1");
  }
  EXPECT_EQ(spy_->by_name, 1);
  EXPECT_EQ(spy_->by_arn, 0);  // filled by the lookup by name
  EXPECT_EQ(spy_->by_stage, 1);
  EXPECT_EQ(cache_->stats().misses, 2u);
}

TEST_F(CachingStoreTest, NotFoundIsCachedUntilACommitOfThatName) {
  for (int i = 0; i < 3; ++i) {
    auto missing = cache_->GetSecretByName(kRegion, "later");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
    auto missing_arn = cache_->GetSecretByArn(ArnFor("later"));
    ASSERT_TRUE(missing_arn.ok());
    EXPECT_FALSE(missing_arn->has_value());
  }
  EXPECT_EQ(spy_->by_name, 1);
  EXPECT_EQ(spy_->by_arn, 1);
  Create("later");
  auto found = cache_->GetSecretByName(kRegion, "later");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE(cache_->GetSecretByArn(ArnFor("later"))->has_value());
  // The same name in another region is another key.
  EXPECT_FALSE(cache_->GetSecretByName("eu-west-1", "later")->has_value());
}

TEST_F(CachingStoreTest, CommitInvalidatesTheSecretAndItsVersions) {
  Create("db");
  EXPECT_EQ(CurrentVersionId("db"), "v1");
  EXPECT_EQ(cache_->GetSecretByName(kRegion, "db").value()->revision, 1);
  EXPECT_FALSE(cache_->GetVersionByStage(ArnFor("db"), "AWSPREVIOUS")->has_value());

  ASSERT_TRUE(PutVersion("db", 1, "v2", "v1").ok());
  EXPECT_EQ(CurrentVersionId("db"), "v2");
  auto previous = cache_->GetVersionByStage(ArnFor("db"), "AWSPREVIOUS");
  ASSERT_TRUE(previous.ok() && previous->has_value());
  EXPECT_EQ((*previous)->version_id, "v1");
  EXPECT_EQ(cache_->GetSecretByName(kRegion, "db").value()->revision, 2);
  EXPECT_EQ(cache_->GetSecretByArn(ArnFor("db")).value()->revision, 2);
}

TEST_F(CachingStoreTest, FailedCommitStillInvalidates) {
  Create("db");
  EXPECT_EQ(CurrentVersionId("db"), "v1");
  // A stale expected_revision: kAborted, nothing changes, and the next read goes to the backend.
  EXPECT_EQ(PutVersion("db", 7, "v2", "v1").code(), StatusCode::kAborted);
  const int before = spy_->by_stage;
  EXPECT_EQ(CurrentVersionId("db"), "v1");
  EXPECT_EQ(spy_->by_stage, before + 1);
}

TEST_F(CachingStoreTest, PurgeInvalidatesByArnAndByName) {
  Create("gone");
  ASSERT_TRUE(cache_->GetSecretByName(kRegion, "gone")->has_value());
  ASSERT_TRUE(cache_->GetSecretByArn(ArnFor("gone"))->has_value());
  EXPECT_EQ(CurrentVersionId("gone"), "v1");
  Mutation purge;
  purge.secret = Secret("gone");
  purge.expected_revision = 1;
  purge.purge = true;
  ASSERT_TRUE(cache_->Commit(purge).ok());
  EXPECT_FALSE(cache_->GetSecretByName(kRegion, "gone")->has_value());
  EXPECT_FALSE(cache_->GetSecretByArn(ArnFor("gone"))->has_value());
  EXPECT_FALSE(cache_->GetVersionByStage(ArnFor("gone"), "AWSCURRENT")->has_value());
}

TEST_F(CachingStoreTest, PurgeCarryingOnlyTheArnStillDropsTheNameHit) {
  Create("gone");
  ASSERT_TRUE(cache_->GetSecretByName(kRegion, "gone")->has_value());
  Mutation purge;
  purge.secret.arn = ArnFor("gone");
  purge.expected_revision = 1;
  purge.purge = true;
  ASSERT_TRUE(cache_->Commit(purge).ok());
  // The name entry points at the ARN, whose entry is gone: a miss, answered by the backend.
  EXPECT_FALSE(cache_->GetSecretByName(kRegion, "gone")->has_value());
}

TEST_F(CachingStoreTest, RenameDropsTheOldName) {
  Create("old");
  ASSERT_TRUE(cache_->GetSecretByName(kRegion, "old")->has_value());
  Mutation rename;
  rename.secret = Secret("old");
  rename.secret.name = "new";
  rename.expected_revision = 1;
  ASSERT_TRUE(cache_->Commit(rename).ok());
  EXPECT_FALSE(cache_->GetSecretByName(kRegion, "old")->has_value());
  auto renamed = cache_->GetSecretByName(kRegion, "new");
  ASSERT_TRUE(renamed.ok() && renamed->has_value());
  EXPECT_EQ((*renamed)->arn, ArnFor("old"));
}

TEST_F(CachingStoreTest, ReplaceWrappedInvalidatesTheCiphertext) {
  Create("db");
  auto before = cache_->GetVersionByStage(ArnFor("db"), "AWSCURRENT");
  ASSERT_TRUE(before.ok() && before->has_value());
  WrappedRef ref;
  ref.kind = WrappedRef::Kind::kSecretVersion;
  ref.arn = ArnFor("db");
  ref.version_id = "v1";
  ref.ciphertext = (*before)->ciphertext;
  ref.key_version = 1;
  auto replaced = cache_->ReplaceWrapped(ref, "rewrapped", 2);
  ASSERT_TRUE(replaced.ok() && *replaced);
  auto after = cache_->GetVersionByStage(ArnFor("db"), "AWSCURRENT");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->ciphertext, "rewrapped");
  EXPECT_EQ((*after)->key_version, 2u);
}

// The generation guard: a commit that lands (and invalidates) while a reader is between its
// backend read and its fill must win; the reader may return the old row, but never caches it.
TEST_F(CachingStoreTest, CommitDuringAVersionReadIsNotOverwrittenByTheStaleFill) {
  Create("db");
  spy_->RunDuringNextRead([this] { ASSERT_TRUE(PutVersion("db", 1, "v2", "v1").ok()); });
  EXPECT_EQ(CurrentVersionId("db"), "v1");  // read before the commit: the old answer
  EXPECT_EQ(CurrentVersionId("db"), "v2");  // not cached: the backend's new answer
  EXPECT_GE(cache_->stats().dropped_inserts, 1u);
}

TEST_F(CachingStoreTest, CommitDuringAnArnReadIsNotOverwrittenByTheStaleFill) {
  Create("db");
  spy_->RunDuringNextRead([this] { ASSERT_TRUE(PutVersion("db", 1, "v2", "v1").ok()); });
  EXPECT_EQ(cache_->GetSecretByArn(ArnFor("db")).value()->revision, 1);
  EXPECT_EQ(cache_->GetSecretByArn(ArnFor("db")).value()->revision, 2);
}

TEST_F(CachingStoreTest, CommitDuringANameReadIsNotOverwrittenByTheStaleFill) {
  Create("db");
  spy_->RunDuringNextRead([this] { ASSERT_TRUE(PutVersion("db", 1, "v2", "v1").ok()); });
  EXPECT_EQ(cache_->GetSecretByName(kRegion, "db").value()->revision, 1);
  EXPECT_EQ(cache_->GetSecretByName(kRegion, "db").value()->revision, 2);
  EXPECT_EQ(cache_->GetSecretByArn(ArnFor("db")).value()->revision, 2);
}

TEST_F(CachingStoreTest, CreateDuringANegativeReadIsNotHiddenByTheStaleFill) {
  spy_->RunDuringNextRead([this] { Create("racy"); });
  EXPECT_FALSE(cache_->GetSecretByName(kRegion, "racy")->has_value());
  EXPECT_TRUE(cache_->GetSecretByName(kRegion, "racy")->has_value());
}

// The by-name fill of the ARN entry is guarded by the global generation: a rename committed
// during the read (which touches neither the old name's shard nor, necessarily, the same shard)
// must not leave the old row cached under the ARN.
TEST_F(CachingStoreTest, RenameDuringANameReadDoesNotCacheTheOldRowByArn) {
  Create("old");
  spy_->RunDuringNextRead([this] {
    Mutation rename;
    rename.secret = Secret("old");
    rename.secret.name = "new";
    rename.expected_revision = 1;
    ASSERT_TRUE(cache_->Commit(rename).ok());
  });
  EXPECT_EQ(cache_->GetSecretByName(kRegion, "old").value()->name, "old");  // the old answer
  EXPECT_EQ(cache_->GetSecretByArn(ArnFor("old")).value()->name, "new");
  EXPECT_FALSE(cache_->GetSecretByName(kRegion, "old")->has_value());
}

class SmallCachingStoreTest : public CachingStoreTest {
 protected:
  static CachingOptions Small() {
    CachingOptions options;
    options.max_entries = 64;
    options.max_bytes = 64 * 1024;
    options.shards = 4;
    return options;
  }
  SmallCachingStoreTest() : CachingStoreTest(Small()) {}
};

TEST_F(SmallCachingStoreTest, StaysWithinItsEntryBound) {
  for (int i = 0; i < 500; ++i) {
    const std::string name = "s" + std::to_string(i);
    Create(name);
    ASSERT_TRUE(cache_->GetSecretByName(kRegion, name)->has_value());
    ASSERT_EQ(CurrentVersionId(name), "v1");
    ASSERT_LE(cache_->stats().entries, 64u);
  }
  // Evicted or not, every answer is still right.
  for (int i = 0; i < 500; i += 7) {
    const std::string name = "s" + std::to_string(i);
    auto s = cache_->GetSecretByName(kRegion, name);
    ASSERT_TRUE(s.ok() && s->has_value());
    EXPECT_EQ((*s)->name, name);
  }
}

TEST_F(SmallCachingStoreTest, StaysWithinItsByteBound) {
  Mutation m;
  m.secret = Secret("big");
  m.new_versions.push_back(Version("v1", {"AWSCURRENT"}, std::string(40 * 1024, 'x')));
  ASSERT_TRUE(cache_->Commit(m).ok());
  for (int i = 0; i < 3; ++i) {
    auto v = cache_->GetVersionByStage(ArnFor("big"), "AWSCURRENT");
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ((*v)->ciphertext.size(), 40u * 1024);
    EXPECT_LE(cache_->stats().bytes, 64u * 1024);
  }
  // Many labels nobody has: remembered, but only a few per secret.
  Create("labels");
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(
        cache_->GetVersionByStage(ArnFor("labels"), "L" + std::to_string(i))->has_value());
  }
  EXPECT_LE(cache_->stats().bytes, 64u * 1024);
  EXPECT_EQ(CurrentVersionId("labels"), "v1");
}

// Readers racing one writer: once the writer is done, every reader sees its last commit.
TEST(CachingStoreConcurrencyTest, ReadersSeeTheLastCommitOnceWritesStop) {
  CachingStore cache(std::make_unique<MemorySecretStore>());
  Mutation create;
  create.secret = Secret("hot");
  create.new_versions.push_back(Version("v0", {"AWSCURRENT"}));
  ASSERT_TRUE(cache.Commit(create).ok());

  constexpr int kWrites = 200;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        (void)cache.GetSecretByName(kRegion, "hot");
        (void)cache.GetVersionByStage(ArnFor("hot"), "AWSCURRENT");
      }
    });
  }
  for (int i = 1; i <= kWrites; ++i) {
    Mutation m;
    m.secret = Secret("hot");
    m.expected_revision = i;
    VersionUpdate old;
    old.version_id = "v" + std::to_string(i - 1);
    old.stages = std::vector<std::string>{};
    m.version_updates.push_back(old);
    m.new_versions.push_back(Version("v" + std::to_string(i), {"AWSCURRENT"}));
    ASSERT_TRUE(cache.Commit(m).ok()) << i;
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(cache.GetSecretByName(kRegion, "hot").value()->revision, kWrites + 1);
  EXPECT_EQ(cache.GetSecretByArn(ArnFor("hot")).value()->revision, kWrites + 1);
  EXPECT_EQ(cache.GetVersionByStage(ArnFor("hot"), "AWSCURRENT").value()->version_id,
            "v" + std::to_string(kWrites));
}

}  // namespace
}  // namespace coffer::storage
