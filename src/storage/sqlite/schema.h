#pragma once

// The SQLite schema and its migrations. docs/design/storage-schema.md describes every table.
//
// Migrations are append-only: migration N takes a database from user_version N-1 to N. Each runs
// inside one BEGIN IMMEDIATE transaction with its row in schema_migrations and the new
// user_version, so two processes opening the same file at once cannot apply one twice.

#include <cstdint>

#include "core/status.h"
#include "storage/sqlite/connection.h"

namespace coffer::storage::sqlite {

// The schema version this binary writes (PRAGMA user_version after Migrate).
inline constexpr int kSchemaVersion = 2;

// Brings the database up to kSchemaVersion. A database newer than this binary fails with
// kFailedPrecondition. `now_ms` is recorded in schema_migrations.
Status Migrate(Connection& conn, std::int64_t now_ms);

}  // namespace coffer::storage::sqlite
