// ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica: coffer keeps
// each secret in one region, so these answer InvalidRequestException. The body is still decoded,
// so malformed JSON gets the usual SerializationException.

#include "api/json_codec.h"
#include "api/ops/operations.h"

namespace coffer::api::ops {
namespace {

inline constexpr std::string_view kNotSupported =
    "Replication is not supported by coffer: secrets live in one region.";

Result<std::string> ReplicationNotSupported(secrets::Service& /*service*/,
                                            const secrets::CallContext& /*ctx*/,
                                            std::string_view body) {
  COFFER_RETURN_IF_ERROR(DecodeReplicationRequest(body).status());
  return Status::FailedPrecondition(std::string(kNotSupported));
}

}  // namespace

void AddReplicationOps(std::vector<Operation>& table) {
  table.push_back({"ReplicateSecretToRegions", &ReplicationNotSupported});
  table.push_back({"RemoveRegionsFromReplication", &ReplicationNotSupported});
  table.push_back({"StopReplicationToReplica", &ReplicationNotSupported});
}

}  // namespace coffer::api::ops
