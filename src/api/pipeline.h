#pragma once

// The AWS JSON 1.1 request pipeline, readable top to bottom in Pipeline::Handle():
//   request id -> limits -> SigV4 -> scope checks (service, region) -> dispatch on X-Amz-Target
//   -> decode JSON -> (policy: later issue) -> service call -> (audit: later issue) -> encode.
// Errors at any step become AWS's {"__type","Message"} body via the one table in errors.cc.

#include <memory>
#include <string>
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

class Pipeline {
 public:
  Pipeline(PipelineOptions options, secrets::Service* service, const sigv4::Verifier* verifier,
           const Clock* clock);
  // Handles one `POST /` AWS request. Never throws.
  http::Response Handle(const http::Request& request) const;

 private:
  PipelineOptions options_;
  secrets::Service* service_;
  const sigv4::Verifier* verifier_;
  const Clock* clock_;
};

}  // namespace coffer::api
