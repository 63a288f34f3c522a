#include "api/pipeline.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/ops/operations.h"
#include "core/strings.h"

namespace coffer::api {
namespace {

// Accepted X-Amz-Target prefixes. Each names the service its requests are signed for and the
// dispatch table of its actions. A later issue adds CloudTrail's
// "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101." (service "cloudtrail") here.
struct TargetApi {
  std::string_view prefix;
  std::string_view service;
  ops::Handler (*find_handler)(std::string_view action);
};
constexpr TargetApi kTargetApis[] = {
    {kSecretsManagerTargetPrefix, kSecretsManagerService, &ops::FindHandler},
};

struct Target {
  const TargetApi* api = nullptr;
  std::string action;
};

// Echoed client input is cut short so an error body stays small.
std::string Truncated(std::string_view text, std::size_t max = 128) {
  if (text.size() <= max) return std::string(text);
  std::string out(text.substr(0, max));
  out += "...";
  return out;
}

// The action as it may appear in a log line: at most 64 characters, anything outside
// [A-Za-z0-9_.-] replaced by '?', so a client cannot forge log lines.
std::string LogSafe(std::string_view action) {
  std::string out = Truncated(action, 64);
  for (char& c : out) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
    if (!plain) c = '?';
  }
  return out;
}

Result<Target> ParseTarget(const std::string* header) {
  if (header == nullptr || header->empty()) {
    return Status(StatusCode::kUnknownOperation, "Missing the X-Amz-Target header.");
  }
  for (const TargetApi& api : kTargetApis) {
    if (header->size() > api.prefix.size() && header->compare(0, api.prefix.size(), api.prefix) == 0) {
      return Target{&api, header->substr(api.prefix.size())};
    }
  }
  return Status(StatusCode::kUnknownOperation,
                "Unrecognized X-Amz-Target '" + Truncated(*header) +
                    "': expected secretsmanager.<Action>.");
}

// application/x-amz-json-1.1 (what the SDKs send) or 1.0, parameters ignored.
Status CheckContentType(const std::string* header) {
  if (header != nullptr) {
    std::string_view media = TrimSpaces(std::string_view(*header).substr(0, header->find(';')));
    if (EqualsIgnoreCase(media, "application/x-amz-json-1.1") ||
        EqualsIgnoreCase(media, "application/x-amz-json-1.0")) {
      return Status::Ok();
    }
  }
  return Status(StatusCode::kSerialization,
                "Unsupported Content-Type: expected application/x-amz-json-1.1.");
}

http::Response OkResponse(std::string body, const std::string& request_id) {
  http::Response response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", kJsonContentType);
  response.headers.emplace_back(kRequestIdHeader, request_id);
  response.body = std::move(body);
  return response;
}

// The error response; server-side failures are logged in full here (the client sees only
// kInternalErrorMessage). Status messages never carry secret values.
http::Response Fail(const Status& status, const std::string& request_id,
                    std::string_view action, int http_status_override = 0) {
  if (AwsErrorFor(status.code()).http_status >= 500) {
    spdlog::error("request {} ({}): {}", request_id, action.empty() ? "-" : action,
                  status.ToString());
  }
  return ErrorResponse(status, request_id, http_status_override);
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options, secrets::Service* service,
                   const sigv4::Verifier* verifier, const Clock* clock)
    : options_(std::move(options)), service_(service), verifier_(verifier), clock_(clock) {}

http::Response Pipeline::Handle(const http::Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  // 1. Request id: sent back as x-amzn-RequestId on every response, and in every log line.
  const std::string request_id = NewRequestId();
  std::string action;
  http::Response response;
  // Catch-all: nothing below should throw, but if it does the client gets InternalServiceError
  // and the log gets the reason (never the request body).
  try {
    response = Process(request, request_id, action);
  } catch (const std::exception& e) {
    spdlog::error("request {} ({}): unhandled exception: {}", request_id,
                  action.empty() ? "-" : action, e.what());
    response = ErrorResponse(Status::Internal("unhandled exception"), request_id);
  } catch (...) {
    spdlog::error("request {} ({}): unhandled non-standard exception", request_id,
                  action.empty() ? "-" : action);
    response = ErrorResponse(Status::Internal("unhandled exception"), request_id);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    spdlog::debug("request {} action={} status={} latency_us={}", request_id,
                  action.empty() ? "-" : action, response.status, micros);
  }
  return response;
}

http::Response Pipeline::Process(const http::Request& request, const std::string& request_id,
                                 std::string& action) const {
  // 2. Method and path: the JSON protocol is POST / only.
  if (request.method != "POST") {
    http::Response r = Fail(Status(StatusCode::kUnknownOperation,
                                   "Only POST / is supported by this endpoint."),
                            request_id, action, 405);
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
  if (path != "/") {
    return Fail(Status(StatusCode::kUnknownOperation,
                       "Unknown path '" + Truncated(path) + "': requests go to POST /."),
                request_id, action, 404);
  }

  // 3. X-Amz-Target: "secretsmanager.<Action>".
  Result<Target> target = ParseTarget(request.FindHeader("X-Amz-Target"));
  if (!target.ok()) return Fail(target.status(), request_id, action);
  action = LogSafe(target->action);

  // 4. Content type.
  if (Status s = CheckContentType(request.FindHeader("Content-Type")); !s.ok()) {
    return Fail(s, request_id, action);
  }

  // 5. SigV4: who is calling (errors carry AWS's exception types and messages).
  sigv4::RequestView view{request.method, request.target, &request.headers, request.body};
  Result<sigv4::VerifiedRequest> verified = verifier_->Verify(view);
  if (!verified.ok()) return Fail(verified.status(), request_id, action);

  // 6. Scope: the credential scope names the target's service and an allowed region.
  if (Status s = CheckScope(*verified, target->api->service); !s.ok()) {
    return Fail(s, request_id, action);
  }

  // 7. Dispatch on the action.
  ops::Handler handler = target->api->find_handler(target->action);
  if (handler == nullptr) {
    return Fail(Status(StatusCode::kUnknownOperation,
                       "The action " + Truncated(target->action, 64) +
                           " is not valid for this endpoint."),
                request_id, action);
  }

  // 8. The call context: region of the signature, the caller, where the call came from.
  secrets::CallContext ctx;
  ctx.region = verified->region;
  ctx.account_id = options_.account_id;
  ctx.principal_arn = verified->principal_arn;
  ctx.access_key_id = verified->access_key_id;
  ctx.request_id = request_id;
  ctx.source_ip = request.remote_address;
  if (const std::string* ua = request.FindHeader("User-Agent")) ctx.user_agent = *ua;

  // 9. Decode -> (policy: later issue) -> service -> (audit: later issue) -> encode.
  Result<std::string> body = handler(*service_, ctx, request.body);
  if (!body.ok()) return Fail(body.status(), request_id, action);
  return OkResponse(std::move(body).value(), request_id);
}

Status Pipeline::CheckScope(const sigv4::VerifiedRequest& verified,
                            std::string_view service) const {
  if (verified.service != service) {
    return Status(StatusCode::kInvalidSignature,
                  "Credential should be scoped to correct service: '" + std::string(service) +
                      "'. ");
  }
  bool allowed = IsValidRegion(verified.region);
  if (allowed && !options_.allowed_regions.empty()) {
    allowed = std::find(options_.allowed_regions.begin(), options_.allowed_regions.end(),
                        verified.region) != options_.allowed_regions.end();
  }
  if (!allowed) {
    return Status(StatusCode::kInvalidSignature,
                  "Credential should be scoped to a valid region. ");
  }
  return Status::Ok();
}

}  // namespace coffer::api
