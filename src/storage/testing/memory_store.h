#pragma once

// MemorySecretStore: an in-memory SecretStore for unit tests. It honours the whole store.h
// contract (revisions and kAborted, (region, name) uniqueness, the order of a Commit's parts, the
// one-version-per-stage rule, purge cascade, list orders) but keeps nothing across restarts.
// Thread-safe: one mutex guards everything.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace coffer::storage {

class MemorySecretStore final : public SecretStore {
 public:
  MemorySecretStore() = default;

  Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& arn) override;
  Result<std::optional<SecretRecord>> GetSecretByName(const std::string& region,
                                                      const std::string& name) override;
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& region) override;
  Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) override;
  Result<std::int64_t> CountSecrets() override;
  Result<std::vector<SecretRecord>> ListAllSecrets() override;

  Result<std::vector<VersionRecord>> ListVersions(const std::string& arn) override;
  Result<std::optional<VersionRecord>> GetVersion(const std::string& arn,
                                                  const std::string& version_id) override;
  Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& arn,
                                                         const std::string& stage) override;

  Status Commit(const Mutation& mutation) override;

  Status PutAccessKey(const AccessKeyRecord& key) override;
  Result<std::optional<AccessKeyRecord>> GetAccessKey(const std::string& access_key_id) override;
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override;
  Status DeleteAccessKey(const std::string& access_key_id) override;

  Result<std::optional<IamEntityRecord>> GetIamEntity(const std::string& kind,
                                                      const std::string& key) override;
  Result<std::vector<IamEntityRecord>> ListIamEntities(const std::string& kind) override;
  Status PutIamEntity(const IamEntityRecord& record, std::int64_t expected_revision) override;
  Status DeleteIamEntity(const std::string& kind, const std::string& key,
                         std::int64_t expected_revision) override;

  Result<std::vector<WrappedRef>> ListStaleWrapped(std::uint32_t current_key_version,
                                                   std::size_t limit) override;
  Result<bool> ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                              std::uint32_t new_key_version) override;

  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Status PutSetting(const std::string& key, const std::string& value) override;

  // Test hooks: how many Commit() calls succeeded, and a failure to inject into the next Commit.
  std::int64_t commit_count() const;
  void FailNextCommit(Status status);

 private:
  // A secret row with its versions in insertion order.
  struct Entry {
    SecretRecord secret;
    std::vector<VersionRecord> versions;
  };

  // Applies `m` to `entries` (a copy); the caller swaps it in only on success.
  static Status Apply(const Mutation& m, std::map<std::string, Entry>& entries);
  static Status CheckStagesUnique(const Entry& entry);
  const Entry* FindByNameLocked(const std::string& region, const std::string& name) const;

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by ARN
  std::map<std::string, AccessKeyRecord> access_keys_;
  std::map<std::string, std::string> settings_;
  std::map<std::pair<std::string, std::string>, IamEntityRecord> iam_entities_;  // (kind, key)
  std::int64_t commit_count_ = 0;
  std::optional<Status> next_commit_failure_;
};

}  // namespace coffer::storage
