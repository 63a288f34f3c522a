#pragma once

// SecretStore: the persistence interface behind the secrets service.
//
// The store knows rows, not semantics: staging-label rules, idempotency and deletion windows live
// in src/secrets. Ciphertext and metadata JSON are opaque bytes here. Each backend (SQLite today,
// PostgreSQL later) implements this interface and passes the conformance suite
// (storage/store_conformance.h, tests in storage/store_conformance_test.cc).
//
// Contract for every backend:
//  - Commit() is atomic, and returns OK only once the change is durable (survives kill -9 and
//    power loss to the extent fsync promises).
//  - Commit() checks `expected_revision` against the stored revision of the secret and returns
//    kAborted on a mismatch, so two writers cannot both win a read-modify-write race; the caller
//    re-reads and retries. expected_revision == 0 means "the secret must not exist yet"; a
//    (region, name) clash then yields kAlreadyExists.
//  - All methods are thread-safe.
//  - An absent secret has revision 0: expected_revision == 0 on an existing ARN is a mismatch
//    (kAborted), and a purge of an absent secret with expected_revision == 0 is a no-op.
//  - Within one Commit: the secret row is upserted first, then deleted_versions are removed,
//    new_versions inserted, version_updates applied. A new version whose id exists fails the
//    Commit with kAlreadyExists; an update or delete naming a missing version with kNotFound. A
//    purge ignores the version lists. After the Commit a stage names at most one version of the
//    secret, else the Commit fails with kInvalidArgument (the service moves labels explicitly).
//  - A failed Commit changes nothing.
//  - Orders: ListSecrets by (created_ms, arn); ListVersions by created_ms, ties in insertion
//    order; ListDueForPurge by (deletion_date_ms, arn); ListAccessKeys by (created_ms,
//    access_key_id); ListStaleWrapped: versions first, then access keys.
//  - DeleteAccessKey of an unknown id returns kNotFound.
//  - ListAllSecrets spans every region, ordered by (created_ms, arn).
//  - IAM entities (users, managed policies, later roles) are opaque JSON rows keyed by
//    (kind, key), with the same compare-and-swap as Commit: PutIamEntity / DeleteIamEntity take
//    the revision the caller read (0: "must not exist yet", so a Put with 0 on an existing row is
//    kAborted) and return kAborted on a mismatch, changing nothing. A Put stores revision
//    expected_revision + 1 and is durable when it returns OK. A Delete of an absent row is
//    kNotFound. Both reject an empty kind or key with kInvalidArgument. ListIamEntities(kind) is
//    ordered by key (byte-wise).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace coffer::storage {

struct SecretRecord {
  std::string arn;  // primary key
  std::string region;
  std::string name;  // unique per region among stored (not yet purged) secrets
  std::int64_t created_ms = 0;
  // Set while the secret is scheduled for deletion: the time after which it may be purged.
  std::optional<std::int64_t> deletion_date_ms;
  // Everything else the service keeps (description, tags, rotation, policy, ...). Opaque here.
  std::string meta_json;
  // Set by the store: 1 on first commit, +1 on each later commit of this secret.
  std::int64_t revision = 0;
};

struct VersionRecord {
  std::string version_id;
  std::vector<std::string> stages;  // order preserved
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> last_accessed_ms;
  // Envelope blob (crypto/envelope.h). Empty when a listing skipped it.
  std::string ciphertext;
  // Master-key version that wraps this version's data key; lets `keys rotate` find stale rows.
  std::uint32_t key_version = 0;
};

struct VersionUpdate {
  std::string version_id;
  std::optional<std::vector<std::string>> stages;
  std::optional<std::int64_t> last_accessed_ms;
};

// One atomic change to one secret.
struct Mutation {
  SecretRecord secret;                // upserted (revision field ignored)
  std::int64_t expected_revision = 0; // 0: the secret must not exist yet
  std::vector<VersionRecord> new_versions;
  std::vector<VersionUpdate> version_updates;
  std::vector<std::string> deleted_versions;
  bool purge = false;  // delete the secret row and all its versions instead of upserting
};

