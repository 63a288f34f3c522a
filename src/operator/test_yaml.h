#pragma once

// Test helper: converts YAML manifests (as users write them) into the JSON the apiserver would
// hand the operator. Plain scalars become booleans, integers or null when they look like one;
// quoted scalars stay strings. Only the operator's tests include this header.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace coffer::op::testing {

inline nlohmann::json YamlNodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlNodeToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlNodeToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() == "?") {  // plain (unquoted) scalar
        if (s == "true") return true;
        if (s == "false") return false;
        if (s == "null" || s == "~") return nullptr;
        if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s != "-") {
          return std::stoll(s);
        }
      }
      return s;
    }
    default:
      return nullptr;
  }
}

// Every document of a multi-document YAML stream, as JSON.
inline std::vector<nlohmann::json> YamlToJson(std::string_view yaml) {
  std::vector<nlohmann::json> out;
  for (const YAML::Node& doc : YAML::LoadAll(std::string(yaml))) out.push_back(YamlNodeToJson(doc));
  return out;
}

}  // namespace coffer::op::testing
