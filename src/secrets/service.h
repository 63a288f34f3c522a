#pragma once

// The Secrets Manager domain service: every operation's semantics (names and ARNs, staging
// labels, idempotency, deletion windows, quotas), on top of a SecretStore and an Envelope.
//
// Errors are Status values with the exact AWS messages; src/api/errors.cc maps codes to AWS error
// types. Thread-safe: concurrent calls on one secret are serialised by optimistic concurrency
// (SecretStore revisions) with retry.

#include <cstdint>
#include <memory>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "secrets/types.h"
#include "storage/store.h"

namespace coffer::secrets {

struct ServiceOptions {
  std::int64_t max_value_bytes = 65536;  // Default: 65,536, as AWS.
  int max_versions = 100;                // Default: 100 versions kept beyond the last 24 h.
  int max_tags = 50;                     // Default: 50 tags per secret.
  int max_labels = 20;                   // Default: 20 staging labels per secret.
  int commit_retries = 16;               // Default: 16 retries on a revision conflict.
};

class Service {
 public:
  Service(storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
          ServiceOptions options = {});

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

  // Permanently deletes secrets whose recovery window has passed. Called periodically by the
  // server; returns how many were purged.
  Result<int> PurgeExpired();

 private:
  storage::SecretStore* store_;
  const crypto::Envelope* envelope_;
  const Clock* clock_;
  ServiceOptions options_;
};

}  // namespace coffer::secrets
