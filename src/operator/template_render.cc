#include "operator/template_render.h"

#include <charconv>
#include <cstdlib>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "core/encoding.h"
#include "operator/types.h"

namespace coffer::op {
namespace {

using nlohmann::json;

bool LooksLikeInt(const std::string& s) {
  std::int64_t v = 0;
  const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(begin, s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool LooksLikeFloat(const std::string& s) {
  if (s.empty() || s.find_first_of(".eE") == std::string::npos) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = NodeToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(NodeToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "?") {  // plain scalar: YAML 1.2 core schema types
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
        if (s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
        if (LooksLikeInt(s)) return std::stoll(s);
        if (LooksLikeFloat(s)) return std::strtod(s.c_str(), nullptr);
      }
      return s;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

void Emit(YAML::Emitter& out, const json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, item] : v.items()) {
      out << YAML::Key << k << YAML::Value;
      Emit(out, item);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const json& item : v) Emit(out, item);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    // A string that would read back as another type (or is empty) is quoted.
    const bool ambiguous = s.empty() || LooksLikeInt(s) || LooksLikeFloat(s) || s == "true" ||
                           s == "false" || s == "null" || s == "~" || s == "yes" || s == "no";
    if (ambiguous) {
      out << YAML::DoubleQuoted << s;
    } else if (s.find('\n') != std::string::npos) {
      out << YAML::Literal << s;
    } else {
      out << s;
    }
  } else if (v.is_null()) {
    out << YAML::Null;
  } else {
    out << v.dump();
  }
}

std::string MetadataName(const json& doc) {
  auto meta = doc.find("metadata");
  if (meta == doc.end() || !meta->is_object()) return "";
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : "";
}

Result<StringMap> StringMapMember(const json& doc, std::string_view key, std::string_view what) {
  StringMap out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return Status::InvalidArgument(std::string(what) + ": " + std::string(key) + " must be a map");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return Status::InvalidArgument(std::string(what) + ": " + std::string(key) + "." + k +
                                     " must be a string");
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<StringMap> DecodeBase64Map(const StringMap& encoded, std::string_view what) {
  StringMap out;
  for (const auto& [k, v] : encoded) {
    std::optional<std::string> decoded = Base64Decode(v);
    if (!decoded) {
      return Status::InvalidArgument(std::string(what) + ": the value of " + k +
                                     " is not valid base64");
    }
    out[k] = std::move(*decoded);
  }
  return out;
}

}  // namespace

Result<std::vector<json>> ParseYamlDocuments(std::string_view text) {
  std::vector<json> out;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) {
      if (doc.IsNull()) continue;
      out.push_back(NodeToJson(doc));
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("not valid YAML (line " + std::to_string(e.mark.line + 1) +
                                   "): " + e.msg);
  }
  return out;
}

std::string JsonToYaml(const json& value) {
  YAML::Emitter out;
  Emit(out, value);
  return std::string(out.c_str()) + "\n";
}

Result<SecretData> ParseSecretDataDocument(const json& document) {
  if (!document.is_object()) {
    return Status::InvalidArgument("secret data must be a map of keys to base64 values");
  }
  if (document.value("kind", json()) == "Secret") {
    COFFER_ASSIGN_OR_RETURN(StringMap encoded, StringMapMember(document, "data", "Secret"));
    COFFER_ASSIGN_OR_RETURN(SecretData data, DecodeBase64Map(encoded, "Secret data"));
    COFFER_ASSIGN_OR_RETURN(StringMap plain, StringMapMember(document, "stringData", "Secret"));
    for (auto& [k, v] : plain) data[k] = std::move(v);
    return data;
  }
  StringMap encoded;
  for (const auto& [k, v] : document.items()) {
    if (!v.is_string()) {
      return Status::InvalidArgument("secret data: the value of " + k + " must be a base64 string");
    }
    encoded[k] = v.get<std::string>();
  }
  return DecodeBase64Map(encoded, "secret data");
}

Status AddTemplateSourceDocument(const json& document, TemplateSources& sources) {
  const std::string kind = document.is_object() ? document.value("kind", "") : "";
  const std::string name = document.is_object() ? MetadataName(document) : "";
  if (name.empty()) return Status::InvalidArgument(kind + " manifest has no metadata.name");
  if (kind == "ConfigMap") {
    COFFER_ASSIGN_OR_RETURN(sources.config_maps[name].data,
                            StringMapMember(document, "data", "ConfigMap " + name));
    return Status::Ok();
  }
  if (kind == "Secret") {
    COFFER_ASSIGN_OR_RETURN(sources.secrets[name].data, ParseSecretDataDocument(document));
    return Status::Ok();
  }
  return Status::InvalidArgument("expected a ConfigMap or Secret manifest, got kind \"" + kind +
                                 "\"");
}

Result<json> RenderExternalSecret(const json& external_secret, const SecretData& data,
                                  const TemplateSources& sources, const TemplateOptions& options) {
  COFFER_ASSIGN_OR_RETURN(ExternalSecret es, ParseExternalSecret(external_secret));
  RenderedSecret rendered;
  if (es.target.has_template) {
    COFFER_ASSIGN_OR_RETURN(rendered, ApplyTemplate(es, data, sources, options));
  } else {
    rendered.data = data;
    rendered.labels = es.metadata.labels;
    rendered.annotations = es.metadata.annotations;
  }
  json meta = {{"name", es.target.name}};
  if (!es.metadata.namespace_.empty()) meta["namespace"] = es.metadata.namespace_;
  if (!rendered.labels.empty()) meta["labels"] = rendered.labels;
  if (!rendered.annotations.empty()) meta["annotations"] = rendered.annotations;
  json encoded = json::object();
  for (const auto& [k, v] : rendered.data) encoded[k] = Base64Encode(v);
  return json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", std::move(meta)},
              {"type", es.target.template_type.empty() ? "Opaque" : es.target.template_type},
              {"data", std::move(encoded)}};
}

}  // namespace coffer::op
