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

}  // namespace coffer::provider
