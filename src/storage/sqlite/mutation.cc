#include "storage/sqlite/mutation.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace coffer::storage::sqlite {

std::string EncodeStages(const std::vector<std::string>& stages) {
  return nlohmann::json(stages).dump();
}

Result<std::vector<std::string>> DecodeStages(const std::string& text) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return Status::DataLoss("a stored version has a malformed stages column");
  }
}

namespace {

// Replaces the generic message of a constraint failure with the one the contract promises.
Status Rephrase(Status status, StatusCode when, StatusCode code, std::string message) {
  if (status.code() != when) return status;
  return Status(code, std::move(message));
}

}  // namespace

Status ApplyMutation(Connection& c, const Mutation& m) {
  const SecretRecord& s = m.secret;
  if (s.arn.empty()) return Status::InvalidArgument("commit: the secret has no ARN");

  std::int64_t stored = 0;
  {
    COFFER_ASSIGN_OR_RETURN(Statement q, c.Prepare("SELECT revision FROM secrets WHERE arn = ?1"));
    q.BindText(1, s.arn);
    COFFER_ASSIGN_OR_RETURN(bool row, q.Step("commit: reading the secret's revision"));
    if (row) stored = q.ColumnInt64(0);
  }
  if (stored != m.expected_revision) {
    return Status::Aborted("commit: the secret changed concurrently (expected revision " +
                           std::to_string(m.expected_revision) + ", found " +
                           std::to_string(stored) + ")");
  }

  if (m.purge) {
    if (stored == 0) return Status::Ok();
    COFFER_ASSIGN_OR_RETURN(Statement d, c.Prepare("DELETE FROM secrets WHERE arn = ?1"));
    d.BindText(1, s.arn);
    return d.Run("commit: purging the secret");
  }

  {
    const char* sql =
        stored == 0
            ? "INSERT INTO secrets (arn, region, name, created_ms, deletion_date_ms, meta_json, "
              "revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            : "UPDATE secrets SET region = ?2, name = ?3, created_ms = ?4, deletion_date_ms = "
              "?5, "
              "meta_json = ?6, revision = ?7 WHERE arn = ?1";
    COFFER_ASSIGN_OR_RETURN(Statement u, c.Prepare(sql));
    u.BindText(1, s.arn)
        .BindText(2, s.region)
        .BindText(3, s.name)
        .BindInt64(4, s.created_ms)
        .BindOptionalInt64(5, s.deletion_date_ms)
        .BindText(6, s.meta_json)
        .BindInt64(7, stored + 1);
    COFFER_RETURN_IF_ERROR(Rephrase(
        u.Run("commit: writing the secret"), StatusCode::kAlreadyExists, StatusCode::kAlreadyExists,
        "commit: a secret with this name already exists in the region"));
  }

  for (const std::string& version_id : m.deleted_versions) {
    COFFER_ASSIGN_OR_RETURN(Statement d,
                            c.Prepare("DELETE FROM versions WHERE arn = ?1 AND version_id = ?2"));
    d.BindText(1, s.arn).BindText(2, version_id);
    COFFER_RETURN_IF_ERROR(d.Run("commit: deleting a version"));
    if (c.Changes() == 0) return Status::NotFound("commit: a version to delete does not exist");
  }

  // Stage rows are inserted last, once every moved label has left its old version.
  std::vector<std::pair<std::int64_t, const std::vector<std::string>*>> stage_rows;

  for (const VersionRecord& v : m.new_versions) {
    COFFER_ASSIGN_OR_RETURN(
        Statement i,
        c.Prepare("INSERT INTO versions (arn, version_id, stages, created_ms, last_accessed_ms, "
                  "key_version, ciphertext) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    std::string stages = EncodeStages(v.stages);
    i.BindText(1, s.arn)
        .BindText(2, v.version_id)
        .BindText(3, stages)
        .BindInt64(4, v.created_ms)
        .BindOptionalInt64(5, v.last_accessed_ms)
        .BindInt64(6, v.key_version)
        .BindBlob(7, v.ciphertext);
    COFFER_RETURN_IF_ERROR(Rephrase(i.Run("commit: inserting a version"),
                                    StatusCode::kAlreadyExists, StatusCode::kAlreadyExists,
                                    "commit: a version with this id already exists"));
    stage_rows.emplace_back(c.LastInsertRowid(), &v.stages);
  }

  for (const VersionUpdate& u : m.version_updates) {
    std::optional<std::string> stages;
    if (u.stages.has_value()) stages = EncodeStages(*u.stages);
    std::int64_t seq = 0;
    {
      COFFER_ASSIGN_OR_RETURN(Statement up,
                              c.Prepare("UPDATE versions SET stages = coalesce(?3, stages), "
                                        "last_accessed_ms = coalesce(?4, last_accessed_ms) "
                                        "WHERE arn = ?1 AND version_id = ?2 RETURNING seq"));
      up.BindText(1, s.arn).BindText(2, u.version_id).BindOptionalInt64(4, u.last_accessed_ms);
      if (stages.has_value()) {
        up.BindText(3, *stages);
      } else {
        up.BindNull(3);
      }
      COFFER_ASSIGN_OR_RETURN(bool row, up.Step("commit: updating a version"));
      if (!row) return Status::NotFound("commit: a version to update does not exist");
      seq = up.ColumnInt64(0);
      COFFER_RETURN_IF_ERROR(up.Run("commit: updating a version"));
    }
    if (u.stages.has_value()) {
      COFFER_ASSIGN_OR_RETURN(Statement d,
                              c.Prepare("DELETE FROM version_stages WHERE version_seq = ?1"));
      d.BindInt64(1, seq);
      COFFER_RETURN_IF_ERROR(d.Run("commit: moving staging labels"));
      stage_rows.emplace_back(seq, &*u.stages);
    }
  }

  for (const auto& [seq, stages] : stage_rows) {
    for (const std::string& stage : *stages) {
      COFFER_ASSIGN_OR_RETURN(Statement i,
                              c.Prepare("INSERT INTO version_stages (arn, stage, version_seq) "
                                        "VALUES (?1, ?2, ?3)"));
      i.BindText(1, s.arn).BindText(2, stage).BindInt64(3, seq);
      COFFER_RETURN_IF_ERROR(Rephrase(i.Run("commit: attaching a staging label"),
                                      StatusCode::kAlreadyExists, StatusCode::kInvalidArgument,
                                      "commit: a staging label would be attached to more than "
                                      "one version (or twice to one)"));
    }
  }
  return Status::Ok();
}

}  // namespace coffer::storage::sqlite
