#include "controller/object_util.h"

#include <random>

namespace coffer::controller::internal {

using nlohmann::json;

const json& MetadataOf(const json& object) {
  static const json empty = json::object();
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : empty;
}

std::string StringAt(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::map<std::string, std::string> StringMapAt(const json& object, std::string_view key) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::string JoinKey(std::string_view ns, std::string_view name) {
  std::string key(ns);
  if (!key.empty()) key.push_back('/');
  key.append(name);
  return key;
}

std::pair<std::string, std::string> SplitKey(std::string_view key) {
  const std::size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

json WithoutManagedFields(const json& object) {
  json out = object;
  if (auto meta = out.find("metadata"); meta != out.end() && meta->is_object()) {
    meta->erase("managedFields");
  }
  return out;
}

double UniformRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace coffer::controller::internal
