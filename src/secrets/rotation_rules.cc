#include "secrets/rotation_rules.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "secrets/messages.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::int64_t kHourMs = 60LL * 60 * 1000;
constexpr std::int64_t kMinIntervalHours = 4;

Status InvalidSchedule(std::string_view why) {
  return Status::InvalidArgument("Invalid ScheduleExpression: " + std::string(why));
}

bool IsScheduleChar(char c) {
  constexpr std::string_view kExtra = "()#?*-/, ";
  return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string_view::npos;
}

// The interval of "rate(N unit)" in milliseconds, or an error.
Result<std::int64_t> RateIntervalMs(std::string_view body) {
  std::istringstream in{std::string(body)};
  std::string count_text, unit, extra;
  in >> count_text >> unit;
  if (count_text.empty() || unit.empty() || (in >> extra)) {
    return InvalidSchedule("rate() takes a number and a unit.");
  }
  std::int64_t count = 0;
  auto [ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (ec != std::errc() || ptr != count_text.data() + count_text.size() || count <= 0) {
    return InvalidSchedule("rate() needs a positive whole number.");
  }
  std::int64_t hours = 0;
  if (unit == "hour" || unit == "hours") {
    hours = count;
  } else if (unit == "day" || unit == "days") {
    hours = count * 24;
  } else {
    return InvalidSchedule("rate() units are hours or days.");
  }
  if (hours < kMinIntervalHours) {
    return InvalidSchedule("the rotation interval must be at least 4 hours.");
  }
  return hours * kHourMs;
}

Status ValidateCron(std::string_view body) {
  std::istringstream in{std::string(body)};
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 6) return InvalidSchedule("cron() takes 6 fields.");
  return Status::Ok();
}

Status ValidateSchedule(std::string_view expr) {
  COFFER_RETURN_IF_ERROR(CheckLength("rotationRules.scheduleExpression", expr, 1, 256));
  if (!std::all_of(expr.begin(), expr.end(), IsScheduleChar) || !expr.ends_with(')')) {
    return InvalidSchedule("use rate(...) or cron(...).");
  }
  if (expr.starts_with("rate(")) return RateIntervalMs(expr.substr(5, expr.size() - 6)).status();
  if (expr.starts_with("cron(")) return ValidateCron(expr.substr(5, expr.size() - 6));
  return InvalidSchedule("use rate(...) or cron(...).");
}

}  // namespace

Status ValidateRotationRules(const RotationRules& rules) {
  if (rules.automatically_after_days &&
      (*rules.automatically_after_days < 1 || *rules.automatically_after_days > 1000)) {
    return Status::InvalidArgument(std::string(msg::kRotationDaysRange));
  }
  if (rules.automatically_after_days && rules.schedule_expression) {
    return Status::InvalidArgument(
        "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.");
  }
  if (rules.duration) {
    const std::string& d = *rules.duration;
    COFFER_RETURN_IF_ERROR(CheckLength("rotationRules.duration", d, 2, 3));
    const bool digits =
        std::all_of(d.begin(), d.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || d.back() != 'h') {
      return Status::Validation(
          "1 validation error detected: Value at 'rotationRules.duration' failed to satisfy "
          "constraint: Member must satisfy regular expression pattern: [0-9]+h");
    }
  }
  if (rules.schedule_expression)
    COFFER_RETURN_IF_ERROR(ValidateSchedule(*rules.schedule_expression));
  return Status::Ok();
}

Status ValidateExternalRotationMetadata(std::string_view json_array) {
  const auto invalid = [] {
    return Status::InvalidArgument(
        "ExternalSecretRotationMetadata must be a list of {Key, Value} items with a Key of "
        "1-256 and a Value of 1-2048 characters.");
  };
  auto items = nlohmann::json::parse(json_array, nullptr, /*allow_exceptions=*/false);
  if (!items.is_array()) return invalid();
  for (const auto& item : items) {
    if (!item.is_object()) return invalid();
    auto key = item.find("Key");
    auto value = item.find("Value");
    if (key == item.end() || value == item.end() || !key->is_string() || !value->is_string()) {
      return invalid();
    }
    const auto k = key->get<std::string>().size();
    const auto v = value->get<std::string>().size();
    if (k < 1 || k > 256 || v < 1 || v > 2048) return invalid();
  }
  return Status::Ok();
}

std::optional<std::int64_t> NextRotationMs(const RotationRules& rules, std::int64_t now_ms) {
  if (rules.automatically_after_days)
    return now_ms + *rules.automatically_after_days * 24 * kHourMs;
  if (rules.schedule_expression && rules.schedule_expression->starts_with("rate(")) {
    const std::string& e = *rules.schedule_expression;
    auto interval = RateIntervalMs(std::string_view(e).substr(5, e.size() - 6));
    if (interval.ok()) return now_ms + *interval;
  }
  return std::nullopt;
}

}  // namespace coffer::secrets
