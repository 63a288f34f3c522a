#include "storage/sqlite/sqlite_store.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "core/clock.h"
#include "storage/sqlite/mutation.h"
#include "storage/sqlite/schema.h"

namespace coffer::storage {

using sqlite::ApplyMutation;
using sqlite::Connection;
using sqlite::DecodeStages;
using sqlite::SqliteError;
using sqlite::Statement;

namespace {

constexpr char kMemoryPath[] = ":memory:";

std::string ErrnoText(int err) { return std::strerror(err); }

// Creates the database file 0600 if missing, and tightens an existing file (and its -wal, -shm
// and -journal companions) to 0600. SQLite creates -wal and -shm with the database's mode.
Status SecureDatabaseFiles(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Unavailable("opening database file " + path + ": " + ErrnoText(errno));
  }
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = Status::Unavailable("stat " + path + ": " + ErrnoText(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::FailedPrecondition("database path " + path + " is not a regular file");
  } else if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
    status = Status::Unavailable("chmod 0600 " + path + ": " + ErrnoText(errno));
  }
  ::close(fd);
  COFFER_RETURN_IF_ERROR(status);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::string companion = path + suffix;
    if (::stat(companion.c_str(), &st) != 0) continue;  // absent
    if ((st.st_mode & 07777) != 0600 && ::chmod(companion.c_str(), 0600) != 0) {
      return Status::Unavailable("chmod 0600 " + companion + ": " + ErrnoText(errno));
    }
  }
  return Status::Ok();
}

Status WithDataLossHint(Status status, const std::string& path) {
  if (status.code() != StatusCode::kDataLoss) return status;
  return Status(StatusCode::kDataLoss,
                status.message() + "; " + path +
                    " is damaged or is not a coffer database (restore it from a backup)");
}

// --- row readers; column lists must match the SELECTs below ---

// Column lists as macros so that SQL texts stay compile-time literals.
#define COFFER_SQL_SECRET_COLUMNS \
  "arn, region, name, created_ms, deletion_date_ms, meta_json, revision"

SecretRecord ReadSecret(const Statement& s) {
  SecretRecord r;
  r.arn = s.ColumnText(0);
  r.region = s.ColumnText(1);
  r.name = s.ColumnText(2);
  r.created_ms = s.ColumnInt64(3);
  r.deletion_date_ms = s.ColumnOptionalInt64(4);
  r.meta_json = s.ColumnText(5);
  r.revision = s.ColumnInt64(6);
  return r;
}

// version_id, stages, created_ms, last_accessed_ms, key_version[, ciphertext]
Result<VersionRecord> ReadVersion(const Statement& s, bool with_ciphertext) {
  VersionRecord v;
  v.version_id = s.ColumnText(0);
  COFFER_ASSIGN_OR_RETURN(v.stages, DecodeStages(s.ColumnText(1)));
  v.created_ms = s.ColumnInt64(2);
  v.last_accessed_ms = s.ColumnOptionalInt64(3);
  v.key_version = static_cast<std::uint32_t>(s.ColumnInt64(4));
  if (with_ciphertext) v.ciphertext = s.ColumnBlob(5);
  return v;
}

#define COFFER_SQL_ACCESS_KEY_COLUMNS \
  "access_key_id, principal_arn, user_name, status, created_ms, key_version, secret_ciphertext"

AccessKeyRecord ReadAccessKey(const Statement& s) {
  AccessKeyRecord k;
  k.access_key_id = s.ColumnText(0);
  k.principal_arn = s.ColumnText(1);
  k.user_name = s.ColumnText(2);
  k.status = s.ColumnText(3);
  k.created_ms = s.ColumnInt64(4);
  k.key_version = static_cast<std::uint32_t>(s.ColumnInt64(5));
  k.secret_ciphertext = s.ColumnBlob(6);
  return k;
}

Result<std::vector<SecretRecord>> CollectSecrets(Statement& stmt, std::string_view context) {
  std::vector<SecretRecord> out;
  while (true) {
    COFFER_ASSIGN_OR_RETURN(bool row, stmt.Step(context));
    if (!row) return out;
    out.push_back(ReadSecret(stmt));
  }
}

