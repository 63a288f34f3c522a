#include "iam/sts_api.h"

#include <optional>
#include <string>
#include <utility>

#include "iam/entities.h"
#include "iam/query_protocol.h"

namespace coffer::iam {
namespace {

constexpr std::string_view kGetCallerIdentity = "GetCallerIdentity";

QueryResponse Error(const Status& status, const QueryCall& call, std::string action) {
  QueryError error = ErrorFor(status);
  QueryResponse out;
  out.http_status = error.http_status;
  out.action = std::move(action);
  out.error_code = error.code;
  out.error_message = status.message();
  out.body = ErrorXml(error, status.message(), call.request_id);
  return out;
}

}  // namespace

QueryResponse HandleSts(IamService& service, const QueryCall& call, std::string_view form_body) {
  Result<FormParams> params = ParseForm(form_body);
  if (!params.ok()) return Error(params.status(), call, "");
  std::string action = params->Get("Action").value_or("");
  if (action.empty()) {
    return Error(Status(StatusCode::kUnknownOperation, "Missing Action"), call, "");
  }
  if (action != kGetCallerIdentity || params->Get("Version").value_or("") != kStsApiVersion) {
    return Error(Status(StatusCode::kUnknownOperation,
                        "Could not find operation " + action.substr(0, 64) + " for version " +
                            params->Get("Version").value_or("NO_VERSION_SPECIFIED").substr(0, 32)),
                 call, action);
  }

  const std::string& account = service.account_id();
  std::string user_id = account;  // the root user's UserId is the account id
  std::optional<PrincipalName> principal = ParsePrincipalArn(call.principal_arn, account);
  if (principal.has_value() && principal->kind == "user") {
    Result<User> user = service.GetUser(principal->name);
    if (!user.ok()) return Error(user.status(), call, action);
    user_id = user->id;
  }
  XmlWriter xml("GetCallerIdentityResponse", kStsXmlNamespace);
  xml.Open("GetCallerIdentityResult")
      .Element("Arn", call.principal_arn)
      .Element("UserId", user_id)
      .Element("Account", account)
      .Close();
  xml.Open("ResponseMetadata").Element("RequestId", call.request_id).Close();
  QueryResponse out;
  out.action = action;
  out.read_only = true;
  out.body = xml.Finish();
  return out;
}

}  // namespace coffer::iam
