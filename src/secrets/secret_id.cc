#include "secrets/secret_id.h"

#include "crypto/random.h"
#include "secrets/messages.h"

namespace coffer::secrets {
namespace {

constexpr std::string_view kAlphanumerics =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// Splits off the text before the next ':' of `rest`; false when there is none.
bool NextField(std::string_view& rest, std::string_view& field) {
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  field = rest.substr(0, colon);
  rest.remove_prefix(colon + 1);
  return true;
}

}  // namespace

std::string BuildArn(const CallContext& ctx, std::string_view name, std::string_view suffix) {
  std::string arn = "arn:aws:secretsmanager:" + ctx.region + ":" + ctx.account_id + ":secret:";
  arn.append(name).append("-").append(suffix);
  return arn;
}

std::string NewArn(const CallContext& ctx, std::string_view name) {
  return BuildArn(ctx, name, crypto::RandomString(kArnSuffixLength, kAlphanumerics));
}

std::optional<ParsedArn> ParseSecretArn(std::string_view id) {
  std::string_view rest = id;
  std::string_view arn, partition, service, region, account, type;
  if (!NextField(rest, arn) || arn != "arn") return std::nullopt;
  if (!NextField(rest, partition) || partition.empty()) return std::nullopt;
  if (!NextField(rest, service) || service != "secretsmanager") return std::nullopt;
  if (!NextField(rest, region) || !NextField(rest, account)) return std::nullopt;
  if (!NextField(rest, type) || type != "secret" || rest.empty()) return std::nullopt;
  return ParsedArn{std::string(region), std::string(account), std::string(rest)};
}

Result<std::optional<storage::SecretRecord>> FindSecret(storage::SecretStore& store,
                                                        const CallContext& ctx,
                                                        std::string_view id) {
  if (!id.starts_with("arn:")) return store.GetSecretByName(ctx.region, std::string(id));
  auto parsed = ParseSecretArn(id);
  if (!parsed || parsed->region != ctx.region || parsed->account_id != ctx.account_id) {
    return std::optional<storage::SecretRecord>();
  }
  COFFER_ASSIGN_OR_RETURN(auto by_arn, store.GetSecretByArn(std::string(id)));
  if (by_arn && by_arn->region == ctx.region) return by_arn;
  // A partial ARN: the resource part is the name itself.
  return store.GetSecretByName(ctx.region, parsed->resource);
}

Result<storage::SecretRecord> ResolveSecret(storage::SecretStore& store, const CallContext& ctx,
                                            std::string_view id) {
  COFFER_ASSIGN_OR_RETURN(auto found, FindSecret(store, ctx, id));
  if (!found) return Status::NotFound(std::string(msg::kSecretNotFound));
  return std::move(*found);
}

}  // namespace coffer::secrets
