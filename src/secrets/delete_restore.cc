// DeleteSecret, RestoreSecret and the purge of secrets whose recovery window has passed
// (reference §1.7).

#include "secrets/authorize.h"
#include "secrets/messages.h"
#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::int64_t kDefaultRecoveryWindowDays = 30;

Status ValidateDelete(const DeleteSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  const bool force = r.force_delete_without_recovery.value_or(false);
  if (force && r.recovery_window_in_days) {
    return Status::InvalidArgument(std::string(msg::kForceWithWindow));
  }
  if (r.recovery_window_in_days &&
      (*r.recovery_window_in_days < 7 || *r.recovery_window_in_days > 30)) {
    return Status::InvalidArgument(std::string(msg::kRecoveryWindowRange));
  }
  return Status::Ok();
}

// ForceDeleteWithoutRecovery of a secret that does not exist succeeds; its answer is built
// from the id the caller gave.
DeleteSecretResponse AnswerForAbsent(const CallContext& ctx, const std::string& secret_id,
                                     std::int64_t now_ms) {
  if (auto parsed = ParseSecretArn(secret_id)) return {secret_id, parsed->resource, now_ms};
  return {NewArn(ctx, secret_id), secret_id, now_ms};
}

storage::Mutation PurgeOf(const storage::SecretRecord& record) {
  storage::Mutation m;
  m.secret = record;
  m.expected_revision = record.revision;
  m.purge = true;
  return m;
}

}  // namespace

Result<DeleteSecretResponse> Service::DeleteSecret(const CallContext& ctx,
                                                   const DeleteSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateDelete(r));
  const bool force = r.force_delete_without_recovery.value_or(false);
  const std::int64_t window_days = r.recovery_window_in_days.value_or(kDefaultRecoveryWindowDays);
  internal::AuthExtras extras;
  if (r.force_delete_without_recovery) {
    extras.keys.emplace_back("secretsmanager:forcedeletewithoutrecovery",
                             *r.force_delete_without_recovery ? "true" : "false");
  }
  if (r.recovery_window_in_days) {
    extras.keys.emplace_back("secretsmanager:recoverywindowindays",
                             std::to_string(*r.recovery_window_in_days));
  }
  auto lock = LockSecret(ctx, r.secret_id);
  return internal::RetryOnConflict(options_.commit_retries, [&]() -> Result<DeleteSecretResponse> {
    const std::int64_t now = clock_->NowMillis();
    COFFER_ASSIGN_OR_RETURN(auto found, FindSecret(*store_, ctx, r.secret_id));
    if (!found) {
      COFFER_RETURN_IF_ERROR(AuthorizeAbsent(ctx, "DeleteSecret", r.secret_id, &extras));
      if (force) return AnswerForAbsent(ctx, r.secret_id, now);
      return Status::NotFound(std::string(msg::kSecretNotFound));
    }
    COFFER_ASSIGN_OR_RETURN(internal::Loaded secret, internal::LoadRecord(std::move(*found)));
    COFFER_RETURN_IF_ERROR(
        AuthorizeSecret(ctx, "DeleteSecret", r.secret_id, secret.record, &secret.meta, &extras));
    if (force) {
      COFFER_RETURN_IF_ERROR(store_->Commit(PurgeOf(secret.record)));
      return DeleteSecretResponse{secret.record.arn, secret.record.name, now};
    }
    if (secret.record.deletion_date_ms) {
      return Status::FailedPrecondition(std::string(msg::kAlreadyMarkedDeleted));
    }
    secret.record.deletion_date_ms = now + window_days * internal::kDayMs;
    secret.meta.last_changed_ms = now;
    COFFER_RETURN_IF_ERROR(store_->Commit(internal::UpdateOf(secret)));
    return DeleteSecretResponse{secret.record.arn, secret.record.name,
                                *secret.record.deletion_date_ms};
  });
}

Result<ArnNameResponse> Service::RestoreSecret(const CallContext& ctx, const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  auto lock = LockSecret(ctx, r.secret_id);
  return internal::RetryOnConflict(options_.commit_retries, [&]() -> Result<ArnNameResponse> {
    COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                            LoadAuthorized(ctx, r.secret_id, "RestoreSecret"));
    if (secret.deleted()) {
      secret.record.deletion_date_ms.reset();
      secret.meta.last_changed_ms = clock_->NowMillis();
      COFFER_RETURN_IF_ERROR(store_->Commit(internal::UpdateOf(secret)));
    }
    return ArnNameResponse{secret.record.arn, secret.record.name};
  });
}

Result<int> Service::PurgeExpired() {
  const std::int64_t now = clock_->NowMillis();
  COFFER_ASSIGN_OR_RETURN(auto due, store_->ListDueForPurge(now));
  int purged = 0;
  for (const auto& listed : due) {
    auto lock = locks_.Lock(listed.region, listed.name);
    // Re-read under the lock: the secret may have been restored or purged since the listing.
    COFFER_ASSIGN_OR_RETURN(auto record, store_->GetSecretByArn(listed.arn));
    if (!record || !record->deletion_date_ms || *record->deletion_date_ms > now) continue;
    Status s = store_->Commit(PurgeOf(*record));
    // kAborted: another process changed the secret meanwhile; the next pass looks at it again.
    if (s.code() == StatusCode::kAborted) continue;
    COFFER_RETURN_IF_ERROR(s);
    ++purged;
  }
  return purged;
}

}  // namespace coffer::secrets
