// PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy, ValidateResourcePolicy.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using secrets::CallContext;
using secrets::Service;

Result<std::string> PutResourcePolicy(Service& service, const CallContext& ctx,
                                      std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodePutResourcePolicyRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.PutResourcePolicy(ctx, request));
  return EncodeArnNameResponse(response);
}

Result<std::string> GetResourcePolicy(Service& service, const CallContext& ctx,
                                      std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeSecretIdRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.GetResourcePolicy(ctx, request));
  return EncodeGetResourcePolicyResponse(response);
}

Result<std::string> DeleteResourcePolicy(Service& service, const CallContext& ctx,
                                         std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeSecretIdRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.DeleteResourcePolicy(ctx, request));
  return EncodeArnNameResponse(response);
}

Result<std::string> ValidateResourcePolicy(Service& service, const CallContext& ctx,
                                           std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeValidateResourcePolicyRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.ValidateResourcePolicy(ctx, request));
  return EncodeValidateResourcePolicyResponse(response);
}

}  // namespace

void AddPolicyOps(std::vector<Operation>& table) {
  table.push_back({"PutResourcePolicy", &PutResourcePolicy});
  table.push_back({"GetResourcePolicy", &GetResourcePolicy});
  table.push_back({"DeleteResourcePolicy", &DeleteResourcePolicy});
  table.push_back({"ValidateResourcePolicy", &ValidateResourcePolicy});
}

}  // namespace coffer::api::ops
