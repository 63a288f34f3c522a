#pragma once

// Applying one SecretStore Mutation to the SQLite schema (storage/sqlite/schema.cc), and the
// encoding of the versions.stages column.

#include <string>
#include <vector>

#include "core/status.h"
#include "storage/sqlite/connection.h"
#include "storage/store.h"

namespace coffer::storage::sqlite {

// Applies `m` on `conn` following the Commit contract of storage/store.h: revision check
// (kAborted), upsert of the secret (kAlreadyExists on a name clash), then deleted_versions
// (kNotFound), new_versions (kAlreadyExists), version_updates (kNotFound), and finally the
// version_stages rows (kInvalidArgument when a label would name two versions).
//
// Runs inside the caller's transaction and SAVEPOINT; on an error the caller rolls the savepoint
// back, since earlier statements of this mutation may have applied.
Status ApplyMutation(Connection& conn, const Mutation& m);

// The stages column: a JSON array of strings, order preserved.
std::string EncodeStages(const std::vector<std::string>& stages);
// kDataLoss when the column is not such an array.
Result<std::vector<std::string>> DecodeStages(const std::string& text);

}  // namespace coffer::storage::sqlite
