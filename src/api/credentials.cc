#include "api/credentials.h"

#include <algorithm>
#include <utility>

#include "iam/iam_service.h"

namespace coffer::api {

namespace {

constexpr std::int64_t kCacheTtlMs = 30 * 1000;
constexpr std::size_t kMaxCacheEntries = 4096;
constexpr std::string_view kRootSetting = "root_access_key_id";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";

std::string RootPrincipal(const std::string& account_id) {
  return "arn:aws:iam::" + account_id + ":root";
}

Status ValidateEnvRootKey(const std::string& id, const std::string& secret) {
  bool id_ok = id.size() >= 16 && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
                 return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
               });
  if (!id_ok) {
    return Status::InvalidArgument(
        "COFFER_ROOT_ACCESS_KEY_ID must be 16 to 128 characters of A-Z and 0-9.");
  }
  if (secret.size() < 8) {
    return Status::InvalidArgument(
        "COFFER_ROOT_SECRET_ACCESS_KEY must be at least 8 characters long.");
  }
  return Status::Ok();
}

// Seals `secret` and stores it as the root user's Active key `id`.
Status PutRootKey(storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
                  const std::string& account_id, const std::string& id, const std::string& secret) {
  COFFER_ASSIGN_OR_RETURN(std::string sealed, envelope->Seal(secret, iam::AccessKeyAad(id)));
  COFFER_ASSIGN_OR_RETURN(std::uint32_t key_version, crypto::Envelope::KeyVersionOf(sealed));
  storage::AccessKeyRecord record;
  record.access_key_id = id;
  record.principal_arn = RootPrincipal(account_id);
  record.user_name = "root";
  record.status = "Active";
  record.created_ms = clock->NowMillis();
  record.secret_ciphertext = std::move(sealed);
  record.key_version = key_version;
  COFFER_RETURN_IF_ERROR(store->PutAccessKey(record));
  return store->PutSetting(std::string(kRootSetting), id);
}

}  // namespace

StoreCredentialSource::StoreCredentialSource(storage::SecretStore* store,
                                             const crypto::Envelope* envelope, const Clock* clock)
    : store_(store), envelope_(envelope), clock_(clock) {}

Result<sigv4::Credential> StoreCredentialSource::Lookup(const std::string& access_key_id) {
  const std::int64_t now = clock_->NowMillis();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(access_key_id);
    if (it != cache_.end() && it->second.expires_ms > now) return it->second.credential;
  }

  COFFER_ASSIGN_OR_RETURN(std::optional<storage::AccessKeyRecord> record,
                          store_->GetAccessKey(access_key_id));
  if (!record.has_value() || record->status != "Active") {
    return Status::Unauthenticated(std::string(kInvalidToken));
  }
  Result<std::string> secret =
      envelope_->Open(record->secret_ciphertext, iam::AccessKeyAad(access_key_id));
  if (!secret.ok()) {
    // A server-side problem (wrong master key, damaged row): logged as a 500, never shown.
    return Status::Internal("cannot open the secret of access key " + access_key_id + ": " +
                            secret.status().ToString());
  }
  sigv4::Credential credential{std::move(secret).value(), record->principal_arn};

  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= kMaxCacheEntries) {
    std::erase_if(cache_, [now](const auto& kv) { return kv.second.expires_ms <= now; });
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  }
  cache_[access_key_id] = Entry{credential, now + kCacheTtlMs};
  return credential;
}

void StoreCredentialSource::Invalidate(const std::string& access_key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(access_key_id);
}

Result<RootCredentials> EnsureRootCredentials(
    storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
    const std::string& account_id,
    const std::optional<std::pair<std::string, std::string>>& from_env) {
  COFFER_ASSIGN_OR_RETURN(std::optional<std::string> previous_id,
                          store->GetSetting(std::string(kRootSetting)));

  // The existing root key, if the setting points at a stored key.
  std::optional<std::string> previous_secret;
  std::optional<storage::AccessKeyRecord> previous;
  if (previous_id.has_value()) {
    COFFER_ASSIGN_OR_RETURN(previous, store->GetAccessKey(*previous_id));
    if (previous.has_value()) {
      Result<std::string> opened =
          envelope->Open(previous->secret_ciphertext, iam::AccessKeyAad(*previous_id));
      if (!opened.ok()) {
        return opened.status().WithContext("opening the stored root access key");
      }
      previous_secret = std::move(opened).value();
    }
  }

  RootCredentials result;
  if (from_env.has_value()) {
    const auto& [id, secret] = *from_env;
    COFFER_RETURN_IF_ERROR(ValidateEnvRootKey(id, secret));
    result.access_key_id = id;
    result.secret_access_key = secret;
    const bool unchanged = previous.has_value() && previous_id == id && previous_secret == secret &&
                           previous->status == "Active" &&
                           previous->principal_arn == RootPrincipal(account_id);
    if (unchanged) return result;
    COFFER_RETURN_IF_ERROR(PutRootKey(store, envelope, clock, account_id, id, secret));
    if (previous.has_value() && *previous_id != id) {
      Status removed = store->DeleteAccessKey(*previous_id);
      if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
    }
    result.created = true;
    return result;
  }

  if (previous.has_value() && previous_secret.has_value()) {
    result.access_key_id = *previous_id;
    result.secret_access_key = *previous_secret;
    return result;
  }
  // First start (or the setting points at a key that is gone): a new random root key.
  result.access_key_id = iam::NewAccessKeyId();
  result.secret_access_key = iam::NewSecretAccessKey();
  COFFER_RETURN_IF_ERROR(PutRootKey(store, envelope, clock, account_id, result.access_key_id,
                                    result.secret_access_key));
  result.created = true;
  return result;
}

}  // namespace coffer::api
