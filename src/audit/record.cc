#include "audit/record.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace coffer::audit {
namespace {

using ordered_json = nlohmann::ordered_json;

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  std::uint32_t min;
  std::uint32_t cp;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void AppendKey(std::string& out, std::string_view key) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void AppendStringField(std::string& out, std::string_view key, std::string_view value) {
  AppendKey(out, key);
  AppendJsonString(out, value);
  out.push_back(',');
}

std::string GetString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw std::invalid_argument(std::string(key));
  return it->get<std::string>();
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t len = Utf8SequenceLength(text, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string SerializeBody(const Record& r) {
  std::string out;
  out.reserve(512 + r.user_agent.size() + r.principal_arn.size());
  AppendKey(out, "time");
  out.append(std::to_string(r.time_ms));
  out.push_back(',');
  AppendStringField(out, "event_id", r.event_id);
  AppendStringField(out, "request_id", r.request_id);
  AppendStringField(out, "account_id", r.account_id);
  AppendStringField(out, "region", r.region);
  AppendStringField(out, "principal_arn", r.principal_arn);
  AppendStringField(out, "principal_type", r.principal_type);
  AppendStringField(out, "user_name", r.user_name);
  AppendStringField(out, "access_key_id", r.access_key_id);
  AppendStringField(out, "source_ip", r.source_ip);
  AppendStringField(out, "user_agent", r.user_agent);
  AppendStringField(out, "event_source", r.event_source);
  AppendStringField(out, "event_name", r.event_name);
  AppendKey(out, "read_only");
  out.append(r.read_only ? "true," : "false,");
  AppendKey(out, "resources");
  out.push_back('[');
  for (std::size_t i = 0; i < r.resources.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('{');
    AppendStringField(out, "type", r.resources[i].type);
    AppendStringField(out, "arn", r.resources[i].arn);
    AppendKey(out, "name");
    AppendJsonString(out, r.resources[i].name);
    out.push_back('}');
  }
  out.append("],");
  AppendKey(out, "error_code");
  AppendJsonString(out, r.error_code);
  out.push_back('}');
  return out;
}

std::string ComposeLine(std::uint64_t seq, std::string_view prev_hex, std::string_view body) {
  std::string line;
  line.reserve(96 + body.size());
  line.append("{\"seq\":");
  line.append(std::to_string(seq));
  line.append(",\"prev\":\"");
  line.append(prev_hex);
  line.append("\",");
  line.append(body);
  return line;
}

std::string LineHash(std::string_view line) { return HexEncode(crypto::Sha256(line)); }

bool PeekChainFields(std::string_view line, std::uint64_t* seq, std::string_view* prev) {
  constexpr std::string_view kSeq = "{\"seq\":";
  constexpr std::string_view kPrev = ",\"prev\":\"";
  if (line.substr(0, kSeq.size()) != kSeq) return false;
  const char* begin = line.data() + kSeq.size();
  const char* end = line.data() + line.size();
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return false;
  std::string_view rest(ptr, static_cast<std::size_t>(end - ptr));
  if (rest.substr(0, kPrev.size()) != kPrev) return false;
  rest.remove_prefix(kPrev.size());
  if (rest.size() < 65 || rest[64] != '"') return false;
  *seq = value;
  *prev = rest.substr(0, 64);
  return true;
}

Result<ParsedLine> ParseLine(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::DataLoss("not valid JSON");
  try {
    ParsedLine out;
    const auto& seq = j.at("seq");
    if (!seq.is_number_unsigned()) return Status::DataLoss("seq is not a positive integer");
    out.seq = seq.get<std::uint64_t>();
    out.prev = GetString(j, "prev");
    Record& r = out.record;
    const auto& time = j.at("time");
    if (!time.is_number_integer()) return Status::DataLoss("time is not an integer");
    r.time_ms = time.get<std::int64_t>();
    r.event_id = GetString(j, "event_id");
    r.request_id = GetString(j, "request_id");
    r.account_id = GetString(j, "account_id");
    r.region = GetString(j, "region");
    r.principal_arn = GetString(j, "principal_arn");
    r.principal_type = GetString(j, "principal_type");
    r.user_name = GetString(j, "user_name");
    r.access_key_id = GetString(j, "access_key_id");
    r.source_ip = GetString(j, "source_ip");
    r.user_agent = GetString(j, "user_agent");
    r.event_source = GetString(j, "event_source");
    r.event_name = GetString(j, "event_name");
    const auto& read_only = j.at("read_only");
    if (!read_only.is_boolean()) return Status::DataLoss("read_only is not a boolean");
    r.read_only = read_only.get<bool>();
    const auto& resources = j.at("resources");
    if (!resources.is_array()) return Status::DataLoss("resources is not an array");
    for (const auto& res : resources) {
      if (!res.is_object()) return Status::DataLoss("a resource is not an object");
      r.resources.push_back({GetString(res, "type"), GetString(res, "arn"),
                             GetString(res, "name")});
    }
    r.error_code = GetString(j, "error_code");
    return out;
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("missing or mistyped field ") + e.what());
  }
}

std::string DisplayUserName(const Record& record) {
  if (record.user_name.empty() && record.principal_type == "Root") return "root";
  return record.user_name;
}

std::string CloudTrailEventJson(const Record& r) {
  ordered_json identity = ordered_json::object();
  identity["type"] = r.principal_type.empty() ? "Unknown" : r.principal_type;
  // coffer keeps no separate unique ids: root is identified by its account, others by name.
  std::string principal_id = r.principal_type == "Root" ? r.account_id : r.user_name;
  if (!principal_id.empty()) identity["principalId"] = principal_id;
  if (!r.principal_arn.empty()) identity["arn"] = r.principal_arn;
  if (!r.principal_type.empty()) identity["accountId"] = r.account_id;
  if (!r.access_key_id.empty()) identity["accessKeyId"] = r.access_key_id;
  if (!r.user_name.empty()) identity["userName"] = r.user_name;

  ordered_json event = ordered_json::object();
  event["eventVersion"] = "1.08";
  event["userIdentity"] = std::move(identity);
  event["eventTime"] = FormatIso8601(r.time_ms);
  event["eventSource"] = r.event_source;
  event["eventName"] = r.event_name;
  event["awsRegion"] = r.region;
  event["sourceIPAddress"] = r.source_ip;
  event["userAgent"] = r.user_agent;
  if (!r.error_code.empty()) event["errorCode"] = r.error_code;
  event["requestParameters"] = nullptr;
  event["responseElements"] = nullptr;
  event["requestID"] = r.request_id;
  event["eventID"] = r.event_id;
  event["readOnly"] = r.read_only;
  ordered_json resources = ordered_json::array();
  for (const Resource& res : r.resources) {
    ordered_json item = ordered_json::object();
    item["ARN"] = res.arn.empty() ? res.name : res.arn;
    item["type"] = res.type;
    item["accountId"] = r.account_id;
    resources.push_back(std::move(item));
  }
  event["resources"] = std::move(resources);
  event["eventType"] = "AwsApiCall";
  event["managementEvent"] = true;
  event["recipientAccountId"] = r.account_id;
  event["eventCategory"] = "Management";
  return event.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace coffer::audit
