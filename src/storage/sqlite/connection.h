#pragma once

// A thin RAII layer over the SQLite C API.
//
// Connection owns one sqlite3* and a cache of prepared statements (prepared once per connection,
// reused for its lifetime). Prepare() lends a cached statement as a Statement; when the Statement
// goes out of scope it is reset and its bindings cleared, which also ends the implicit read
// transaction of a SELECT. A Connection is used by one thread at a time (the caller serialises).
//
// Every error becomes a Status carrying the caller's context and SQLite's message. SQLite's
// messages name tables, columns and constraints, never bound values, so no row data (and no
// ciphertext) can reach an error message.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "core/status.h"

namespace coffer::storage::sqlite {

// The StatusCode for an SQLite (extended) result code.
StatusCode StatusCodeForSqlite(int rc);

// "<context>: <sqlite message> (sqlite code N)". `db` may be null.
Status SqliteError(int rc, sqlite3* db, std::string_view context);

// A borrowed, cached prepared statement. Bind*() parameters are 1-based; bound strings must stay
// alive until the last Step() (they are bound without copying).
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindInt64(int index, std::int64_t value);
  Statement& BindNull(int index);
  Statement& BindOptionalInt64(int index, const std::optional<std::int64_t>& value);

  // true: a row is available; false: the statement is done. A bind error surfaces here.
  Result<bool> Step(std::string_view context);
  // Runs the statement to completion, ignoring rows.
  Status Run(std::string_view context);

  std::int64_t ColumnInt64(int column) const;
  std::optional<std::int64_t> ColumnOptionalInt64(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;

  sqlite3_stmt* raw() const { return stmt_; }

 private:
  void NoteBind(int rc);

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_EXRESCODE is added) and sets the busy
  // timeout. Runs no statement, so a file that is not a database is only noticed later.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                  int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached statement for `sql` (prepared on first use). One SQL text is lent to one borrower
  // at a time.
  Result<Statement> Prepare(std::string_view sql);

  // Runs one or more statements without parameters (schema, pragmas), not cached.
  Status Exec(const std::string& sql, std::string_view context);

  // Runs a single-row pragma/query without parameters and returns the first column as text.
  Result<std::string> QueryText(const std::string& sql, std::string_view context);

  // Rows changed by the last INSERT/UPDATE/DELETE (not counting cascades).
  std::int64_t Changes() const { return sqlite3_changes64(db_); }
  std::int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtDeleter>, StringHash,
                     std::equal_to<>>
      cache_;
};

}  // namespace coffer::storage::sqlite
