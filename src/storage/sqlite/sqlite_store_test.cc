#include "storage/sqlite/sqlite_store.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/store_conformance.h"

namespace coffer::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coffer-sqlite-XXXXXX");
    char* made = ::mkdtemp(pattern.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// --- the conformance suite, on a file database and on ":memory:" ---

// Owns the temp dir of the store it wraps, so the dir goes when the store does.
class TempFileStore final : public SecretStore {
 public:
  TempFileStore() {
    SqliteOptions options;
    options.path = dir_.File("coffer.db");
    Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.status().ToString();
      return;
    }
    store_ = std::move(*opened);
  }
  bool ok() const { return store_ != nullptr; }

  Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& a) override {
    return store_->GetSecretByArn(a);
  }
  Result<std::optional<SecretRecord>> GetSecretByName(const std::string& r,
                                                      const std::string& n) override {
    return store_->GetSecretByName(r, n);
  }
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& r) override {
    return store_->ListSecrets(r);
  }
  Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) override {
    return store_->ListDueForPurge(now_ms);
  }
  Result<std::int64_t> CountSecrets() override { return store_->CountSecrets(); }
  Result<std::vector<SecretRecord>> ListAllSecrets() override { return store_->ListAllSecrets(); }
  Result<std::optional<IamEntityRecord>> GetIamEntity(const std::string& k,
                                                      const std::string& key) override {
    return store_->GetIamEntity(k, key);
  }
  Result<std::vector<IamEntityRecord>> ListIamEntities(const std::string& k) override {
    return store_->ListIamEntities(k);
  }
  Status PutIamEntity(const IamEntityRecord& r, std::int64_t rev) override {
    return store_->PutIamEntity(r, rev);
  }
  Status DeleteIamEntity(const std::string& k, const std::string& key,
                         std::int64_t rev) override {
    return store_->DeleteIamEntity(k, key, rev);
  }
  Result<std::vector<VersionRecord>> ListVersions(const std::string& a) override {
    return store_->ListVersions(a);
  }
  Result<std::optional<VersionRecord>> GetVersion(const std::string& a,
                                                  const std::string& v) override {
    return store_->GetVersion(a, v);
  }
  Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& a,
                                                         const std::string& s) override {
    return store_->GetVersionByStage(a, s);
  }
  Status Commit(const Mutation& m) override { return store_->Commit(m); }
  Status PutAccessKey(const AccessKeyRecord& k) override { return store_->PutAccessKey(k); }
  Result<std::optional<AccessKeyRecord>> GetAccessKey(const std::string& id) override {
    return store_->GetAccessKey(id);
  }
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override {
    return store_->ListAccessKeys();
  }
  Status DeleteAccessKey(const std::string& id) override { return store_->DeleteAccessKey(id); }
  Result<std::vector<WrappedRef>> ListStaleWrapped(std::uint32_t v, std::size_t n) override {
    return store_->ListStaleWrapped(v, n);
  }
  Result<bool> ReplaceWrapped(const WrappedRef& r, const std::string& c, std::uint32_t v) override {
    return store_->ReplaceWrapped(r, c, v);
  }
  Result<std::optional<std::string>> GetSetting(const std::string& k) override {
    return store_->GetSetting(k);
  }
  Status PutSetting(const std::string& k, const std::string& v) override {
    return store_->PutSetting(k, v);
  }

 private:
  TempDir dir_;  // destroyed after store_
  std::unique_ptr<SqliteStore> store_;
};

std::unique_ptr<SecretStore> MakeFileStore() {
  auto store = std::make_unique<TempFileStore>();
  if (!store->ok()) return nullptr;
  return store;
}

std::unique_ptr<SecretStore> MakeMemoryStore() {
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{":memory:"});
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return nullptr;
  }
  return std::move(*opened);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SecretStoreConformance,
                         ::testing::Values(StoreFactory{"File", &MakeFileStore},
                                           StoreFactory{"Memory", &MakeMemoryStore}),
                         StoreFactoryName);

// --- helpers for the SQLite-specific tests ---

