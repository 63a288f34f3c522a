#include "secrets/meta.h"

#include <nlohmann/json.hpp>

namespace coffer::secrets {
namespace {

using nlohmann::json;

template <typename T>
void PutOptional(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <typename T>
void GetOptional(const json& j, const char* key, std::optional<T>& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) out = it->get<T>();
}

json RulesToJson(const RotationRules& r) {
  json j = json::object();
  PutOptional(j, "days", r.automatically_after_days);
  PutOptional(j, "duration", r.duration);
  PutOptional(j, "schedule", r.schedule_expression);
  return j;
}

RotationRules RulesFromJson(const json& j) {
  RotationRules r;
  GetOptional(j, "days", r.automatically_after_days);
  GetOptional(j, "duration", r.duration);
  GetOptional(j, "schedule", r.schedule_expression);
  return r;
}

SecretMeta MetaFromJson(const json& j) {
  SecretMeta m;
  GetOptional(j, "description", m.description);
  GetOptional(j, "kms_key_id", m.kms_key_id);
  GetOptional(j, "type", m.type);
  if (auto it = j.find("tags"); it != j.end()) {
    for (const auto& t : *it)
      m.tags.push_back({t.at("k").get<std::string>(), t.at("v").get<std::string>()});
  }
  m.last_changed_ms = j.value("last_changed_ms", std::int64_t{0});
  GetOptional(j, "rotation_enabled", m.rotation_enabled);
  GetOptional(j, "rotation_lambda_arn", m.rotation_lambda_arn);
  if (auto it = j.find("rotation_rules"); it != j.end()) m.rotation_rules = RulesFromJson(*it);
  GetOptional(j, "last_rotated_ms", m.last_rotated_ms);
  GetOptional(j, "next_rotation_ms", m.next_rotation_ms);
  GetOptional(j, "external_rotation_metadata", m.external_rotation_metadata_json);
  GetOptional(j, "external_rotation_role_arn", m.external_rotation_role_arn);
  GetOptional(j, "resource_policy", m.resource_policy);
  return m;
}

}  // namespace

std::string SerializeMeta(const SecretMeta& m) {
  json j = json::object();
  j["v"] = kMetaFormatVersion;
  PutOptional(j, "description", m.description);
  PutOptional(j, "kms_key_id", m.kms_key_id);
  PutOptional(j, "type", m.type);
  if (!m.tags.empty()) {
    json tags = json::array();
    for (const Tag& t : m.tags) tags.push_back({{"k", t.key}, {"v", t.value}});
    j["tags"] = std::move(tags);
  }
  j["last_changed_ms"] = m.last_changed_ms;
  PutOptional(j, "rotation_enabled", m.rotation_enabled);
  PutOptional(j, "rotation_lambda_arn", m.rotation_lambda_arn);
  if (m.rotation_rules) j["rotation_rules"] = RulesToJson(*m.rotation_rules);
  PutOptional(j, "last_rotated_ms", m.last_rotated_ms);
  PutOptional(j, "next_rotation_ms", m.next_rotation_ms);
  PutOptional(j, "external_rotation_metadata", m.external_rotation_metadata_json);
  PutOptional(j, "external_rotation_role_arn", m.external_rotation_role_arn);
  PutOptional(j, "resource_policy", m.resource_policy);
  return j.dump();
}

Result<SecretMeta> ParseMeta(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return Status::DataLoss("secret metadata is not a JSON object");
    const int version = j.value("v", 0);
    if (version < 1 || version > kMetaFormatVersion) {
      return Status::DataLoss("secret metadata has unsupported format version " +
                              std::to_string(version));
    }
    return MetaFromJson(j);
  } catch (const json::exception&) {
    // The parser's message quotes the input; keep it out of errors.
    return Status::DataLoss("secret metadata is corrupt");
  }
}

void UpsertTag(std::vector<Tag>& tags, const std::string& key, const std::string& value) {
  for (Tag& t : tags) {
    if (t.key == key) {
      t.value = value;
      return;
    }
  }
  tags.push_back({key, value});
}

}  // namespace coffer::secrets
