// ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica: coffer keeps
// each secret in one region. Like every action they validate, resolve and authorize first (so a
// caller without the permission gets AccessDeniedException, and only an allowed caller learns
// that a secret does not exist), then answer InvalidRequestException.

#include "secrets/messages.h"
#include "secrets/op_util.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::string_view kReplicateSecretToRegions = "ReplicateSecretToRegions";
constexpr std::string_view kRemoveRegionsFromReplication = "RemoveRegionsFromReplication";
constexpr std::string_view kStopReplicationToReplica = "StopReplicationToReplica";

}  // namespace

Status Service::ReplicateSecretToRegions(const CallContext& ctx, const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(LoadAuthorized(ctx, r.secret_id, kReplicateSecretToRegions).status());
  return Status::FailedPrecondition(std::string(msg::kReplicationUnsupported));
}

Status Service::RemoveRegionsFromReplication(const CallContext& ctx, const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(LoadAuthorized(ctx, r.secret_id, kRemoveRegionsFromReplication).status());
  return Status::FailedPrecondition(std::string(msg::kReplicationUnsupported));
}

Status Service::StopReplicationToReplica(const CallContext& ctx, const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(LoadAuthorized(ctx, r.secret_id, kStopReplicationToReplica).status());
  return Status::FailedPrecondition(std::string(msg::kReplicationUnsupported));
}

}  // namespace coffer::secrets
