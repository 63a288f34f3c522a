// ListSecrets and ListSecretVersionIds.
//
// ListSecrets order: SortBy (default created-date) then SortOrder (default asc), ties in
// (created date, ARN) order. Secrets never read sort first by last-accessed-date.

#include <algorithm>

#include "secrets/describe.h"
#include "secrets/list_filters.h"
#include "secrets/listing.h"
#include "secrets/op_util.h"
#include "secrets/page_token.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::int64_t kDefaultMaxResults = 100;

struct ListRow {
  const internal::ListedSecret* secret = nullptr;
  std::optional<std::vector<storage::VersionRecord>> versions;  // loaded on demand
  std::int64_t last_accessed_ms = 0;
};

Status ValidateListSecrets(const ListSecretsRequest& r) {
  COFFER_RETURN_IF_ERROR(CheckRange("maxResults", r.max_results, 1, 100));
  COFFER_RETURN_IF_ERROR(CheckLength("nextToken", r.next_token, 1, 4096));
  if (r.filters) COFFER_RETURN_IF_ERROR(ValidateFilters(*r.filters));
  if (r.sort_order && *r.sort_order != "asc" && *r.sort_order != "desc") {
    return Status::Validation(
        "1 validation error detected: Value at 'sortOrder' failed to satisfy constraint: Member "
        "must satisfy enum value set: [asc, desc]");
  }
  if (r.sort_by && *r.sort_by != "created-date" && *r.sort_by != "last-accessed-date" &&
      *r.sort_by != "last-changed-date" && *r.sort_by != "name") {
    return Status::Validation(
        "1 validation error detected: Value at 'sortBy' failed to satisfy constraint: Member "
        "must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, "
        "name]");
  }
  return Status::Ok();
}

void SortRows(std::vector<ListRow>& rows, const std::string& sort_by, bool descending) {
  auto key_less = [&sort_by](const ListRow& a, const ListRow& b) {
    if (sort_by == "name") return a.secret->record.name < b.secret->record.name;
    if (sort_by == "last-changed-date") {
      return a.secret->meta.last_changed_ms < b.secret->meta.last_changed_ms;
    }
    if (sort_by == "last-accessed-date") return a.last_accessed_ms < b.last_accessed_ms;
    return a.secret->record.created_ms < b.secret->record.created_ms;
  };
  std::stable_sort(rows.begin(), rows.end(), key_less);  // rows start in (created, arn) order
  if (descending) std::reverse(rows.begin(), rows.end());
}

std::int64_t LatestAccess(const std::vector<storage::VersionRecord>& versions) {
  std::int64_t latest = 0;
  for (const auto& v : versions) latest = std::max(latest, v.last_accessed_ms.value_or(0));
  return latest;
}

}  // namespace

namespace internal {

Result<std::vector<ListedSecret>> MatchingSecrets(storage::SecretStore& store,
                                                  const std::string& region, bool include_deleted,
                                                  const std::vector<Filter>& filters) {
  COFFER_ASSIGN_OR_RETURN(auto records, store.ListSecrets(region));
  std::vector<ListedSecret> out;
  for (auto& record : records) {
    if (record.deletion_date_ms && !include_deleted) continue;
    COFFER_ASSIGN_OR_RETURN(SecretMeta meta, ParseMeta(record.meta_json));
    if (!MatchesFilters(record.name, record.region, meta, filters)) continue;
    out.push_back({std::move(record), std::move(meta)});
  }
  return out;
}

std::string DescribeFilters(const std::vector<Filter>& filters) {
  std::string out;
  for (const Filter& f : filters) {
    out += f.key + "=";
    for (const auto& v : f.values) out += std::to_string(v.size()) + ":" + v + ",";
    out += ";";
  }
  return out;
}

}  // namespace internal

