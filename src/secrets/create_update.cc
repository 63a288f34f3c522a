// CreateSecret, PutSecretValue and UpdateSecret: the operations that write secret values.

#include "secrets/authorize.h"
#include "secrets/labels.h"
#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"
#include "secrets/value_codec.h"

namespace coffer::secrets {
namespace {

using internal::CheckNotDeleted;
using internal::Loaded;
using internal::RetryOnConflict;
using internal::UpdateOf;

// The members CreateSecret and UpdateSecret have in common: token, description, KMS key id,
// type and the value (with the token it requires).
template <typename Request>
Status ValidateSharedMembers(const Request& r, std::int64_t max_value_bytes) {
  COFFER_RETURN_IF_ERROR(ValidateVersionId("clientRequestToken", r.client_request_token));
  COFFER_RETURN_IF_ERROR(CheckLength("description", r.description, 0, 2048));
  COFFER_RETURN_IF_ERROR(CheckLength("kmsKeyId", r.kms_key_id, 0, 2048));
  COFFER_RETURN_IF_ERROR(CheckLength("type", r.type, 0, 256));
  COFFER_RETURN_IF_ERROR(ValidateValue(r.value, max_value_bytes));
  return RequireTokenWithValue(r.value, r.client_request_token);
}

Status ValidateCreate(const CreateSecretRequest& r, const ServiceOptions& options) {
  COFFER_RETURN_IF_ERROR(ValidateName(r.name));
  COFFER_RETURN_IF_ERROR(ValidateSharedMembers(r, options.max_value_bytes));
  if (r.tags) COFFER_RETURN_IF_ERROR(ValidateTags(*r.tags, options.max_tags));
  if (r.add_replica_regions) {
    return Status::FailedPrecondition(std::string(msg::kReplicationUnsupported));
  }
  return Status::Ok();
}

SecretMeta InitialMeta(const CreateSecretRequest& r, std::int64_t now_ms) {
  SecretMeta meta;
  meta.description = r.description;
  if (r.kms_key_id && !r.kms_key_id->empty()) meta.kms_key_id = r.kms_key_id;
  meta.type = r.type;
  if (r.tags) {
    for (const Tag& tag : *r.tags) UpsertTag(meta.tags, tag.key, tag.value);
  }
  meta.last_changed_ms = now_ms;
  return meta;
}

// Whether `version_id` of `arn` holds exactly `value` (an idempotent retry).
Result<bool> VersionHolds(const crypto::Envelope& envelope, const std::string& arn,
                          const storage::VersionRecord& version, const SecretValue& value) {
  COFFER_ASSIGN_OR_RETURN(SecretValue stored,
                          OpenValue(envelope, arn, version.version_id, version.ciphertext));
  return SameValue(stored, value);
}

// CreateSecret on a name that exists: an idempotent retry, or one of two errors.
Result<CreateSecretResponse> AnswerExistingName(storage::SecretStore& store,
                                                const crypto::Envelope& envelope,
                                                const storage::SecretRecord& existing,
                                                const CreateSecretRequest& r) {
  if (existing.deletion_date_ms) {
    return Status::FailedPrecondition(std::string(msg::kScheduledForDeletion));
  }
  if (r.client_request_token && HasValue(r.value)) {
    COFFER_ASSIGN_OR_RETURN(auto version, store.GetVersion(existing.arn, *r.client_request_token));
    if (version) {
      COFFER_ASSIGN_OR_RETURN(bool same, VersionHolds(envelope, existing.arn, *version, r.value));
      if (same) return CreateSecretResponse{existing.arn, existing.name, version->version_id};
    }
  }
  return Status::AlreadyExists(msg::SecretExists(r.name));
}

storage::VersionRecord NewVersionRecord(const std::string& version_id,
                                        std::vector<std::string> stages, std::int64_t now_ms,
                                        const SealedValue& sealed) {
  storage::VersionRecord v;
  v.version_id = version_id;
  v.stages = std::move(stages);
  v.created_ms = now_ms;
  v.ciphertext = sealed.ciphertext;
  v.key_version = sealed.key_version;
  return v;
}

}  // namespace

Result<CreateSecretResponse> Service::CreateSecret(const CallContext& ctx,
                                                   const CreateSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateCreate(r, options_));
  const bool has_value = HasValue(r.value);
  // Authorized against the new secret's ARN, suffix included, before anything about an existing
  // secret of that name is revealed. A redrawn suffix (the ARN was taken) is authorized again.
  std::string arn;
  std::optional<SealedValue> sealed;
  internal::AuthExtras extras;
  if (r.tags) extras.request_tags = &*r.tags;
  auto draw_arn = [&]() -> Status {
    arn = NewArn(ctx, r.name);
    internal::AuthTarget target;
    target.resource_arn = arn;
    target.name = r.name;
    target.extras = &extras;
    return Authorize(ctx, "CreateSecret", target);
  };
  COFFER_RETURN_IF_ERROR(draw_arn());
  auto lock = locks_.Lock(ctx.region, r.name);
  return RetryOnConflict(options_.commit_retries, [&]() -> Result<CreateSecretResponse> {
    COFFER_ASSIGN_OR_RETURN(auto existing, store_->GetSecretByName(ctx.region, r.name));
    if (existing) {
      // The call is about the secret that exists, not the ARN drawn for a new one.
      internal::ReplaceRecordedArn(ctx, arn, existing->arn);
      return AnswerExistingName(*store_, *envelope_, *existing, r);
    }
    if (arn.empty()) COFFER_RETURN_IF_ERROR(draw_arn());
    const std::int64_t now = clock_->NowMillis();
    storage::Mutation m;
    m.secret.arn = arn;
    m.secret.region = ctx.region;
    m.secret.name = r.name;
    m.secret.created_ms = now;
    m.secret.meta_json = SerializeMeta(InitialMeta(r, now));
    m.expected_revision = 0;
    if (has_value) {
      if (!sealed) {
        COFFER_ASSIGN_OR_RETURN(sealed,
                                SealValue(*envelope_, arn, *r.client_request_token, r.value));
      }
      m.new_versions.push_back(
          NewVersionRecord(*r.client_request_token, {std::string(kAwsCurrent)}, now, *sealed));
    }
    Status s = store_->Commit(m);
    if (s.code() == StatusCode::kAlreadyExists) return Status::Aborted("name taken meanwhile");
    if (s.code() == StatusCode::kAborted) {  // the random ARN is taken: draw another
      arn.clear();
      sealed.reset();
    }
    COFFER_RETURN_IF_ERROR(s);
    CreateSecretResponse out{arn, r.name, std::nullopt};
    if (has_value) out.version_id = *r.client_request_token;
    return out;
  });
}

