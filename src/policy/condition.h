#pragma once

// Condition operators and their evaluation, as IAM defines them.
//
// Operators: String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike},
// Arn{Equals,Like,NotEquals,NotLike}, IpAddress, NotIpAddress (IPv4 and IPv6 CIDR), Bool,
// BinaryEquals, Date{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}
// (ISO 8601 such as "2024-01-01T00:00:00Z", "2024-01-01", or epoch seconds),
// Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}, Null; each but
// Null may end in "IfExists", and any may start with "ForAnyValue:" or "ForAllValues:".
//
// Semantics (one Condition = one operator and one key):
//  - several policy values: the condition holds if the request value matches any of them (OR);
//    for a negated operator (StringNotEquals, ...) it holds if the value matches none of them;
//  - key absent from the request: negated operators hold, positive ones do not, ...IfExists
//    holds, ForAllValues holds, ForAnyValue does not; Null:"true" holds only when absent;
//  - a multi-valued key (aws:TagKeys) without a set prefix is read as ForAnyValue for positive
//    operators and "no value matches" for negated ones;
//  - ForAnyValue: some request value satisfies the operator; ForAllValues: every one does (an
//    empty set holds).
//  - several Conditions (keys or operators) must all hold (AND).
//
// Keys compare case-insensitively. aws:SourceIp, aws:CurrentTime, aws:EpochTime,
// aws:PrincipalArn, aws:PrincipalAccount and aws:SecureTransport come from RequestContext's
// fields (aws:SourceIp and aws:PrincipalArn are absent when the field is empty); every other key
// is looked up, lower-cased, in RequestContext::keys. Because the whole key is lower-cased, tag
// keys in "secretsmanager:ResourceTag/<k>" and "aws:RequestTag/<k>" match case-insensitively
// (AWS is case-sensitive there for some services); whoever fills `keys` lower-cases the key name.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "policy/policy.h"

namespace coffer::policy {

enum class ConditionBase : std::uint8_t {
  kStringEquals,
  kStringNotEquals,
  kStringEqualsIgnoreCase,
  kStringNotEqualsIgnoreCase,
  kStringLike,
  kStringNotLike,
  kArnEquals,
  kArnLike,
  kArnNotEquals,
  kArnNotLike,
  kIpAddress,
  kNotIpAddress,
  kBool,
  kBinaryEquals,
  kDateEquals,
  kDateNotEquals,
  kDateLessThan,
  kDateLessThanEquals,
  kDateGreaterThan,
  kDateGreaterThanEquals,
  kNumericEquals,
  kNumericNotEquals,
  kNumericLessThan,
  kNumericLessThanEquals,
  kNumericGreaterThan,
  kNumericGreaterThanEquals,
  kNull,
};

enum class SetQualifier : std::uint8_t { kNone, kForAnyValue, kForAllValues };

struct ConditionOperator {
  ConditionBase base = ConditionBase::kStringEquals;
  SetQualifier set = SetQualifier::kNone;
  bool if_exists = false;

  // StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, ArnNotEquals, ArnNotLike,
  // NotIpAddress, DateNotEquals, NumericNotEquals.
  bool negated() const;
  int Encode() const;
  static ConditionOperator Decode(int code);
};

// nullopt for an unknown operator (case-sensitive, as IAM).
std::optional<ConditionOperator> ParseConditionOperator(std::string_view op);

// Checks one policy value for the operator: a CIDR for IpAddress, a date for Date*, a number for
// Numeric*, "true"/"false" for Bool and Null. Returns the problem, or nullopt when fine.
std::optional<std::string> CheckConditionValue(ConditionBase base, std::string_view value);

// Fills `condition`'s compiled fields and checks its values; kMalformedPolicy naming the problem.
Status CompileCondition(Condition& condition);

bool ConditionHolds(const Condition& condition, const RequestContext& request);
bool ConditionsHold(const std::vector<Condition>& conditions, const RequestContext& request);

// Date values: ISO 8601 ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5+02:00", "2024-01-01")
// or epoch seconds ("1704067200"); milliseconds since the epoch.
std::optional<std::int64_t> ParseConditionDate(std::string_view text);

}  // namespace coffer::policy
