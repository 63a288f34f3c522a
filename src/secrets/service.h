#pragma once

// The Secrets Manager domain service: every operation's semantics (names and ARNs, staging
// labels, idempotency, deletion windows, quotas), on top of a SecretStore and an Envelope.
//
// Errors are Status values with the exact AWS messages; src/api/errors.cc maps codes to AWS error
// types. Thread-safe: writers of one secret in this process take the secret's stripe of
// WriteLocks around each read-modify-write-commit, so they queue instead of conflicting; the
// store's revision check with retry guards against other processes, and a conflict that outlasts
// the retries is kThrottled (ThrottlingException, which SDKs back off on). GetSecretValue never
// waits for a commit: LastAccessedDate goes through an AccessRecorder flushed in the background.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "policy/policy.h"
#include "secrets/access_recorder.h"
#include "secrets/meta_cache.h"
#include "secrets/types.h"
#include "secrets/write_locks.h"
#include "storage/store.h"

namespace coffer::secrets {

struct SecretMeta;  // secrets/meta.h
namespace internal {
struct AuthExtras;    // secrets/authorize.h
struct AuthTarget;    // secrets/authorize.h
struct Loaded;        // secrets/op_util.h
struct ListedSecret;  // secrets/listing.h
}  // namespace internal

// One secret as the rotation metrics see it (Service::SecretGauges).
struct SecretGaugeRow {
  std::string name;
  std::string region;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> last_rotated_ms;  // the LastRotatedDate the metadata records
  bool scheduled_for_deletion = false;
};

struct ServiceOptions {
  std::int64_t max_value_bytes = 65536;  // Default: 65,536, as AWS.
  int max_versions = 100;                // Default: 100 versions kept beyond the last 24 h.
  int max_tags = 50;                     // Default: 50 tags per secret.
  int max_labels = 20;                   // Default: 20 staging labels per secret.
  int commit_retries = 16;               // Default: 16 retries on a revision conflict.
  // LastAccessedDate writes are queued by reads and committed in the background: every
  // `access_flush_interval_ms` (default: 1000 ms), or sooner once `access_flush_threshold`
  // versions are pending (default: 1,024).
  int access_flush_interval_ms = 1000;
  std::size_t access_flush_threshold = 1024;
  // Decides every action before it runs (IAM identity policies combined with the secret's
  // resource policy; see secrets/authorize.h for what it is told). nullptr allows everything, for
  // unit tests and offline tools that act with full rights; a server always sets one. Must
  // outlive the Service.
  const policy::Authorizer* authorizer = nullptr;
};

class Service {
 public:
  // `store`, `envelope` and `clock` must outlive the Service.
  Service(storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
          ServiceOptions options = {});
  // Stops the LastAccessedDate thread without writing (the store may be gone already): call
  // Shutdown() first to keep the pending writes.
  ~Service();

  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  Result<CreateSecretResponse> CreateSecret(const CallContext& ctx, const CreateSecretRequest& r);
  Result<GetSecretValueResponse> GetSecretValue(const CallContext& ctx,
                                                const GetSecretValueRequest& r);
  Result<BatchGetSecretValueResponse> BatchGetSecretValue(const CallContext& ctx,
                                                          const BatchGetSecretValueRequest& r);
  Result<PutSecretValueResponse> PutSecretValue(const CallContext& ctx,
                                                const PutSecretValueRequest& r);
  Result<UpdateSecretResponse> UpdateSecret(const CallContext& ctx, const UpdateSecretRequest& r);
  Result<SecretDescription> DescribeSecret(const CallContext& ctx, const DescribeSecretRequest& r);
  Result<ListSecretsResponse> ListSecrets(const CallContext& ctx, const ListSecretsRequest& r);
  Result<ListSecretVersionIdsResponse> ListSecretVersionIds(const CallContext& ctx,
                                                            const ListSecretVersionIdsRequest& r);
  Result<ArnNameResponse> UpdateSecretVersionStage(const CallContext& ctx,
                                                   const UpdateSecretVersionStageRequest& r);
  Result<DeleteSecretResponse> DeleteSecret(const CallContext& ctx, const DeleteSecretRequest& r);
  Result<ArnNameResponse> RestoreSecret(const CallContext& ctx, const SecretIdRequest& r);
  Status TagResource(const CallContext& ctx, const TagResourceRequest& r);
  Status UntagResource(const CallContext& ctx, const UntagResourceRequest& r);
  Result<GetRandomPasswordResponse> GetRandomPassword(const CallContext& ctx,
                                                      const GetRandomPasswordRequest& r);
  Result<ArnNameResponse> PutResourcePolicy(const CallContext& ctx,
                                            const PutResourcePolicyRequest& r);
  Result<GetResourcePolicyResponse> GetResourcePolicy(const CallContext& ctx,
                                                      const SecretIdRequest& r);
  Result<ArnNameResponse> DeleteResourcePolicy(const CallContext& ctx, const SecretIdRequest& r);
  Result<ValidateResourcePolicyResponse> ValidateResourcePolicy(
      const CallContext& ctx, const ValidateResourcePolicyRequest& r);
  Result<RotateSecretResponse> RotateSecret(const CallContext& ctx, const RotateSecretRequest& r);
  Result<CancelRotateSecretResponse> CancelRotateSecret(const CallContext& ctx,
                                                        const SecretIdRequest& r);
  // The replication actions: coffer keeps each secret in one region, so after validation,
  // resolution and authorization (like any action) they answer InvalidRequestException.
  Status ReplicateSecretToRegions(const CallContext& ctx, const SecretIdRequest& r);
  Status RemoveRegionsFromReplication(const CallContext& ctx, const SecretIdRequest& r);
  Status StopReplicationToReplica(const CallContext& ctx, const SecretIdRequest& r);