Result<PutSecretValueResponse> Service::WriteVersion(
    const CallContext& ctx, std::string_view action, const std::string& secret_id,
    const std::string& token, const SecretValue& value,
    const std::optional<std::vector<std::string>>& stages,
    const std::function<void(SecretMeta&)>& edit_meta) {
  std::optional<SealedValue> sealed;
  std::string sealed_for_arn;
  auto lock = LockSecret(ctx, secret_id);
  return RetryOnConflict(options_.commit_retries, [&]() -> Result<PutSecretValueResponse> {
    COFFER_ASSIGN_OR_RETURN(Loaded secret, LoadAuthorized(ctx, secret_id, action));
    COFFER_RETURN_IF_ERROR(CheckNotDeleted(secret.record));
    const std::string& arn = secret.record.arn;
    COFFER_ASSIGN_OR_RETURN(auto existing, store_->GetVersion(arn, token));
    if (existing) {
      COFFER_ASSIGN_OR_RETURN(bool same, VersionHolds(*envelope_, arn, *existing, value));
      if (!same) return Status::AlreadyExists(msg::TokenInUse(token, arn));
      return PutSecretValueResponse{arn, secret.record.name, token, existing->stages};
    }

    const std::int64_t now = clock_->NowMillis();
    COFFER_ASSIGN_OR_RETURN(auto versions, store_->ListVersions(arn));
    StageMap map(versions);
    map.AddVersion(token, now);
    ApplyNewVersionStages(map, token, stages);
    COFFER_RETURN_IF_ERROR(CheckLabelQuota(map, options_.max_labels));
    COFFER_ASSIGN_OR_RETURN(auto pruned, VersionsToPrune(map, options_.max_versions, now));

    if (!sealed || sealed_for_arn != arn) {
      COFFER_ASSIGN_OR_RETURN(sealed, SealValue(*envelope_, arn, token, value));
      sealed_for_arn = arn;
    }
    if (edit_meta) edit_meta(secret.meta);
    secret.meta.last_changed_ms = now;
    storage::Mutation m = UpdateOf(secret);
    m.deleted_versions = pruned;
    m.new_versions.push_back(NewVersionRecord(token, map.StagesOf(token), now, *sealed));
    m.version_updates = map.Changes(pruned);
    Status s = store_->Commit(m);
    // A concurrent request with the same token won: re-read and answer as a retry.
    if (s.code() == StatusCode::kAlreadyExists) return Status::Aborted("version created meanwhile");
    COFFER_RETURN_IF_ERROR(s);
    return PutSecretValueResponse{arn, secret.record.name, token, map.StagesOf(token)};
  });
}

Result<PutSecretValueResponse> Service::PutSecretValue(const CallContext& ctx,
                                                       const PutSecretValueRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(ValidateVersionId("clientRequestToken", r.client_request_token));
  COFFER_RETURN_IF_ERROR(ValidateValue(r.value, options_.max_value_bytes));
  if (r.version_stages)
    COFFER_RETURN_IF_ERROR(ValidateStages(*r.version_stages, options_.max_labels));
  COFFER_RETURN_IF_ERROR(CheckLength("rotationToken", r.rotation_token, 36, 256));
  if (!HasValue(r.value)) {
    return Status::FailedPrecondition("You must provide either SecretString or SecretBinary.");
  }
  COFFER_RETURN_IF_ERROR(RequireTokenWithValue(r.value, r.client_request_token));
  return WriteVersion(ctx, "PutSecretValue", r.secret_id, *r.client_request_token, r.value,
                      r.version_stages, nullptr);
}

Result<UpdateSecretResponse> Service::UpdateSecret(const CallContext& ctx,
                                                   const UpdateSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(ValidateSharedMembers(r, options_.max_value_bytes));

  auto edit = [&r](SecretMeta& meta) {
    if (r.description) meta.description = r.description;
    if (r.kms_key_id) {  // "" means back to the default key
      meta.kms_key_id = r.kms_key_id->empty() ? std::nullopt : r.kms_key_id;
    }
    if (r.type) meta.type = r.type;
  };
  if (HasValue(r.value)) {
    COFFER_ASSIGN_OR_RETURN(
        auto put, WriteVersion(ctx, "UpdateSecret", r.secret_id, *r.client_request_token, r.value,
                               std::nullopt, edit));
    return UpdateSecretResponse{put.arn, put.name, put.version_id};
  }
  COFFER_ASSIGN_OR_RETURN(
      auto record, EditMeta(ctx, "UpdateSecret", r.secret_id, nullptr, [&](SecretMeta& meta) {
        edit(meta);
        return Status::Ok();
      }));
  return UpdateSecretResponse{record.arn, record.name, std::nullopt};
}

}  // namespace coffer::secrets
