// GetRandomPassword.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

Result<std::string> GetRandomPassword(secrets::Service& service, const secrets::CallContext& ctx,
                                      std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeGetRandomPasswordRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.GetRandomPassword(ctx, request));
  return EncodeGetRandomPasswordResponse(response);
}

}  // namespace

void AddPasswordOps(std::vector<Operation>& table) {
  table.push_back({"GetRandomPassword", &GetRandomPassword});
}

}  // namespace coffer::api::ops