Result<std::optional<SecretRecord>> OneSecret(Statement& stmt, std::string_view context) {
  COFFER_ASSIGN_OR_RETURN(bool row, stmt.Step(context));
  if (!row) return std::optional<SecretRecord>();
  return std::optional<SecretRecord>(ReadSecret(stmt));
}

Result<std::optional<VersionRecord>> OneVersion(Statement& stmt, std::string_view context) {
  COFFER_ASSIGN_OR_RETURN(bool row, stmt.Step(context));
  if (!row) return std::optional<VersionRecord>();
  COFFER_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(stmt, /*with_ciphertext=*/true));
  return std::optional<VersionRecord>(std::move(v));
}

// Runs a cached parameterless statement (BEGIN, SAVEPOINT, ...).
Status RunSql(Connection& c, std::string_view sql, std::string_view context) {
  COFFER_ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
  return stmt.Run(context);
}

}  // namespace

// --- reader pool ---

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, Connection* conn) : store_(store), conn_(conn) {}
  ReaderLease(SqliteStore* store, std::unique_lock<std::mutex> lock)
      : store_(store), conn_(store->writer_conn_.get()), memory_lock_(std::move(lock)) {}
  ReaderLease(ReaderLease&& other) noexcept
      : store_(other.store_),
        conn_(std::exchange(other.conn_, nullptr)),
        memory_lock_(std::move(other.memory_lock_)) {}
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (conn_ != nullptr && !memory_lock_.owns_lock()) store_->ReleaseReader(conn_);
  }

  Connection& conn() { return *conn_; }

 private:
  SqliteStore* store_;
  Connection* conn_;
  std::unique_lock<std::mutex> memory_lock_;  // held in memory mode: the shared connection
};

SqliteStore::ReaderLease SqliteStore::AcquireReader() {
  if (in_memory_) return ReaderLease(this, std::unique_lock<std::mutex>(writer_mutex_));
  std::unique_lock<std::mutex> lock(readers_mutex_);
  reader_available_.wait(lock, [this] { return !idle_readers_.empty(); });
  Connection* conn = idle_readers_.back();
  idle_readers_.pop_back();
  return ReaderLease(this, conn);
}

void SqliteStore::ReleaseReader(Connection* conn) {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    idle_readers_.push_back(conn);
  }
  reader_available_.notify_one();
}

// --- open / close ---

SqliteStore::SqliteStore(SqliteOptions options)
    : options_(std::move(options)), in_memory_(options_.path == kMemoryPath) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("sqlite: no database path given");
  if (options.reader_connections < 1) {
    return Status::InvalidArgument("sqlite: reader_connections must be at least 1");
  }
  if (options.max_batch < 1) return Status::InvalidArgument("sqlite: max_batch must be >= 1");
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  Status status = store->Init();
  if (!status.ok()) return WithDataLossHint(status, options.path);
  return store;
}

Status SqliteStore::ConfigureWriter(Connection& conn) {
  if (!in_memory_) {
    // The first statement that reads the file: a file that is not SQLite fails here.
    COFFER_ASSIGN_OR_RETURN(std::string mode,
                            conn.QueryText("PRAGMA journal_mode = WAL", "enabling WAL mode"));
    if (mode != "wal") {
      return Status::Unavailable("enabling WAL mode: the database stayed in " + mode + " mode");
    }
  }
  COFFER_RETURN_IF_ERROR(
      conn.Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF; "
                "PRAGMA wal_autocheckpoint = " +
                    std::to_string(options_.wal_autocheckpoint_pages) +
                    "; PRAGMA cache_size = " + std::to_string(-options_.cache_size_kib) + ";",
                "configuring the write connection"));
  // Fail now, not on the first write, if the pragma did not take.
  COFFER_ASSIGN_OR_RETURN(std::string fk, conn.QueryText("PRAGMA foreign_keys", "checking"));
  if (fk != "1") return Status::Internal("sqlite: foreign keys could not be enabled");
  return Status::Ok();
}

Status SqliteStore::ConfigureReader(Connection& conn) {
  return conn.Exec("PRAGMA query_only = ON; PRAGMA trusted_schema = OFF; PRAGMA cache_size = " +
                       std::to_string(-options_.cache_size_kib) + ";",
                   "configuring a read connection");
}

