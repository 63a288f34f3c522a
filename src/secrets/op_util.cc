#include "secrets/op_util.h"

#include "secrets/messages.h"
#include "secrets/secret_id.h"

namespace coffer::secrets::internal {

Result<Loaded> LoadRecord(storage::SecretRecord record) {
  COFFER_ASSIGN_OR_RETURN(SecretMeta meta, ParseMeta(record.meta_json));
  return Loaded{std::move(record), std::move(meta)};
}

Result<Loaded> LoadSecret(storage::SecretStore& store, const CallContext& ctx,
                          std::string_view secret_id) {
  COFFER_ASSIGN_OR_RETURN(storage::SecretRecord record, ResolveSecret(store, ctx, secret_id));
  return LoadRecord(std::move(record));
}

Status CheckNotDeleted(const storage::SecretRecord& record) {
  if (record.deletion_date_ms) {
    return Status::FailedPrecondition(std::string(msg::kMarkedForDeletion));
  }
  return Status::Ok();
}

storage::Mutation UpdateOf(const Loaded& loaded) {
  storage::Mutation m;
  m.secret = loaded.record;
  m.secret.meta_json = SerializeMeta(loaded.meta);
  m.expected_revision = loaded.record.revision;
  return m;
}

}  // namespace coffer::secrets::internal