struct AccessKeyRecord {
  std::string access_key_id;  // primary key
  std::string principal_arn;
  std::string user_name;
  std::string status = "Active";  // Active | Inactive
  std::int64_t created_ms = 0;
  std::string secret_ciphertext;  // envelope blob of the secret access key
  std::uint32_t key_version = 0;
};

// One IAM entity: the IAM service owns the JSON; the store keeps it opaque.
struct IamEntityRecord {
  std::string kind;  // "user" | "policy" (later "role"); part of the primary key
  std::string key;   // user name, policy ARN, ...; part of the primary key
  std::string json;
  // Set by the store: 1 on first put, +1 on each later put of this (kind, key).
  std::int64_t revision = 0;
};

// A row whose data key must be rewrapped under a newer master key.
struct WrappedRef {
  enum class Kind { kSecretVersion, kAccessKey };
  Kind kind = Kind::kSecretVersion;
  std::string arn;         // kSecretVersion
  std::string version_id;  // kSecretVersion
  std::string access_key_id;  // kAccessKey
  std::string ciphertext;
  std::uint32_t key_version = 0;
};

class SecretStore {
 public:
  virtual ~SecretStore() = default;

  // --- secrets ---
  virtual Result<std::optional<SecretRecord>> GetSecretByArn(const std::string& arn) = 0;
  virtual Result<std::optional<SecretRecord>> GetSecretByName(const std::string& region,
                                                              const std::string& name) = 0;
  // Every stored secret of a region (including those scheduled for deletion), by created_ms.
  virtual Result<std::vector<SecretRecord>> ListSecrets(const std::string& region) = 0;
  // Secrets of any region whose deletion_date_ms <= now_ms.
  virtual Result<std::vector<SecretRecord>> ListDueForPurge(std::int64_t now_ms) = 0;
  virtual Result<std::int64_t> CountSecrets() = 0;
  // Every stored secret of every region (including those scheduled for deletion), ordered by
  // (created_ms, arn).
  virtual Result<std::vector<SecretRecord>> ListAllSecrets() = 0;

  // --- versions ---
  // All versions of a secret without ciphertext, oldest first.
  virtual Result<std::vector<VersionRecord>> ListVersions(const std::string& arn) = 0;
  // With ciphertext.
  virtual Result<std::optional<VersionRecord>> GetVersion(const std::string& arn,
                                                          const std::string& version_id) = 0;
  virtual Result<std::optional<VersionRecord>> GetVersionByStage(const std::string& arn,
                                                                 const std::string& stage) = 0;

  // Atomic and durable; see the contract above.
  virtual Status Commit(const Mutation& mutation) = 0;

  // --- access keys ---
  virtual Status PutAccessKey(const AccessKeyRecord& key) = 0;  // insert or replace; durable
  virtual Result<std::optional<AccessKeyRecord>> GetAccessKey(const std::string& access_key_id) = 0;
  virtual Result<std::vector<AccessKeyRecord>> ListAccessKeys() = 0;
  virtual Status DeleteAccessKey(const std::string& access_key_id) = 0;

  // --- IAM entities (see the contract above) ---
  virtual Result<std::optional<IamEntityRecord>> GetIamEntity(const std::string& kind,
                                                              const std::string& key) = 0;
  virtual Result<std::vector<IamEntityRecord>> ListIamEntities(const std::string& kind) = 0;
  // Inserts (expected_revision == 0) or replaces the row; record.revision is ignored.
  virtual Status PutIamEntity(const IamEntityRecord& record, std::int64_t expected_revision) = 0;
  virtual Status DeleteIamEntity(const std::string& kind, const std::string& key,
                                 std::int64_t expected_revision) = 0;

  // --- master-key rotation ---
  // Up to `limit` wrapped rows whose key_version != `current_key_version`.
  virtual Result<std::vector<WrappedRef>> ListStaleWrapped(std::uint32_t current_key_version,
                                                           std::size_t limit) = 0;
  // Replaces the ciphertext only if it still equals ref.ciphertext (compare-and-swap), so a
  // concurrent writer is never overwritten. Returns whether the row was replaced.
  virtual Result<bool> ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                                      std::uint32_t new_key_version) = 0;

  // --- small key/value settings (instance id, schema info) ---
  virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;
  virtual Status PutSetting(const std::string& key, const std::string& value) = 0;
};

}  // namespace coffer::storage