std::unique_ptr<SqliteStore> OpenOrDie(const SqliteOptions& options) {
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  return std::move(*opened);
}

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return OpenOrDie(options);
}

SecretRecord Secret(const std::string& name) {
  SecretRecord s;
  s.arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf";
  s.region = "us-east-1";
  s.name = name;
  s.created_ms = 1000;
  s.meta_json = "{}";
  return s;
}

VersionRecord Version(const std::string& id, std::vector<std::string> stages,
                      std::string ciphertext) {
  VersionRecord v;
  v.version_id = id;
  v.stages = std::move(stages);
  v.created_ms = 2000;
  v.ciphertext = std::move(ciphertext);
  v.key_version = 1;
  return v;
}

int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Runs one SQL text on the file with a private connection (outside the store).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// --- files ---

TEST(SqliteStoreTest, DatabaseWalAndShmFilesAreOwnerOnly) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  mode_t old_umask = ::umask(022);  // a permissive umask must not leak into the modes
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(Mutation{Secret("a"), 0, {}, {}, {}, false}).ok());
    EXPECT_EQ(ModeOf(path), 0600);
    EXPECT_EQ(ModeOf(path + "-wal"), 0600);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600);
  }
  ::umask(old_umask);
}

TEST(SqliteStoreTest, OpenTightensAnExistingLooseFile) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  { ASSERT_NE(OpenOrDie(path), nullptr); }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ModeOf(path), 0600);
}

TEST(SqliteStoreTest, ReopenKeepsEverything) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  SecretRecord s = Secret("persisted");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    Mutation m{s, 0, {Version("v1", {"AWSCURRENT"}, "ciphertext-1")}, {}, {}, false};
    ASSERT_TRUE(store->Commit(m).ok());
    AccessKeyRecord key;
    key.access_key_id = "AKID";
    key.secret_ciphertext = "wrapped";
    ASSERT_TRUE(store->PutAccessKey(key).ok());
    ASSERT_TRUE(store->PutSetting("instance_id", "i-1").ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Result<std::optional<SecretRecord>> got = store->GetSecretByName("us-east-1", "persisted");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 1);
  Result<std::optional<VersionRecord>> v = store->GetVersionByStage(s.arn, "AWSCURRENT");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->ciphertext, "ciphertext-1");
  Result<std::optional<AccessKeyRecord>> key = store->GetAccessKey("AKID");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->secret_ciphertext, "wrapped");
  Result<std::optional<std::string>> setting = store->GetSetting("instance_id");
  ASSERT_TRUE(setting.ok() && setting->has_value());
  EXPECT_EQ(**setting, "i-1");
  // The schema was not re-applied.
  EXPECT_TRUE(store->CheckIntegrity(/*full=*/true).ok());
}

// A version-1 database (written before the IAM table existed) is migrated on open, keeping its
// rows; the migration is recorded.
TEST(SqliteStoreTest, OpenMigratesAVersionOneDatabase) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  SecretRecord s = Secret("old");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Commit(Mutation{s, 0, {Version("v1", {"AWSCURRENT"}, "c")}, {}, {}, false})
                    .ok());
  }
  // Turn the file back into what schema version 1 wrote.
  RawExec(path,
          "DROP TABLE iam_entities; DROP INDEX secrets_by_created; "
          "DELETE FROM schema_migrations WHERE version = 2; PRAGMA user_version = 1;");

  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Result<std::optional<SecretRecord>> got = store->GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  ASSERT_TRUE(store->PutIamEntity(IamEntityRecord{"user", "alice", "{}", 0}, 0).ok());
  Result<std::optional<IamEntityRecord>> user = store->GetIamEntity("user", "alice");
  ASSERT_TRUE(user.ok() && user->has_value());
  EXPECT_EQ((*user)->revision, 1);
  Result<std::vector<SecretRecord>> all = store->ListAllSecrets();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  EXPECT_TRUE(store->CheckIntegrity(/*full=*/true).ok());
  store.reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT user_version FROM pragma_user_version), "
                               "(SELECT count(*) FROM schema_migrations)",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 2);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 2);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// --- damaged files ---

