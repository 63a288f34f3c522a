// TagResource, UntagResource: both answer {}.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using secrets::CallContext;
using secrets::Service;

Result<std::string> TagResource(Service& service, const CallContext& ctx, std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeTagResourceRequest(body));
  COFFER_RETURN_IF_ERROR(service.TagResource(ctx, request));
  return EncodeEmptyResponse();
}

Result<std::string> UntagResource(Service& service, const CallContext& ctx,
                                  std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(auto request, DecodeUntagResourceRequest(body));
  COFFER_RETURN_IF_ERROR(service.UntagResource(ctx, request));
  return EncodeEmptyResponse();
}

}  // namespace

void AddTagOps(std::vector<Operation>& table) {
  table.push_back({"TagResource", &TagResource});
  table.push_back({"UntagResource", &UntagResource});
}

}  // namespace coffer::api::ops
