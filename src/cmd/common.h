#pragma once

// Set-up steps shared by `coffer server`, `coffer keys rotate` and `coffer operator`.

#include <memory>
#include <string>

#include "config/server_config.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "storage/sqlite/sqlite_store.h"

namespace coffer::cmd {

// Logs to stderr at `level` (validated by the config loader).
void SetUpLogging(const std::string& level);

// Secrets live in this process's memory: keep them out of core files and away from ptrace by
// other users.
void DisableCoreDumps();

// The path of a request target, without the query.
std::string PathOnly(const std::string& target);

// Creates the data dir (and parents) with mode 0700 when missing; refuses a non-directory and
// warns about a directory other users can read.
Status EnsureDataDir(const std::string& path);

// COFFER_MASTER_KEY when set, else the key file (created when missing, 0600 enforced).
Result<std::unique_ptr<crypto::Keyring>> OpenKeyring(const config::ServerConfig& config);

// <data_dir>/coffer.db.
std::string DatabasePath(const std::string& data_dir);
Result<std::unique_ptr<storage::SqliteStore>> OpenStore(const std::string& data_dir);

}  // namespace coffer::cmd