Status SqliteStore::Init() {
  if (!in_memory_) COFFER_RETURN_IF_ERROR(SecureDatabaseFiles(options_.path));

  COFFER_ASSIGN_OR_RETURN(
      writer_conn_,
      Connection::Open(options_.path,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                       options_.busy_timeout_ms));
  std::string context = "opening database " + options_.path;
  COFFER_RETURN_IF_ERROR(ConfigureWriter(*writer_conn_).WithContext(context));
  if (options_.quick_check_on_open) COFFER_RETURN_IF_ERROR(CheckIntegrity(/*full=*/false));
  COFFER_RETURN_IF_ERROR(
      sqlite::Migrate(*writer_conn_, SystemClock::Get()->NowMillis()).WithContext(context));

  if (!in_memory_) {
    // WAL mode has created -wal and -shm by now (with the database's mode); make sure.
    COFFER_RETURN_IF_ERROR(SecureDatabaseFiles(options_.path));
    for (int i = 0; i < options_.reader_connections; ++i) {
      COFFER_ASSIGN_OR_RETURN(
          std::unique_ptr<Connection> reader,
          Connection::Open(options_.path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           options_.busy_timeout_ms));
      COFFER_RETURN_IF_ERROR(ConfigureReader(*reader).WithContext(context));
      idle_readers_.push_back(reader.get());
      readers_.push_back(std::move(reader));
    }
  }

  writer_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // Readers first: closing the last connection (the writer) checkpoints and removes the WAL.
  idle_readers_.clear();
  readers_.clear();
  writer_conn_.reset();
}

Status SqliteStore::CheckIntegrity(bool full) {
  const char* pragma = full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)";
  Result<std::string> verdict = [&]() -> Result<std::string> {
    if (!in_memory_ && !readers_.empty()) {
      // A reader checks one snapshot without holding up the writer.
      ReaderLease r = AcquireReader();
      return r.conn().QueryText(pragma, "checking database integrity");
    }
    // During Open (no readers yet) and in memory mode: the write connection.
    std::lock_guard<std::mutex> lock(writer_mutex_);
    return writer_conn_->QueryText(pragma, "checking database integrity");
  }();
  if (!verdict.ok()) return verdict.status();
  if (*verdict != "ok") {
    return Status::DataLoss(std::string(full ? "PRAGMA integrity_check" : "PRAGMA quick_check") +
                            " failed on " + options_.path + ": " + *verdict);
  }
  return Status::Ok();
}

SqliteStore::WriterStats SqliteStore::writer_stats() const {
  return WriterStats{stat_operations_.load(), stat_transactions_.load()};
}

// --- group commit ---

Status SqliteStore::SubmitWrite(WriteFn fn) {
  WriteOp op{std::move(fn), {}};
  std::future<Status> done = op.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (stopping_) return Status::Unavailable("sqlite: the store is shutting down");
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  return done.get();
}

void SqliteStore::WriterLoop() {
  std::vector<WriteOp> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been written
      if (options_.commit_delay_us > 0 && !stopping_ && queue_.size() < options_.max_batch) {
        queue_cv_.wait_for(lock, std::chrono::microseconds(options_.commit_delay_us),
                           [this] { return stopping_ || queue_.size() >= options_.max_batch; });
      }
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    batch.clear();
  }
}

