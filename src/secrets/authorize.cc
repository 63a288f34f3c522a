#include "secrets/authorize.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "secrets/listing.h"
#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"

namespace coffer::secrets::internal {
namespace {

constexpr std::string_view kPrefix = "secretsmanager:";

std::string Lower(std::string_view prefix, std::string_view s) {
  std::string out;
  out.reserve(prefix.size() + s.size());
  out.append(prefix);
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

using Keys = std::map<std::string, std::vector<std::string>>;

void Put(Keys& keys, std::string key, std::string_view value) {
  keys[std::move(key)] = {std::string(value)};
}

void AddExtras(Keys& keys, const AuthExtras& extras) {
  if (extras.request_tags != nullptr) {
    std::vector<std::string> tag_keys;
    tag_keys.reserve(extras.request_tags->size());
    for (const Tag& tag : *extras.request_tags) {
      Put(keys, Lower("aws:requesttag/", tag.key), tag.value);
      tag_keys.push_back(tag.key);
    }
    keys["aws:tagkeys"] = std::move(tag_keys);
  }
  if (extras.tag_keys != nullptr) keys["aws:tagkeys"] = *extras.tag_keys;
  if (extras.version_id != nullptr && extras.version_id->has_value()) {
    Put(keys, "secretsmanager:versionid", **extras.version_id);
  }
  if (extras.version_stage != nullptr && extras.version_stage->has_value()) {
    Put(keys, "secretsmanager:versionstage", **extras.version_stage);
  }
  for (const auto& [key, value] : extras.keys) Put(keys, std::string(key), value);
}

}  // namespace

std::string QualifiedAction(std::string_view action) {
  std::string out;
  out.reserve(kPrefix.size() + action.size());
  out.append(kPrefix).append(action);
  return out;
}

policy::RequestContext BuildRequestContext(const CallContext& ctx, std::string_view action,
                                           const AuthTarget& target, std::int64_t now_ms) {
  policy::RequestContext request;
  request.action = QualifiedAction(action);
  request.resource = std::string(target.resource_arn);
  request.principal_arn = ctx.principal_arn;
  request.account_id = ctx.account_id;
  request.source_ip = ctx.source_ip;
  request.now_ms = now_ms;
  request.secure_transport = ctx.secure_transport;
  Keys& keys = request.keys;
  if (!target.name.empty()) Put(keys, "secretsmanager:name", target.name);
  if (!target.secret_id.empty()) Put(keys, "secretsmanager:secretid", target.secret_id);
  if (target.meta != nullptr) {
    for (const Tag& tag : target.meta->tags) {
      Put(keys, Lower("secretsmanager:resourcetag/", tag.key), tag.value);
      Put(keys, Lower("aws:resourcetag/", tag.key), tag.value);
    }
  }
  if (target.extras != nullptr) AddExtras(keys, *target.extras);
  return request;
}

void RecordResource(const CallContext& ctx, std::string_view arn, std::string_view name) {
  if (ctx.resources == nullptr) return;
  auto& list = *ctx.resources;
  if (std::any_of(list.begin(), list.end(), [&](const AuditResource& r) { return r.arn == arn; })) {
    return;
  }
  list.push_back({std::string(arn), std::string(name)});
}

void ReplaceRecordedArn(const CallContext& ctx, std::string_view from, std::string_view to) {
  if (ctx.resources == nullptr || from == to) return;
  auto& list = *ctx.resources;
  auto it =
      std::find_if(list.begin(), list.end(), [&](const AuditResource& r) { return r.arn == from; });
  if (it == list.end()) return;
  const bool listed =
      std::any_of(list.begin(), list.end(), [&](const AuditResource& r) { return r.arn == to; });
  if (listed) {
    list.erase(it);
  } else {
    it->arn = std::string(to);
  }
}

std::string AbsentSecretArn(const CallContext& ctx, std::string_view secret_id) {
  if (secret_id.starts_with("arn:")) return std::string(secret_id);
  std::string arn = "arn:aws:secretsmanager:" + ctx.region + ":" + ctx.account_id + ":secret:";
  arn.append(secret_id);
  return arn;
}

std::string AbsentSecretName(std::string_view secret_id) {
  if (auto parsed = ParseSecretArn(secret_id)) return parsed->resource;
  return std::string(secret_id);
}

}  // namespace coffer::secrets::internal

namespace coffer::secrets {

using internal::AuthExtras;
using internal::AuthTarget;

Status Service::Authorize(const CallContext& ctx, std::string_view action,
                          const AuthTarget& target) const {
  if (target.record) {
    internal::RecordResource(ctx, target.audit_arn.empty() ? target.resource_arn : target.audit_arn,
                             target.name);
  }
  if (options_.authorizer == nullptr) return Status::Ok();
  const policy::RequestContext request =
      internal::BuildRequestContext(ctx, action, target, clock_->NowMillis());
  std::string_view resource_policy;
  if (target.meta != nullptr && target.meta->resource_policy) {
    resource_policy = *target.meta->resource_policy;
  }
  return options_.authorizer->Authorize(request, resource_policy);
}

Status Service::AuthorizeSecret(const CallContext& ctx, std::string_view action,
                                std::string_view secret_id, const storage::SecretRecord& record,
                                const SecretMeta* meta, const AuthExtras* extras) const {
  AuthTarget target;
  target.resource_arn = record.arn;
  target.name = record.name;
  target.secret_id = secret_id;
  target.extras = extras;
  // Without an authorizer only the audit list is wanted: no metadata at all on the hot path.
  // With one, the metadata text is parsed once and cached while it is unchanged.
  std::shared_ptr<const SecretMeta> cached;
  if (meta == nullptr && options_.authorizer != nullptr) {
    COFFER_ASSIGN_OR_RETURN(cached, meta_cache_.Get(record));
    meta = cached.get();
  }
  target.meta = meta;
  return Authorize(ctx, action, target);
}

Status Service::AuthorizeAbsent(const CallContext& ctx, std::string_view action,
                                std::string_view secret_id, const AuthExtras* extras) const {
  const std::string arn = internal::AbsentSecretArn(ctx, secret_id);
  const std::string name = internal::AbsentSecretName(secret_id);
  AuthTarget target;
  target.resource_arn = arn;
  target.name = name;
  target.secret_id = secret_id;
  target.extras = extras;
  target.audit_arn = secret_id;  // no ARN is known: the audit records the id as given
  return Authorize(ctx, action, target);
}

Result<internal::Loaded> Service::LoadAuthorized(const CallContext& ctx, std::string_view secret_id,
                                                 std::string_view action,
                                                 const AuthExtras* extras) {
  COFFER_ASSIGN_OR_RETURN(auto found, FindSecret(*store_, ctx, secret_id));
  if (!found) {
    COFFER_RETURN_IF_ERROR(AuthorizeAbsent(ctx, action, secret_id, extras));
    return Status::NotFound(std::string(msg::kSecretNotFound));
  }
  COFFER_ASSIGN_OR_RETURN(internal::Loaded loaded, internal::LoadRecord(std::move(*found)));
  COFFER_RETURN_IF_ERROR(
      AuthorizeSecret(ctx, action, secret_id, loaded.record, &loaded.meta, extras));
  return loaded;
}

Status Service::KeepListable(const CallContext& ctx,
                             std::vector<internal::ListedSecret>& secrets) const {
  AuthTarget everything;
  everything.resource_arn = "*";
  everything.record = false;
  Status all = Authorize(ctx, "ListSecrets", everything);
  if (all.ok()) return all;
  if (all.code() != StatusCode::kPermissionDenied) return all;
  // coffer's extension: a caller allowed ListSecrets only on some secrets (the seed guide's
  // ExternalSecretsPolicy grants it on ml-platform/*) sees those secrets, not an error.
  Status failure = Status::Ok();
  std::erase_if(secrets, [&](const internal::ListedSecret& secret) {
    if (!failure.ok()) return true;
    AuthTarget one;
    one.resource_arn = secret.record.arn;
    one.name = secret.record.name;
    one.meta = &secret.meta;
    one.record = false;
    Status s = Authorize(ctx, "ListSecrets", one);
    if (!s.ok() && s.code() != StatusCode::kPermissionDenied) failure = s;
    return !s.ok();
  });
  COFFER_RETURN_IF_ERROR(failure);
  if (secrets.empty()) return all;
  return Status::Ok();
}

}  // namespace coffer::secrets