  // Every stored secret of every region (including those scheduled for deletion), for the
  // rotation gauges of /metrics. Not an AWS action: it is not authorized.
  Result<std::vector<SecretGaugeRow>> SecretGauges();

  // Permanently deletes secrets whose recovery window has passed. Called periodically by the
  // server; returns how many were purged.
  Result<int> PurgeExpired();

  // Commits every LastAccessedDate write queued by reads so far; returns once they are durable.
  // The background thread does this on its own; tests and shutdown call it to be sure.
  void FlushAccessRecords();
  // Commits the pending LastAccessedDate writes and stops their background thread. Call it before
  // the store is closed (a server: after the HTTP server has drained, before the store is
  // destroyed). Idempotent; reads after it are no longer recorded.
  void Shutdown();

 private:
  // Authorizes `action` ("GetSecretValue") on `target` with options_.authorizer, and records the
  // secret in ctx.resources (secrets/authorize.h). OK when there is no authorizer.
  Status Authorize(const CallContext& ctx, std::string_view action,
                   const internal::AuthTarget& target) const;
  // Authorizes `action` on the stored secret `record`, named `secret_id` by the request. `meta`
  // may be null: it is then taken from meta_cache_ (parsed once per metadata text), and only
  // when an authorizer needs it.
  Status AuthorizeSecret(const CallContext& ctx, std::string_view action,
                         std::string_view secret_id, const storage::SecretRecord& record,
                         const SecretMeta* meta, const internal::AuthExtras* extras) const;
  // For a `secret_id` that names no secret: OK when `action` on the ARN AWS would give it is
  // allowed (the caller then answers ResourceNotFoundException), else the denial.
  Status AuthorizeAbsent(const CallContext& ctx, std::string_view action,
                         std::string_view secret_id, const internal::AuthExtras* extras) const;
  // Resolves `secret_id`, authorizes `action` on it, and parses its metadata: kNotFound only
  // for a caller allowed to learn it, kPermissionDenied otherwise.
  Result<internal::Loaded> LoadAuthorized(const CallContext& ctx, std::string_view secret_id,
                                          std::string_view action,
                                          const internal::AuthExtras* extras = nullptr);
  // ListSecrets' rule (also BatchGetSecretValue with Filters): if ListSecrets on "*" is allowed,
  // keeps `secrets`; if not, keeps those the caller may ListSecrets on one by one, and when that
  // leaves none, answers the denial of "*".
  Status KeepListable(const CallContext& ctx, std::vector<internal::ListedSecret>& secrets) const;

  // Authorizes `action` (PutSecretValue or UpdateSecret) on the secret, then adds version `token`
  // holding `value` to it, moving labels per reference §1.5 and applying `edit_meta` in the same
  // commit. An idempotent retry (same token, same value) writes nothing new and answers the
  // existing version.
  Result<PutSecretValueResponse> WriteVersion(const CallContext& ctx, std::string_view action,
                                              const std::string& secret_id,
                                              const std::string& token, const SecretValue& value,
                                              const std::optional<std::vector<std::string>>& stages,
                                              const std::function<void(SecretMeta&)>& edit_meta);
  // Reads and decrypts one version of `secret` (GetSecretValue rules, reference §1.5 rule 7).
  Result<GetSecretValueResponse> ReadValue(const storage::SecretRecord& secret,
                                           const std::optional<std::string>& version_id,
                                           const std::optional<std::string>& version_stage);
  // Records a read for LastAccessedDate: queues one VersionUpdate per version per UTC day for the
  // background flush, best effort. Never waits for the store.
  void TouchLastAccessed(const storage::SecretRecord& secret,
                         const storage::VersionRecord& version);
  // Authorizes `action` on the secret, applies `edit` to the metadata of a secret not scheduled
  // for deletion and commits it, bumping LastChangedDate. Returns the secret as written.
  Result<storage::SecretRecord> EditMeta(const CallContext& ctx, std::string_view action,
                                         const std::string& secret_id,
                                         const internal::AuthExtras* extras,
                                         const std::function<Status(SecretMeta&)>& edit);
  // Holds the WriteLocks stripe of the secret `secret_id` names, for a write to it. A name needs
  // no store read; an ARN is resolved first (it may be a full or a partial ARN), and the caller
  // re-reads under the lock. An id that resolves to nothing (or a failed lookup) yields a lock
  // that holds nothing: the write then finds the secret absent itself, or, if it appeared
  // meanwhile, still has the revision check.
  std::unique_lock<std::mutex> LockSecret(const CallContext& ctx, std::string_view secret_id);
  // The versions of `arn` (no ciphertext), with LastAccessedDate writes still queued applied.
  Result<std::vector<storage::VersionRecord>> ListVersionsSeen(const std::string& arn);

  storage::SecretStore* store_;
  const crypto::Envelope* envelope_;
  const Clock* clock_;
  ServiceOptions options_;
  WriteLocks locks_;
  AccessRecorder access_;           // after locks_: it uses them until it stops
  internal::MetaCache meta_cache_;  // parsed metadata for GetSecretValue's authorization
};

}  // namespace coffer::secrets
