#include "policy/condition.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <span>
#include <utility>

#include "core/encoding.h"
#include "core/strings.h"
#include "policy/internal/match.h"

namespace coffer::policy {
namespace {

using internal::ToLower;

struct OperatorName {
  std::string_view name;
  ConditionBase base;
};

constexpr std::array<OperatorName, 27> kOperators = {{
    {"StringEquals", ConditionBase::kStringEquals},
    {"StringNotEquals", ConditionBase::kStringNotEquals},
    {"StringEqualsIgnoreCase", ConditionBase::kStringEqualsIgnoreCase},
    {"StringNotEqualsIgnoreCase", ConditionBase::kStringNotEqualsIgnoreCase},
    {"StringLike", ConditionBase::kStringLike},
    {"StringNotLike", ConditionBase::kStringNotLike},
    {"ArnEquals", ConditionBase::kArnEquals},
    {"ArnLike", ConditionBase::kArnLike},
    {"ArnNotEquals", ConditionBase::kArnNotEquals},
    {"ArnNotLike", ConditionBase::kArnNotLike},
    {"IpAddress", ConditionBase::kIpAddress},
    {"NotIpAddress", ConditionBase::kNotIpAddress},
    {"Bool", ConditionBase::kBool},
    {"BinaryEquals", ConditionBase::kBinaryEquals},
    {"DateEquals", ConditionBase::kDateEquals},
    {"DateNotEquals", ConditionBase::kDateNotEquals},
    {"DateLessThan", ConditionBase::kDateLessThan},
    {"DateLessThanEquals", ConditionBase::kDateLessThanEquals},
    {"DateGreaterThan", ConditionBase::kDateGreaterThan},
    {"DateGreaterThanEquals", ConditionBase::kDateGreaterThanEquals},
    {"NumericEquals", ConditionBase::kNumericEquals},
    {"NumericNotEquals", ConditionBase::kNumericNotEquals},
    {"NumericLessThan", ConditionBase::kNumericLessThan},
    {"NumericLessThanEquals", ConditionBase::kNumericLessThanEquals},
    {"NumericGreaterThan", ConditionBase::kNumericGreaterThan},
    {"NumericGreaterThanEquals", ConditionBase::kNumericGreaterThanEquals},
    {"Null", ConditionBase::kNull},
}};

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// ---- IP addresses -------------------------------------------------------------------------------

struct IpAddr {
  int family = 0;  // 4 or 6
  std::array<unsigned char, 16> bytes{};
};

std::optional<IpAddr> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = 4;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = 6;
    // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
      std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
      ip.family = 4;
    }
    return ip;
  }
  return std::nullopt;
}

struct Cidr {
  IpAddr addr;
  int prefix = 0;
};

std::optional<Cidr> ParseCidr(std::string_view text) {
  Cidr cidr;
  const std::size_t slash = text.find('/');
  std::optional<IpAddr> addr = ParseIp(text.substr(0, slash));
  // A mapped IPv6 policy value keeps its IPv6 prefix length; keep it simple and refuse it.
  if (!addr) return std::nullopt;
  cidr.addr = *addr;
  const int max = addr->family == 4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    cidr.prefix = max;
    return cidr;
  }
  const std::string_view bits = text.substr(slash + 1);
  if (!AllDigits(bits) || bits.size() > 3) return std::nullopt;
  int prefix = 0;
  std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (prefix > max) return std::nullopt;
  cidr.prefix = prefix;
  return cidr;
}

bool CidrContains(const Cidr& cidr, const IpAddr& ip) {
  if (cidr.addr.family != ip.family) return false;
  const int full = cidr.prefix / 8;
  if (std::memcmp(cidr.addr.bytes.data(), ip.bytes.data(), full) != 0) return false;
  const int rest = cidr.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (cidr.addr.bytes[full] & mask) == (ip.bytes[full] & mask);
}

// ---- numbers ------------------------------------------------------------------------------------

std::optional<double> ParseNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

bool IsBoolText(std::string_view v) {
  return EqualsIgnoreCase(v, "true") || EqualsIgnoreCase(v, "false");
}

// ---- request values -----------------------------------------------------------------------------

