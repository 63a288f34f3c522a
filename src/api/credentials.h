#pragma once

// Access keys: the SigV4 credential source backed by the store, and the root key bootstrap.
// Secret access keys are stored sealed (crypto::Envelope, aad iam::AccessKeyAad(id)).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "crypto/envelope.h"
#include "sigv4/sigv4.h"
#include "storage/store.h"

namespace coffer::api {

class StoreCredentialSource : public sigv4::CredentialSource {
 public:
  StoreCredentialSource(storage::SecretStore* store, const crypto::Envelope* envelope,
                        const Clock* clock);
  Result<sigv4::Credential> Lookup(const std::string& access_key_id) override;
  // Forgets the cached copy of one key, so that a key IAM deactivated or deleted stops working at
  // once instead of after the cache's 30 s. Thread-safe.
  void Invalidate(const std::string& access_key_id);

 private:
  storage::SecretStore* store_;
  const crypto::Envelope* envelope_;
  const Clock* clock_;
  // Decrypted keys cached for a short time (Default: 30 s) so that hot paths skip the store.
  std::mutex mu_;
  struct Entry {
    sigv4::Credential credential;
    std::int64_t expires_ms = 0;
  };
  std::unordered_map<std::string, Entry> cache_;
};

struct RootCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  bool created = false;  // true when this call generated (or re-keyed) the root key
};

// Ensures the root user's access key exists. With `from_env` set (COFFER_ROOT_ACCESS_KEY_ID /
// COFFER_ROOT_SECRET_ACCESS_KEY), that pair becomes the root key (replacing a different one).
// Otherwise an existing root key is kept, or a new random one is generated (AKIA.../40 chars).
// The principal is arn:aws:iam::<account_id>:root.
Result<RootCredentials> EnsureRootCredentials(
    storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
    const std::string& account_id,
    const std::optional<std::pair<std::string, std::string>>& from_env);

}  // namespace coffer::api
