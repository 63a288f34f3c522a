#include "policy/condition.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/internal/match.h"

namespace coffer::policy {
namespace {

constexpr std::int64_t kNow = 1717200000000;  // 2024-06-01T00:00:00Z

RequestContext BaseRequest() {
  RequestContext r;
  r.action = "secretsmanager:GetSecretValue";
  r.resource = "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/db-AbCdEf";
  r.principal_arn = "arn:aws:iam::000000000000:user/alice";
  r.account_id = "000000000000";
  r.source_ip = "10.1.2.3";
  r.now_ms = kNow;
  r.secure_transport = true;
  r.keys["secretsmanager:resourcetag/team"] = {"ml"};
  r.keys["secretsmanager:name"] = {"ml-platform/mlflow/database"};
  r.keys["aws:tagkeys"] = {"env", "team"};
  r.keys["aws:requesttag/env"] = {"prod"};
  r.keys["n"] = {"10"};
  r.keys["bin"] = {"AQID"};
  r.keys["empty"] = {};
  return r;
}

struct Case {
  const char* op;
  const char* key;
  std::vector<std::string> values;
  bool expected;
};

const Case kCases[] = {
    // String operators; several values are OR.
    {"StringEquals", "secretsmanager:ResourceTag/team", {"ml"}, true},
    {"StringEquals", "secretsmanager:resourcetag/TEAM", {"ML"}, false},
    {"StringEquals", "secretsmanager:ResourceTag/team", {"data", "ml"}, true},
    {"StringEquals", "secretsmanager:ResourceTag/owner", {"ml"}, false},  // absent
    {"StringNotEquals", "secretsmanager:ResourceTag/team", {"ml"}, false},
    {"StringNotEquals", "secretsmanager:ResourceTag/team", {"data", "ml"}, false},
    {"StringNotEquals", "secretsmanager:ResourceTag/team", {"data", "web"}, true},
    {"StringNotEquals", "secretsmanager:ResourceTag/owner", {"ml"}, true},  // absent: negated true
    {"StringEqualsIgnoreCase", "secretsmanager:ResourceTag/team", {"ML"}, true},
    {"StringNotEqualsIgnoreCase", "secretsmanager:ResourceTag/team", {"Ml"}, false},
    {"StringNotEqualsIgnoreCase", "secretsmanager:ResourceTag/team", {"web"}, true},
    {"StringLike", "secretsmanager:Name", {"ml-platform/*"}, true},
    {"StringLike", "secretsmanager:Name", {"ML-platform/*"}, false},  // case-sensitive
    {"StringLike", "secretsmanager:Name", {"ml-platform/mlflow/databas?"}, true},
    {"StringLike", "secretsmanager:Name", {"web/*", "*/database"}, true},
    {"StringNotLike", "secretsmanager:Name", {"ml-platform/*"}, false},
    {"StringNotLike", "secretsmanager:Name", {"web/*"}, true},
    {"StringNotLike", "secretsmanager:Missing", {"web/*"}, true},
    {"StringLike", "secretsmanager:Missing", {"*"}, false},
    // IfExists.
    {"StringEqualsIfExists", "secretsmanager:ResourceTag/owner", {"x"}, true},
    {"StringEqualsIfExists", "secretsmanager:ResourceTag/team", {"x"}, false},
    {"StringEqualsIfExists", "secretsmanager:ResourceTag/team", {"ml"}, true},
    {"StringLikeIfExists", "aws:SourceVpc", {"vpc-*"}, true},
    {"NumericLessThanIfExists", "missing", {"5"}, true},
    {"DateGreaterThanIfExists", "missing", {"2024-01-01"}, true},
    // Request-context fields.
    {"StringEquals", "aws:PrincipalArn", {"arn:aws:iam::000000000000:user/alice"}, true},
    {"StringEquals", "aws:PrincipalAccount", {"000000000000"}, true},
    {"StringEquals", "aws:PrincipalAccount", {"111111111111"}, false},
    {"ArnEquals", "aws:PrincipalArn", {"arn:aws:iam::000000000000:user/alice"}, true},
    {"ArnLike", "aws:PrincipalArn", {"arn:aws:iam::*:user/*"}, true},
    {"ArnLike", "aws:PrincipalArn", {"arn:aws:iam::000000000000:role/*"}, false},
    {"ArnLike", "aws:PrincipalArn", {"arn:aws:*:*:*:user/al?ce"}, true},
    // A '*' in one ARN field does not reach into the next one.
    {"ArnLike", "aws:PrincipalArn", {"arn:aws:iam:*:user/alice"}, false},
    {"ArnNotEquals", "aws:PrincipalArn", {"arn:aws:iam::000000000000:user/bob"}, true},
    {"ArnNotLike", "aws:PrincipalArn", {"arn:aws:iam::000000000000:user/*"}, false},
    {"ArnNotLike", "aws:PrincipalArn", {"arn:aws:iam::111111111111:*"}, true},
    {"ArnLike", "secretsmanager:Name", {"*"}, false},  // not an ARN
    {"ArnLike", "aws:PrincipalArn", {"*"}, true},
    {"IpAddress", "aws:SourceIp", {"10.0.0.0/8"}, true},
    {"IpAddress", "aws:SourceIp", {"10.1.2.3"}, true},
    {"IpAddress", "aws:SourceIp", {"10.1.2.3/32"}, true},
    {"IpAddress", "aws:SourceIp", {"10.1.2.0/25"}, true},
    {"IpAddress", "aws:SourceIp", {"10.1.2.128/25"}, false},
    {"IpAddress", "aws:SourceIp", {"192.168.0.0/16", "10.1.0.0/16"}, true},
    {"IpAddress", "aws:SourceIp", {"192.168.0.0/16"}, false},
    {"IpAddress", "aws:SourceIp", {"0.0.0.0/0"}, true},
    {"IpAddress", "aws:SourceIp", {"::/0"}, false},  // family mismatch
    {"NotIpAddress", "aws:SourceIp", {"10.0.0.0/8"}, false},
    {"NotIpAddress", "aws:SourceIp", {"192.168.0.0/16"}, true},
    {"Bool", "aws:SecureTransport", {"true"}, true},
    {"Bool", "aws:SecureTransport", {"false"}, false},
    {"Bool", "aws:SecureTransport", {"TRUE"}, true},
    {"Bool", "aws:MultiFactorAuthPresent", {"true"}, false},
    {"BoolIfExists", "aws:MultiFactorAuthPresent", {"false"}, true},
    {"BinaryEquals", "bin", {"AQID"}, true},
    {"BinaryEquals", "bin", {"AQIE"}, false},
    // Dates: aws:CurrentTime is 2024-06-01T00:00:00Z.
    {"DateEquals", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, true},
    {"DateEquals", "aws:CurrentTime", {"2024-06-01"}, true},
    {"DateEquals", "aws:CurrentTime", {"1717200000"}, true},
    {"DateEquals", "aws:CurrentTime", {"2024-06-01T02:00:00+02:00"}, true},
    {"DateNotEquals", "aws:CurrentTime", {"2024-06-01T00:00:01Z"}, true},
    {"DateNotEquals", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, false},
    {"DateLessThan", "aws:CurrentTime", {"2030-01-01T00:00:00Z"}, true},
    {"DateLessThan", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, false},
    {"DateLessThan", "aws:CurrentTime", {"2020-01-01T00:00:00Z"}, false},
    {"DateLessThanEquals", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, true},
    {"DateGreaterThan", "aws:CurrentTime", {"2024-05-31T23:59:59.999Z"}, true},
    {"DateGreaterThan", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, false},
    {"DateGreaterThanEquals", "aws:CurrentTime", {"2024-06-01T00:00:00Z"}, true},
    {"DateGreaterThanEquals", "aws:CurrentTime", {"2024-06-01T00:00:00.001Z"}, false},
    {"DateGreaterThan", "aws:EpochTime", {"1717199999"}, true},
    {"DateLessThan", "aws:EpochTime", {"2024-06-01T00:00:01Z"}, true},
    {"DateLessThan", "missing", {"2030-01-01"}, false},
    // Numbers.
    {"NumericEquals", "n", {"10"}, true},
    {"NumericEquals", "n", {"10.0"}, true},
    {"NumericEquals", "n", {"11"}, false},
    {"NumericNotEquals", "n", {"11"}, true},
    {"NumericNotEquals", "n", {"10"}, false},
    {"NumericNotEquals", "missing", {"10"}, true},
    {"NumericLessThan", "n", {"10.5"}, true},
    {"NumericLessThan", "n", {"10"}, false},
    {"NumericLessThanEquals", "n", {"10"}, true},
    {"NumericGreaterThan", "n", {"9"}, true},
    {"NumericGreaterThan", "n", {"10"}, false},
    {"NumericGreaterThanEquals", "n", {"10"}, true},
    {"NumericGreaterThanEquals", "n", {"-3", "11"}, true},  // OR
    {"NumericEquals", "secretsmanager:Name", {"10"}, false},  // not a number
    // Null.
    {"Null", "aws:RequestTag/owner", {"true"}, true},
    {"Null", "aws:RequestTag/env", {"true"}, false},
    {"Null", "aws:RequestTag/env", {"false"}, true},
    {"Null", "aws:RequestTag/owner", {"false"}, false},
    {"Null", "empty", {"true"}, true},
    {"Null", "aws:SourceIp", {"false"}, true},
    // Set operators over aws:TagKeys = {env, team}.
    {"ForAnyValue:StringEquals", "aws:TagKeys", {"team"}, true},
    {"ForAnyValue:StringEquals", "aws:TagKeys", {"owner"}, false},
    {"ForAnyValue:StringLike", "aws:TagKeys", {"t*"}, true},
    {"ForAllValues:StringEquals", "aws:TagKeys", {"env", "team", "owner"}, true},
    {"ForAllValues:StringEquals", "aws:TagKeys", {"env"}, false},
    {"ForAllValues:StringLike", "aws:TagKeys", {"*e*"}, true},
    {"ForAllValues:StringEquals", "aws:RequestTagKeys", {"env"}, true},  // absent: true
    {"ForAllValues:StringEquals", "empty", {"env"}, true},              // empty set: true
    {"ForAnyValue:StringEquals", "aws:RequestTagKeys", {"env"}, false},  // absent: false
    {"ForAnyValue:StringEquals", "empty", {"env"}, false},
    {"ForAnyValue:StringEqualsIfExists", "aws:RequestTagKeys", {"env"}, true},
    {"ForAnyValue:StringNotEquals", "aws:TagKeys", {"env"}, true},  // "team" is not env
    {"ForAnyValue:StringNotEquals", "aws:TagKeys", {"env", "team"}, false},
    {"ForAllValues:StringNotEquals", "aws:TagKeys", {"owner"}, true},
    {"ForAllValues:StringNotEquals", "aws:TagKeys", {"env"}, false},
    // A multi-valued key without a set prefix: any value for positive, none for negated.
    {"StringEquals", "aws:TagKeys", {"team"}, true},
    {"StringNotEquals", "aws:TagKeys", {"team"}, false},
    {"StringNotEquals", "aws:TagKeys", {"owner"}, true},
    // Keys are case-insensitive.
    {"StringEquals", "AWS:REQUESTTAG/ENV", {"prod"}, true},
    {"StringEquals", "SecretsManager:Name", {"ml-platform/mlflow/database"}, true},
    // Policy variables are plain text.
    {"StringEquals", "secretsmanager:Name", {"${aws:username}"}, false},
    {"StringLike", "secretsmanager:Name", {"${*"}, false},
};

TEST(ConditionTest, Table) {
  const RequestContext request = BaseRequest();
  for (const Case& c : kCases) {
    Condition condition;
    condition.op = c.op;
    condition.key = c.key;
    condition.values = c.values;
    // Hand-built (compiled on use) and compiled must agree.
    EXPECT_EQ(ConditionHolds(condition, request), c.expected)
        << "uncompiled " << c.op << " " << c.key << " " << c.values[0];
    ASSERT_TRUE(CompileCondition(condition).ok()) << c.op << " " << c.values[0];
    EXPECT_TRUE(condition.compiled);
    EXPECT_EQ(ConditionHolds(condition, request), c.expected)
        << c.op << " " << c.key << " " << c.values[0];
  }
}

TEST(ConditionTest, ContextFieldsAbsentWhenEmpty) {
  RequestContext request;
  Condition ip{"NotIpAddress", "aws:SourceIp", {"10.0.0.0/8"}};
  EXPECT_TRUE(ConditionHolds(ip, request));  // absent, negated
  ip.op = "IpAddress";
  EXPECT_FALSE(ConditionHolds(ip, request));
  ip.op = "IpAddressIfExists";
  EXPECT_TRUE(ConditionHolds(ip, request));
  Condition arn{"ArnLike", "aws:PrincipalArn", {"*"}};
  EXPECT_FALSE(ConditionHolds(arn, request));
  Condition secure{"Bool", "aws:SecureTransport", {"false"}};
  EXPECT_TRUE(ConditionHolds(secure, request));
}

TEST(ConditionTest, Ipv6AndMappedAddresses) {
  RequestContext request;
  request.source_ip = "2001:db8::1";
  Condition c{"IpAddress", "aws:SourceIp", {"2001:db8::/32"}};
  EXPECT_TRUE(ConditionHolds(c, request));
  c.values = {"2001:db9::/32"};
  EXPECT_FALSE(ConditionHolds(c, request));
  c.values = {"10.0.0.0/8"};
  EXPECT_FALSE(ConditionHolds(c, request));
  request.source_ip = "::ffff:10.9.8.7";  // IPv4-mapped: compared as IPv4
  EXPECT_TRUE(ConditionHolds(c, request));
  request.source_ip = "not an ip";
  EXPECT_FALSE(ConditionHolds(c, request));
  c.op = "NotIpAddress";
  EXPECT_TRUE(ConditionHolds(c, request));
}

TEST(ConditionTest, AllConditionsMustHold) {
  const RequestContext request = BaseRequest();
  std::vector<Condition> conditions = {
      {"StringEquals", "secretsmanager:ResourceTag/team", {"ml"}},
      {"IpAddress", "aws:SourceIp", {"10.0.0.0/8"}},
  };
  EXPECT_TRUE(ConditionsHold(conditions, request));
  conditions.push_back({"Bool", "aws:SecureTransport", {"false"}});
  EXPECT_FALSE(ConditionsHold(conditions, request));
  EXPECT_TRUE(ConditionsHold({}, request));
}

TEST(ConditionTest, UnknownOperatorNeverHolds) {
  Condition c{"StringEqual", "k", {"v"}};
  EXPECT_FALSE(ConditionHolds(c, BaseRequest()));
  Status s = CompileCondition(c);
  EXPECT_EQ(s.code(), StatusCode::kMalformedPolicy);
  EXPECT_NE(s.message().find("StringEqual"), std::string::npos);
}

TEST(ConditionTest, ParseOperator) {
  auto op = ParseConditionOperator("ForAllValues:StringNotLikeIfExists");
  ASSERT_TRUE(op.has_value());
  EXPECT_EQ(op->base, ConditionBase::kStringNotLike);
  EXPECT_EQ(op->set, SetQualifier::kForAllValues);
  EXPECT_TRUE(op->if_exists);
  EXPECT_TRUE(op->negated());
  const ConditionOperator round = ConditionOperator::Decode(op->Encode());
  EXPECT_EQ(round.base, op->base);
  EXPECT_EQ(round.set, op->set);
  EXPECT_EQ(round.if_exists, op->if_exists);
  EXPECT_FALSE(ParseConditionOperator("stringequals").has_value());  // case-sensitive
  EXPECT_FALSE(ParseConditionOperator("ForAnyValue:").has_value());
  EXPECT_FALSE(ParseConditionOperator("IfExists").has_value());
  EXPECT_FALSE(ParseConditionOperator("NullIfExists").has_value());
  EXPECT_TRUE(ParseConditionOperator("ForAnyValue:Null").has_value());
}

TEST(ConditionTest, ParseDate) {
  EXPECT_EQ(ParseConditionDate("2024-06-01T00:00:00Z"), kNow);
  EXPECT_EQ(ParseConditionDate("2024-06-01"), kNow);
  EXPECT_EQ(ParseConditionDate("2024-06-01T00:00Z"), kNow);
  EXPECT_EQ(ParseConditionDate("2024-06-01T00:00:00"), kNow);
  EXPECT_EQ(ParseConditionDate("2024-06-01T00:00:00.250Z"), kNow + 250);
  EXPECT_EQ(ParseConditionDate("2024-06-01T00:00:00.2Z"), kNow + 200);
  EXPECT_EQ(ParseConditionDate("2024-05-31T19:00:00-05:00"), kNow);
  EXPECT_EQ(ParseConditionDate("2024-06-01T05:30:00+0530"), kNow);
  EXPECT_EQ(ParseConditionDate("1717200000"), kNow);
  EXPECT_EQ(ParseConditionDate("0"), 0);
  for (const char* bad : {"", "2024-06", "2024-13-01", "2024-06-01T25:00:00Z", "2024-06-01X",
                          "2024-06-01T00:00:00.Z", "2024-06-01T00:00:00+99:00", "12345678901234",
                          "2024-06-01T00:00:00ZZ", "-5", "1e9"}) {
    EXPECT_FALSE(ParseConditionDate(bad).has_value()) << bad;
  }
}

TEST(MatchTest, Wildcards) {
  using internal::WildcardMatch;
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_TRUE(WildcardMatch("", "", false));
  EXPECT_FALSE(WildcardMatch("", "a", false));
  EXPECT_TRUE(WildcardMatch("secretsmanager:Get*", "secretsmanager:GetSecretValue", false));
  EXPECT_TRUE(WildcardMatch("SECRETSMANAGER:get*", "secretsmanager:GetSecretValue", true));
  EXPECT_FALSE(WildcardMatch("SECRETSMANAGER:get*", "secretsmanager:GetSecretValue", false));
  EXPECT_TRUE(WildcardMatch("a*b*c", "aXXbYYc", false));
  EXPECT_FALSE(WildcardMatch("a*b*c", "aXXbYY", false));
  EXPECT_TRUE(WildcardMatch("a?c", "abc", false));
  EXPECT_FALSE(WildcardMatch("a?c", "ac", false));
  EXPECT_TRUE(WildcardMatch("arn:aws:*:secret:x", "arn:aws:sm:us-east-1:1:secret:x", false));
  EXPECT_TRUE(WildcardMatch("**a", "bbba", false));
  EXPECT_FALSE(WildcardMatch("*a*a*a*a*a*b", std::string(2000, 'a'), false));
}

}  // namespace
}  // namespace coffer::policy
