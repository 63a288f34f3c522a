#pragma once

// Small helpers the controllers share for reading apiserver objects (nlohmann::json) and keying
// them. Internal to src/controller.

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace coffer::controller::internal {

// object.metadata, or an empty object when it is missing or not an object.
const nlohmann::json& MetadataOf(const nlohmann::json& object);

// object[key] when it is a string, else "".
std::string StringAt(const nlohmann::json& object, std::string_view key);

// The string-valued entries of object[key] (e.g. MetadataOf(o) and "labels"); empty when it is
// missing or not an object.
std::map<std::string, std::string> StringMapAt(const nlohmann::json& object, std::string_view key);

// "ns/name", or "name" when `ns` is empty (cluster-scoped objects).
std::string JoinKey(std::string_view ns, std::string_view name);

// The inverse of JoinKey: ("ns", "name"), or ("", "name") without a slash.
std::pair<std::string, std::string> SplitKey(std::string_view key);

// A copy of `object` without metadata.managedFields (never read; often half an object's size).
nlohmann::json WithoutManagedFields(const nlohmann::json& object);

// A uniformly distributed number in [0, 1), for requeue jitter. Thread-safe.
double UniformRandom();

}  // namespace coffer::controller::internal