TEST(SqliteStoreTest, GarbageFileFailsOpenWithDataLoss) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>('a' + i % 26));
  WriteFile(path, garbage);

  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{path});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr("not a database"));
  EXPECT_THAT(opened.status().message(), HasSubstr(path));
}

TEST(SqliteStoreTest, TruncatedDatabaseFailsOpenWithDataLoss) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    Mutation m{Secret("big"), 0, {}, {}, {}, false};
    for (int i = 0; i < 200; ++i) {
      m.new_versions.push_back(
          Version("v" + std::to_string(i), {}, std::string(3000, static_cast<char>('A' + i % 26))));
    }
    ASSERT_TRUE(store->Commit(m).ok());
  }  // the last close checkpoints the WAL into the file and removes it
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 400'000u);
  std::filesystem::resize_file(path, size / 2);  // a half-written copy

  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{path});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr("damaged"));
}

TEST(SqliteStoreTest, DamagedPageFailsOpenWithQuickCheck) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    Mutation m{Secret("big"), 0, {}, {}, {}, false};
    for (int i = 0; i < 50; ++i) {
      m.new_versions.push_back(Version("v" + std::to_string(i), {"S" + std::to_string(i)}, "c"));
    }
    ASSERT_TRUE(store->Commit(m).ok());
  }
  {
    // Scribble over the b-tree header of page 4 (a table or index root), as a torn write would.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 3);
    f.write("\x0d\xff\xff\xff\xff\xff\xff\xff", 8);
  }
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{path});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
  EXPECT_THAT(opened.status().message(), HasSubstr("quick_check"));
}

TEST(SqliteStoreTest, NewerSchemaFailsOpen) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  { ASSERT_NE(OpenOrDie(path), nullptr); }
  RawExec(path, "PRAGMA user_version = 99");
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(SqliteOptions{path});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("newer"));
}

TEST(SqliteStoreTest, RejectsBadOptions) {
  EXPECT_EQ(SqliteStore::Open(SqliteOptions{}).status().code(), StatusCode::kInvalidArgument);
  SqliteOptions options{":memory:"};
  options.reader_connections = 0;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), StatusCode::kInvalidArgument);
}

// --- errors carry no data ---

TEST(SqliteStoreTest, ErrorMessagesCarryNoRowData) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const std::string kCiphertext = "TOPSECRET-CIPHERTEXT-BYTES";
  SecretRecord s = Secret("leaky");
  ASSERT_TRUE(
      store->Commit(Mutation{s, 0, {Version("v1", {"L"}, kCiphertext)}, {}, {}, false}).ok());
  std::vector<Status> failures = {
      store->Commit(Mutation{s, 1, {Version("v1", {}, kCiphertext)}, {}, {}, false}),
      store->Commit(Mutation{s, 1, {Version("v2", {"L"}, kCiphertext)}, {}, {}, false}),
      store->Commit(Mutation{s, 5, {Version("v3", {}, kCiphertext)}, {}, {}, false}),
  };
  for (const Status& status : failures) {
    ASSERT_FALSE(status.ok());
    EXPECT_THAT(status.message(), Not(HasSubstr("TOPSECRET")));
    EXPECT_THAT(status.message(), Not(HasSubstr("leaky")));
  }
}

// --- group commit ---

