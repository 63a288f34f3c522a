#include "storage/sqlite/schema.h"

#include <string>

namespace coffer::storage::sqlite {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Column order matters: SQLite reads a row's columns left to right, and a large blob spills into
// overflow pages. Putting ciphertext last lets listings that skip it never touch those pages.
constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_ms  INTEGER NOT NULL
);

CREATE TABLE secrets (
  arn              TEXT PRIMARY KEY NOT NULL,
  region           TEXT NOT NULL,
  name             TEXT NOT NULL,
  created_ms       INTEGER NOT NULL,
  deletion_date_ms INTEGER,
  meta_json        TEXT NOT NULL,
  revision         INTEGER NOT NULL CHECK (revision > 0),
  UNIQUE (region, name)
);
CREATE INDEX secrets_by_region_created ON secrets (region, created_ms, arn);
CREATE INDEX secrets_by_deletion_date ON secrets (deletion_date_ms, arn)
  WHERE deletion_date_ms IS NOT NULL;

CREATE TABLE versions (
  seq              INTEGER PRIMARY KEY,
  arn              TEXT NOT NULL REFERENCES secrets (arn) ON DELETE CASCADE,
  version_id       TEXT NOT NULL,
  stages           TEXT NOT NULL,
  created_ms       INTEGER NOT NULL,
  last_accessed_ms INTEGER,
  key_version      INTEGER NOT NULL,
  ciphertext       BLOB NOT NULL,
  UNIQUE (arn, version_id)
);
CREATE INDEX versions_by_key_version ON versions (key_version);

CREATE TABLE version_stages (
  arn         TEXT NOT NULL,
  stage       TEXT NOT NULL,
  version_seq INTEGER NOT NULL REFERENCES versions (seq) ON DELETE CASCADE,
  PRIMARY KEY (arn, stage)
) WITHOUT ROWID;
CREATE INDEX version_stages_by_version ON version_stages (version_seq);

CREATE TABLE access_keys (
  access_key_id     TEXT PRIMARY KEY NOT NULL,
  principal_arn     TEXT NOT NULL,
  user_name         TEXT NOT NULL,
  status            TEXT NOT NULL,
  created_ms        INTEGER NOT NULL,
  key_version       INTEGER NOT NULL,
  secret_ciphertext BLOB NOT NULL
);
CREATE INDEX access_keys_by_key_version ON access_keys (key_version);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql"},
    {2, "IAM entities", R"sql(
CREATE TABLE iam_entities (
  kind     TEXT NOT NULL,
  key      TEXT NOT NULL,
  json     TEXT NOT NULL,
  revision INTEGER NOT NULL CHECK (revision > 0),
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;

CREATE INDEX secrets_by_created ON secrets (created_ms, arn);
)sql"},
};

constexpr int kLatest = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kLatest == kSchemaVersion, "add the migration and bump kSchemaVersion together");

Result<int> UserVersion(Connection& conn) {
  COFFER_ASSIGN_OR_RETURN(std::string text,
                          conn.QueryText("PRAGMA user_version", "reading the schema version"));
  return text.empty() ? 0 : std::stoi(text);
}

Status ApplyPending(Connection& conn, std::int64_t now_ms) {
  COFFER_ASSIGN_OR_RETURN(int current, UserVersion(conn));
  if (current > kSchemaVersion) {
    return Status::FailedPrecondition("database schema version " + std::to_string(current) +
                                      " is newer than this coffer supports (" +
                                      std::to_string(kSchemaVersion) + "); upgrade coffer");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    std::string context = "applying schema migration " + std::to_string(m.version);
    COFFER_RETURN_IF_ERROR(conn.Exec(m.sql, context));
    COFFER_ASSIGN_OR_RETURN(
        Statement record,
        conn.Prepare("INSERT INTO schema_migrations (version, description, applied_ms) "
                     "VALUES (?1, ?2, ?3)"));
    record.BindInt64(1, m.version).BindText(2, m.description).BindInt64(3, now_ms);
    COFFER_RETURN_IF_ERROR(record.Run(context));
    COFFER_RETURN_IF_ERROR(
        conn.Exec("PRAGMA user_version = " + std::to_string(m.version), context));
  }
  return Status::Ok();
}

}  // namespace

Status Migrate(Connection& conn, std::int64_t now_ms) {
  // Cheap check first, so an up-to-date database never takes the write lock on open.
  COFFER_ASSIGN_OR_RETURN(int current, UserVersion(conn));
  if (current == kSchemaVersion) return Status::Ok();

  COFFER_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE", "migrating the schema"));
  Status status = ApplyPending(conn, now_ms);  // re-reads user_version under the lock
  if (status.ok()) status = conn.Exec("COMMIT", "committing the schema migration");
  if (!status.ok() && conn.InTransaction()) {
    (void)conn.Exec("ROLLBACK", "rolling back the schema migration");
  }
  return status;
}

}  // namespace coffer::storage::sqlite
