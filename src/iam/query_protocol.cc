#include "iam/query_protocol.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/strings.h"

namespace coffer::iam {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Malformed(std::string message) {
  return Status(StatusCode::kSerialization, std::move(message));
}

Status NullValue(std::string_view member) {
  return Status::Validation("1 validation error detected: Value null at '" + std::string(member) +
                            "' failed to satisfy constraint: Member must not be null");
}

// "<prefix>N" or "<prefix>N.<rest>": N, or 0 if `name` is not of that shape.
int MemberIndex(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return 0;
  std::string_view rest = name.substr(prefix.size());
  std::size_t end = rest.find('.');
  std::string_view digits = rest.substr(0, end);
  if (digits.empty() || digits.size() > 4 || digits[0] == '0') return 0;
  int n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return 0;
  return n;
}

}  // namespace

// --- FormParams ---

std::optional<std::string> FormParams::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> FormParams::Required(std::string_view name, std::string_view member) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return NullValue(member);
  return it->second;
}

Result<bool> FormParams::Bool(std::string_view name, bool fallback) const {
  std::optional<std::string> v = Get(name);
  if (!v.has_value()) return fallback;
  if (EqualsIgnoreCase(*v, "true")) return true;
  if (EqualsIgnoreCase(*v, "false")) return false;
  return Status::Validation("Invalid value for parameter " + std::string(name) +
                            ": expected true or false");
}

Result<std::optional<std::int64_t>> FormParams::Int(std::string_view name, std::string_view member,
                                                    std::int64_t min, std::int64_t max) const {
  std::optional<std::string> v = Get(name);
  if (!v.has_value()) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || ptr != v->data() + v->size()) {
    return Status::Validation("Invalid value for parameter " + std::string(name) +
                              ": expected an integer");
  }
  if (n < min) {
    return Status::Validation("1 validation error detected: Value '" + *v + "' at '" +
                              std::string(member) +
                              "' failed to satisfy constraint: Member must have value greater "
                              "than or equal to " +
                              std::to_string(min));
  }
  if (n > max) {
    return Status::Validation("1 validation error detected: Value '" + *v + "' at '" +
                              std::string(member) +
                              "' failed to satisfy constraint: Member must have value less "
                              "than or equal to " +
                              std::to_string(max));
  }
  return std::optional<std::int64_t>(n);
}

Result<int> FormParams::CountMembers(std::string_view name) const {
  const std::string prefix = std::string(name) + ".member.";
  std::set<int> seen;
  for (auto it = values_.lower_bound(prefix);
       it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    int index = MemberIndex(it->first, prefix);
    if (index == 0) {
      return Status::Validation("Invalid list member parameter " + it->first);
    }
    seen.insert(index);
  }
  // Contiguous from 1: the largest index equals the count.
  if (!seen.empty() && *seen.rbegin() != static_cast<int>(seen.size())) {
    return Status::Validation("List parameter " + std::string(name) +
                              " must be numbered from 1 without gaps");
  }
  return static_cast<int>(seen.size());
}

Result<std::vector<std::string>> FormParams::StringList(std::string_view name) const {
  COFFER_ASSIGN_OR_RETURN(int count, CountMembers(name));
  std::vector<std::string> out;
  out.reserve(count);
  for (int i = 1; i <= count; ++i) {
    std::string key = std::string(name) + ".member." + std::to_string(i);
    auto it = values_.find(key);
    if (it == values_.end()) {
      return Status::Validation("Invalid list member parameters under " + key);
    }
    out.push_back(it->second);
  }
  return out;
}

Result<std::vector<std::map<std::string, std::string>>> FormParams::StructList(
    std::string_view name, const std::vector<std::string>& fields) const {
  COFFER_ASSIGN_OR_RETURN(int count, CountMembers(name));
  std::vector<std::map<std::string, std::string>> out;
  for (int i = 1; i <= count; ++i) {
    const std::string prefix = std::string(name) + ".member." + std::to_string(i) + ".";
    std::map<std::string, std::string> item;
    for (auto it = values_.lower_bound(prefix);
         it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      std::string field = it->first.substr(prefix.size());
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        return Status::Validation("Unknown list member parameter " + it->first);
      }
      item[field] = it->second;
    }
    if (item.empty()) return Status::Validation("Invalid list member parameter " + prefix);
    out.push_back(std::move(item));
  }
  return out;
}

// --- decoding ---

