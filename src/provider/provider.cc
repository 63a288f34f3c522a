#include "provider/provider.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/regexp.h"

namespace coffer::provider {
namespace {

// AWS (and coffer server) answer InvalidRequestException "You can't perform this operation on the
// secret because it was marked for deletion." for a secret scheduled for deletion, which
// StatusFromAwsError maps to kFailedPrecondition.
bool IsMarkedForDeletion(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find("marked for deletion") != std::string::npos;
}

Status MarkedForDeletion(const RemoteKey& key) {
  return Status::NotFound("secret " + key.key + " is marked for deletion");
}

}  // namespace

Result<RemoteValue> AwsProvider::GetSecret(const RemoteKey& key) {
  if (key.metadata) return GetMetadata(key);
  calls_.fetch_add(1, std::memory_order_relaxed);
  Result<RemoteSecretValue> value =
      client_->GetSecretValue(key.key, key.version_id, key.version_stage);
  Observe("GetSecretValue", value.status());
  if (!value.ok()) {
    if (IsMarkedForDeletion(value.status())) return MarkedForDeletion(key);
    return value.status();
  }
  return RemoteValue{std::move(value->string), std::move(value->binary),
                     std::move(value->version_id)};
}

Result<RemoteValue> AwsProvider::GetMetadata(const RemoteKey& key) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  Result<RemoteSecretDescription> described = client_->DescribeSecret(key.key);
  Observe("DescribeSecret", described.status());
  if (!described.ok()) {
    if (IsMarkedForDeletion(described.status())) return MarkedForDeletion(key);
    return described.status();
  }
  // AWS describes a secret scheduled for deletion (with its DeletedDate); ESO treats it as gone.
  if (described->deleted_ms.has_value()) return MarkedForDeletion(key);
  nlohmann::ordered_json tags = nlohmann::ordered_json::object();
  for (const auto& [tag_key, tag_value] : described->tags) tags[tag_key] = tag_value;
  return RemoteValue{tags.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                     std::nullopt, ""};
}

Result<std::string> AwsProvider::CurrentVersionId(const RemoteKey& key) {
  if (key.metadata) return Status::FailedPrecondition("metadata has no version");
  calls_.fetch_add(1, std::memory_order_relaxed);
  Result<RemoteSecretDescription> described = client_->DescribeSecret(key.key);
  Observe("DescribeSecret", described.status());
  if (!described.ok()) {
    if (IsMarkedForDeletion(described.status())) return MarkedForDeletion(key);
    return described.status();
  }
  if (described->deleted_ms.has_value()) return MarkedForDeletion(key);
  const std::string stage = key.version_stage.empty() ? "AWSCURRENT" : key.version_stage;
  for (const auto& [id, stages] : described->versions) {
    if (!key.version_id.empty()) {
      if (id == key.version_id) return id;
      continue;
    }
    for (const std::string& s : stages) {
      if (s == stage) return id;
    }
  }
  return Status::NotFound("secret " + key.key + " has no such version");
}

