// ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica: coffer keeps
// each secret in one region, so the service answers InvalidRequestException, after the usual
// validation, lookup and authorization (a caller without permission gets AccessDeniedException,
// and the audit record names the secret).

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

using ReplicationCall = Status (secrets::Service::*)(const secrets::CallContext&,
                                                     const secrets::SecretIdRequest&);

template <ReplicationCall kCall>
Result<std::string> Replication(secrets::Service& service, const secrets::CallContext& ctx,
                                std::string_view body) {
  COFFER_ASSIGN_OR_RETURN(ReplicationRequest request, DecodeReplicationRequest(body));
  COFFER_RETURN_IF_ERROR((service.*kCall)(ctx, secrets::SecretIdRequest{request.secret_id}));
  return Status::Internal("a replication action succeeded, which coffer does not support");
}

}  // namespace

void AddReplicationOps(std::vector<Operation>& table) {
  table.push_back(
      {"ReplicateSecretToRegions", &Replication<&secrets::Service::ReplicateSecretToRegions>});
  table.push_back({"RemoveRegionsFromReplication",
                   &Replication<&secrets::Service::RemoveRegionsFromReplication>});
  table.push_back(
      {"StopReplicationToReplica", &Replication<&secrets::Service::StopReplicationToReplica>});
}

}  // namespace coffer::api::ops
