#include "iam/validate.h"

#include <cctype>
#include <set>

#include "core/strings.h"
#include "iam/iam_service.h"

namespace coffer::iam {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
         c == ',' || c == '.' || c == '@' || c == '-';
}

Status PatternError(std::string_view value, std::string_view member, std::string_view pattern) {
  return Status::Validation("1 validation error detected: Value '" + std::string(value) + "' at '" +
                            std::string(member) +
                            "' failed to satisfy constraint: Member must satisfy regular "
                            "expression pattern: " +
                            std::string(pattern));
}

Status LengthError(std::string_view value, std::string_view member, std::size_t min,
                   std::size_t max) {
  if (value.size() < min) {
    return Status::Validation("1 validation error detected: Value '" + std::string(value) +
                              "' at '" + std::string(member) +
                              "' failed to satisfy constraint: Member must have length greater "
                              "than or equal to " +
                              std::to_string(min));
  }
  return Status::Validation("1 validation error detected: Value at '" + std::string(member) +
                            "' failed to satisfy constraint: Member must have length less than "
                            "or equal to " +
                            std::to_string(max));
}

Status ValidateName(std::string_view name, std::string_view member, std::size_t max) {
  if (name.empty() || name.size() > max) return LengthError(name, member, 1, max);
  for (char c : name) {
    if (!IsNameChar(c)) return PatternError(name, member, "[\\w+=,.@-]+");
  }
  return Status::Ok();
}

// Number of UTF-8 code points (the input is valid UTF-8: the form parser checked).
std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// [\p{L}\p{Z}\p{N}_.:/=+\-@]: ASCII letters, digits, space and the punctuation listed; any
// non-ASCII character is let through (letters, numbers and spaces of other scripts).
bool IsTagChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  return std::isalnum(u) || c == ' ' || c == '_' || c == '.' || c == ':' || c == '/' || c == '=' ||
         c == '+' || c == '-' || c == '@';
}

Status ValidateTagKey(std::string_view key) {
  if (key.empty() || CodePoints(key) > 128) return LengthError(key, "tags.member.key", 1, 128);
  for (char c : key) {
    if (!IsTagChar(c))
      return PatternError(key, "tags.member.key", "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateUserName(std::string_view name, std::string_view member) {
  return ValidateName(name, member, 64);
}

Status ValidateExistingUserName(std::string_view name, std::string_view member) {
  return ValidateName(name, member, 128);
}

Status ValidatePolicyName(std::string_view name, std::string_view member) {
  return ValidateName(name, member, 128);
}

Status ValidatePath(std::string_view path) {
  if (path.empty() || path.size() > 512) return LengthError(path, "path", 1, 512);
  bool ok = path == "/" || (path.size() >= 3 && path.front() == '/' && path.back() == '/');
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7F) ok = false;
  }
  if (!ok) return PatternError(path, "path", "(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)");
  return Status::Ok();
}

Status ValidatePolicyPath(std::string_view path) {
  if (path.empty() || path.size() > 512) return LengthError(path, "path", 1, 512);
  bool ok = path.front() == '/' && path.back() == '/' && path.find("//") == std::string_view::npos;
  for (char c : path) {
    if (c != '/' && !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ',' ||
                      c == '+' || c == '@' || c == '=' || c == '_' || c == '-')) {
      ok = false;
    }
  }
  if (!ok) return PatternError(path, "path", "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
  return Status::Ok();
}

Status ValidatePathPrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 512) return LengthError(prefix, "pathPrefix", 1, 512);
  bool ok = prefix.front() == '/';
  for (char c : prefix) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7F) ok = false;
  }
  if (!ok) return PatternError(prefix, "pathPrefix", "\\u002F[\\u0021-\\u007F]*");
  return Status::Ok();
}

Status ValidatePolicyDocumentText(std::string_view document) {
  if (document.empty() || CodePoints(document) > 131072) {
    return LengthError(document, "policyDocument", 1, 131072);
  }
  for (std::size_t i = 0; i < document.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(document[i]);
    bool ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x80);
    // U+0080..U+00FF are two bytes, C2 or C3 then a continuation byte.
    if ((c == 0xC2 || c == 0xC3) && i + 1 < document.size()) {
      ok = true;
      ++i;
    }
    if (!ok) {
      return Status::Validation(
          "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: "
          "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
    }
  }
  return Status::Ok();
}

Status ValidateDescription(std::string_view description) {
  if (CodePoints(description) > 1000) return LengthError(description, "description", 0, 1000);
  return Status::Ok();
}

Status ValidatePolicyArn(std::string_view arn) {
  const std::string_view prefix = "arn:aws:iam::";
  bool ok = arn.size() >= 20 && arn.size() <= 2048 && arn.substr(0, prefix.size()) == prefix;
  if (ok) {
    std::string_view rest = arn.substr(prefix.size());
    std::size_t colon = rest.find(':');
    std::string_view account = rest.substr(0, colon);
    bool account_ok =
        account == "aws" ||
        (account.size() == 12 && account.find_first_not_of("0123456789") == std::string_view::npos);
    ok = colon != std::string_view::npos && account_ok && rest.substr(colon + 1, 7) == "policy/" &&
         rest.back() != '/';
  }
  if (!ok) return Status::InvalidArgument("ARN " + std::string(arn) + " is not valid.");
  return Status::Ok();
}

Status ValidateVersionId(std::string_view version_id) {
  bool ok = version_id.size() >= 2 && version_id.size() <= 20 && version_id[0] == 'v' &&
            version_id[1] >= '1' && version_id[1] <= '9' &&
            version_id.find_first_not_of("0123456789", 1) == std::string_view::npos;
  if (!ok) return PatternError(version_id, "versionId", "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");
  return Status::Ok();
}

Status ValidateAccessKeyId(std::string_view id) {
  if (id.size() < 16 || id.size() > 128) return LengthError(id, "accessKeyId", 16, 128);
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return PatternError(id, "accessKeyId", "[\\w]+");
    }
  }
  return Status::Ok();
}

Status ValidateTags(const std::vector<Tag>& tags) {
  if (tags.size() > kMaxTags) {
    return Status::ResourceExhausted("Cannot exceed quota for TagsPerUser: " +
                                     std::to_string(kMaxTags));
  }
  std::set<std::string> keys;
  for (const Tag& t : tags) {
    COFFER_RETURN_IF_ERROR(ValidateTagKey(t.key));
    if (CodePoints(t.value) > 256) return LengthError(t.value, "tags.member.value", 0, 256);
    for (char c : t.value) {
      if (!IsTagChar(c)) {
        return PatternError(t.value, "tags.member.value", "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
      }
    }
    // Tag keys are case-insensitive in IAM.
    std::string lower = UserKey(t.key);
    if (!keys.insert(lower).second) {
      return Status::InvalidArgument(
          "Duplicate tag keys found. Please note that Tag keys are "
          "case insensitive.");
    }
  }
  return Status::Ok();
}

Status ValidateTagKeys(const std::vector<std::string>& keys) {
  if (keys.size() > kMaxTags) {
    return Status::Validation(
        "1 validation error detected: Value at 'tagKeys' failed to "
        "satisfy constraint: Member must have length less than or equal "
        "to 50");
  }
  for (const std::string& k : keys) COFFER_RETURN_IF_ERROR(ValidateTagKey(k));
  return Status::Ok();
}

std::size_t PolicyChars(std::string_view document) {
  std::size_t n = 0;
  for (char c : document) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') ++n;
  }
  return n;
}

bool SameName(std::string_view a, std::string_view b) { return EqualsIgnoreCase(a, b); }

}  // namespace coffer::iam