// The request's values for a (lower-cased) key; nullopt when the key is absent. A span into the
// request, or into `scratch` for keys computed from its fields.
std::optional<std::span<const std::string>> LookupKey(const std::string& key,
                                                      const RequestContext& request,
                                                      std::string& scratch) {
  if (key.starts_with("aws:")) {
    bool computed = true;
    if (key == "aws:sourceip") {
      computed = !request.source_ip.empty();
      if (computed) scratch = request.source_ip;
    } else if (key == "aws:currenttime") {
      scratch = FormatIso8601(request.now_ms);
    } else if (key == "aws:epochtime") {
      scratch = std::to_string(request.now_ms / 1000);
    } else if (key == "aws:principalarn") {
      computed = !request.principal_arn.empty();
      if (computed) scratch = request.principal_arn;
    } else if (key == "aws:principalaccount") {
      const std::string_view account = internal::ArnAccount(request.principal_arn);
      computed = !account.empty();
      if (computed) scratch = std::string(account);
    } else if (key == "aws:securetransport") {
      scratch = request.secure_transport ? "true" : "false";
    } else {
      computed = false;
    }
    if (computed) return std::span<const std::string>(&scratch, 1);
  }
  auto it = request.keys.find(key);
  if (it == request.keys.end()) return std::nullopt;
  return std::span<const std::string>(it->second);
}

// Whether `value` (from the request) matches `want` (from the policy) for the positive reading of
// the operator (StringNotEquals compares as StringEquals; the caller negates).
bool Matches(ConditionBase base, std::string_view want, std::string_view value) {
  switch (base) {
    case ConditionBase::kStringEquals:
    case ConditionBase::kStringNotEquals:
    case ConditionBase::kBinaryEquals:
      return want == value;
    case ConditionBase::kStringEqualsIgnoreCase:
    case ConditionBase::kStringNotEqualsIgnoreCase:
    case ConditionBase::kBool:
      return EqualsIgnoreCase(want, value);
    case ConditionBase::kStringLike:
    case ConditionBase::kStringNotLike:
      return internal::WildcardMatch(want, value, /*ignore_case=*/false);
    case ConditionBase::kArnEquals:
    case ConditionBase::kArnLike:
    case ConditionBase::kArnNotEquals:
    case ConditionBase::kArnNotLike:
      return internal::ArnMatch(want, value);
    case ConditionBase::kIpAddress:
    case ConditionBase::kNotIpAddress: {
      const std::optional<Cidr> cidr = ParseCidr(want);
      const std::optional<IpAddr> ip = ParseIp(value);
      return cidr && ip && CidrContains(*cidr, *ip);
    }
    case ConditionBase::kDateEquals:
    case ConditionBase::kDateNotEquals:
    case ConditionBase::kDateLessThan:
    case ConditionBase::kDateLessThanEquals:
    case ConditionBase::kDateGreaterThan:
    case ConditionBase::kDateGreaterThanEquals: {
      const std::optional<std::int64_t> w = ParseConditionDate(want);
      const std::optional<std::int64_t> v = ParseConditionDate(value);
      if (!w || !v) return false;
      switch (base) {
        case ConditionBase::kDateLessThan: return *v < *w;
        case ConditionBase::kDateLessThanEquals: return *v <= *w;
        case ConditionBase::kDateGreaterThan: return *v > *w;
        case ConditionBase::kDateGreaterThanEquals: return *v >= *w;
        default: return *v == *w;
      }
    }
    case ConditionBase::kNumericEquals:
    case ConditionBase::kNumericNotEquals:
    case ConditionBase::kNumericLessThan:
    case ConditionBase::kNumericLessThanEquals:
    case ConditionBase::kNumericGreaterThan:
    case ConditionBase::kNumericGreaterThanEquals: {
      const std::optional<double> w = ParseNumber(want);
      const std::optional<double> v = ParseNumber(value);
      if (!w || !v) return false;
      switch (base) {
        case ConditionBase::kNumericLessThan: return *v < *w;
        case ConditionBase::kNumericLessThanEquals: return *v <= *w;
        case ConditionBase::kNumericGreaterThan: return *v > *w;
        case ConditionBase::kNumericGreaterThanEquals: return *v >= *w;
        default: return *v == *w;
      }
    }
    case ConditionBase::kNull:
      return false;  // handled by the caller
  }
  return false;
}

// Whether one request value satisfies the operator: matches some policy value (positive), or
// none of them (negated).
bool ValueSatisfies(const ConditionOperator& op, const std::vector<std::string>& wants,
                    std::string_view value) {
  bool any = false;
  for (const std::string& want : wants) {
    if (Matches(op.base, want, value)) {
      any = true;
      break;
    }
  }
  return op.negated() ? !any : any;
}

