#include "secrets/validate.h"

#include <algorithm>
#include <set>

#include "secrets/messages.h"

namespace coffer::secrets {
namespace {

std::string ValidationPrefix(std::string_view member) {
  return "1 validation error detected: Value at '" + std::string(member) +
         "' failed to satisfy constraint: ";
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Filter values: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$
bool IsValidFilterValue(std::string_view v) {
  constexpr std::string_view kExtra = " :_@/+=.-!";
  return std::all_of(v.begin(), v.end(), [&](char c) {
    return IsAsciiAlnum(c) || kExtra.find(c) != std::string_view::npos;
  });
}

bool IsValidFilterKey(std::string_view key) {
  static const std::set<std::string_view> kKeys = {
      "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"};
  return kKeys.count(key) != 0;
}

}  // namespace

Status CheckLength(std::string_view member, std::string_view value, std::size_t min,
                   std::size_t max) {
  if (value.size() < min) {
    return Status::Validation(ValidationPrefix(member) +
                              "Member must have length greater than or equal to " +
                              std::to_string(min));
  }
  if (value.size() > max) {
    return Status::Validation(ValidationPrefix(member) +
                              "Member must have length less than or equal to " +
                              std::to_string(max));
  }
  return Status::Ok();
}

Status CheckLength(std::string_view member, const std::string& value, std::size_t min,
                   std::size_t max) {
  return CheckLength(member, std::string_view(value), min, max);
}

Status CheckLength(std::string_view member, const std::optional<std::string>& value,
                   std::size_t min, std::size_t max) {
  return value ? CheckLength(member, *value, min, max) : Status::Ok();
}

Status CheckRange(std::string_view member, std::int64_t value, std::int64_t min, std::int64_t max) {
  if (value < min) {
    return Status::Validation(ValidationPrefix(member) +
                              "Member must have value greater than or equal to " +
                              std::to_string(min));
  }
  if (value > max) {
    return Status::Validation(ValidationPrefix(member) +
                              "Member must have value less than or equal to " +
                              std::to_string(max));
  }
  return Status::Ok();
}

Status CheckRange(std::string_view member, const std::optional<std::int64_t>& value,
                  std::int64_t min, std::int64_t max) {
  return value ? CheckRange(member, *value, min, max) : Status::Ok();
}

bool IsValidNameChars(std::string_view name) {
  constexpr std::string_view kExtra = "/_+=.@-";
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return IsAsciiAlnum(c) || kExtra.find(c) != std::string_view::npos;
  });
}

Status ValidateName(std::string_view name) {
  COFFER_RETURN_IF_ERROR(CheckLength("name", name, 1, 512));
  if (!IsValidNameChars(name)) return Status::Validation(std::string(msg::kInvalidName));
  return Status::Ok();
}

Status ValidateSecretId(std::string_view id) {
  COFFER_RETURN_IF_ERROR(CheckLength("secretId", id, 1, 2048));
  if (id.starts_with("arn:")) return Status::Ok();
  if (!IsValidNameChars(id)) return Status::Validation(std::string(msg::kInvalidName));
  return Status::Ok();
}

Status ValidateVersionId(std::string_view member, const std::optional<std::string>& id) {
  return CheckLength(member, id, 32, 64);
}

bool HasValue(const SecretValue& value) {
  return value.string.has_value() || value.binary.has_value();
}

Status ValidateValue(const SecretValue& value, std::int64_t max_bytes) {
  if (value.string && value.binary) return Status::InvalidArgument(std::string(msg::kBothValues));
  const auto max = static_cast<std::size_t>(max_bytes);
  for (const auto& [member, v] :
       {std::pair{"SecretString", &value.string}, std::pair{"SecretBinary", &value.binary}}) {
    if (!v->has_value()) continue;
    if ((*v)->empty()) {
      return Status::InvalidArgument(std::string(member) + " must not be empty.");
    }
    if ((*v)->size() > max) {
      return Status::InvalidArgument(std::string(member) + " exceeds the maximum size of " +
                                     std::to_string(max) + " bytes.");
    }
  }
  return Status::Ok();
}

Status RequireTokenWithValue(const SecretValue& value, const std::optional<std::string>& token) {
  if (HasValue(value) && !token)
    return Status::FailedPrecondition(std::string(msg::kTokenRequired));
  return Status::Ok();
}

Status ValidateTags(const std::vector<Tag>& tags, int max_tags) {
  std::set<std::string_view> keys;
  for (const Tag& tag : tags) {
    COFFER_RETURN_IF_ERROR(CheckLength("tags.member.key", tag.key, 1, 128));
    COFFER_RETURN_IF_ERROR(CheckLength("tags.member.value", tag.value, 0, 256));
    keys.insert(tag.key);
  }
  if (keys.size() > static_cast<std::size_t>(max_tags)) {
    return Status::InvalidArgument("A secret can have at most " + std::to_string(max_tags) +
                                   " tags.");
  }
  return Status::Ok();
}

Status ValidateStages(const std::vector<std::string>& stages, int max_labels) {
  if (stages.empty() || stages.size() > static_cast<std::size_t>(max_labels)) {
    return Status::Validation(ValidationPrefix("versionStages") +
                              "Member must have length between 1 and " +
                              std::to_string(max_labels));
  }
  for (const auto& stage : stages) {
    COFFER_RETURN_IF_ERROR(CheckLength("versionStages.member", stage, 1, 256));
  }
  return Status::Ok();
}

Status ValidateFilters(const std::vector<Filter>& filters) {
  if (filters.size() > 10) {
    return Status::Validation(ValidationPrefix("filters") +
                              "Member must have length less than or equal to 10");
  }
  for (const Filter& f : filters) {
    if (!IsValidFilterKey(f.key)) {
      return Status::Validation(
          ValidationPrefix("filters.member.key") +
          "Member must satisfy enum value set: [description, name, tag-key, tag-value, "
          "primary-region, owning-service, all]");
    }
    if (f.values.empty() || f.values.size() > 10) {
      return Status::Validation(ValidationPrefix("filters.member.values") +
                                "Member must have length between 1 and 10");
    }
    for (const auto& v : f.values) {
      COFFER_RETURN_IF_ERROR(CheckLength("filters.member.values.member", v, 0, 512));
      if (!IsValidFilterValue(v)) {
        return Status::Validation(ValidationPrefix("filters.member.values.member") +
                                  "Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 "
                                  ":_@\\/\\+\\=\\.\\-\\!]*$");
      }
    }
  }
  return Status::Ok();
}

}  // namespace coffer::secrets