std::optional<std::string> FormUrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong lead (C0/C1) or past F4
    }
    if (i + extra >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                                // surrogate
    if (cp > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

Result<FormParams> ParseForm(std::string_view body, const FormLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return Status(StatusCode::kPayloadTooLarge,
                  "Request body is larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  std::map<std::string, std::string> values;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view pair = body.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::optional<std::string> name = FormUrlDecode(pair.substr(0, eq));
    std::optional<std::string> value =
        FormUrlDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name.has_value() || !value.has_value()) {
      return Malformed("The request body has a malformed percent-encoding");
    }
    if (name->empty()) return Malformed("The request body has a parameter without a name");
    if (!IsValidUtf8(*name) || !IsValidUtf8(*value)) {
      return Malformed("Parameter names and values must be UTF-8");
    }
    if (values.size() >= limits.max_params) {
      return Malformed("The request has more than " + std::to_string(limits.max_params) +
                       " parameters");
    }
    // The name goes into the message: names are protocol words, never payload values.
    std::string name_for_message = name->size() > 64 ? name->substr(0, 64) + "..." : *name;
    if (!values.emplace(std::move(*name), std::move(*value)).second) {
      return Malformed("The parameter " + name_for_message + " appears more than once");
    }
  }
  return FormParams(std::move(values));
}

std::string UrlEncodePolicy(std::string_view document) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(document.size() * 3 / 2);
  for (char ch : document) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

// --- XML ---

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#xD;";
        break;
      case '\t':
      case '\n':
        out.push_back(ch);
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 has no way to carry these
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

XmlWriter::XmlWriter(std::string_view root, std::string_view xmlns) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += root;
  out_ += " xmlns=\"";
  out_ += XmlEscape(xmlns);
  out_ += "\">";
  open_.emplace_back(root);
}

XmlWriter& XmlWriter::Open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::Close() {
  if (open_.empty()) return *this;
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  out_ += XmlEscape(text);
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::int64_t value) {
  return Element(name, std::to_string(value));
}

XmlWriter& XmlWriter::Bool(std::string_view name, bool value) {
  return Element(name, value ? "true" : "false");
}

std::string XmlWriter::Finish() {
  while (!open_.empty()) Close();
  return std::move(out_);
}

// --- errors ---

QueryError ErrorFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return {404, "NoSuchEntity", true};
    case StatusCode::kAlreadyExists:
      return {409, "EntityAlreadyExists", true};
    case StatusCode::kFailedPrecondition:
      return {409, "DeleteConflict", true};
    case StatusCode::kResourceExhausted:
      return {409, "LimitExceeded", true};
    case StatusCode::kMalformedPolicy:
      return {400, "MalformedPolicyDocument", true};
    case StatusCode::kValidation:
      return {400, "ValidationError", true};
    case StatusCode::kInvalidArgument:
      return {400, "InvalidInput", true};
    case StatusCode::kAborted:
      return {409, "ConcurrentModification", true};
    case StatusCode::kPermissionDenied:
      return {403, "AccessDenied", true};
    case StatusCode::kUnknownOperation:
      return {400, "InvalidAction", true};
    case StatusCode::kSerialization:
      return {400, "InvalidQueryParameter", true};
    case StatusCode::kPayloadTooLarge:
      return {413, "RequestEntityTooLarge", true};
    case StatusCode::kThrottled:
      return {400, "Throttling", true};
    case StatusCode::kUnauthenticated:
      return {403, "InvalidClientTokenId", true};
    case StatusCode::kInvalidSignature:
      return {403, "SignatureDoesNotMatch", true};
    case StatusCode::kIncompleteSignature:
      return {400, "IncompleteSignature", true};
    case StatusCode::kMissingAuthToken:
      return {403, "MissingAuthenticationToken", true};
    case StatusCode::kUnavailable:
      return {503, "ServiceUnavailable", false};
    default:
      return {500, "ServiceFailure", false};
  }
}

std::string ErrorXml(const QueryError& error, std::string_view message,
                     std::string_view request_id) {
  XmlWriter xml("ErrorResponse", kXmlNamespace);
  xml.Open("Error")
      .Element("Type", error.sender_fault ? "Sender" : "Receiver")
      .Element("Code", error.code)
      .Element("Message", message)
      .Close();
  xml.Element("RequestId", request_id);
  return xml.Finish();
}

}  // namespace coffer::iam
