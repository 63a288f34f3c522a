#pragma once

// CachingStore: a SecretStore decorator that keeps the results of the hot reads in memory, so a
// GetSecretValue of a popular secret does not touch the database at all.
//
// Cached: GetSecretByArn and GetSecretByName (the secret row, or "not found"), and
// GetVersionByStage (the version row with its ciphertext, or "no version has that stage"). Only
// what the store returns is kept: envelope ciphertext, never plaintext. Every other method passes
// straight through to the backend.
//
// Invalidation. Every Commit() drops what is cached under its ARN and under its (region, name)
// (purges included), and so does ReplaceWrapped() of a secret version; both after the backend
// call returns, whatever its result, so a caller that got OK from Commit() reads its own write.
// A reader that misses the cache, reads the backend and then inserts could race with a commit
// that lands in between; generation counters prevent that: each shard counts its invalidations,
// a reader notes the count before it reads the backend and inserts only if it is unchanged
// (checked under the shard lock that invalidation also takes), so a stale row is never inserted
// after the commit that replaced it. A positive name lookup is a pointer to the ARN entry and
// only hits when that entry still holds a secret of that region and name.
//
// INVARIANT: the cache is only valid while this process is the only writer of secret rows (every
// change to a secret goes through this object's Commit). That holds for the embedded SQLite
// store, where `coffer server` holds an exclusive lock on its data dir: the other process that
// writes the same file, `coffer keys rotate`, only rewraps data keys (ReplaceWrapped), and a
// cached ciphertext that was rewrapped elsewhere still opens, because old master-key versions
// stay in the keyring. A deployment where several servers share one database (PostgreSQL) must
// NOT use this decorator: another server's commit would never invalidate this one's cache.
//
// Bounds: at most `max_entries` entries (ARN and name entries together) and about `max_bytes` of
// cached rows; a shard that outgrows its share is simply cleared. Thread-safe; the shards have
// their own mutexes and the backend is called without any cache lock held.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/store.h"

namespace coffer::storage {

struct CachingOptions {
  // Most cached entries (secret ARNs and names together). Default: 20,000 (about 10,000 secrets
  // read both by name and by ARN).
  std::size_t max_entries = 20000;
  // Approximate bound on the cached bytes (rows, ciphertext and keys). Default: 64 MiB.
  std::size_t max_bytes = 64 * 1024 * 1024;
  // Independent shards (each its own lock and generation). Default: 16; at least 1.
  std::size_t shards = 16;
};

class CachingStore final : public SecretStore {
 public:
  explicit CachingStore(std::unique_ptr<SecretStore> backend, CachingOptions options = {});

  CachingStore(const CachingStore&) = delete;
  CachingStore& operator=(const CachingStore&) = delete;

  SecretStore& backend() { return *backend_; }

  // --- cached reads ---
  Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& arn) override;
  Result<std::optional<SecretRecord>> GetSecretByName(const std::string& region,
                                                      const std::string& name) override;
  Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& arn,
                                                         const std::string& stage) override;

  // --- writes that invalidate ---
  Status Commit(const Mutation& mutation) override;
  Result<bool> ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                              std::uint32_t new_key_version) override;

  // --- pass-through ---
  Result<std::vector<SecretRecord>> ListSecrets(const std::string& region) override;
  Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) override;
  Result<std::int64_t> CountSecrets() override;
  Result<std::vector<SecretRecord>> ListAllSecrets() override;
  Result<std::vector<VersionRecord>> ListVersions(const std::string& arn) override;
  Result<std::optional<VersionRecord>> GetVersion(const std::string& arn,
                                                  const std::string& version_id) override;
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
  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Status PutSetting(const std::string& key, const std::string& value) override;

  // --- introspection (tests, metrics) ---
  struct Stats {
    std::uint64_t misses = 0;           // cached reads that went to the backend (hits: not counted)
    std::uint64_t invalidations = 0;
    std::uint64_t dropped_inserts = 0;  // fills skipped because a commit raced with the read
    std::size_t entries = 0;            // ARN and name entries cached now
    std::size_t bytes = 0;              // approximate
  };
  Stats stats() const;

 private:
  // Most stage lookups remembered per secret (each a version row or "none"): a client may ask
  // for any label, and only a handful are real.
  static constexpr std::size_t kMaxStagesPerSecret = 8;

  struct StageEntry {
    std::string stage;
    std::optional<VersionRecord> version;  // nullopt: no version has this stage
  };
  struct ArnEntry {
    bool secret_known = false;           // `secret` holds the backend's answer
    std::optional<SecretRecord> secret;  // nullopt (when known): no such ARN
    std::vector<StageEntry> stages;
    std::size_t bytes = 0;
  };
  struct NameEntry {
    std::optional<std::string> arn;  // nullopt: no secret of that name in that region
  };
  struct Shard {
    mutable std::mutex mu;
    std::uint64_t generation = 0;  // +1 on every invalidation of a key in this shard
    std::unordered_map<std::string, ArnEntry> by_arn;
    std::unordered_map<std::string, NameEntry> by_name;  // key: NameKey(region, name)
    std::size_t bytes = 0;
  };

  static std::string NameKey(const std::string& region, const std::string& name);
  static std::size_t Bytes(const SecretRecord& s);
  static std::size_t Bytes(const VersionRecord& v);
  static std::size_t Bytes(const StageEntry& e);
  static std::size_t NameBytes(const std::string& key, const NameEntry& e);

  Shard& ShardFor(const std::string& key);
  std::uint64_t Generation(const Shard& shard) const;
  // Clears `shard` when it holds more than its share of entries or bytes. Called locked.
  void TrimLocked(Shard& shard);
  // Fills, each only when `shard`'s generation still equals `generation`. Called unlocked.
  // InsertSecret checks the global generation instead when `global` is set.
  void InsertSecret(const std::string& arn, std::uint64_t generation, bool global,
                    const std::optional<SecretRecord>& secret);
  void InsertName(const std::string& key, std::uint64_t generation,
                  const std::optional<std::string>& arn);
  void InsertStage(const std::string& arn, std::uint64_t generation, const std::string& stage,
                   const std::optional<VersionRecord>& version);
  void InvalidateArn(const std::string& arn);
  void InvalidateName(const std::string& key);

  std::unique_ptr<SecretStore> backend_;
  const CachingOptions options_;
  const std::size_t max_entries_per_shard_;
  const std::size_t max_bytes_per_shard_;
  std::vector<Shard> shards_;
  // +1 on every invalidation anywhere: guards the one fill whose shard is unknown before the
  // backend read (the ARN entry filled by a lookup by name).
  std::atomic<std::uint64_t> global_generation_{0};

  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> invalidations_{0};
  std::atomic<std::uint64_t> dropped_inserts_{0};
};

}  // namespace coffer::storage
