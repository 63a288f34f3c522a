#include "crypto/internal/keyring_json.h"

#include <limits>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/envelope.h"
#include "crypto/wipe.h"

namespace coffer::crypto::internal {
namespace {

using nlohmann::json;

// Quotes a name or value taken from the file in an error message, unless it could be anything
// but a plain identifier (a key pasted into the wrong place must never end up in a log).
std::string Quote(std::string_view s) {
  if (s.empty() || s.size() > 32) return "(a field name that is not shown)";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return "(a field name that is not shown)";
  }
  return "\"" + std::string(s) + "\"";
}

// Walks the parsed document and wipes every "key" string, so the base64 keys do not linger in
// freed heap memory.
void WipeKeyStrings(json& doc) noexcept {
  try {
    if (!doc.is_object()) return;
    auto keys = doc.find("keys");
    if (keys == doc.end() || !keys->is_array()) return;
    for (json& entry : *keys) {
      if (!entry.is_object()) continue;
      auto key = entry.find("key");
      if (key != entry.end() && key->is_string()) Wipe(key->get_ref<std::string&>());
    }
  } catch (...) {
    // Every access above is type-checked first, so nothing throws; a destructor must not anyway.
  }
}

class DocWiper {
 public:
  explicit DocWiper(json& doc) : doc_(doc) {}
  ~DocWiper() { WipeKeyStrings(doc_); }
  DocWiper(const DocWiper&) = delete;
  DocWiper& operator=(const DocWiper&) = delete;