void SqliteStore::RunBatch(std::vector<WriteOp>& batch) {
  std::vector<Status> results(batch.size());
  {
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Connection& c = *writer_conn_;

    // Set once the batch can no longer commit; every operation that had succeeded then fails.
    Status batch_failure = RunSql(c, "BEGIN IMMEDIATE", "group commit: beginning a transaction");
    for (std::size_t i = 0; i < batch.size() && batch_failure.ok(); ++i) {
      batch_failure = RunSql(c, "SAVEPOINT op", "group commit: opening a savepoint");
      if (!batch_failure.ok()) break;
      results[i] = batch[i].apply(c);
      if (!c.InTransaction()) {
        // SQLite rolled the whole transaction back (I/O error, disk full, out of memory).
        batch_failure = results[i].ok()
                            ? Status::Internal("group commit: the transaction was rolled back")
                            : results[i];
        break;
      }
      if (results[i].ok()) {
        batch_failure = RunSql(c, "RELEASE op", "group commit: releasing a savepoint");
      } else {
        batch_failure = RunSql(c, "ROLLBACK TO op", "group commit: rolling back a savepoint");
        if (batch_failure.ok()) {
          batch_failure = RunSql(c, "RELEASE op", "group commit: releasing a savepoint");
        }
      }
    }
    if (batch_failure.ok()) {
      batch_failure = RunSql(c, "COMMIT", "group commit: committing");
    }
    if (!batch_failure.ok()) {
      if (c.InTransaction()) (void)RunSql(c, "ROLLBACK", "group commit: rolling back");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // Operations that never ran, or ran and succeeded, share the batch's failure; an
        // operation that failed on its own keeps its own (more precise) error.
        if (results[i].ok()) results[i] = batch_failure;
      }
    }
  }
  stat_operations_.fetch_add(batch.size());
  stat_transactions_.fetch_add(1);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
}

// --- writes ---

Status SqliteStore::Commit(const Mutation& mutation) {
  return SubmitWrite([&mutation](Connection& c) { return ApplyMutation(c, mutation); });
}

Status SqliteStore::PutAccessKey(const AccessKeyRecord& key) {
  if (key.access_key_id.empty()) return Status::InvalidArgument("access key id is empty");
  return SubmitWrite([&key](Connection& c) -> Status {
    COFFER_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare(
            "INSERT INTO access_keys (access_key_id, principal_arn, user_name, status, "
            "created_ms, key_version, secret_ciphertext) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT (access_key_id) DO UPDATE SET principal_arn = excluded.principal_arn, "
            "user_name = excluded.user_name, status = excluded.status, "
            "created_ms = excluded.created_ms, key_version = excluded.key_version, "
            "secret_ciphertext = excluded.secret_ciphertext"));
    s.BindText(1, key.access_key_id)
        .BindText(2, key.principal_arn)
        .BindText(3, key.user_name)
        .BindText(4, key.status)
        .BindInt64(5, key.created_ms)
        .BindInt64(6, key.key_version)
        .BindBlob(7, key.secret_ciphertext);
    return s.Run("storing an access key");
  });
}

Status SqliteStore::DeleteAccessKey(const std::string& access_key_id) {
  return SubmitWrite([&access_key_id](Connection& c) -> Status {
    COFFER_ASSIGN_OR_RETURN(Statement s,
                            c.Prepare("DELETE FROM access_keys WHERE access_key_id = ?1"));
    s.BindText(1, access_key_id);
    COFFER_RETURN_IF_ERROR(s.Run("deleting an access key"));
    if (c.Changes() == 0) return Status::NotFound("access key not found");
    return Status::Ok();
  });
}

Status SqliteStore::PutIamEntity(const IamEntityRecord& record, std::int64_t expected_revision) {
  if (record.kind.empty() || record.key.empty()) {
    return Status::InvalidArgument("IAM entity kind and key must not be empty");
  }
  if (expected_revision < 0) return Status::InvalidArgument("negative expected revision");
  return SubmitWrite([&record, expected_revision](Connection& c) -> Status {
    if (expected_revision == 0) {
      // ON CONFLICT DO NOTHING: an existing row is a revision mismatch, not a constraint error.
      COFFER_ASSIGN_OR_RETURN(
          Statement s, c.Prepare("INSERT INTO iam_entities (kind, key, json, revision) "
                                 "VALUES (?1, ?2, ?3, 1) ON CONFLICT (kind, key) DO NOTHING"));
      s.BindText(1, record.kind).BindText(2, record.key).BindText(3, record.json);
      COFFER_RETURN_IF_ERROR(s.Run("storing an IAM entity"));
    } else {
      COFFER_ASSIGN_OR_RETURN(
          Statement s, c.Prepare("UPDATE iam_entities SET json = ?3, revision = ?4 + 1 "
                                 "WHERE kind = ?1 AND key = ?2 AND revision = ?4"));
      s.BindText(1, record.kind)
          .BindText(2, record.key)
          .BindText(3, record.json)
          .BindInt64(4, expected_revision);
      COFFER_RETURN_IF_ERROR(s.Run("updating an IAM entity"));
    }
    if (c.Changes() == 0) return Status::Aborted("IAM entity revision mismatch");
    return Status::Ok();
  });
}