namespace {

// A value AWS accepts in a ListSecrets / BatchGetSecretValue filter (^[a-zA-Z0-9 :_@/+=.-]+$, at
// most 512; a leading '!' would negate, so never sent).
bool IsFilterValue(std::string_view v) {
  if (v.empty() || v.size() > 512) return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view(" :_@/+=.-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool HasAllTags(const RemoteSecretDescription& d,
                const std::vector<std::pair<std::string, std::string>>& want) {
  for (const auto& tag : want) {
    if (std::find(d.tags.begin(), d.tags.end(), tag) == d.tags.end()) return false;
  }
  return true;
}

FoundSecret Found(RemoteSecretValue&& v) {
  return FoundSecret{
      v.name, RemoteValue{std::move(v.string), std::move(v.binary), std::move(v.version_id)}};
}

}  // namespace

Result<std::vector<FoundSecret>> AwsProvider::FindSecrets(const FindQuery& query) {
  if (query.name_regexp.empty() && query.tags.empty()) {
    return Status::InvalidArgument("find needs name.regexp or tags");
  }
  std::optional<Regexp> re;
  if (!query.name_regexp.empty()) {
    Result<Regexp> compiled = Regexp::Compile(query.name_regexp);
    if (!compiled.ok()) return compiled.status().WithContext("find.name.regexp");
    re = std::move(*compiled);
  }
  auto name_matches = [&](const std::string& name) {
    return name.starts_with(query.path) && (!re || re->PartialMatch(name));
  };
  std::vector<ListFilter> filters;
  if (IsFilterValue(query.path)) filters.push_back({"name", {query.path}});
  std::vector<FoundSecret> out;
  // Per-secret errors: gone in the meantime or marked for deletion is skipped, others fail.
  auto take = [&](BatchGetSecretValuePage& page) -> Status {
    for (const BatchSecretError& e : page.errors) {
      const bool gone = e.error_code == "ResourceNotFoundException" ||
                        (e.error_code == "InvalidRequestException" &&
                         e.message.find("marked for deletion") != std::string::npos);
      if (!gone) {
        return Status(e.error_code == "AccessDeniedException" ? StatusCode::kPermissionDenied
                                                              : StatusCode::kUnavailable,
                      "BatchGetSecretValue: secret " + e.secret_id + ": " + e.error_code +
                          (e.message.empty() ? "" : ": " + e.message));
      }
    }
    for (RemoteSecretValue& v : page.values) {
      if (name_matches(v.name)) out.push_back(Found(std::move(v)));
    }
    return Status::Ok();
  };

  if (query.tags.empty() && !filters.empty()) {
    // ESO's batch path: the values of every secret under the prefix, 20 a page.
    std::string token;
    do {
      calls_.fetch_add(1, std::memory_order_relaxed);
      Result<BatchGetSecretValuePage> page = client_->BatchGetSecretValueFiltered(filters, token);
      Observe("BatchGetSecretValue", page.status());
      if (!page.ok()) return page.status();
      COFFER_RETURN_IF_ERROR(take(*page));
      token = page->next_token;
    } while (!token.empty());
  } else {
    for (const auto& [key, value] : query.tags) {
      if (IsFilterValue(key)) filters.push_back({"tag-key", {key}});
      if (IsFilterValue(value)) filters.push_back({"tag-value", {value}});
    }
    std::vector<std::string> names;
    std::string token;
    do {
      calls_.fetch_add(1, std::memory_order_relaxed);
      Result<ListSecretsPage> page = client_->ListSecrets(filters, token, 100);
      Observe("ListSecrets", page.status());
      if (!page.ok()) return page.status();
      for (const RemoteSecretDescription& d : page->secrets) {
        if (!d.deleted_ms.has_value() && name_matches(d.name) && HasAllTags(d, query.tags)) {
          names.push_back(d.name);
        }
      }
      token = page->next_token;
    } while (!token.empty());
    for (std::size_t i = 0; i < names.size(); i += 20) {
      std::vector<std::string> chunk(names.begin() + i,
                                     names.begin() + std::min(names.size(), i + 20));
      calls_.fetch_add(1, std::memory_order_relaxed);
      Result<BatchGetSecretValuePage> page = client_->BatchGetSecretValue(chunk);
      Observe("BatchGetSecretValue", page.status());
      if (!page.ok()) return page.status();
      COFFER_RETURN_IF_ERROR(take(*page));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const FoundSecret& a, const FoundSecret& b) { return a.name < b.name; });
  return out;
}

Status AwsProvider::Validate() {
  calls_.fetch_add(1, std::memory_order_relaxed);
  Status status = client_->CheckCredentials();
  Observe("ListSecrets", status);
  return status;
}

void AwsProvider::Observe(std::string_view call, const Status& status) const {
  if (observer_) observer_(call, status);
}

}  // namespace coffer::provider