 private:
  json& doc_;
};

Result<std::uint32_t> ParseVersion(const json& v, std::string_view what, const std::string& src) {
  if (!v.is_number_unsigned()) {
    return Status::InvalidArgument(src + ": " + std::string(what) + " must be a positive integer");
  }
  const auto n = v.get<std::uint64_t>();
  if (n == 0 || n > std::numeric_limits<std::uint32_t>::max()) {
    return Status::InvalidArgument(src + ": " + std::string(what) + " " + std::to_string(n) +
                                   " is out of range (1 to 4294967295)");
  }
  return static_cast<std::uint32_t>(n);
}

Status CheckFields(const json& obj, std::initializer_list<std::string_view> allowed,
                   const std::string& where) {
  for (const auto& [name, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || name == a;
    if (!known) return Status::InvalidArgument(where + ": unknown field " + Quote(name));
  }
  return Status::Ok();
}

Result<KeyringContents> FromDocument(const json& doc, const std::string& src) {
  if (!doc.is_object()) return Status::InvalidArgument(src + ": must be a JSON object");
  COFFER_RETURN_IF_ERROR(CheckFields(doc, {"format", "active", "keys"}, src));

  auto format = doc.find("format");
  if (format == doc.end()) return Status::InvalidArgument(src + ": \"format\" is missing");
  if (!format->is_string()) return Status::InvalidArgument(src + ": \"format\" must be a string");
  if (format->get_ref<const std::string&>() != kKeyringFormat) {
    return Status::InvalidArgument(src + ": unsupported format " +
                                   Quote(format->get_ref<const std::string&>()) + " (expected \"" +
                                   std::string(kKeyringFormat) + "\")");
  }

  auto active = doc.find("active");
  if (active == doc.end()) return Status::InvalidArgument(src + ": \"active\" is missing");
  KeyringContents contents;
  COFFER_ASSIGN_OR_RETURN(contents.active, ParseVersion(*active, "\"active\"", src));

  auto keys = doc.find("keys");
  if (keys == doc.end()) return Status::InvalidArgument(src + ": \"keys\" is missing");
  if (!keys->is_array() || keys->empty()) {
    return Status::InvalidArgument(src + ": \"keys\" must be a non-empty array");
  }
  for (std::size_t i = 0; i < keys->size(); ++i) {
    const json& entry = (*keys)[i];
    const std::string where = src + ": keys[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Status::InvalidArgument(where + " must be an object");
    COFFER_RETURN_IF_ERROR(CheckFields(entry, {"version", "key", "created"}, where));
    auto version_it = entry.find("version");
    if (version_it == entry.end()) {
      return Status::InvalidArgument(where + ": \"version\" is missing");
    }
    COFFER_ASSIGN_OR_RETURN(std::uint32_t version, ParseVersion(*version_it, "\"version\"", where));
    if (contents.keys.count(version) != 0) {
      return Status::InvalidArgument(src + ": version " + std::to_string(version) +
                                     " appears more than once");
    }
    auto key_it = entry.find("key");
    if (key_it == entry.end() || !key_it->is_string()) {
      return Status::InvalidArgument(where + ": \"key\" must be a base64 string");
    }
    std::optional<std::string> raw = Base64Decode(key_it->get_ref<const std::string&>());
    if (!raw) {
      return Status::InvalidArgument(where + ": \"key\" of version " + std::to_string(version) +
                                     " is not valid base64");
    }
    WipeOnExit wipe_raw(*raw);
    if (raw->size() != kMasterKeyBytes) {
      return Status::InvalidArgument(where + ": \"key\" of version " + std::to_string(version) +
                                     " is " + std::to_string(raw->size()) + " bytes, not " +
                                     std::to_string(kMasterKeyBytes));
    }
    MasterKeyEntry& e = contents.keys[version];
    e.key = *raw;
    auto created = entry.find("created");
    if (created != entry.end()) {
      if (!created->is_string()) {
        return Status::InvalidArgument(where + ": \"created\" must be a string");
      }
      e.created = created->get<std::string>();
    }
  }
  if (contents.keys.count(contents.active) == 0) {
    return Status::InvalidArgument(src + ": the active version " + std::to_string(contents.active) +
                                   " is not in \"keys\"");
  }
  return contents;
}

}  // namespace

KeyringContents& KeyringContents::operator=(KeyringContents&& other) noexcept {
  if (this != &other) {
    WipeKeys();
    active = other.active;
    keys = std::move(other.keys);
    other.keys.clear();
  }
  return *this;
}

void KeyringContents::WipeKeys() {
  for (auto& [version, entry] : keys) Wipe(entry.key);
}

Result<KeyringContents> ParseKeyringJson(std::string_view text, std::string_view source) {
  const std::string src(source);
  // nlohmann keeps the last of duplicate object members; a strict parse must see them.
  std::vector<std::set<std::string>> seen;
  bool duplicate = false;
  json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        seen.emplace_back();
        break;
      case json::parse_event_t::key:
        if (parsed.is_string() && !seen.empty() &&
            !seen.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      case json::parse_event_t::object_end:
        if (!seen.empty()) seen.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                      /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // e.what() quotes the text around the error, which may be key material; only the offset is
    // safe to report.
    return Status::InvalidArgument(src + ": not valid JSON (syntax error near byte " +
                                   std::to_string(e.byte) + ")");
  } catch (const json::exception&) {
    return Status::InvalidArgument(src + ": not valid JSON");
  }
  DocWiper wiper(doc);
  if (duplicate) return Status::InvalidArgument(src + ": a JSON object has a duplicate field");
  try {
    return FromDocument(doc, src);
  } catch (const json::exception&) {
    // FromDocument checks every type before reading it; this is only a safety net.
    return Status::InvalidArgument(src + ": unexpected JSON structure");
  }
}

std::string SerializeKeyringJson(const KeyringContents& contents) {
  std::string out;
  // Reserve up front so the buffer holding keys is never reallocated (and left behind unwiped).
  std::size_t capacity = 128;
  for (const auto& [version, entry] : contents.keys) capacity += 160 + 6 * entry.created.size();
  out.reserve(capacity);
  out += "{\n  \"format\": \"";
  out += kKeyringFormat;
  out += "\",\n  \"active\": " + std::to_string(contents.active) + ",\n  \"keys\": [\n";
  bool first = true;
  for (const auto& [version, entry] : contents.keys) {
    if (!first) out += ",\n";
    first = false;
    std::string key_b64 = Base64Encode(entry.key);
    WipeOnExit wipe_key(key_b64);
    out += "    {\"version\": " + std::to_string(version) + ", \"key\": \"";
    out += key_b64;
    out += "\"";
    if (!entry.created.empty())
      out += ", \"created\": " +
             json(entry.created).dump(-1, ' ', false, json::error_handler_t::replace);
    out += "}";
  }
  out += "\n  ]\n}\n";
  return out;
}

}  // namespace coffer::crypto::internal