Status SqliteStore::DeleteIamEntity(const std::string& kind, const std::string& key,
                                    std::int64_t expected_revision) {
  if (kind.empty() || key.empty()) {
    return Status::InvalidArgument("IAM entity kind and key must not be empty");
  }
  return SubmitWrite([&kind, &key, expected_revision](Connection& c) -> Status {
    COFFER_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("DELETE FROM iam_entities WHERE kind = ?1 AND key = ?2 AND revision = ?3"));
    s.BindText(1, kind).BindText(2, key).BindInt64(3, expected_revision);
    COFFER_RETURN_IF_ERROR(s.Run("deleting an IAM entity"));
    if (c.Changes() == 1) return Status::Ok();
    // Nothing deleted: tell an absent row from a stale revision.
    COFFER_ASSIGN_OR_RETURN(
        Statement probe,
        c.Prepare("SELECT revision FROM iam_entities WHERE kind = ?1 AND key = ?2"));
    probe.BindText(1, kind).BindText(2, key);
    COFFER_ASSIGN_OR_RETURN(bool row, probe.Step("reading an IAM entity's revision"));
    if (!row) return Status::NotFound("IAM entity not found");
    return Status::Aborted("IAM entity revision mismatch");
  });
}

Status SqliteStore::PutSetting(const std::string& key, const std::string& value) {
  return SubmitWrite([&key, &value](Connection& c) -> Status {
    COFFER_ASSIGN_OR_RETURN(Statement s,
                            c.Prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    s.BindText(1, key).BindText(2, value);
    return s.Run("storing a setting");
  });
}

Result<bool> SqliteStore::ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                                         std::uint32_t new_key_version) {
  bool replaced = false;  // written by the writer thread before our future completes
  Status status = SubmitWrite([&](Connection& c) -> Status {
    const bool version = ref.kind == WrappedRef::Kind::kSecretVersion;
    COFFER_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare(version ? "UPDATE versions SET ciphertext = ?1, key_version = ?2 "
                            "WHERE arn = ?3 AND version_id = ?4 AND ciphertext = ?5"
                          : "UPDATE access_keys SET secret_ciphertext = ?1, key_version = ?2 "
                            "WHERE access_key_id = ?3 AND secret_ciphertext = ?5"));
    s.BindBlob(1, new_ciphertext).BindInt64(2, new_key_version).BindBlob(5, ref.ciphertext);
    if (version) {
      s.BindText(3, ref.arn).BindText(4, ref.version_id);
    } else {
      s.BindText(3, ref.access_key_id);
    }
    COFFER_RETURN_IF_ERROR(s.Run("rewrapping a data key"));
    replaced = c.Changes() == 1;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return replaced;
}

// --- reads ---

Result<std::optional<SecretRecord>> SqliteStore::GetSecretByArn(const std::string& arn) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s, r.conn().Prepare("SELECT " COFFER_SQL_SECRET_COLUMNS
                                                        " FROM secrets WHERE arn = ?1"));
  s.BindText(1, arn);
  return OneSecret(s, "reading a secret by ARN");
}

Result<std::optional<SecretRecord>> SqliteStore::GetSecretByName(const std::string& region,
                                                                 const std::string& name) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s,
                          r.conn().Prepare("SELECT " COFFER_SQL_SECRET_COLUMNS
                                           " FROM secrets WHERE region = ?1 AND name = ?2"));
  s.BindText(1, region).BindText(2, name);
  return OneSecret(s, "reading a secret by name");
}

Result<std::vector<SecretRecord>> SqliteStore::ListSecrets(const std::string& region) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s, r.conn().Prepare("SELECT " COFFER_SQL_SECRET_COLUMNS
                                    " FROM secrets WHERE region = ?1 ORDER BY created_ms, arn"));
  s.BindText(1, region);
  return CollectSecrets(s, "listing secrets");
}

