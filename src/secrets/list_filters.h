#pragma once

// ListSecrets / BatchGetSecretValue filters (reference §1.8).
//
//  - name, tag-key, tag-value, primary-region, owning-service: case-sensitive prefix match.
//  - description: not case-sensitive; a prefix of the whole description, or word matching as
//    for "all" (moto found by testing that AWS matches description words).
//  - all: the value is split into words; each must be a case-insensitive prefix of some word of
//    one attribute (name, description, a tag key or a tag value).
//  - A value starting with '!' negates it. Values of one filter are ORed; filters are ANDed.
//  - owning-service never matches a positive value: coffer secrets have no owning service.
//
// Words split at anything not a letter or digit, at a lower-to-upper case change, and between
// letters and digits: "credsDatabase#892" -> creds, Database, 892.

#include <string>
#include <string_view>
#include <vector>

#include "secrets/meta.h"
#include "secrets/types.h"

namespace coffer::secrets {

std::vector<std::string> SplitWords(std::string_view text);

// Whether a secret (its name, region and metadata) passes every filter.
bool MatchesFilters(std::string_view name, std::string_view region, const SecretMeta& meta,
                    const std::vector<Filter>& filters);

}  // namespace coffer::secrets
