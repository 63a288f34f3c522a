#pragma once

// AWS Signature Version 4: parsing, canonicalisation, signing and verification of header-signed
// requests. Nothing here knows about Secrets Manager.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace coffer::sigv4 {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names as received

// A request as the verifier sees it. `target` is the request-target ("/", "/?a=b").
struct RequestView {
  std::string_view method;
  std::string_view target;
  const HeaderList* headers = nullptr;
  std::string_view body;
};

struct Authorization {
  std::string access_key_id;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, as listed
  std::string signature;  // lowercase hex
};

// Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
// kIncompleteSignature with AWS's wording when a part is missing or malformed.
Result<Authorization> ParseAuthorization(std::string_view header);

// The canonical request for the given signed headers (lowercase names) and payload hash (hex).
std::string CanonicalRequest(const RequestView& req, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

struct Credential {
  std::string secret_access_key;
  std::string principal_arn;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // kUnauthenticated when the key is unknown or inactive.
  virtual Result<Credential> Lookup(const std::string& access_key_id) = 0;
};

struct VerifierOptions {
  // Allowed clock skew either way. Default: 5 minutes, as AWS.
  std::int64_t max_skew_ms = 5 * 60 * 1000;
};

struct VerifiedRequest {
  std::string access_key_id;
  std::string principal_arn;
  std::string region;
  std::string service;
};

class Verifier {
 public:
  Verifier(const Clock* clock, CredentialSource* credentials, VerifierOptions options = {});
  // Errors: kMissingAuthToken, kIncompleteSignature, kUnauthenticated, kInvalidSignature (with
  // AWS's messages, including "Signature expired: ..." and "Signature not yet current: ...").
  Result<VerifiedRequest> Verify(const RequestView& req) const;

 private:
  const Clock* clock_;
  CredentialSource* credentials_;
  VerifierOptions options_;
};

// Signs a request the way botocore does (used by tests, benchmarks and coffer's own clients).
// Adds `X-Amz-Date` and `Authorization` to `headers`; `Host` must already be present.
void SignRequest(std::string_view method, std::string_view target, HeaderList& headers,
                 std::string_view body, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, std::int64_t now_ms);

}  // namespace coffer::sigv4