Result<std::vector<SecretRecord>> SqliteStore::ListDueForPurge(std::int64_t now_ms) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s, r.conn().Prepare("SELECT " COFFER_SQL_SECRET_COLUMNS
                                    " FROM secrets WHERE deletion_date_ms IS NOT NULL AND "
                                    "deletion_date_ms <= ?1 ORDER BY deletion_date_ms, arn"));
  s.BindInt64(1, now_ms);
  return CollectSecrets(s, "listing secrets due for purge");
}

Result<std::int64_t> SqliteStore::CountSecrets() {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s, r.conn().Prepare("SELECT count(*) FROM secrets"));
  COFFER_ASSIGN_OR_RETURN(bool row, s.Step("counting secrets"));
  return row ? s.ColumnInt64(0) : 0;
}

Result<std::vector<SecretRecord>> SqliteStore::ListAllSecrets() {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s,
                          r.conn().Prepare("SELECT " COFFER_SQL_SECRET_COLUMNS
                                           " FROM secrets ORDER BY created_ms, arn"));
  return CollectSecrets(s, "listing all secrets");
}

Result<std::vector<VersionRecord>> SqliteStore::ListVersions(const std::string& arn) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s,
      r.conn().Prepare("SELECT version_id, stages, created_ms, last_accessed_ms, key_version "
                       "FROM versions WHERE arn = ?1 ORDER BY created_ms, seq"));
  s.BindText(1, arn);
  std::vector<VersionRecord> out;
  while (true) {
    COFFER_ASSIGN_OR_RETURN(bool row, s.Step("listing versions"));
    if (!row) return out;
    COFFER_ASSIGN_OR_RETURN(VersionRecord v, ReadVersion(s, /*with_ciphertext=*/false));
    out.push_back(std::move(v));
  }
}

Result<std::optional<VersionRecord>> SqliteStore::GetVersion(const std::string& arn,
                                                             const std::string& version_id) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s, r.conn().Prepare("SELECT version_id, stages, created_ms, last_accessed_ms, "
                                    "key_version, ciphertext FROM versions "
                                    "WHERE arn = ?1 AND version_id = ?2"));
  s.BindText(1, arn).BindText(2, version_id);
  return OneVersion(s, "reading a version");
}

Result<std::optional<VersionRecord>> SqliteStore::GetVersionByStage(const std::string& arn,
                                                                    const std::string& stage) {
  ReaderLease r = AcquireReader();
  // One primary-key probe of version_stages, then one rowid probe of versions.
  COFFER_ASSIGN_OR_RETURN(
      Statement s,
      r.conn().Prepare("SELECT v.version_id, v.stages, v.created_ms, v.last_accessed_ms, "
                       "v.key_version, v.ciphertext FROM version_stages AS st "
                       "JOIN versions AS v ON v.seq = st.version_seq "
                       "WHERE st.arn = ?1 AND st.stage = ?2"));
  s.BindText(1, arn).BindText(2, stage);
  return OneVersion(s, "reading a version by staging label");
}

Result<std::optional<AccessKeyRecord>> SqliteStore::GetAccessKey(const std::string& access_key_id) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s,
                          r.conn().Prepare("SELECT " COFFER_SQL_ACCESS_KEY_COLUMNS
                                           " FROM access_keys WHERE access_key_id = ?1"));
  s.BindText(1, access_key_id);
  COFFER_ASSIGN_OR_RETURN(bool row, s.Step("reading an access key"));
  if (!row) return std::optional<AccessKeyRecord>();
  return std::optional<AccessKeyRecord>(ReadAccessKey(s));
}

Result<std::vector<AccessKeyRecord>> SqliteStore::ListAccessKeys() {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s,
                          r.conn().Prepare("SELECT " COFFER_SQL_ACCESS_KEY_COLUMNS
                                           " FROM access_keys ORDER BY created_ms, access_key_id"));
  std::vector<AccessKeyRecord> out;
  while (true) {
    COFFER_ASSIGN_OR_RETURN(bool row, s.Step("listing access keys"));
    if (!row) return out;
    out.push_back(ReadAccessKey(s));
  }
}