bool Holds(const ConditionOperator& op, const std::string& key_lower,
           const std::vector<std::string>& wants, const RequestContext& request) {
  std::string scratch;
  const std::optional<std::span<const std::string>> values = LookupKey(key_lower, request, scratch);
  const bool present = values.has_value() && !values->empty();

  if (op.base == ConditionBase::kNull) {
    for (const std::string& want : wants) {
      if (EqualsIgnoreCase(want, "true") ? !present : present) return true;
    }
    return false;
  }

  if (!values.has_value()) {
    if (op.if_exists) return true;
    switch (op.set) {
      case SetQualifier::kForAllValues: return true;
      case SetQualifier::kForAnyValue: return false;
      case SetQualifier::kNone: return op.negated();
    }
  }

  switch (op.set) {
    case SetQualifier::kForAnyValue:
      for (const std::string& v : *values) {
        if (ValueSatisfies(op, wants, v)) return true;
      }
      return false;
    case SetQualifier::kForAllValues:
      for (const std::string& v : *values) {
        if (!ValueSatisfies(op, wants, v)) return false;
      }
      return true;
    case SetQualifier::kNone:
      if (op.negated()) {
        for (const std::string& v : *values) {
          if (!ValueSatisfies(op, wants, v)) return false;
        }
        return true;
      }
      for (const std::string& v : *values) {
        if (ValueSatisfies(op, wants, v)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

bool ConditionOperator::negated() const {
  switch (base) {
    case ConditionBase::kStringNotEquals:
    case ConditionBase::kStringNotEqualsIgnoreCase:
    case ConditionBase::kStringNotLike:
    case ConditionBase::kArnNotEquals:
    case ConditionBase::kArnNotLike:
    case ConditionBase::kNotIpAddress:
    case ConditionBase::kDateNotEquals:
    case ConditionBase::kNumericNotEquals:
      return true;
    default:
      return false;
  }
}

int ConditionOperator::Encode() const {
  return static_cast<int>(base) | (static_cast<int>(set) << 8) | ((if_exists ? 1 : 0) << 12);
}

ConditionOperator ConditionOperator::Decode(int code) {
  ConditionOperator op;
  op.base = static_cast<ConditionBase>(code & 0xff);
  op.set = static_cast<SetQualifier>((code >> 8) & 0xf);
  op.if_exists = ((code >> 12) & 1) != 0;
  return op;
}

std::optional<ConditionOperator> ParseConditionOperator(std::string_view op) {
  ConditionOperator parsed;
  if (op.starts_with("ForAnyValue:")) {
    parsed.set = SetQualifier::kForAnyValue;
    op.remove_prefix(std::string_view("ForAnyValue:").size());
  } else if (op.starts_with("ForAllValues:")) {
    parsed.set = SetQualifier::kForAllValues;
    op.remove_prefix(std::string_view("ForAllValues:").size());
  }
  if (op.ends_with("IfExists")) {
    parsed.if_exists = true;
    op.remove_suffix(std::string_view("IfExists").size());
  }
  for (const OperatorName& name : kOperators) {
    if (name.name == op) {
      if (name.base == ConditionBase::kNull && parsed.if_exists) return std::nullopt;
      parsed.base = name.base;
      return parsed;
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckConditionValue(ConditionBase base, std::string_view value) {
  switch (base) {
    case ConditionBase::kIpAddress:
    case ConditionBase::kNotIpAddress:
      if (!ParseCidr(value)) return "is not an IP address or CIDR block";
      return std::nullopt;
    case ConditionBase::kBool:
    case ConditionBase::kNull:
      if (!IsBoolText(value)) return "must be \"true\" or \"false\"";
      return std::nullopt;
    case ConditionBase::kDateEquals:
    case ConditionBase::kDateNotEquals:
    case ConditionBase::kDateLessThan:
    case ConditionBase::kDateLessThanEquals:
    case ConditionBase::kDateGreaterThan:
    case ConditionBase::kDateGreaterThanEquals:
      if (!ParseConditionDate(value)) return "is not an ISO 8601 date or epoch seconds";
      return std::nullopt;
    case ConditionBase::kNumericEquals:
    case ConditionBase::kNumericNotEquals:
    case ConditionBase::kNumericLessThan:
    case ConditionBase::kNumericLessThanEquals:
    case ConditionBase::kNumericGreaterThan:
    case ConditionBase::kNumericGreaterThanEquals:
      if (!ParseNumber(value)) return "is not a number";
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Status CompileCondition(Condition& condition) {
  const std::optional<ConditionOperator> op = ParseConditionOperator(condition.op);
  if (!op) {
    return Status(StatusCode::kMalformedPolicy,
                  "Unknown condition operator " + internal::Quote(condition.op) + ".");
  }
  if (condition.key.empty()) {
    return Status(StatusCode::kMalformedPolicy,
                  "Condition operator " + condition.op + " has an empty condition key.");
  }
  if (condition.values.empty()) {
    return Status(StatusCode::kMalformedPolicy, "Condition " + condition.op + " on " +
                                                    internal::Quote(condition.key) +
                                                    " has no values.");
  }
  for (const std::string& value : condition.values) {
    if (std::optional<std::string> problem = CheckConditionValue(op->base, value)) {
      return Status(StatusCode::kMalformedPolicy,
                    "Condition " + condition.op + " on " + internal::Quote(condition.key) +
                        ": value " + internal::Quote(value) + " " + *problem + ".");
    }
  }
  condition.op_code = op->Encode();
  condition.key_lower = ToLower(condition.key);
  condition.compiled = true;
  return Status::Ok();
}

bool ConditionHolds(const Condition& condition, const RequestContext& request) {
  if (condition.compiled) {
    return Holds(ConditionOperator::Decode(condition.op_code), condition.key_lower,
                 condition.values, request);
  }
  const std::optional<ConditionOperator> op = ParseConditionOperator(condition.op);
  if (!op) return false;  // an unknown operator never holds
  return Holds(*op, ToLower(condition.key), condition.values, request);
}

bool ConditionsHold(const std::vector<Condition>& conditions, const RequestContext& request) {
  for (const Condition& condition : conditions) {
    if (!ConditionHolds(condition, request)) return false;
  }
  return true;
}

std::optional<std::int64_t> ParseConditionDate(std::string_view s) {
  if (AllDigits(s)) {
    if (s.size() > 12) return std::nullopt;
    std::int64_t seconds = 0;
    std::from_chars(s.data(), s.data() + s.size(), seconds);
    return seconds * 1000;
  }
  // YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]]
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !AllDigits(s.substr(0, 4)) ||
      !AllDigits(s.substr(5, 2)) || !AllDigits(s.substr(8, 2))) {
    return std::nullopt;
  }
  std::string amz(s.substr(0, 4));
  amz.append(s.substr(5, 2)).append(s.substr(8, 2)).append("T");
  std::string_view rest = s.substr(10);
  std::int64_t extra_ms = 0;
  if (rest.empty()) {
    amz += "000000Z";
  } else {
    if (rest[0] != 'T' || rest.size() < 6 || rest[3] != ':' || !AllDigits(rest.substr(1, 2)) ||
        !AllDigits(rest.substr(4, 2))) {
      return std::nullopt;
    }
    amz.append(rest.substr(1, 2)).append(rest.substr(4, 2));
    rest.remove_prefix(6);
    if (!rest.empty() && rest[0] == ':') {
      if (rest.size() < 3 || !AllDigits(rest.substr(1, 2))) return std::nullopt;
      amz.append(rest.substr(1, 2));
      rest.remove_prefix(3);
    } else {
      amz += "00";
    }
    amz += 'Z';
    if (!rest.empty() && rest[0] == '.') {
      std::size_t n = 1;
      while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
      if (n == 1) return std::nullopt;
      const std::string_view fraction = rest.substr(1, n - 1);
      std::int64_t scale = 100;
      for (std::size_t i = 0; i < fraction.size() && i < 3; ++i, scale /= 10) {
        extra_ms += (fraction[i] - '0') * scale;
      }
      rest.remove_prefix(n);
    }
    if (rest == "Z" || rest.empty()) {
      // UTC
    } else if (rest[0] == '+' || rest[0] == '-') {
      const int sign = rest[0] == '+' ? 1 : -1;
      std::string_view zone = rest.substr(1);
      std::string_view hh, mm;
      if (zone.size() == 5 && zone[2] == ':') {
        hh = zone.substr(0, 2);
        mm = zone.substr(3, 2);
      } else if (zone.size() == 4) {
        hh = zone.substr(0, 2);
        mm = zone.substr(2, 2);
      } else {
        return std::nullopt;
      }
      if (!AllDigits(hh) || !AllDigits(mm)) return std::nullopt;
      const int offset_minutes = ((hh[0] - '0') * 10 + (hh[1] - '0')) * 60 +
                                 (mm[0] - '0') * 10 + (mm[1] - '0');
      if (offset_minutes > 18 * 60) return std::nullopt;
      // Local time = UTC + offset, so UTC = local - offset.
      extra_ms -= sign * static_cast<std::int64_t>(offset_minutes) * 60'000;
    } else {
      return std::nullopt;
    }
  }
  const std::optional<std::int64_t> base = ParseAmzDate(amz);
  if (!base) return std::nullopt;
  return *base + extra_ms;
}

}  // namespace coffer::policy
