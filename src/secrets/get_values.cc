// GetSecretValue (the hot path) and BatchGetSecretValue.

#include <algorithm>

#include "core/encoding.h"
#include "secrets/authorize.h"
#include "secrets/labels.h"
#include "secrets/listing.h"
#include "secrets/messages.h"
#include "secrets/op_util.h"
#include "secrets/page_token.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"
#include "secrets/value_codec.h"

namespace coffer::secrets {
namespace {

constexpr std::int64_t kBatchDefaultMaxResults = 20;

bool HasStage(const storage::VersionRecord& v, std::string_view stage) {
  return std::find(v.stages.begin(), v.stages.end(), stage) != v.stages.end();
}

Status ValidateBatch(const BatchGetSecretValueRequest& r) {
  if (r.secret_id_list.has_value() == r.filters.has_value()) {
    return Status::InvalidArgument(std::string(msg::kBatchIdsXorFilters));
  }
  if (r.max_results && !r.filters) {
    return Status::InvalidArgument(std::string(msg::kBatchMaxResultsNeedsFilters));
  }
  COFFER_RETURN_IF_ERROR(CheckRange("maxResults", r.max_results, 1, 20));
  COFFER_RETURN_IF_ERROR(CheckLength("nextToken", r.next_token, 1, 4096));
  if (r.filters) return ValidateFilters(*r.filters);
  const auto& ids = *r.secret_id_list;
  if (ids.empty() || ids.size() > 20) {
    return Status::Validation(
        "1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: "
        "Member must have length between 1 and 20");
  }
  for (const auto& id : ids)
    COFFER_RETURN_IF_ERROR(CheckLength("secretIdList.member", id, 1, 2048));
  return Status::Ok();
}

}  // namespace

Result<GetSecretValueResponse> Service::ReadValue(const storage::SecretRecord& secret,
                                                  const std::optional<std::string>& version_id,
                                                  const std::optional<std::string>& version_stage) {
  std::optional<storage::VersionRecord> version;
  if (version_id) {
    COFFER_ASSIGN_OR_RETURN(version, store_->GetVersion(secret.arn, *version_id));
    if (!version) return Status::NotFound(msg::ValueNotFoundForVersion(*version_id));
    if (version_stage && !HasStage(*version, *version_stage)) {
      return Status::FailedPrecondition(std::string(msg::kStageMismatch));
    }
  } else {
    const std::string stage = version_stage.value_or(std::string(kAwsCurrent));
    COFFER_ASSIGN_OR_RETURN(version, store_->GetVersionByStage(secret.arn, stage));
    if (!version) return Status::NotFound(msg::ValueNotFoundForStage(stage));
  }
  COFFER_ASSIGN_OR_RETURN(SecretValue value, OpenValue(*envelope_, secret.arn, version->version_id,
                                                       version->ciphertext));
  TouchLastAccessed(secret, *version);
  GetSecretValueResponse out;
  out.arn = secret.arn;
  out.name = secret.name;
  out.version_id = version->version_id;
  out.value = std::move(value);
  out.version_stages = version->stages;
  out.created_date_ms = version->created_ms;
  return out;
}

void Service::TouchLastAccessed(const storage::SecretRecord& secret,
                                const storage::VersionRecord& version) {
  const std::int64_t day = StartOfUtcDay(clock_->NowMillis());
  if (version.last_accessed_ms == day) return;
  // Queued, not committed: the read path never waits for a durable write. Best effort: if the
  // write is lost, the next read of the day queues it again.
  access_.Record(secret, version.version_id, day);
}

Result<GetSecretValueResponse> Service::GetSecretValue(const CallContext& ctx,
                                                       const GetSecretValueRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(ValidateVersionId("versionId", r.version_id));
  COFFER_RETURN_IF_ERROR(CheckLength("versionStage", r.version_stage, 1, 256));
  internal::AuthExtras extras;
  extras.version_id = &r.version_id;
  extras.version_stage = &r.version_stage;
  COFFER_ASSIGN_OR_RETURN(auto found, FindSecret(*store_, ctx, r.secret_id));
  if (!found) {
    COFFER_RETURN_IF_ERROR(AuthorizeAbsent(ctx, "GetSecretValue", r.secret_id, &extras));
    return Status::NotFound(std::string(msg::kSecretNotFound));
  }
  // The metadata (tags, resource policy) is parsed only when an authorizer is set.
  COFFER_RETURN_IF_ERROR(
      AuthorizeSecret(ctx, "GetSecretValue", r.secret_id, *found, nullptr, &extras));
  COFFER_RETURN_IF_ERROR(internal::CheckNotDeleted(*found));
  return ReadValue(*found, r.version_id, r.version_stage);
}

Result<BatchGetSecretValueResponse> Service::BatchGetSecretValue(
    const CallContext& ctx, const BatchGetSecretValueRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateBatch(r));
  // As on AWS: BatchGetSecretValue on "*", ListSecrets for Filters, and GetSecretValue on each
  // secret, a denied one becoming an entry of Errors rather than failing the call.
  internal::AuthTarget account;
  account.resource_arn = "*";
  account.record = false;
  COFFER_RETURN_IF_ERROR(Authorize(ctx, "BatchGetSecretValue", account));
  BatchGetSecretValueResponse out;
  auto add = [&out](const std::string& id, Result<GetSecretValueResponse> value) {
    if (value.ok()) {
      out.secret_values.push_back(std::move(*value));
    } else {
      out.errors.push_back({id, value.status()});
    }
  };
  if (r.secret_id_list) {
    for (const auto& id : *r.secret_id_list) {
      GetSecretValueRequest one;
      one.secret_id = id;
      add(id, GetSecretValue(ctx, one));
    }
    return out;
  }

  COFFER_ASSIGN_OR_RETURN(auto matching,
                          internal::MatchingSecrets(*store_, ctx.region, false, *r.filters));
  COFFER_RETURN_IF_ERROR(KeepListable(ctx, matching));
  const std::string fingerprint = QueryFingerprint("BatchGetSecretValue\n" + ctx.region + "\n" +
                                                   internal::DescribeFilters(*r.filters));
  std::size_t offset = 0;
  if (r.next_token) {
    COFFER_ASSIGN_OR_RETURN(offset, DecodePageToken(*r.next_token, fingerprint));
  }
  const auto page = static_cast<std::size_t>(r.max_results.value_or(kBatchDefaultMaxResults));
  const std::size_t end = std::min(matching.size(), offset + page);
  for (std::size_t i = offset; i < end; ++i) {
    const auto& secret = matching[i];
    Status allowed = AuthorizeSecret(ctx, "GetSecretValue", /*secret_id=*/"", secret.record,
                                     &secret.meta, nullptr);
    add(secret.record.name, allowed.ok() ? ReadValue(secret.record, std::nullopt, std::nullopt)
                                         : Result<GetSecretValueResponse>(std::move(allowed)));
  }
  if (end < matching.size()) out.next_token = EncodePageToken(end, fingerprint);
  return out;
}

}  // namespace coffer::secrets
