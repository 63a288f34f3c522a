// CreateSecret, GetSecretValue, PutSecretValue, UpdateSecret, DescribeSecret, DeleteSecret,
// RestoreSecret.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using secrets::CallContext;
using secrets::Service;

Result<std::string> CreateSecret(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeCreateSecretRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.CreateSecret(ctx, request));
  return EncodeCreateSecretResponse(response);
}

Result<std::string> GetSecretValue(Service& service, const CallContext& ctx,
                                   std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeGetSecretValueRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.GetSecretValue(ctx, request));
  return EncodeGetSecretValueResponse(response);
}

Result<std::string> PutSecretValue(Service& service, const CallContext& ctx,
                                   std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodePutSecretValueRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.PutSecretValue(ctx, request));
  return EncodePutSecretValueResponse(response);
}

Result<std::string> UpdateSecret(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeUpdateSecretRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.UpdateSecret(ctx, request));
  return EncodeUpdateSecretResponse(response);
}

Result<std::string> DescribeSecret(Service& service, const CallContext& ctx,
                                   std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeDescribeSecretRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.DescribeSecret(ctx, request));
  return EncodeDescribeSecretResponse(response);
}

Result<std::string> DeleteSecret(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeDeleteSecretRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.DeleteSecret(ctx, request));
  return EncodeDeleteSecretResponse(response);
}

Result<std::string> RestoreSecret(Service& service, const CallContext& ctx,
                                  std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeSecretIdRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.RestoreSecret(ctx, request));
  return EncodeArnNameResponse(response);
}

}  // namespace

void AddSecretOps(std::vector<Operation>& table) {
  table.push_back({"CreateSecret", &CreateSecret});
  table.push_back({"GetSecretValue", &GetSecretValue});
  table.push_back({"PutSecretValue", &PutSecretValue});
  table.push_back({"UpdateSecret", &UpdateSecret});
  table.push_back({"DescribeSecret", &DescribeSecret});
  table.push_back({"DeleteSecret", &DeleteSecret});
  table.push_back({"RestoreSecret", &RestoreSecret});
}

}  // namespace coffer::api::ops