Result<std::vector<WrappedRef>> SqliteStore::ListStaleWrapped(std::uint32_t current_key_version,
                                                              std::size_t limit) {
  std::vector<WrappedRef> out;
  if (limit == 0) return out;
  ReaderLease r = AcquireReader();
  // `<` OR `>` rather than `!=`, so SQLite can use the key_version indexes; no ORDER BY, so it
  // stops after `limit` rows instead of sorting every stale row on each call.
  {
    COFFER_ASSIGN_OR_RETURN(
        Statement s, r.conn().Prepare("SELECT arn, version_id, key_version, ciphertext "
                                      "FROM versions WHERE key_version < ?1 OR key_version > ?1 "
                                      "LIMIT ?2"));
    s.BindInt64(1, current_key_version).BindInt64(2, static_cast<std::int64_t>(limit));
    while (true) {
      COFFER_ASSIGN_OR_RETURN(bool row, s.Step("listing stale versions"));
      if (!row) break;
      WrappedRef ref;
      ref.kind = WrappedRef::Kind::kSecretVersion;
      ref.arn = s.ColumnText(0);
      ref.version_id = s.ColumnText(1);
      ref.key_version = static_cast<std::uint32_t>(s.ColumnInt64(2));
      ref.ciphertext = s.ColumnBlob(3);
      out.push_back(std::move(ref));
    }
  }
  if (out.size() >= limit) return out;
  COFFER_ASSIGN_OR_RETURN(
      Statement s,
      r.conn().Prepare("SELECT access_key_id, key_version, secret_ciphertext FROM access_keys "
                       "WHERE key_version < ?1 OR key_version > ?1 "
                       "LIMIT ?2"));
  s.BindInt64(1, current_key_version).BindInt64(2, static_cast<std::int64_t>(limit - out.size()));
  while (true) {
    COFFER_ASSIGN_OR_RETURN(bool row, s.Step("listing stale access keys"));
    if (!row) return out;
    WrappedRef ref;
    ref.kind = WrappedRef::Kind::kAccessKey;
    ref.access_key_id = s.ColumnText(0);
    ref.key_version = static_cast<std::uint32_t>(s.ColumnInt64(1));
    ref.ciphertext = s.ColumnBlob(2);
    out.push_back(std::move(ref));
  }
}

Result<std::optional<IamEntityRecord>> SqliteStore::GetIamEntity(const std::string& kind,
                                                                 const std::string& key) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s,
      r.conn().Prepare("SELECT json, revision FROM iam_entities WHERE kind = ?1 AND key = ?2"));
  s.BindText(1, kind).BindText(2, key);
  COFFER_ASSIGN_OR_RETURN(bool row, s.Step("reading an IAM entity"));
  if (!row) return std::optional<IamEntityRecord>();
  return std::optional<IamEntityRecord>(
      IamEntityRecord{kind, key, s.ColumnText(0), s.ColumnInt64(1)});
}

Result<std::vector<IamEntityRecord>> SqliteStore::ListIamEntities(const std::string& kind) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(
      Statement s, r.conn().Prepare("SELECT key, json, revision FROM iam_entities "
                                    "WHERE kind = ?1 ORDER BY key"));
  s.BindText(1, kind);
  std::vector<IamEntityRecord> out;
  while (true) {
    COFFER_ASSIGN_OR_RETURN(bool row, s.Step("listing IAM entities"));
    if (!row) return out;
    out.push_back(IamEntityRecord{kind, s.ColumnText(0), s.ColumnText(1), s.ColumnInt64(2)});
  }
}

Result<std::optional<std::string>> SqliteStore::GetSetting(const std::string& key) {
  ReaderLease r = AcquireReader();
  COFFER_ASSIGN_OR_RETURN(Statement s,
                          r.conn().Prepare("SELECT value FROM settings WHERE key = ?1"));
  s.BindText(1, key);
  COFFER_ASSIGN_OR_RETURN(bool row, s.Step("reading a setting"));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.ColumnText(0));
}

}  // namespace coffer::storage

#undef COFFER_SQL_SECRET_COLUMNS
#undef COFFER_SQL_ACCESS_KEY_COLUMNS
