#pragma once

// The AWS request pipeline, readable top to bottom in Pipeline::Handle() and Process():
//
//   request id -> method/path -> protocol (JSON target or IAM Query form) -> SigV4 -> scope
//   (service, region) -> dispatch -> decode -> policy -> service -> encode -> audit -> metrics.
//
// Three APIs share it:
//  - Secrets Manager: JSON 1.1, X-Amz-Target "secretsmanager.<Action>", signed for
//    "secretsmanager". Policy is checked inside secrets::Service (it needs the secret).
//  - CloudTrail LookupEvents: JSON 1.1, X-Amz-Target
//    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", signed for
//    "cloudtrail"; answered from the audit trail.
//  - IAM: the Query protocol (form-encoded body with Action=..., XML responses), signed for "iam";
//    and STS GetCallerIdentity the same way, signed for "sts".
//
// Every request that reaches the pipeline, allowed or denied, authenticated or not, appends one
// audit record before its response is returned. If that append fails the client gets
// InternalServiceError instead of the response (fail-closed), and the failure is counted.
// Errors at any step become the protocol's error body via the one table in api/error_table.h
// (IAM's own errors via iam/query_protocol.h).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "http/server.h"
#include "secrets/service.h"
#include "sigv4/sigv4.h"

namespace coffer::audit {
class Trail;
}
namespace coffer::iam {
class QueryApi;
}
namespace coffer::metrics {
class ServerMetrics;
}
namespace coffer::policy {
class Authorizer;
}

namespace coffer::api {

struct PipelineOptions {
  std::string account_id = "000000000000";  // Default: 000000000000.
  // Regions a request may be signed for. Default: empty = any well-formed region.
  std::vector<std::string> allowed_regions;
};

// The X-Amz-Target prefix of Secrets Manager actions ("secretsmanager.GetSecretValue") and the
// service its requests must be signed for.
inline constexpr std::string_view kSecretsManagerTargetPrefix = "secretsmanager.";
inline constexpr std::string_view kSecretsManagerService = "secretsmanager";
inline constexpr std::string_view kCloudTrailTargetPrefix =
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
inline constexpr std::string_view kCloudTrailService = "cloudtrail";
inline constexpr std::string_view kIamService = "iam";
inline constexpr std::string_view kStsService = "sts";

// The optional parts of the pipeline. Each may be null: no audit trail (audit: false), no
// metrics, no IAM endpoint. With a null authorizer CloudTrail lookups are open to every
// authenticated caller (unit tests only; the server always passes one).
struct PipelineParts {
  const policy::Authorizer* authorizer = nullptr;
  audit::Trail* trail = nullptr;
  metrics::ServerMetrics* metrics = nullptr;
  iam::QueryApi* iam = nullptr;
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, secrets::Service* service, const sigv4::Verifier* verifier,
           const Clock* clock, PipelineParts parts = {});
  // Handles one `POST /` AWS request. Never throws. Every response carries x-amzn-RequestId.
  // Thread-safe (the service, verifier, clock and parts are).
  http::Response Handle(const http::Request& request) const;

  // What one request did, gathered on its way through the pipeline for the audit record and the
  // metrics. Public so that the helpers in pipeline.cc can fill it.
  struct Exchange;

 private:
  // Steps 2..9 of Handle(); may throw (Handle() catches).
  http::Response Process(const http::Request& request, Exchange& x) const;
  http::Response ProcessJson(const http::Request& request, Exchange& x) const;
  http::Response ProcessQuery(const http::Request& request, Exchange& x) const;
  http::Response LookupEvents(const http::Request& request, Exchange& x) const;
  // The scope checks: the credential scope names `service` and a well-formed, allowed region.
  Status CheckScope(const sigv4::VerifiedRequest& verified, std::string_view service) const;
  // SigV4 (step 5), recording the caller or the failure in `x`.
  Result<sigv4::VerifiedRequest> Authenticate(const http::Request& request, Exchange& x) const;
  // The error response in the request's protocol; records the error code in `x`.
  http::Response Fail(const Status& status, Exchange& x, int http_status_override = 0) const;
  // Steps 10 and 11: the audit record (fail-closed) and the metrics.
  void Finish(const http::Request& request, Exchange& x, http::Response& response) const;

  PipelineOptions options_;
  secrets::Service* service_;
  const sigv4::Verifier* verifier_;
  const Clock* clock_;
  PipelineParts parts_;
};

}  // namespace coffer::api
