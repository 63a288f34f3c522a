#pragma once

// DescribeSecret / ListSecrets entries from a stored secret and its versions.

#include <vector>

#include "secrets/meta.h"
#include "secrets/types.h"
#include "storage/store.h"

namespace coffer::secrets {

// Members without a value stay absent, as AWS omits them. LastAccessedDate is the latest
// last_accessed of any version; VersionIdsToStages lists only versions that have labels.
SecretDescription BuildDescription(const storage::SecretRecord& record, const SecretMeta& meta,
                                   const std::vector<storage::VersionRecord>& versions);

}  // namespace coffer::secrets
