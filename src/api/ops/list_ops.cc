// ListSecrets, ListSecretVersionIds, BatchGetSecretValue.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using secrets::CallContext;
using secrets::Service;

Result<std::string> ListSecrets(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeListSecretsRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.ListSecrets(ctx, request));
  return EncodeListSecretsResponse(response);
}

Result<std::string> ListSecretVersionIds(Service& service, const CallContext& ctx,
                                         std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeListSecretVersionIdsRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.ListSecretVersionIds(ctx, request));
  return EncodeListSecretVersionIdsResponse(response);
}

Result<std::string> BatchGetSecretValue(Service& service, const CallContext& ctx,
                                        std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeBatchGetSecretValueRequest(body));
  COFFER_ASSIGN_OR_RETURN(auto response, service.BatchGetSecretValue(ctx, request));
  return EncodeBatchGetSecretValueResponse(response);
}

}  // namespace

void AddListOps(std::vector<Operation>& table) {
  table.push_back({"ListSecrets", &ListSecrets});
  table.push_back({"ListSecretVersionIds", &ListSecretVersionIds});
  table.push_back({"BatchGetSecretValue", &BatchGetSecretValue});
}

}  // namespace coffer::api::ops
