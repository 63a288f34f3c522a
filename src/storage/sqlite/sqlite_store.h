#pragma once

// SqliteStore: the embedded SQLite backend of SecretStore (storage/store.h).
//
// Layout: one database file in WAL mode (synchronous=FULL, foreign_keys=ON); the schema is in
// docs/design/storage-schema.md and storage/sqlite/schema.cc.
//
// Reads go to a small pool of read-only connections. WAL readers never block the writer nor each
// other; each read is one statement, hence one consistent snapshot, and sees every write that was
// acknowledged before it started.
//
// Writes use group commit. One writer thread owns the only read-write connection. Commit(),
// PutAccessKey(), PutIamEntity() and the other writes enqueue an operation and block until it is
// done. The writer takes everything queued (up to max_batch), runs BEGIN IMMEDIATE, applies each
// operation inside its own SAVEPOINT (a revision conflict or a constraint error rolls back only
// that operation), then one COMMIT, that is one WAL fsync for the whole batch, and only then
// completes the callers. If BEGIN or COMMIT fails, every operation of the batch fails and none is
// acknowledged.
// Another process (`coffer keys rotate`) may write the same file; the busy timeout covers waiting
// for its write lock.
//
// Files: Open() creates the database file with mode 0600 (and tightens an existing one to 0600);
// SQLite creates the -wal and -shm files with the database file's mode. The parent directory is
// the caller's (create it 0700).
//
// Integrity: Open() fails with kDataLoss on a file that is not a SQLite database, and, when
// quick_check_on_open is set, on one whose pages are damaged (PRAGMA quick_check, which reads the
// whole file once: about a second per GB). A database written by a newer schema fails with
// kFailedPrecondition.
//
// Path ":memory:" keeps everything in one private in-memory connection shared, under a mutex, by
// readers and the writer. Nothing is durable then; it exists for tests and throwaway --dev runs.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "storage/sqlite/connection.h"
#include "storage/store.h"

namespace coffer::storage {

struct SqliteOptions {
  // Database file path, or ":memory:". Default: none (required).
  std::string path;
  // Read-only connections in the reader pool (file databases only). Default: 4.
  int reader_connections = 4;
  // How long a connection waits for a lock held by another connection or process.
  // Default: 5000 ms.
  int busy_timeout_ms = 5000;
  // Most write operations applied in one transaction (one fsync). Default: 512.
  std::size_t max_batch = 512;
  // How long the writer waits, after the first queued write, for more writes to join the batch.
  // Default: 0 µs: batches form on their own while the previous commit's fsync runs.
  int commit_delay_us = 0;
  // WAL size, in pages, at which a commit also checkpoints the WAL into the database.
  // Default: 1000 (SQLite's default).
  int wal_autocheckpoint_pages = 1000;
  // Page cache per connection, in KiB. Default: 8192 KiB (8 MiB).
  int cache_size_kib = 8192;
  // Run PRAGMA quick_check on open and refuse a damaged database. Default: true.
  bool quick_check_on_open = true;
};

class SqliteStore final : public SecretStore {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  // Finishes every queued write, then stops the writer thread and closes the connections.
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // --- SecretStore ---
  Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& arn) override;
  Result<std::optional<SecretRecord>> GetSecretByName(const std::string& region,
                                                      const std::string& name) override;
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& region) override;
  Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) override;
  Result<std::int64_t> CountSecrets() override;
  Result<std::vector<SecretRecord>> ListAllSecrets() override;

  Result<std::vector<VersionRecord>> ListVersions(const std::string& arn) override;
  Result<std::optional<VersionRecord>> GetVersion(const std::string& arn,
                                                  const std::string& version_id) override;
  Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& arn,
                                                         const std::string& stage) override;

  Status Commit(const Mutation& mutation) override;

  Status PutAccessKey(const AccessKeyRecord& key) override;
  Result<std::optional<AccessKeyRecord>> GetAccessKey(const std::string& access_key_id) override;
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override;
  Status DeleteAccessKey(const std::string& access_key_id) override;

  Result<std::optional<IamEntityRecord>> GetIamEntity(const std::string& kind,
                                                      const std::string& key) override;
  Result<std::vector<IamEntityRecord>> ListIamEntities(const std::string& kind) override;
  Status PutIamEntity(const IamEntityRecord& record, std::int64_t expected_revision) override;
  Status DeleteIamEntity(const std::string& kind, const std::string& key,
                         std::int64_t expected_revision) override;

  Result<std::vector<WrappedRef>> ListStaleWrapped(std::uint32_t current_key_version,
                                                   std::size_t limit) override;
  Result<bool> ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                              std::uint32_t new_key_version) override;

  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Status PutSetting(const std::string& key, const std::string& value) override;

  // --- SQLite specific ---
  // PRAGMA integrity_check (full = true; reads every page and index) or quick_check, on a reader
  // connection (one snapshot; writes go on). OK, or kDataLoss with SQLite's first complaint.
  Status CheckIntegrity(bool full);
  // Write operations the writer thread has committed (or failed) so far, and the transactions it
  // ran for them; their ratio is the mean group-commit batch size.
  struct WriterStats {
    std::uint64_t operations = 0;
    std::uint64_t transactions = 0;
  };
  WriterStats writer_stats() const;

 private:
  // A write operation: runs on the writer connection inside a SAVEPOINT.
  using Connection = sqlite::Connection;
  using WriteFn = std::function<Status(Connection&)>;
  struct WriteOp {
    WriteFn apply;
    std::promise<Status> done;
  };

  // A reader connection lent to one caller; returned to the pool on destruction.
  class ReaderLease;

  explicit SqliteStore(SqliteOptions options);

  Status Init();
  Status ConfigureWriter(Connection& conn);
  Status ConfigureReader(Connection& conn);

  ReaderLease AcquireReader();
  void ReleaseReader(Connection* conn);

  // Enqueues `fn` for the writer thread and waits until its batch has committed.
  Status SubmitWrite(WriteFn fn);
  void WriterLoop();
  void RunBatch(std::vector<WriteOp>& batch);

  const SqliteOptions options_;
  const bool in_memory_;

  // The read-write connection. The writer thread uses it while holding writer_mutex_; in memory
  // mode readers take writer_mutex_ too, and use it as well.
  std::unique_ptr<Connection> writer_conn_;
  std::mutex writer_mutex_;

  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex readers_mutex_;
  std::condition_variable reader_available_;
  std::vector<Connection*> idle_readers_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<WriteOp> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> stat_operations_{0};
  std::atomic<std::uint64_t> stat_transactions_{0};
  std::thread writer_;
};

}  // namespace coffer::storage
