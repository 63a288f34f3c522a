// UpdateSecretVersionStage: moving one staging label between versions (reference §1.5 rule 4).

#include "secrets/authorize.h"
#include "secrets/labels.h"
#include "secrets/op_util.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {

Result<ArnNameResponse> Service::UpdateSecretVersionStage(
    const CallContext& ctx, const UpdateSecretVersionStageRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(CheckLength("versionStage", r.version_stage, 1, 256));
  COFFER_RETURN_IF_ERROR(ValidateVersionId("removeFromVersionId", r.remove_from_version_id));
  COFFER_RETURN_IF_ERROR(ValidateVersionId("moveToVersionId", r.move_to_version_id));
  internal::AuthExtras extras;
  const std::optional<std::string> stage = r.version_stage;
  extras.version_stage = &stage;
  auto lock = LockSecret(ctx, r.secret_id);
  return internal::RetryOnConflict(options_.commit_retries, [&]() -> Result<ArnNameResponse> {
    COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                            LoadAuthorized(ctx, r.secret_id, "UpdateSecretVersionStage", &extras));
    COFFER_RETURN_IF_ERROR(internal::CheckNotDeleted(secret.record));
    COFFER_ASSIGN_OR_RETURN(auto versions, store_->ListVersions(secret.record.arn));
    StageMap map(versions);
    COFFER_RETURN_IF_ERROR(
        ApplyStageUpdate(map, r.version_stage, r.remove_from_version_id, r.move_to_version_id));
    COFFER_RETURN_IF_ERROR(CheckLabelQuota(map, options_.max_labels));
    secret.meta.last_changed_ms = clock_->NowMillis();
    storage::Mutation m = internal::UpdateOf(secret);
    m.version_updates = map.Changes();
    COFFER_RETURN_IF_ERROR(store_->Commit(m));
    return ArnNameResponse{secret.record.arn, secret.record.name};
  });
}

}  // namespace coffer::secrets
