#pragma once

// Authorization of Secrets Manager actions: what the service tells the policy::Authorizer about
// one request, and the audit list of the secrets a call named.
//
// Every operation authorizes after validating its input and resolving the secret, before it
// reads, changes or reveals anything about it:
//  - a secret that exists: resource = its ARN, with its tags and resource policy;
//  - a secret that does not exist: resource = the ARN AWS would use for the id
//    ("arn:aws:secretsmanager:<region>:<account>:secret:<name>", or the ARN as given), with no
//    resource policy. Only if that is allowed does the caller learn ResourceNotFoundException, so
//    a denied caller cannot probe which names exist;
//  - account-level actions (GetRandomPassword, ListSecrets, BatchGetSecretValue, and
//    ValidateResourcePolicy without a SecretId): resource "*".
//
// The condition keys given (lower-cased, as policy::RequestContext wants them):
//   secretsmanager:name            the secret's name (for an absent secret: the name in the id)
//   secretsmanager:secretid        the SecretId as the request gave it
//   secretsmanager:resourcetag/<k> and aws:resourcetag/<k>: each tag of the secret (key lowered)
//   aws:requesttag/<k>, aws:tagkeys: the tags a CreateSecret/TagResource request sets
//                                  (UntagResource: aws:tagkeys = the keys it removes)
//   secretsmanager:versionid / secretsmanager:versionstage: when the request names one
//   secretsmanager:blockpublicpolicy, secretsmanager:forcedeletewithoutrecovery,
//   secretsmanager:recoverywindowindays, secretsmanager:rotationlambdaarn: when the request
//                                  sets them
// plus the global keys the RequestContext carries itself (aws:SourceIp, aws:CurrentTime,
// aws:PrincipalArn, aws:SecureTransport).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "policy/policy.h"
#include "secrets/meta.h"
#include "secrets/types.h"

namespace coffer::secrets::internal {

// The request-specific part of an authorization: condition keys only the request knows.
struct AuthExtras {
  const std::vector<Tag>* request_tags = nullptr;             // aws:RequestTag/<k>, aws:TagKeys
  const std::vector<std::string>* tag_keys = nullptr;         // aws:TagKeys (UntagResource)
  const std::optional<std::string>* version_id = nullptr;     // secretsmanager:VersionId
  const std::optional<std::string>* version_stage = nullptr;  // secretsmanager:VersionStage
  // Further single-valued keys, already lower-cased ("secretsmanager:blockpublicpolicy").
  std::vector<std::pair<std::string_view, std::string>> keys;
};

// What one check is about.
struct AuthTarget {
  std::string_view resource_arn;  // the secret's ARN, the ARN an absent secret would have, or "*"
  std::string_view name;          // secretsmanager:Name; empty for "*"
  std::string_view secret_id;     // secretsmanager:SecretId as given; empty when none
  // The stored secret's metadata: tags and resource policy. Null: no secret (absent, or "*").
  const SecretMeta* meta = nullptr;
  const AuthExtras* extras = nullptr;
  // Append {audit_arn or resource_arn, name} to ctx.resources (deduplicated by ARN).
  bool record = true;
  std::string_view audit_arn;  // when not empty, the ARN the audit list records instead
};

// "secretsmanager:" + action.
std::string QualifiedAction(std::string_view action);

// The RequestContext the Authorizer sees for `action` ("GetSecretValue") on `target`.
policy::RequestContext BuildRequestContext(const CallContext& ctx, std::string_view action,
                                           const AuthTarget& target, std::int64_t now_ms);

// Appends {arn, name} to ctx.resources unless it is null or already lists `arn`.
void RecordResource(const CallContext& ctx, std::string_view arn, std::string_view name);

// Changes the audit entry for `from` (if listed) to `to`, dropping it if `to` is listed already.
void ReplaceRecordedArn(const CallContext& ctx, std::string_view from, std::string_view to);

// The ARN AWS evaluates for a SecretId that names no secret: the id itself when it is an ARN,
// else arn:aws:secretsmanager:<region>:<account>:secret:<id>.
std::string AbsentSecretArn(const CallContext& ctx, std::string_view secret_id);
// The name a SecretId that names no secret refers to: the resource part of an ARN, else the id.
std::string AbsentSecretName(std::string_view secret_id);

}  // namespace coffer::secrets::internal
