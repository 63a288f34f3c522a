#pragma once

// The secrets of a region that pass a set of filters; shared by ListSecrets and the Filters form
// of BatchGetSecretValue.

#include <string>
#include <vector>

#include "core/status.h"
#include "secrets/meta.h"
#include "secrets/types.h"
#include "storage/store.h"

namespace coffer::secrets::internal {

struct ListedSecret {
  storage::SecretRecord record;
  SecretMeta meta;
};

// In store order (created_ms, arn). Secrets scheduled for deletion only if `include_deleted`.
Result<std::vector<ListedSecret>> MatchingSecrets(storage::SecretStore& store,
                                                  const std::string& region, bool include_deleted,
                                                  const std::vector<Filter>& filters);

// A description of the filters for QueryFingerprint.
std::string DescribeFilters(const std::vector<Filter>& filters);

}  // namespace coffer::secrets::internal
