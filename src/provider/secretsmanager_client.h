#pragma once

// A small AWS Secrets Manager client: the calls the operator makes to coffer server or to real
// AWS, SigV4-signed (sigv4::SignRequest, botocore's algorithm) and sent with libcurl.
//
//  - The endpoint is https://secretsmanager.<region>.amazonaws.com unless overridden (coffer
//    server, ESO's AWS_SECRETSMANAGER_ENDPOINT, a SecretStore's endpoint field).
//  - Errors are Status values mapped from AWS's error types: ResourceNotFoundException ->
//    kNotFound, AccessDeniedException -> kPermissionDenied, UnrecognizedClientException and
//    signature errors -> kUnauthenticated, ThrottlingException -> kThrottled, 5xx and transport
//    failures -> kUnavailable, other 4xx -> kInvalidArgument (or kFailedPrecondition for
//    InvalidRequestException). Messages carry AWS's error type and message, which never hold a
//    secret value; response bodies are never logged.
//  - Thread-safe: every call uses its own curl handle. Credentials are never printed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace coffer::provider {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none (X-Amz-Security-Token is sent when set)
};

struct SecretsManagerOptions {
  // Default: us-east-1. The region requests are signed for.
  std::string region = "us-east-1";
  // Default: empty = https://secretsmanager.<region>.amazonaws.com. Scheme, host and optional
  // port ("http://127.0.0.1:7430").
  std::string endpoint;
  // Default: 10 s for a whole call (connect included).
  std::chrono::milliseconds timeout{10000};
  // Default: true. Verify the server's TLS certificate (turn off only for test endpoints).
  bool verify_tls = true;
  // Default: none (the system's CA bundle). A PEM file of CAs to trust instead.
  std::string ca_file;
  // Default: SystemClock. Signs with this time.
  const Clock* clock = nullptr;
};

// One secret version as GetSecretValue returns it. `binary` holds raw bytes (already decoded).
struct RemoteSecretValue {
  std::string arn;
  std::string name;
  std::string version_id;
  std::vector<std::string> version_stages;
  std::optional<std::string> string;
  std::optional<std::string> binary;
  std::int64_t created_ms = 0;
};

struct RemoteSecretDescription {
  std::string arn;
  std::string name;
  std::vector<std::pair<std::string, std::string>> tags;
  // version id -> stages
  std::vector<std::pair<std::string, std::vector<std::string>>> versions;
  std::optional<std::int64_t> deleted_ms;
  std::optional<std::int64_t> last_changed_ms;
};

struct ListSecretsPage {
  std::vector<RemoteSecretDescription> secrets;
  std::string next_token;  // empty on the last page
};

// Filters as Secrets Manager takes them: key "name", "tag-key", "tag-value", "description",
// "all", ... with values (a leading '!' negates).
struct ListFilter {
  std::string key;
  std::vector<std::string> values;
};

// --- Finding secrets (dataFrom.find) ----------------------------------------------------------

// One per-secret failure of a BatchGetSecretValue (the call itself succeeded).
struct BatchSecretError {
  std::string secret_id;
  std::string error_code;  // e.g. "ResourceNotFoundException", "InvalidRequestException"
  std::string message;
};

// One page of BatchGetSecretValue: the values (AWSCURRENT) and the per-secret errors.
struct BatchGetSecretValuePage {
  std::vector<RemoteSecretValue> values;
  std::vector<BatchSecretError> errors;
  std::string next_token;  // empty on the last page (Filters form only)
};

class SecretsManagerClient {
 public:
  SecretsManagerClient(SecretsManagerOptions options, AwsCredentials credentials);

  // `version_id` and `version_stage` as GetSecretValue takes them; both empty = AWSCURRENT.
  Result<RemoteSecretValue> GetSecretValue(const std::string& secret_id,
                                           const std::string& version_id = "",
                                           const std::string& version_stage = "") const;
  Result<RemoteSecretDescription> DescribeSecret(const std::string& secret_id) const;
  Result<ListSecretsPage> ListSecrets(const std::vector<ListFilter>& filters,
                                      const std::string& next_token = "",
                                      int max_results = 100) const;
  // Checks that the endpoint answers and accepts these credentials (a ListSecrets of one item,
  // which needs only secretsmanager:ListSecrets, or an AccessDenied that proves the signature
  // was accepted). kUnauthenticated for bad credentials, kUnavailable when unreachable.
  Status CheckCredentials() const;

  // --- Writes (PushSecret, see operator/push_secret.h) -----------------------------------------
  // CreateSecret with exactly one of `string` / `binary`, the tags and description (and KmsKeyId
  // when not empty), under a fresh ClientRequestToken. Returns the new version id.
  Result<std::string> CreateSecret(
      const std::string& name, const std::optional<std::string>& string,
      const std::optional<std::string>& binary, const std::string& description,
      const std::string& kms_key_id,
      const std::vector<std::pair<std::string, std::string>>& tags) const;
  // PutSecretValue (a new AWSCURRENT version) with exactly one of `string` / `binary`, under a
  // fresh ClientRequestToken. Returns the new version id.
  Result<std::string> PutSecretValue(const std::string& secret_id,
                                     const std::optional<std::string>& string,
                                     const std::optional<std::string>& binary) const;
  // DeleteSecret: ForceDeleteWithoutRecovery, or RecoveryWindowInDays when set (else the
  // backend's default window).
  Status DeleteSecret(const std::string& secret_id, bool force_delete_without_recovery,
                      std::optional<int> recovery_window_in_days) const;
  Status TagResource(const std::string& secret_id,
                     const std::vector<std::pair<std::string, std::string>>& tags) const;

  // --- Finding secrets (dataFrom.find, see provider.h AwsProvider::FindSecrets) ---------------
  // BatchGetSecretValue by SecretIdList (1 to 20 names or ARNs).
  Result<BatchGetSecretValuePage> BatchGetSecretValue(
      const std::vector<std::string>& secret_ids) const;
  // BatchGetSecretValue by Filters (as ListSecrets takes them), one page of up to `max_results`
  // (1 to 20).
  Result<BatchGetSecretValuePage> BatchGetSecretValueFiltered(
      const std::vector<ListFilter>& filters, const std::string& next_token = "",
      int max_results = 20) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  // POSTs one JSON 1.1 request for `action`; the parsed body on 200, else the mapped Status.
  Result<std::string> Call(const std::string& action, const std::string& body) const;

  SecretsManagerOptions options_;
  AwsCredentials credentials_;
  std::string endpoint_;  // without a trailing '/'
  std::string host_;      // the Host header: host[:port] of the endpoint
};

// The Status for an AWS JSON error response (exposed for tests).
Status StatusFromAwsError(int http_status, const std::string& body);

}  // namespace coffer::provider
