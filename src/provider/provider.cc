#include "provider/provider.h"

#include <utility>

namespace coffer::provider {

Result<RemoteValue> AwsProvider::GetSecret(const RemoteKey& key) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  COFFER_ASSIGN_OR_RETURN(RemoteSecretValue value,
                          client_->GetSecretValue(key.key, key.version_id, key.version_stage));
  return RemoteValue{std::move(value.string), std::move(value.binary), std::move(value.version_id)};
}

Status AwsProvider::Validate() {
  calls_.fetch_add(1, std::memory_order_relaxed);
  return client_->CheckCredentials();
}

Result<RemoteValue> FakeProvider::GetSecret(const RemoteKey& key) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  const std::string& version = !key.version_id.empty() ? key.version_id : key.version_stage;
  for (const FakeEntry& entry : entries_) {
    if (entry.key == key.key && entry.version == version) {
      return RemoteValue{entry.value, std::nullopt, entry.version};
    }
  }
  std::string what = "secret \"" + key.key.substr(0, 256) + "\"";
  if (!version.empty()) what += " version \"" + version.substr(0, 64) + "\"";
  return Status(StatusCode::kNotFound, what + " not found in the fake provider's data");
}

}  // namespace coffer::provider