TEST(SqliteStoreTest, OneBatchCommitsItsGoodWritesAndFailsOnlyTheBadOne) {
  TempDir dir;
  SqliteOptions options{dir.File("coffer.db")};
  options.max_batch = 3;
  options.commit_delay_us = 2'000'000;  // wait (up to 2 s) until all three are queued
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const SqliteStore::WriterStats before = store->writer_stats();

  Status good1, bad, good2;
  std::thread t1([&] { good1 = store->Commit(Mutation{Secret("one"), 0, {}, {}, {}, false}); });
  std::thread t2([&] { bad = store->Commit(Mutation{Secret("ghost"), 3, {}, {}, {}, false}); });
  std::thread t3([&] { good2 = store->Commit(Mutation{Secret("two"), 0, {}, {}, {}, false}); });
  t1.join();
  t2.join();
  t3.join();

  EXPECT_TRUE(good1.ok()) << good1.ToString();
  EXPECT_TRUE(good2.ok()) << good2.ToString();
  EXPECT_EQ(bad.code(), StatusCode::kAborted);
  const SqliteStore::WriterStats after = store->writer_stats();
  EXPECT_EQ(after.operations - before.operations, 3u);
  EXPECT_EQ(after.transactions - before.transactions, 1u);
  Result<std::int64_t> count = store->CountSecrets();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

TEST(SqliteStoreTest, ConcurrentWritersShareTransactions) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("coffer.db"));
  ASSERT_NE(store, nullptr);
  const SqliteStore::WriterStats before = store->writer_stats();
  constexpr int kThreads = 32;
  constexpr int kCommits = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SecretRecord s = Secret("w" + std::to_string(t));
      for (int i = 0; i < kCommits; ++i) {
        if (!store->Commit(Mutation{s, i, {}, {}, {}, false}).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const SqliteStore::WriterStats after = store->writer_stats();
  EXPECT_EQ(after.operations - before.operations, static_cast<std::uint64_t>(kThreads * kCommits));
  EXPECT_LT(after.transactions - before.transactions, after.operations - before.operations);
}

TEST(SqliteStoreTest, WholeBatchFailsWhenTheWriteLockIsUnavailable) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  SqliteOptions options{path};
  options.busy_timeout_ms = 50;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);

  // Another process (say `coffer keys rotate`) holds the write lock.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  Status blocked = store->Commit(Mutation{Secret("blocked"), 0, {}, {}, {}, false});
  EXPECT_EQ(blocked.code(), StatusCode::kUnavailable) << blocked.ToString();

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  EXPECT_TRUE(store->Commit(Mutation{Secret("blocked"), 0, {}, {}, {}, false}).ok());
  Result<std::optional<SecretRecord>> got = store->GetSecretByName("us-east-1", "blocked");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 1);
}

TEST(SqliteStoreTest, ASecondStoreOnTheSameFileSeesCommittedWrites) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  auto server = OpenOrDie(path);
  auto rotator = OpenOrDie(path);  // like `coffer keys rotate` next to a running server
  ASSERT_NE(server, nullptr);
  ASSERT_NE(rotator, nullptr);
  SecretRecord s = Secret("shared");
  ASSERT_TRUE(
      server->Commit(Mutation{s, 0, {Version("v1", {"AWSCURRENT"}, "old")}, {}, {}, false}).ok());
  Result<std::vector<WrappedRef>> stale = rotator->ListStaleWrapped(2, 10);
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->size(), 1u);
  Result<bool> swapped = rotator->ReplaceWrapped((*stale)[0], "new", 2);
  ASSERT_TRUE(swapped.ok() && *swapped);
  Result<std::optional<VersionRecord>> v = server->GetVersion(s.arn, "v1");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->ciphertext, "new");
  EXPECT_EQ((*v)->key_version, 2u);
}

// --- durability: SIGKILL mid-load ---

struct Ack {
  std::int32_t writer;    // -1: the child hit an error
  std::int32_t revision;  // acknowledged revision of secret "d<writer>"
};

constexpr int kDurabilityWriters = 8;

std::string DurableCiphertext(int writer, int revision) {
  return "ct-" + std::to_string(writer) + "-" + std::to_string(revision);
}

