#pragma once

// The AWS JSON 1.1 request pipeline, readable top to bottom in Pipeline::Handle():
//   request id -> limits -> SigV4 -> scope checks (service, region) -> dispatch on X-Amz-Target
//   -> decode JSON -> (policy: later issue) -> service call -> (audit: later issue) -> encode.
// Errors at any step become AWS's {"__type","Message"} body via the one table in errors.cc.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "http/server.h"
#include "secrets/service.h"
#include "sigv4/sigv4.h"

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


class Pipeline {
 public:
  Pipeline(PipelineOptions options, secrets::Service* service, const sigv4::Verifier* verifier,
           const Clock* clock);
  // Handles one `POST /` AWS request. Never throws. Every response carries x-amzn-RequestId.
  // Thread-safe (the service, verifier and clock are).
  http::Response Handle(const http::Request& request) const;

 private:
  // Steps 2..9 of Handle(); may throw (Handle() catches). Sets `action` once it is known.
  http::Response Process(const http::Request& request, const std::string& request_id,
                         std::string& action) const;
  // The scope checks: the credential scope names `service` and a well-formed, allowed region.
  Status CheckScope(const sigv4::VerifiedRequest& verified, std::string_view service) const;

  PipelineOptions options_;
  secrets::Service* service_;
  const sigv4::Verifier* verifier_;
  // Not read yet: kept for the time-based steps of later issues (throttling, audit timestamps).
  [[maybe_unused]] const Clock* clock_;
};

}  // namespace coffer::api
