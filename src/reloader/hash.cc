#include "reloader/hash.h"

#include <map>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace coffer::reloader {
namespace {

using nlohmann::json;

void Append(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

std::string StringOf(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `section` of the object as key -> bytes, decoding base64 when `base64`.
void AppendSection(std::string& out, const json& object, const char* section, bool base64) {
  Append(out, section);
  if (!object.is_object()) return;
  auto it = object.find(section);
  if (it == object.end() || !it->is_object()) return;
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : it->items()) {
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (base64) {
      if (std::optional<std::string> decoded = Base64Decode(value)) {
        value = std::move(*decoded);
      } else {
        value = "!raw:" + value;  // not base64: hashed as is, never equal to a decoded value
      }
    }
    sorted.emplace(k, std::move(value));
  }
  Append(out, std::to_string(sorted.size()));
  for (const auto& [k, v] : sorted) {
    Append(out, k);
    Append(out, v);
  }
}

}  // namespace

std::string SourceHash(std::string_view key, const json& object) {
  std::string message = "coffer-reloader-v1";
  const std::string kind = StringOf(object, "kind");
  Append(message, kind);
  const json& metadata =
      object.is_object() && object.contains("metadata") ? object["metadata"] : json();
  Append(message, StringOf(metadata, "namespace"));
  Append(message, StringOf(metadata, "name"));
  if (kind == "ConfigMap") {
    AppendSection(message, object, "data", /*base64=*/false);
    AppendSection(message, object, "binaryData", /*base64=*/true);
  } else {
    AppendSection(message, object, "data", /*base64=*/true);
  }
  return HexEncode(crypto::HmacSha256(key, message));
}

}  // namespace coffer::reloader
