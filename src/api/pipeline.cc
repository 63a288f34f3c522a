#include "api/pipeline.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/ops/operations.h"
#include "audit/cloudtrail_json.h"
#include "audit/record.h"
#include "audit/trail.h"
#include "core/strings.h"
#include "iam/query_api.h"
#include "iam/query_protocol.h"
#include "iam/sts_api.h"
#include "metrics/server_metrics.h"
#include "policy/policy.h"

namespace coffer::api {

enum class Protocol { kJson, kQuery };

struct Pipeline::Exchange {
  std::string request_id;
  std::chrono::steady_clock::time_point started;
  Protocol protocol = Protocol::kJson;
  std::string_view service;       // metrics label: "secretsmanager", "cloudtrail", "iam", ""
  std::string_view event_source;  // audit::k*Source
  std::string action;             // log-safe action as the client named it
  bool known_action = false;      // `action` is one this server implements (metrics label)
  bool read_only = false;
  // Who called: filled by Authenticate() (the key id even when the signature is bad).
  std::string principal_arn;
  std::string access_key_id;
  std::string region;
  std::vector<secrets::AuditResource> secrets;  // filled by the secrets service
  std::vector<audit::Resource> resources;       // filled by the other APIs
  std::string error_code;                       // the AWS error type; empty on success
};

namespace {

// Accepted X-Amz-Target prefixes of the JSON protocol and the service each is signed for.
enum class JsonApi { kSecretsManager, kCloudTrail };
struct TargetApi {
  std::string_view prefix;
  std::string_view service;
  std::string_view event_source;
  JsonApi api;
};
constexpr TargetApi kTargetApis[] = {
    {kSecretsManagerTargetPrefix, kSecretsManagerService, audit::kSecretsManagerSource,
     JsonApi::kSecretsManager},
    {kCloudTrailTargetPrefix, kCloudTrailService, audit::kCloudTrailSource, JsonApi::kCloudTrail},
};
constexpr std::string_view kLookupEvents = "LookupEvents";

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

// The action as it may appear in a log line or audit record: at most 64 characters, anything
// outside [A-Za-z0-9_.-] replaced by '?', so a client cannot forge log lines.
std::string LogSafe(std::string_view action) {
  std::string out = Truncated(action, 64);
  for (char& c : out) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
    if (!plain) c = '?';
  }
  return out;
}

Result<Target> ParseTarget(const std::string& header) {
  for (const TargetApi& api : kTargetApis) {
    if (header.size() > api.prefix.size() &&
        header.compare(0, api.prefix.size(), api.prefix) == 0) {
      return Target{&api, header.substr(api.prefix.size())};
    }
  }
  return Status(StatusCode::kUnknownOperation, "Unrecognized X-Amz-Target '" + Truncated(header) +
                                                   "': expected secretsmanager.<Action>.");
}

bool MediaTypeIs(const std::string* header, std::string_view type) {
  if (header == nullptr) return false;
  std::string_view media = TrimSpaces(std::string_view(*header).substr(0, header->find(';')));
  return EqualsIgnoreCase(media, type);
}

// application/x-amz-json-1.1 (what the SDKs send) or 1.0, parameters ignored.
Status CheckJsonContentType(const std::string* header) {
  if (MediaTypeIs(header, "application/x-amz-json-1.1") ||
      MediaTypeIs(header, "application/x-amz-json-1.0")) {
    return Status::Ok();
  }
  return Status(StatusCode::kSerialization,
                "Unsupported Content-Type: expected application/x-amz-json-1.1.");
}

http::Response OkResponse(std::string body, std::string_view content_type,
                          const std::string& request_id) {
  http::Response response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", std::string(content_type));
  response.headers.emplace_back(kRequestIdHeader, request_id);
  response.body = std::move(body);
  return response;
}

// "Root", "IAMUser" or "AssumedRole" for an authenticated principal's ARN; "" when unknown.
std::string_view PrincipalType(std::string_view arn) {
  if (arn.empty()) return "";
  if (arn.ends_with(":root")) return "Root";
  if (arn.find(":user/") != std::string_view::npos) return "IAMUser";
  if (arn.find(":assumed-role/") != std::string_view::npos) return "AssumedRole";
  return "";
}

// The name part of an IAM ARN (after the last '/').
std::string IamName(std::string_view arn) {
  std::size_t slash = arn.rfind('/');
  return std::string(slash == std::string_view::npos ? arn : arn.substr(slash + 1));
}

// The user name CloudTrail shows for an IAM user; "" for other principals.
std::string UserName(std::string_view arn) {
  return PrincipalType(arn) == "IAMUser" ? IamName(arn) : std::string();
}

// The audit resource type of an IAM ARN ("arn:aws:iam::1:user/alice" -> AWS::IAM::User).
std::string_view IamResourceType(std::string_view arn) {
  if (arn.find(":user/") != std::string_view::npos) return audit::kIamUserType;
  if (arn.find(":policy/") != std::string_view::npos) return audit::kIamPolicyType;
  return "";
}

bool IsDenial(std::string_view error_code) {
  return error_code == "AccessDeniedException" || error_code == "AccessDenied";
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options, secrets::Service* service,
                   const sigv4::Verifier* verifier, const Clock* clock, PipelineParts parts)
    : options_(std::move(options)),
      service_(service),
      verifier_(verifier),
      clock_(clock),
      parts_(parts) {}

http::Response Pipeline::Handle(const http::Request& request) const {
  Exchange x;
  x.started = std::chrono::steady_clock::now();
  // 1. Request id: sent back as x-amzn-RequestId on every response, in every log line and in the
  // audit record.
  x.request_id = NewRequestId();
  http::Response response;
  // Catch-all: nothing below should throw, but if it does the client gets InternalServiceError
  // and the log gets the reason (never the request body).
  try {
    response = Process(request, x);
  } catch (const std::exception& e) {
    spdlog::error("request {} ({}): unhandled exception: {}", x.request_id,
                  x.action.empty() ? "-" : x.action, e.what());
    response = Fail(Status::Internal("unhandled exception"), x);
  } catch (...) {
    spdlog::error("request {} ({}): unhandled non-standard exception", x.request_id,
                  x.action.empty() ? "-" : x.action);
    response = Fail(Status::Internal("unhandled exception"), x);
  }
  Finish(request, x, response);
  return response;
}

http::Response Pipeline::Process(const http::Request& request, Exchange& x) const {
  // 2. Protocol: a JSON request names its action in X-Amz-Target; an IAM Query request is a form.
  const std::string* target = request.FindHeader("X-Amz-Target");
  if (target == nullptr &&
      MediaTypeIs(request.FindHeader("Content-Type"), "application/x-www-form-urlencoded")) {
    x.protocol = Protocol::kQuery;
  }

  // 3. Method and path: both protocols are POST / only.
  if (request.method != "POST") {
    http::Response r =
        Fail(Status(StatusCode::kUnknownOperation, "Only POST / is supported by this endpoint."), x,
             405);
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
  if (path != "/") {
    return Fail(Status(StatusCode::kUnknownOperation,
                       "Unknown path '" + Truncated(path) + "': requests go to POST /."),
                x, 404);
  }
  return x.protocol == Protocol::kQuery ? ProcessQuery(request, x) : ProcessJson(request, x);
}

http::Response Pipeline::ProcessJson(const http::Request& request, Exchange& x) const {
  // 4. X-Amz-Target: "secretsmanager.<Action>" or CloudTrail's.
  const std::string* header = request.FindHeader("X-Amz-Target");
  if (header == nullptr || header->empty()) {
    return Fail(Status(StatusCode::kUnknownOperation, "Missing the X-Amz-Target header."), x);
  }
  Result<Target> target = ParseTarget(*header);
  if (!target.ok()) return Fail(target.status(), x);
  x.service = target->api->service;
  x.event_source = target->api->event_source;
  x.action = LogSafe(target->action);

  // 5. Content type.
  if (Status s = CheckJsonContentType(request.FindHeader("Content-Type")); !s.ok()) {
    return Fail(s, x);
  }

  // 6. SigV4: who is calling (errors carry AWS's exception types and messages), then the scope:
  // the credential names the target's service and an allowed region.
  Result<sigv4::VerifiedRequest> verified = Authenticate(request, x);
  if (!verified.ok()) return Fail(verified.status(), x);
  if (Status s = CheckScope(*verified, target->api->service); !s.ok()) return Fail(s, x);

  if (target->api->api == JsonApi::kCloudTrail) {
    if (target->action != kLookupEvents) {
      return Fail(
          Status(StatusCode::kUnknownOperation, "The action " + Truncated(target->action, 64) +
                                                    " is not valid for this endpoint."),
          x);
    }
    x.known_action = true;
    x.read_only = true;
    return LookupEvents(request, x);
  }

  // 7. Dispatch on the action.
  ops::Handler handler = ops::FindHandler(target->action);
  if (handler == nullptr) {
    return Fail(
        Status(StatusCode::kUnknownOperation,
               "The action " + Truncated(target->action, 64) + " is not valid for this endpoint."),
        x);
  }
  x.known_action = true;
  x.read_only = ops::IsReadOnlyTarget(*header);

  // 8. The call context: region of the signature, the caller, where the call came from, and where
  // the service lists the secrets it touched (for the audit record).
  secrets::CallContext ctx;
  ctx.region = verified->region;
  ctx.account_id = options_.account_id;
  ctx.principal_arn = verified->principal_arn;
  ctx.access_key_id = verified->access_key_id;
  ctx.request_id = x.request_id;
  ctx.source_ip = request.remote_address;
  if (const std::string* ua = request.FindHeader("User-Agent")) ctx.user_agent = *ua;
  ctx.secure_transport = request.tls;
  ctx.resources = &x.secrets;

  // 9. Decode -> policy (inside the service, which knows the secret) -> service -> encode.
  Result<std::string> body = handler(*service_, ctx, request.body);
  if (!body.ok()) return Fail(body.status(), x);
  return OkResponse(std::move(body).value(), kJsonContentType, x.request_id);
}

http::Response Pipeline::LookupEvents(const http::Request& request, Exchange& x) const {
  if (parts_.authorizer != nullptr) {
    policy::RequestContext access;
    access.action = "cloudtrail:LookupEvents";
    access.resource = "*";
    access.principal_arn = x.principal_arn;
    access.account_id = options_.account_id;
    access.source_ip = request.remote_address;
    access.now_ms = clock_->NowMillis();
    access.secure_transport = request.tls;
    if (Status s = parts_.authorizer->Authorize(access, ""); !s.ok()) return Fail(s, x);
  }
  if (parts_.trail == nullptr) {
    return Fail(Status(StatusCode::kFailedPrecondition,
                       "The audit trail is turned off on this server (audit: false)."),
                x);
  }
  Result<std::string> body = audit::HandleLookupEvents(*parts_.trail, request.body);
  if (!body.ok()) return Fail(body.status(), x);
  return OkResponse(std::move(body).value(), kJsonContentType, x.request_id);
}

http::Response Pipeline::ProcessQuery(const http::Request& request, Exchange& x) const {
  x.service = kIamService;
  x.event_source = audit::kIamSource;
  // 4..6. SigV4 and scope: the Query protocol here is IAM's, or STS's for GetCallerIdentity.
  Result<sigv4::VerifiedRequest> verified = Authenticate(request, x);
  if (!verified.ok()) return Fail(verified.status(), x);
  const bool sts = verified->service == kStsService;
  if (sts) {
    x.service = kStsService;
    x.event_source = audit::kStsSource;
  }
  if (Status s = CheckScope(*verified, x.service); !s.ok()) return Fail(s, x);
  if (parts_.iam == nullptr) {
    return Fail(Status(StatusCode::kUnknownOperation, "IAM is not served by this endpoint."), x);
  }

  // 7..9. Dispatch on Action=, decode, authorize, act, encode: all inside the IAM API.
  iam::QueryCall call;
  call.principal_arn = verified->principal_arn;
  call.access_key_id = verified->access_key_id;
  call.request_id = x.request_id;
  call.source_ip = request.remote_address;
  call.secure_transport = request.tls;
  call.now_ms = clock_->NowMillis();
  iam::QueryResponse result = sts ? iam::HandleSts(parts_.iam->service(), call, request.body)
                                  : parts_.iam->Handle(call, request.body);
  x.action = LogSafe(result.action);
  x.known_action = sts ? result.error_code.empty() : iam::QueryApi::IsKnownAction(result.action);
  x.read_only = result.read_only;
  x.error_code = result.error_code;
  for (std::string& arn : result.resources) {
    x.resources.push_back(audit::Resource{std::string(IamResourceType(arn)), arn, IamName(arn)});
  }
  http::Response response;
  response.status = result.http_status;
  response.headers.emplace_back("Content-Type", "text/xml");
  response.headers.emplace_back(kRequestIdHeader, x.request_id);
  response.body = std::move(result.body);
  return response;
}

Result<sigv4::VerifiedRequest> Pipeline::Authenticate(const http::Request& request,
                                                      Exchange& x) const {
  sigv4::RequestView view{request.method, request.target, &request.headers, request.body};
  Result<sigv4::VerifiedRequest> verified = verifier_->Verify(view);
  if (verified.ok()) {
    x.principal_arn = verified->principal_arn;
    x.access_key_id = verified->access_key_id;
    x.region = verified->region;
  } else if (const std::string* header = request.FindHeader("Authorization")) {
    // Unauthenticated: the audit record still names the key the client claimed to use.
    if (auto parsed = sigv4::ParseAuthorization(*header); parsed.ok()) {
      x.access_key_id = LogSafe(parsed->access_key_id);
      x.region = LogSafe(parsed->region);
    }
  }
  if (!verified.ok() && parts_.metrics != nullptr) {
    parts_.metrics->CountAuthFailure(AwsErrorFor(verified.status().code()).type);
  }
  return verified;
}

Status Pipeline::CheckScope(const sigv4::VerifiedRequest& verified,
                            std::string_view service) const {
  if (verified.service != service) {
    return Status(
        StatusCode::kInvalidSignature,
        "Credential should be scoped to correct service: '" + std::string(service) + "'. ");
  }
  bool allowed = IsValidRegion(verified.region);
  if (allowed && !options_.allowed_regions.empty()) {
    allowed = std::find(options_.allowed_regions.begin(), options_.allowed_regions.end(),
                        verified.region) != options_.allowed_regions.end();
  }
  if (!allowed) {
    return Status(StatusCode::kInvalidSignature, "Credential should be scoped to a valid region. ");
  }
  return Status::Ok();
}

// The error response; server-side failures are logged in full here (the client sees only
// kInternalErrorMessage). Status messages never carry secret values.
http::Response Pipeline::Fail(const Status& status, Exchange& x, int http_status_override) const {
  const AwsError row = AwsErrorFor(status.code());
  if (row.http_status >= 500) {
    spdlog::error("request {} ({}): {}", x.request_id, x.action.empty() ? "-" : x.action,
                  status.ToString());
  }
  if (x.protocol == Protocol::kJson) {
    x.error_code = std::string(row.type);
    return ErrorResponse(status, x.request_id, http_status_override);
  }
  iam::QueryError error = iam::ErrorFor(status);
  if (http_status_override != 0) error.http_status = http_status_override;
  x.error_code = error.code;
  http::Response response;
  response.status = error.http_status;
  response.headers.emplace_back("Content-Type", "text/xml");
  response.headers.emplace_back(kRequestIdHeader, x.request_id);
  response.body = iam::ErrorXml(error, ClientMessage(status), x.request_id);
  return response;
}

void Pipeline::Finish(const http::Request& request, Exchange& x, http::Response& response) const {
  // 10. Audit, fail-closed: the response only leaves once its record is written.
  if (parts_.trail != nullptr) {
    audit::Record record;
    record.request_id = x.request_id;
    // Event ids, like request ids, only need to be unique (the trail would draw 16 bytes from the
    // CSPRNG per record otherwise).
    record.event_id = NewRequestId();
    record.account_id = options_.account_id;
    record.region = x.region;
    record.principal_arn = x.principal_arn;
    record.principal_type = std::string(PrincipalType(x.principal_arn));
    record.user_name = UserName(x.principal_arn);
    record.access_key_id = x.access_key_id;
    record.source_ip = request.remote_address;
    if (const std::string* ua = request.FindHeader("User-Agent")) {
      record.user_agent = Truncated(*ua, 512);
    }
    record.event_source = std::string(x.event_source);
    record.event_name = x.action;
    record.read_only = x.read_only;
    for (secrets::AuditResource& r : x.secrets) {
      record.resources.push_back(
          audit::Resource{std::string(audit::kSecretType), std::move(r.arn), std::move(r.name)});
    }
    for (audit::Resource& r : x.resources) record.resources.push_back(std::move(r));
    record.error_code = x.error_code;
    if (Status s = parts_.trail->Append(std::move(record)); !s.ok()) {
      spdlog::error("request {} ({}): audit record not written, failing the request: {}",
                    x.request_id, x.action.empty() ? "-" : x.action, s.ToString());
      if (parts_.metrics != nullptr) parts_.metrics->CountAuditFailure();
      response = Fail(Status::Internal("audit record not written"), x);
    }
  }

  // 11. Metrics (and the debug log line).
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - x.started).count();
  if (parts_.metrics != nullptr) {
    std::string_view action = x.known_action ? std::string_view(x.action) : std::string_view();
    parts_.metrics->RecordRequest(
        x.service, action, metrics::OutcomeFromHttpStatus(response.status), x.error_code, seconds);
    if (IsDenial(x.error_code)) parts_.metrics->CountDenial(x.service, action);
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("request {} action={} status={} latency_us={}", x.request_id,
                  x.action.empty() ? "-" : x.action, response.status,
                  static_cast<long long>(seconds * 1e6));
  }
}

}  // namespace coffer::api
