#pragma once

// The dispatch table: AWS action name ("GetSecretValue") -> handler. Each handler is tiny:
// decode the JSON body (api/json_codec.h), call secrets::Service, encode the response. One file
// per group of operations adds its rows (secret_ops.cc, list_ops.cc, ...).

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "secrets/service.h"
#include "secrets/types.h"

namespace coffer::api::ops {

// Returns the JSON response body, or the Status to turn into an AWS error.
using Handler = Result<std::string> (*)(secrets::Service& service,
                                        const secrets::CallContext& ctx, std::string_view body);

struct Operation {
  std::string_view action;
  Handler handler = nullptr;
};

// The handler of `action`, or nullptr for an action coffer does not know. Thread-safe.
Handler FindHandler(std::string_view action);
// Every registered operation, in registration order (23 Secrets Manager actions).
const std::vector<Operation>& AllOperations();

// Whether `x_amz_target` (the whole header value, "secretsmanager.GetSecretValue") names an
// action that only reads: GetSecretValue, BatchGetSecretValue, DescribeSecret, ListSecrets,
// ListSecretVersionIds, GetResourcePolicy and GetRandomPassword. Their handlers never wait for a
// durable commit (apart from GetSecretValue's best-effort last-accessed date, once a day per
// version), so the server may run them on its I/O threads. Case-sensitive, like the dispatch.
// Keep in step with the table: a write listed here would stall an I/O thread on fsync.
bool IsReadOnlyTarget(std::string_view x_amz_target);

// Per-group registration (called once, when the table is first built).
void AddSecretOps(std::vector<Operation>& table);       // Create/Get/Put/Update/Describe/Delete/Restore
void AddListOps(std::vector<Operation>& table);         // ListSecrets, ListSecretVersionIds, BatchGet
void AddStageOps(std::vector<Operation>& table);        // UpdateSecretVersionStage
void AddTagOps(std::vector<Operation>& table);          // TagResource, UntagResource
void AddPolicyOps(std::vector<Operation>& table);       // Put/Get/Delete/ValidateResourcePolicy
void AddRotationOps(std::vector<Operation>& table);     // RotateSecret, CancelRotateSecret
void AddPasswordOps(std::vector<Operation>& table);     // GetRandomPassword
void AddReplicationOps(std::vector<Operation>& table);  // the three replication actions

}  // namespace coffer::api::ops
