#include "operator/values.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/regexp.h"
#include "template/eso_functions.h"
#include "template/template.h"

namespace coffer::op {
namespace {

// Keeps members in document order, as gjson's raw text and Go's json.RawMessage do.
using ordered_json = nlohmann::ordered_json;

constexpr std::string_view kUuidPrefix = "uuid/";

// Parses without exceptions; nullopt on malformed input. The parser's message is discarded on
// purpose: it quotes the bytes around the error, which would be part of a secret.
std::optional<ordered_json> ParseJson(std::string_view text) {
  ordered_json doc =
      ordered_json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

// gjson's Result.String(): numbers keep integer text, other numbers print like
// strconv.FormatFloat(f, 'f', -1, 64).
std::string LeafText(const ordered_json& v) {
  switch (v.type()) {
    case ordered_json::value_t::string:
      return v.get<std::string>();
    case ordered_json::value_t::null:
      return "";
    case ordered_json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned:
      return v.dump();
    case ordered_json::value_t::number_float: {
      char buf[400];
      auto [end, ec] =
          std::to_chars(buf, buf + sizeof(buf), v.get<double>(), std::chars_format::fixed);
      if (ec != std::errc()) return v.dump();
      return std::string(buf, end);
    }
    default:
      return v.dump();
  }
}

// Splits a gjson path on unescaped dots; "\x" stands for a literal x.
std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size()) {
      parts.back() += path[++i];
    } else if (path[i] == '.') {
      parts.emplace_back();
    } else {
      parts.back() += path[i];
    }
  }
  return parts;
}

