#pragma once

// ESO's `fake` provider as a pure function: the store's static spec.provider.fake.data answers
// reads, for users' own tests of their manifests. An entry matches a read when key and version are
// equal (an empty version matches an entry without version); anything else is NotFound. An entry
// with valueMap (deprecated in ESO v1) answers with the JSON object of that map.

#include <vector>

#include "operator/types.h"
#include "operator/values.h"

namespace coffer::op {

// Answers every read in `keys` from `fake`. metadataPolicy Fetch reads get an empty tag object
// ("{}"), as the fake provider has no metadata.
FetchResult FetchFromFake(const FakeProvider& fake, const std::vector<FetchKey>& keys);

}  // namespace coffer::op
