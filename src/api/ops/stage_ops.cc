// UpdateSecretVersionStage.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

Result<std::string> UpdateSecretVersionStage(secrets::Service& service,
                                             const secrets::CallContext& ctx,
                                             std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeUpdateSecretVersionStageRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.UpdateSecretVersionStage(ctx, request));
  return EncodeArnNameResponse(response);
}

}  // namespace

void AddStageOps(std::vector<Operation>& table) {
  table.push_back({"UpdateSecretVersionStage", &UpdateSecretVersionStage});
}

}  // namespace coffer::api::ops