// The child: writers commit to their own secret forever, reporting each acknowledged revision.
[[noreturn]] void RunDurabilityChild(const std::string& path, int ack_fd) {
  SqliteOptions options{path};
  Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
  if (!opened.ok()) {
    Ack ack{-1, 0};
    (void)!::write(ack_fd, &ack, sizeof ack);
    ::_exit(1);
  }
  SqliteStore* store = opened->get();
  std::vector<std::thread> writers;
  for (int w = 0; w < kDurabilityWriters; ++w) {
    writers.emplace_back([store, ack_fd, w] {
      SecretRecord s = Secret("d" + std::to_string(w));
      for (int revision = 1;; ++revision) {
        std::string id = "v" + std::to_string(revision);
        Mutation m{s,  revision - 1, {Version(id, {}, DurableCiphertext(w, revision))},
                   {}, {},           false};
        if (revision > 1) {
          // Move AWSCURRENT along, so label rows are exercised too.
          m.new_versions[0].stages = {"AWSCURRENT"};
          m.version_updates.push_back(
              {"v" + std::to_string(revision - 1), std::vector<std::string>{}, std::nullopt});
        }
        Ack ack{store->Commit(m).ok() ? w : -1, revision};
        if (::write(ack_fd, &ack, sizeof ack) != sizeof ack || ack.writer < 0) ::_exit(2);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ::_exit(0);
}

TEST(SqliteDurabilityTest, EveryAcknowledgedCommitSurvivesSigkill) {
  TempDir dir;
  std::string path = dir.File("coffer.db");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // The parent has no other threads here (no store is open), so fork() is safe.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    RunDurabilityChild(path, fds[1]);
  }
  ::close(fds[1]);

  std::map<int, int> acked;  // writer -> highest acknowledged revision
  int total = 0;
  bool child_failed = false;
  auto consume = [&](const Ack& ack) {
    if (ack.writer < 0) {
      child_failed = true;
      return;
    }
    acked[ack.writer] = std::max(acked[ack.writer], ack.revision);
    ++total;
  };
  auto read_ack = [&](Ack* ack) {
    char* p = reinterpret_cast<char*>(ack);
    std::size_t got = 0;
    while (got < sizeof *ack) {
      ssize_t n = ::read(fds[0], p + got, sizeof *ack - got);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  };

  // Let the load run until enough commits are acknowledged (or 30 s pass), then kill mid-load.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (total < 1500 && !child_failed && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    Ack ack;
    if (!read_ack(&ack)) break;
    consume(ack);
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  // Acks already in the pipe were acknowledged before the kill.
  Ack ack;
  while (read_ack(&ack)) consume(ack);
  ::close(fds[0]);

  ASSERT_FALSE(child_failed) << "a commit failed in the child";
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "the child exited early";
  ASSERT_GT(total, 100) << "too little load before the kill";

  auto store = OpenOrDie(path);  // runs quick_check
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->CheckIntegrity(/*full=*/true).ok());
  for (const auto& [writer, revision] : acked) {
    SecretRecord s = Secret("d" + std::to_string(writer));
    Result<std::optional<SecretRecord>> got = store->GetSecretByArn(s.arn);
    ASSERT_TRUE(got.ok() && got->has_value()) << "writer " << writer;
    // Everything acknowledged is there; a commit in flight at the kill may be there too.
    EXPECT_GE((*got)->revision, revision) << "writer " << writer;
    // Each commit added one version atomically with its revision.
    Result<std::vector<VersionRecord>> versions = store->ListVersions(s.arn);
    ASSERT_TRUE(versions.ok());
    EXPECT_EQ(static_cast<std::int64_t>(versions->size()), (*got)->revision);
    const std::string last = "v" + std::to_string((*got)->revision);
    Result<std::optional<VersionRecord>> current = store->GetVersionByStage(s.arn, "AWSCURRENT");
    ASSERT_TRUE(current.ok());
    if ((*got)->revision > 1) {
      ASSERT_TRUE(current->has_value());
      EXPECT_EQ((*current)->version_id, last);
    }
    for (int r = 1; r <= revision; ++r) {
      Result<std::optional<VersionRecord>> v = store->GetVersion(s.arn, "v" + std::to_string(r));
      ASSERT_TRUE(v.ok() && v->has_value()) << "writer " << writer << " revision " << r;
      EXPECT_EQ((*v)->ciphertext, DurableCiphertext(writer, r));
    }
  }
}

}  // namespace
}  // namespace coffer::storage
