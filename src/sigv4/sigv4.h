#pragma once

// AWS Signature Version 4: parsing, canonicalisation, signing and verification of header-signed
// requests. Nothing here knows about Secrets Manager.
//
// The algorithm follows botocore's SigV4Auth (the reference for what real clients send) and the
// AWS spec; see /work/shared/reference/aws-secrets-manager.md section 2.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace coffer::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kScopeTerminator = "aws4_request";

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
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, as listed
  std::string signature;                    // lowercase hex
};

// Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
// kIncompleteSignature with AWS's wording when a part is missing or malformed.
Result<Authorization> ParseAuthorization(std::string_view header);

// The canonical request for the given signed headers (lowercase names) and payload hash (hex).
// Headers are emitted in the order of `signed_headers` (callers pass them sorted, as clients do).
// A signed header that is absent from the request contributes "name:" (Verify rejects that case
// before getting here).
std::string CanonicalRequest(const RequestView& req, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// The raw 32-byte kSigning key (HexEncode it for display).
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// The pieces of the canonical request, exposed for tests and diagnostics.
// CanonicalUri: botocore's quote(normalize_url_path(path), safe='/~'): dot segments and empty
// segments removed, then every byte outside [A-Za-z0-9-._~/] percent-encoded (so an already
// percent-encoded path is encoded again, as AWS expects for every service but S3).
std::string CanonicalUri(std::string_view path);
// CanonicalQuery: "a=b&c=d", parameters percent-decoded, re-encoded per RFC 3986 and sorted by
// encoded name, then encoded value. '+' is a literal plus, not a space.
std::string CanonicalQuery(std::string_view query);
// "yyyymmdd/region/service/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region,
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
  // Append AWS's "The Canonical String for this request should have been ..." hint to signature
  // mismatch messages. Default: off (it echoes signed header values back to the caller).
  bool canonical_request_in_errors = false;
  // Derived signing keys kept in memory; the cache is cleared when it would grow past this.
  // Default: 1024 entries. 0 disables caching.
  std::size_t signing_key_cache_size = 1024;
};

struct VerifiedRequest {
  std::string access_key_id;
  std::string principal_arn;
  std::string region;
  std::string service;
};

class SigningKeyCache;  // Thread-safe (key id, secret, date, region, service) -> kSigning.

class Verifier {
 public:
  Verifier(const Clock* clock, CredentialSource* credentials, VerifierOptions options = {});
  // Errors: kMissingAuthToken, kIncompleteSignature, kUnauthenticated, kInvalidSignature (with
  // AWS's messages, including "Signature expired: ..." and "Signature not yet current: ...").
  // The region and service of the credential scope are not restricted here; they are returned
  // for the caller to check. Thread-safe.
  Result<VerifiedRequest> Verify(const RequestView& req) const;

 private:
  const Clock* clock_;
  CredentialSource* credentials_;
  VerifierOptions options_;
  std::shared_ptr<SigningKeyCache> key_cache_;  // shared by copies of this Verifier
};

// Signs a request the way botocore does (used by tests, benchmarks and coffer's own clients).
// Adds `X-Amz-Date` and `Authorization` to `headers` (replacing any already there); `Host` must
// already be present. Every header is signed except botocore's blacklist (user-agent,
// connection, expect, ...). The payload hash is `X-Amz-Content-SHA256` when that header is
// present, else hex(sha256(body)).
void SignRequest(std::string_view method, std::string_view target, HeaderList& headers,
                 std::string_view body, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, std::int64_t now_ms);

}  // namespace coffer::sigv4