Result<ListSecretsResponse> Service::ListSecrets(const CallContext& ctx,
                                                 const ListSecretsRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateListSecrets(r));
  const std::vector<Filter> filters = r.filters.value_or(std::vector<Filter>{});
  const bool include_deleted = r.include_planned_deletion.value_or(false);
  const std::string sort_by = r.sort_by.value_or("created-date");
  const std::string sort_order = r.sort_order.value_or("asc");
  COFFER_ASSIGN_OR_RETURN(auto matching,
                          internal::MatchingSecrets(*store_, ctx.region, include_deleted, filters));
  COFFER_RETURN_IF_ERROR(KeepListable(ctx, matching));

  std::vector<ListRow> rows;
  rows.reserve(matching.size());
  for (const auto& secret : matching) {
    ListRow row;
    row.secret = &secret;
    if (sort_by == "last-accessed-date") {
      COFFER_ASSIGN_OR_RETURN(row.versions, ListVersionsSeen(secret.record.arn));
      row.last_accessed_ms = LatestAccess(*row.versions);
    }
    rows.push_back(std::move(row));
  }
  SortRows(rows, sort_by, sort_order == "desc");

  const std::string fingerprint =
      QueryFingerprint("ListSecrets\n" + ctx.region + "\n" + (include_deleted ? "1" : "0") + "\n" +
                       sort_by + "\n" + sort_order + "\n" + internal::DescribeFilters(filters));
  std::size_t offset = 0;
  if (r.next_token) {
    COFFER_ASSIGN_OR_RETURN(offset, DecodePageToken(*r.next_token, fingerprint));
  }
  const auto page = static_cast<std::size_t>(r.max_results.value_or(kDefaultMaxResults));
  const std::size_t end = std::min(rows.size(), offset + page);

  ListSecretsResponse out;
  for (std::size_t i = offset; i < end; ++i) {
    ListRow& row = rows[i];
    if (!row.versions) {
      COFFER_ASSIGN_OR_RETURN(row.versions, ListVersionsSeen(row.secret->record.arn));
    }
    out.secret_list.push_back(
        BuildDescription(row.secret->record, row.secret->meta, *row.versions));
  }
  if (end < rows.size()) out.next_token = EncodePageToken(end, fingerprint);
  return out;
}

Result<ListSecretVersionIdsResponse> Service::ListSecretVersionIds(
    const CallContext& ctx, const ListSecretVersionIdsRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(CheckRange("maxResults", r.max_results, 1, 100));
  COFFER_RETURN_IF_ERROR(CheckLength("nextToken", r.next_token, 1, 4096));
  COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                          LoadAuthorized(ctx, r.secret_id, "ListSecretVersionIds"));
  COFFER_ASSIGN_OR_RETURN(auto versions, ListVersionsSeen(secret.record.arn));
  const bool include_deprecated = r.include_deprecated.value_or(false);
  if (!include_deprecated) {
    std::erase_if(versions, [](const storage::VersionRecord& v) { return v.stages.empty(); });
  }

  const std::string fingerprint = QueryFingerprint("ListSecretVersionIds\n" + secret.record.arn +
                                                   "\n" + (include_deprecated ? "1" : "0"));
  std::size_t offset = 0;
  if (r.next_token) {
    COFFER_ASSIGN_OR_RETURN(offset, DecodePageToken(*r.next_token, fingerprint));
  }
  const auto page = static_cast<std::size_t>(r.max_results.value_or(kDefaultMaxResults));
  const std::size_t end = std::min(versions.size(), offset + page);

  ListSecretVersionIdsResponse out;
  out.arn = secret.record.arn;
  out.name = secret.record.name;
  const std::string kms_key = secret.meta.kms_key_id.value_or("DefaultEncryptionKey");
  for (std::size_t i = offset; i < end; ++i) {
    const auto& v = versions[i];
    SecretVersionsListEntry entry;
    entry.version_id = v.version_id;
    if (!v.stages.empty()) entry.version_stages = v.stages;
    entry.last_accessed_date_ms = v.last_accessed_ms;
    entry.created_date_ms = v.created_ms;
    entry.kms_key_ids = {kms_key};
    out.versions.push_back(std::move(entry));
  }
  if (end < versions.size()) out.next_token = EncodePageToken(end, fingerprint);
  return out;
}

}  // namespace coffer::secrets
