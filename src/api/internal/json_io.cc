#include "api/internal/json_io.h"

#include <cmath>
#include <limits>
#include <utility>

#include "core/encoding.h"

namespace coffer::api::internal {
namespace {

Status TypeError(const std::string& path, std::string_view expected, const Json& found) {
  std::string m = "Unexpected JSON type for '";
  m += path;
  m += "': expected ";
  m += expected;
  m += ", found ";
  m += found.type_name();
  m += ".";
  return Status(StatusCode::kSerialization, std::move(m));
}

// Value readers: one per wire type. `path` names the value in messages.
Status ReadValue(const Json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) return TypeError(path, "string", v);
  out = v.get_ref<const std::string&>();
  return Status::Ok();
}

Status ReadValue(const Json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) return TypeError(path, "boolean", v);
  out = v.get<bool>();
  return Status::Ok();
}

Status ReadValue(const Json& v, const std::string& path, std::int64_t& out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Status(StatusCode::kSerialization,
                    "Number for '" + path + "' is out of range for a 64-bit integer.");
    }
    out = static_cast<std::int64_t>(u);
    return Status::Ok();
  }
  if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
    return Status::Ok();
  }
  if (v.is_number_float()) {
    // Accept 7.0 for 7, as lenient JSON parsers do; reject fractions and out-of-range values.
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2e18 && d <= 9.2e18) {
      out = static_cast<std::int64_t>(d);
      return Status::Ok();
    }
    return Status(StatusCode::kSerialization,
                  "Number for '" + path + "' must be an integer.");
  }
  return TypeError(path, "integer", v);
}

template <typename T>
Status ReadValue(const Json& v, const std::string& path, std::vector<T>& out);

Status ReadValue(const Json& v, const std::string& path, secrets::Tag& out) {
  if (!v.is_object()) return TypeError(path, "object", v);
  Reader r(v, path + ".");
  r.Get("Key", out.key);
  r.Get("Value", out.value);
  return r.status();
}

Status ReadValue(const Json& v, const std::string& path, secrets::Filter& out) {
  if (!v.is_object()) return TypeError(path, "object", v);
  Reader r(v, path + ".");
  r.Get("Key", out.key);
  r.Get("Values", out.values);
  return r.status();
}

Status ReadValue(const Json& v, const std::string& path, secrets::RotationRules& out) {
  if (!v.is_object()) return TypeError(path, "object", v);
  Reader r(v, path + ".");
  r.Get("AutomaticallyAfterDays", out.automatically_after_days);
  r.Get("Duration", out.duration);
  r.Get("ScheduleExpression", out.schedule_expression);
  return r.status();
}

Status ReadValue(const Json& v, const std::string& path, secrets::ReplicaRegion& out) {
  if (!v.is_object()) return TypeError(path, "object", v);
  Reader r(v, path + ".");
  r.Get("Region", out.region);
  r.Get("KmsKeyId", out.kms_key_id);
  return r.status();
}

template <typename T>
Status ReadValue(const Json& v, const std::string& path, std::vector<T>& out) {
  if (!v.is_array()) return TypeError(path, "list", v);
  out.clear();
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Json& item = v[i];
    std::string item_path = path + "[" + std::to_string(i) + "]";
    if (item.is_null()) {
      return Status(StatusCode::kSerialization, "Null value in list '" + item_path + "'.");
    }
    T value{};
    COFFER_RETURN_IF_ERROR(ReadValue(item, item_path, value));
    out.push_back(std::move(value));
  }
  return Status::Ok();
}

}  // namespace

Result<Json> ParseRequestBody(std::string_view body) {
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Json::object();
  // No exceptions: a parse error yields a `discarded` value. The error text of nlohmann quotes the
  // last token, which may be part of a secret, so only the byte offset is reported.
  Json doc = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status(StatusCode::kSerialization, "The request body is not valid JSON.");
  }
  if (!doc.is_object()) {
    return Status(StatusCode::kSerialization,
                  std::string("The request body must be a JSON object, found ") +
                      doc.type_name() + ".");
  }
  return doc;
}

Reader::Reader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

std::string Reader::PathOf(std::string_view name) const {
  std::string p = path_;
  p += name;
  return p;
}