bool ParseIndex(std::string_view s, std::size_t* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Walks one path segment; nullptr if it does not exist.
const ordered_json* Step(const ordered_json& node, const std::string& part, ordered_json* scratch) {
  if (node.is_object()) {
    auto it = node.find(part);
    return it == node.end() ? nullptr : &*it;
  }
  if (node.is_array()) {
    if (part == "#") {
      *scratch = node.size();
      return scratch;
    }
    std::size_t index = 0;
    if (!ParseIndex(part, &index) || index >= node.size()) return nullptr;
    return &node[index];
  }
  return nullptr;
}

Status NotFoundProperty(std::string_view property, std::string_view remote_key) {
  return Status::NotFound("key " + std::string(property) + " does not exist in secret " +
                          std::string(remote_key));
}

bool IsKeyChar(unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_'; }

// Decodes one UTF-8 sequence at `s[*i]`; invalid bytes decode as themselves.
std::uint32_t NextCodePoint(std::string_view s, std::size_t* i) {
  const auto c0 = static_cast<unsigned char>(s[*i]);
  int extra = c0 >= 0xF0 ? 3 : c0 >= 0xE0 ? 2 : c0 >= 0xC0 ? 1 : 0;
  if (*i + extra >= s.size()) extra = 0;  // truncated sequence: the byte stands for itself
  std::uint32_t cp = extra == 0 ? c0 : (c0 & (0x3F >> extra));
  for (int k = 1; k <= extra; ++k) {
    const auto ck = static_cast<unsigned char>(s[*i + k]);
    if ((ck & 0xC0) != 0x80) {
      ++*i;
      return c0;
    }
    cp = (cp << 6) | (ck & 0x3F);
  }
  *i += 1 + extra;
  return cp;
}

std::optional<std::string> DecodeBase64Url(std::string_view value) {
  std::string std_alphabet(value);
  for (char& c : std_alphabet) {
    if (c == '+' || c == '/') return std::nullopt;  // not in the URL alphabet
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  return Base64Decode(std_alphabet);
}

Status WithEntry(const Status& s, const std::string& entry, std::string_view remote_key) {
  return s.WithContext(entry + " (remote key \"" + std::string(remote_key) + "\")");
}

// ESO's order after the raw keys are known: the rewrites, or the key conversion when there are
// none; then every key is validated and its value decoded.
Result<SecretData> FinishKeys(SecretData raw, const std::vector<Rewrite>& rewrites,
                              ConversionStrategy conversion, DecodingStrategy decoding) {
  if (rewrites.empty()) {
    SecretData converted;
    for (auto& [k, v] : raw) converted[ConvertKey(k, conversion)] = std::move(v);
    raw = std::move(converted);
  } else {
    COFFER_ASSIGN_OR_RETURN(raw, ApplyRewrites(std::move(raw), rewrites));
  }
  SecretData out;
  for (auto& [k, v] : raw) {
    COFFER_RETURN_IF_ERROR(ValidateSecretKey(k));
    COFFER_ASSIGN_OR_RETURN(std::string decoded, DecodeValue(v, decoding, k));
    out[k] = std::move(decoded);
  }
  return out;
}

}  // namespace

VersionSelector ParseVersion(std::string_view version) {
  VersionSelector v;
  if (version.substr(0, kUuidPrefix.size()) == kUuidPrefix) {
    v.version_id = std::string(version.substr(kUuidPrefix.size()));
  } else if (version.empty()) {
    v.version_stage = "AWSCURRENT";
  } else {
    v.version_stage = std::string(version);
  }
  return v;
}

FetchKey FetchKeyOf(const RemoteRef& ref) {
  return FetchKey{ref.key, ref.version, ref.metadata_policy};
}

std::vector<FetchKey> RequiredFetches(const ExternalSecret& es) {
  std::vector<FetchKey> out;
  std::set<FetchKey> seen;
  auto add = [&](const RemoteRef& ref) {
    FetchKey k = FetchKeyOf(ref);
    if (seen.insert(k).second) out.push_back(std::move(k));
  };
  for (const DataFromEntry& entry : es.data_from) {
    if (entry.kind == DataFromEntry::Kind::kExtract) add(entry.extract);
  }
  for (const DataItem& item : es.data) add(item.remote_ref);
  return out;
}

std::vector<FindQuery> RequiredFinds(const ExternalSecret& es) {
  std::vector<FindQuery> out;
  std::set<FindQuery> seen;
  for (const DataFromEntry& entry : es.data_from) {
    if (entry.kind == DataFromEntry::Kind::kFind && seen.insert(entry.find.query).second) {
      out.push_back(entry.find.query);
    }
  }
  return out;
}

Result<std::string> ExtractProperty(std::string_view document, std::string_view property,
                                    std::string_view remote_key) {
  std::optional<ordered_json> doc = ParseJson(document);
  if (!doc) return NotFoundProperty(property, remote_key);
  if (doc->is_object()) {
    auto literal = doc->find(std::string(property));
    if (literal != doc->end()) return LeafText(*literal);
  }
  ordered_json scratch;
  const ordered_json* node = &*doc;
  for (const std::string& part : SplitPath(property)) {
    node = Step(*node, part, &scratch);
    if (node == nullptr) return NotFoundProperty(property, remote_key);
  }
  return LeafText(*node);
}

Result<SecretData> ExtractAll(std::string_view document, std::string_view remote_key) {
  std::optional<ordered_json> doc = ParseJson(document);
  if (!doc || !doc->is_object()) {
    return Status::InvalidArgument("unable to unmarshal secret " + std::string(remote_key) +
                                   ": the value is not a JSON object");
  }
  SecretData out;
  for (const auto& [k, v] : doc->items()) out[k] = LeafText(v);
  return out;
}

Result<std::string> DecodeValue(std::string_view value, DecodingStrategy strategy,
                                std::string_view secret_key) {
  auto failed = [&](std::string_view how) {
    return Status::InvalidArgument("error decoding key " + std::string(secret_key) +
                                   ": value is not " + std::string(how));
  };
  switch (strategy) {
    case DecodingStrategy::kNone:
      return std::string(value);
    case DecodingStrategy::kBase64: {
      std::optional<std::string> out = Base64Decode(value);
      if (!out) return failed("valid base64");
      return *out;
    }
    case DecodingStrategy::kBase64Url: {
      std::optional<std::string> out = DecodeBase64Url(value);
      if (!out) return failed("valid base64url");
      return *out;
    }
    case DecodingStrategy::kAuto: {
      if (std::optional<std::string> out = Base64Decode(value)) return *out;
      if (std::optional<std::string> out = DecodeBase64Url(value)) return *out;
      return std::string(value);
    }
  }
  return std::string(value);
}

std::string ConvertKey(std::string_view key, ConversionStrategy strategy) {
  std::string out;
  std::size_t i = 0;
  while (i < key.size()) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (IsKeyChar(c)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::uint32_t cp = NextCodePoint(key, &i);
    if (strategy == ConversionStrategy::kDefault) {
      out += '_';
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "_U%04X_", cp);
      out += buf;
    }
  }
  return out;
}

Result<std::string> ComputeDataValue(const DataItem& item, const RemoteValue& value) {
  std::string raw = value.bytes;
  if (!item.remote_ref.property.empty()) {
    COFFER_ASSIGN_OR_RETURN(
        raw, ExtractProperty(value.bytes, item.remote_ref.property, item.remote_ref.key));
  }
  return DecodeValue(raw, item.remote_ref.decoding_strategy, item.secret_key);
}

Status ValidateSecretKey(std::string_view key) {
  bool valid = !key.empty() && key.size() <= 253 && key != "." && key.substr(0, 2) != "..";
  for (char c : key) valid = valid && IsKeyChar(static_cast<unsigned char>(c));
  if (valid) return Status::Ok();
  return Status::InvalidArgument("key \"" + std::string(key) +
                                 "\" is not a valid Secret key (1 to 253 of [-._a-zA-Z0-9], "
                                 "not \".\" or \"..\")");
}

Result<SecretData> ApplyRewrites(SecretData data, const std::vector<Rewrite>& rewrites) {
  for (std::size_t i = 0; i < rewrites.size(); ++i) {
    const Rewrite& rw = rewrites[i];
    const std::string where = "rewrite[" + std::to_string(i) + "]";
    SecretData next;
    if (rw.kind == Rewrite::Kind::kRegexp) {
      Result<Regexp> re = Regexp::Compile(rw.source);
      if (!re.ok()) return re.status().WithContext(where + ".regexp.source");
      for (auto& [k, v] : data) next[re->ReplaceAll(k, rw.target)] = std::move(v);
    } else {
      tmpl::ParseOptions options;
      options.missing_key_error = false;
      Result<tmpl::Template> t =
          tmpl::Template::Parse("transform", rw.template_text, tmpl::EsoFunctions(), options);
      if (!t.ok()) return t.status().WithContext(where + ".transform.template");
      for (auto& [k, v] : data) {
        Result<std::string> key = t->Execute(tmpl::Value(tmpl::Map{{"value", tmpl::Value(k)}}));
        if (!key.ok()) return key.status().WithContext(where + ".transform.template");
        next[std::move(*key)] = std::move(v);
      }
    }
    data = std::move(next);
  }
  return data;
}

Result<SecretData> ComputeExtract(const RemoteRef& ref, const RemoteValue& value,
                                  const std::vector<Rewrite>& rewrites) {
  std::string document = value.bytes;
  if (!ref.property.empty()) {
    COFFER_ASSIGN_OR_RETURN(document, ExtractProperty(value.bytes, ref.property, ref.key));
  }
  COFFER_ASSIGN_OR_RETURN(SecretData all, ExtractAll(document, ref.key));
  return FinishKeys(std::move(all), rewrites, ref.conversion_strategy, ref.decoding_strategy);
}

Result<SecretData> ComputeFind(const FindSpec& find, const std::vector<Rewrite>& rewrites,
                               const std::vector<FoundSecret>& found) {
  SecretData raw;
  for (const FoundSecret& f : found) raw[f.name] = f.value.bytes;
  return FinishKeys(std::move(raw), rewrites, find.conversion_strategy, find.decoding_strategy);
}

Result<BuiltData> BuildSecretData(const ExternalSecret& es, const FetchResult& fetched) {
  if (!fetched.error.ok()) return fetched.error;
  BuiltData built;
  const bool skip_missing = es.target.deletion_policy != DeletionPolicy::kRetain;
  // Looks up one read; returns nullptr when it was NotFound and may be skipped.
  auto lookup = [&](const RemoteRef& ref, const std::string& entry) -> Result<const RemoteValue*> {
    auto it = fetched.values.find(FetchKeyOf(ref));
    if (it == fetched.values.end()) {
      return Status::Internal(entry + ": remote key \"" + ref.key + "\" was not fetched");
    }
    const Status& s = it->second.status;
    if (s.code() == StatusCode::kNotFound && skip_missing) {
      built.missing_remote_keys.push_back(ref.key);
      return static_cast<const RemoteValue*>(nullptr);
    }
    if (!s.ok()) return WithEntry(s, entry, ref.key);
    return &it->second.value;
  };
  for (std::size_t i = 0; i < es.data_from.size(); ++i) {
    const DataFromEntry& from = es.data_from[i];
    const std::string entry = "spec.dataFrom[" + std::to_string(i) + "]";
    if (from.kind == DataFromEntry::Kind::kFind) {
      auto it = fetched.found.find(from.find.query);
      if (it == fetched.found.end()) {
        return Status::Internal(entry + ".find: the query was not run");
      }
      if (!it->second.status.ok()) return it->second.status.WithContext(entry + ".find");
      auto keys = ComputeFind(from.find, from.rewrite, it->second.secrets);
      if (!keys.ok()) return keys.status().WithContext(entry + ".find");
      for (auto& [k, v] : *keys) built.data[k] = std::move(v);
      continue;
    }
    const RemoteRef& ref = from.extract;
    COFFER_ASSIGN_OR_RETURN(const RemoteValue* value, lookup(ref, entry));
    if (value == nullptr) continue;
    auto keys = ComputeExtract(ref, *value, from.rewrite);
    if (!keys.ok()) return WithEntry(keys.status(), entry, ref.key);
    for (auto& [k, v] : *keys) built.data[k] = std::move(v);
  }
  for (std::size_t i = 0; i < es.data.size(); ++i) {
    const DataItem& item = es.data[i];
    const std::string entry = "spec.data[" + std::to_string(i) + "]";
    COFFER_ASSIGN_OR_RETURN(const RemoteValue* value, lookup(item.remote_ref, entry));
    if (value == nullptr) {
      built.missing_secret_keys.push_back(item.secret_key);
      continue;
    }
    auto v = ComputeDataValue(item, *value);
    if (!v.ok()) return WithEntry(v.status(), entry, item.remote_ref.key);
    built.data[item.secret_key] = std::move(*v);
  }
  return built;
}

}  // namespace coffer::op
