#pragma once

// The keyed hash the reloader writes into pod templates and its record: HMAC-SHA256 under the
// reloader's own key (never a plain hash, which anyone who may read a Deployment could use to
// guess a low-entropy secret offline, Reloader's open issue #594).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace coffer::reloader {

// Hex HMAC-SHA256 under `key` of an unambiguous encoding of the Secret's or ConfigMap's kind,
// namespace, name and data (keys sorted, values decoded; every field length-prefixed). Metadata
// (labels, annotations, resourceVersion) does not enter it. A Secret value that is not valid
// base64 is hashed as it stands.
std::string SourceHash(std::string_view key, const nlohmann::json& object);

}  // namespace coffer::reloader