const Json* Reader::Find(std::string_view name) const {
  if (!status_.ok() || !object_.is_object()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

template <typename T>
void Reader::GetOptional(std::string_view name, std::optional<T>& out) {
  const Json* v = Find(name);
  if (v == nullptr) return;
  T value{};
  status_ = ReadValue(*v, PathOf(name), value);
  if (status_.ok()) out = std::move(value);
}

void Reader::Get(std::string_view name, std::string& out) {
  if (const Json* v = Find(name)) status_ = ReadValue(*v, PathOf(name), out);
}
void Reader::Get(std::string_view name, std::vector<std::string>& out) {
  if (const Json* v = Find(name)) status_ = ReadValue(*v, PathOf(name), out);
}
void Reader::Get(std::string_view name, std::vector<secrets::Tag>& out) {
  if (const Json* v = Find(name)) status_ = ReadValue(*v, PathOf(name), out);
}
void Reader::Get(std::string_view name, std::optional<std::string>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<std::int64_t>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<bool>& out) { GetOptional(name, out); }
void Reader::Get(std::string_view name, std::optional<std::vector<std::string>>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<std::vector<secrets::Tag>>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<std::vector<secrets::Filter>>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<secrets::RotationRules>& out) {
  GetOptional(name, out);
}
void Reader::Get(std::string_view name, std::optional<std::vector<secrets::ReplicaRegion>>& out) {
  GetOptional(name, out);
}

void Reader::GetSecretValue(secrets::SecretValue& out) {
  Get("SecretString", out.string);
  std::optional<std::string> b64;
  Get("SecretBinary", b64);
  if (!status_.ok() || !b64.has_value()) return;
  std::optional<std::string> bytes = Base64Decode(*b64);
  if (!bytes.has_value()) {
    // Never quote the value: it is the secret.
    status_ = Status(StatusCode::kSerialization,
                     "Invalid value for '" + PathOf("SecretBinary") +
                         "': expected base64 (standard alphabet, padded).");
    return;
  }
  out.binary = std::move(*bytes);
}

void Reader::GetKeyValueListJson(std::string_view name, std::optional<std::string>& out) {
  const Json* v = Find(name);
  if (v == nullptr) return;
  std::vector<secrets::Tag> items;  // same {Key, Value} shape as a tag
  status_ = ReadValue(*v, PathOf(name), items);
  if (!status_.ok()) return;
  Json list = Json::array();
  for (const auto& item : items) list.push_back({{"Key", item.key}, {"Value", item.value}});
  // Strings came out of the parser, so they are valid UTF-8 and dump() cannot throw.
  out = list.dump();
}

// ---- writing

Json Timestamp(std::int64_t millis) {
  // ms / 1000.0 is correctly rounded, and nlohmann prints the shortest text that reads back as
  // the same double, which for millisecond values is "<seconds>.<fraction>" with no exponent.
  return Json(static_cast<double>(millis) / 1000.0);
}

void Put(Json& out, const char* name, const std::string& value) { out[name] = value; }
void Put(Json& out, const char* name, const std::optional<std::string>& value) {
  if (value.has_value()) out[name] = *value;
}
void Put(Json& out, const char* name, const std::optional<std::int64_t>& value) {
  if (value.has_value()) out[name] = *value;
}
void Put(Json& out, const char* name, const std::optional<bool>& value) {
  if (value.has_value()) out[name] = *value;
}
void PutNonEmpty(Json& out, const char* name, const std::vector<std::string>& value) {
  if (!value.empty()) out[name] = value;
}
void Put(Json& out, const char* name, const std::optional<std::vector<std::string>>& value) {
  if (value.has_value()) out[name] = *value;
}
void PutTimestamp(Json& out, const char* name, const std::optional<std::int64_t>& millis) {
  if (millis.has_value()) out[name] = Timestamp(*millis);
}
void Put(Json& out, const char* name, const std::optional<std::vector<secrets::Tag>>& value) {
  if (value.has_value()) out[name] = TagList(*value);
}

Json TagList(const std::vector<secrets::Tag>& tags) {
  Json list = Json::array();
  for (const auto& t : tags) list.push_back({{"Key", t.key}, {"Value", t.value}});
  return list;
}

Json FilterList(const std::vector<secrets::Filter>& filters) {
  Json list = Json::array();
  for (const auto& f : filters) list.push_back({{"Key", f.key}, {"Values", f.values}});
  return list;
}

Json RotationRulesJson(const secrets::RotationRules& rules) {
  Json o = Json::object();
  Put(o, "AutomaticallyAfterDays", rules.automatically_after_days);
  Put(o, "Duration", rules.duration);
  Put(o, "ScheduleExpression", rules.schedule_expression);
  return o;
}

void PutSecretValue(Json& out, const secrets::SecretValue& value) {
  if (value.string.has_value()) out["SecretString"] = *value.string;
  if (value.binary.has_value()) out["SecretBinary"] = Base64Encode(*value.binary);
}

void PutRawJson(Json& out, const char* name, const std::optional<std::string>& json_text) {
  if (!json_text.has_value()) return;
  Json v = Json::parse(*json_text, nullptr, /*allow_exceptions=*/false);
  if (!v.is_discarded()) out[name] = std::move(v);
}

Result<std::string> Serialize(const Json& value) {
  try {
    return value.dump();
  } catch (const Json::exception&) {
    return Status::Internal("response holds a string that is not valid UTF-8");
  }
}

}  // namespace coffer::api::internal
