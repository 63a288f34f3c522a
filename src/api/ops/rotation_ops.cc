// RotateSecret, CancelRotateSecret: the rotation configuration is stored and reported; the
// rotation engine itself is a later issue.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using secrets::CallContext;
using secrets::Service;

Result<std::string> RotateSecret(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeRotateSecretRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.RotateSecret(ctx, request));
  return EncodeRotateSecretResponse(response);
}

Result<std::string> CancelRotateSecret(Service& service, const CallContext& ctx,
                                       std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeSecretIdRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.CancelRotateSecret(ctx, request));
  return EncodeCancelRotateSecretResponse(response);
}

}  // namespace

void AddRotationOps(std::vector<Operation>& table) {
  table.push_back({"RotateSecret", &RotateSecret});
  table.push_back({"CancelRotateSecret", &CancelRotateSecret});
}

}  // namespace coffer::api::ops
