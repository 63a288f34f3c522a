#pragma once

// Secret identifiers: building ARNs, and resolving a SecretId (name, full ARN or partial ARN)
// within the caller's region and account.

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "secrets/types.h"
#include "storage/store.h"

namespace coffer::secrets {

inline constexpr std::size_t kArnSuffixLength = 6;

// arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>
std::string BuildArn(const CallContext& ctx, std::string_view name, std::string_view suffix);
// BuildArn with a fresh random suffix of 6 alphanumerics.
std::string NewArn(const CallContext& ctx, std::string_view name);

struct ParsedArn {
  std::string region;
  std::string account_id;
  std::string resource;  // after "secret:": "<name>-<suffix>" (full) or "<name>" (partial)
};
// nullopt unless `id` is arn:<partition>:secretsmanager:<region>:<account>:secret:<resource>.
std::optional<ParsedArn> ParseSecretArn(std::string_view id);

// The secret `id` names in ctx's region and account, or nullopt. One store lookup for a name or
// a full ARN; a partial ARN costs a second one.
Result<std::optional<storage::SecretRecord>> FindSecret(storage::SecretStore& store,
                                                        const CallContext& ctx,
                                                        std::string_view id);
// FindSecret, with kNotFound "Secrets Manager can't find the specified secret." when absent.
Result<storage::SecretRecord> ResolveSecret(storage::SecretStore& store, const CallContext& ctx,
                                            std::string_view id);

}  // namespace coffer::secrets
