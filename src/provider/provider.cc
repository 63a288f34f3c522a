#include "provider/provider.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace coffer::provider {
namespace {

// AWS (and coffer server) answer InvalidRequestException "You can't perform this operation on the
// secret because it was marked for deletion." for a secret scheduled for deletion, which
// StatusFromAwsError maps to kFailedPrecondition.
bool IsMarkedForDeletion(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find("marked for deletion") != std::string::npos;
}

Status MarkedForDeletion(const RemoteKey& key) {
  return Status::NotFound("secret " + key.key + " is marked for deletion");
}

}  // namespace

Result<RemoteValue> AwsProvider::GetSecret(const RemoteKey& key) {
  if (key.metadata) return GetMetadata(key);
  calls_.fetch_add(1, std::memory_order_relaxed);
  Result<RemoteSecretValue> value =
      client_->GetSecretValue(key.key, key.version_id, key.version_stage);
  Observe("GetSecretValue", value.status());
  if (!value.ok()) {
    if (IsMarkedForDeletion(value.status())) return MarkedForDeletion(key);
    return value.status();
  }
  return RemoteValue{std::move(value->string), std::move(value->binary),
                     std::move(value->version_id)};
}

Result<RemoteValue> AwsProvider::GetMetadata(const RemoteKey& key) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  Result<RemoteSecretDescription> described = client_->DescribeSecret(key.key);
  Observe("DescribeSecret", described.status());
  if (!described.ok()) {
    if (IsMarkedForDeletion(described.status())) return MarkedForDeletion(key);
    return described.status();
  }
  // AWS describes a secret scheduled for deletion (with its DeletedDate); ESO treats it as gone.
  if (described->deleted_ms.has_value()) return MarkedForDeletion(key);
  nlohmann::ordered_json tags = nlohmann::ordered_json::object();
  for (const auto& [tag_key, tag_value] : described->tags) tags[tag_key] = tag_value;
  return RemoteValue{tags.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                     std::nullopt, ""};
}

Status AwsProvider::Validate() {
  calls_.fetch_add(1, std::memory_order_relaxed);
  Status status = client_->CheckCredentials();
  Observe("ListSecrets", status);
  return status;
}

void AwsProvider::Observe(std::string_view call, const Status& status) const {
  if (observer_) observer_(call, status);
}

}  // namespace coffer::provider
