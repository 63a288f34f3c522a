#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/policy.h"
#include "policy/test_fixtures.h"

namespace coffer::policy {
namespace {

using test_fixtures::kExternalSecretsPolicy;

TEST(DocumentParseTest, ExternalSecretsPolicy) {
  Result<Document> doc = Document::Parse(kExternalSecretsPolicy, DocumentKind::kIdentity);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->statements().size(), 1u);
  const Statement& s = doc->statements()[0];
  EXPECT_EQ(s.effect, Effect::kAllow);
  EXPECT_FALSE(s.not_action);
  EXPECT_EQ(s.actions.size(), 3u);
  EXPECT_EQ(s.actions[2], "secretsmanager:ListSecrets");
  ASSERT_EQ(s.resources.size(), 1u);
  EXPECT_EQ(s.resources[0], "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/*");
  EXPECT_TRUE(s.principals.empty());
  EXPECT_EQ(doc->kind(), DocumentKind::kIdentity);
  EXPECT_FALSE(doc->AllowsPublicAccess());
}

TEST(DocumentParseTest, FullResourcePolicy) {
  Result<Document> doc = Document::Parse(R"({
    "Version": "2008-10-17", "Id": "p1",
    "Statement": {
      "Sid": "one", "Effect": "Deny",
      "NotPrincipal": {"AWS": ["arn:aws:iam::000000000000:user/a", "000000000000"],
                       "Service": "lambda.amazonaws.com"},
      "NotAction": "secretsmanager:Describe*",
      "NotResource": ["arn:aws:secretsmanager:*:*:secret:x-??????"],
      "Condition": {"StringEquals": {"aws:PrincipalTag/Team": ["a", "b"], "N": 5},
                    "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "env*"},
                    "Bool": {"aws:SecureTransport": false}}
    }})",
                                         DocumentKind::kResource);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->statements().size(), 1u);
  const Statement& s = doc->statements()[0];
  EXPECT_EQ(s.sid, "one");
  EXPECT_EQ(s.effect, Effect::kDeny);
  EXPECT_TRUE(s.not_action);
  EXPECT_TRUE(s.not_resource);
  EXPECT_TRUE(s.not_principal);
  EXPECT_EQ(s.principals, (std::vector<std::string>{"arn:aws:iam::000000000000:user/a",
                                                    "000000000000",
                                                    "Service:lambda.amazonaws.com"}));
  ASSERT_EQ(s.conditions.size(), 4u);
  bool saw_number = false, saw_bool = false;
  for (const Condition& c : s.conditions) {
    EXPECT_TRUE(c.compiled);
    if (c.key == "N") {
      saw_number = true;
      EXPECT_EQ(c.values, std::vector<std::string>{"5"});
    }
    if (c.op == "Bool") {
      saw_bool = true;
      EXPECT_EQ(c.key_lower, "aws:securetransport");
      EXPECT_EQ(c.values, std::vector<std::string>{"false"});
    }
  }
  EXPECT_TRUE(saw_number);
  EXPECT_TRUE(saw_bool);
}

TEST(DocumentParseTest, AcceptsVariants) {
  const std::vector<std::string> identity_ok = {
      R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
      R"({"Statement":[{"Effect":"Allow","Action":"SecretsManager:Get*","Resource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"s3:Get?bject","Resource":"arn:aws:s3:::b/*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},
                       {"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"x:y","Resource":"arn:${aws:username}:::::"}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"x:y","Resource":"*",
          "Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
                       "DateGreaterThan":{"aws:EpochTime":1700000000},
                       "IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32","1.2.3.4"]},
                       "NumericLessThanEquals":{"k":"1.5"},
                       "Null":{"aws:RequestTag/env":"true"}}}]})",
  };
  for (const std::string& json : identity_ok) {
    Result<Document> doc = Document::Parse(json, DocumentKind::kIdentity);
    EXPECT_TRUE(doc.ok()) << json << " -> " << doc.status().ToString();
  }
  const std::vector<std::string> resource_ok = {
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}})",
      R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}})",
      R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"*",
          "Resource":"*"}})",
      R"({"Statement":{"Effect":"Allow","Principal":{"Federated":["cognito-identity.amazonaws.com"]},
          "Action":"*","Resource":"*"}})",
  };
  for (const std::string& json : resource_ok) {
    Result<Document> doc = Document::Parse(json, DocumentKind::kResource);
    EXPECT_TRUE(doc.ok()) << json << " -> " << doc.status().ToString();
  }
}

struct MalformedCase {
  const char* name;
  DocumentKind kind;
  const char* json;
  const char* fragment;  // expected in the message
};

constexpr DocumentKind kId = DocumentKind::kIdentity;
constexpr DocumentKind kRes = DocumentKind::kResource;

const MalformedCase kMalformed[] = {
    {"empty", kId, "", "not valid JSON"},
    {"truncated", kId, R"({"Statement": [)", "not valid JSON"},
    {"trailing garbage", kId, R"({"Statement": []} x)", "not valid JSON"},
    {"array root", kId, "[]", "must be a JSON object"},
    {"string root", kId, R"("policy")", "must be a JSON object"},
    {"bad version", kId,
     R"({"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
     "Version must be \"2012-10-17\" or \"2008-10-17\""},
    {"numeric version", kId,
     R"({"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
     "Version must be"},
    {"id not string", kId,
     R"({"Id":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
     "Id must be a string"},
    {"unknown top-level", kId,
     R"({"Statment":{"Effect":"Allow","Action":"*","Resource":"*"}})",
     "Unknown policy element \"Statment\""},
    {"no statement", kId, R"({"Version":"2012-10-17"})", "has no Statement"},
    {"empty statement array", kId, R"({"Statement":[]})", "Statement must not be empty"},
    {"statement string", kId, R"({"Statement":"Allow"})",
     "Statement must be an object or an array"},
    {"statement element not object", kId,
     R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}, 3]})",
     "Statement 2: a statement must be an object"},
    {"missing effect", kId, R"({"Statement":{"Action":"*","Resource":"*"}})",
     "Statement 1: Effect must be \"Allow\" or \"Deny\"."},
    {"lower-case effect", kId,
     R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
                      {"Effect":"allow","Action":"*","Resource":"*"}]})",
     "Statement 2: Effect must be \"Allow\" or \"Deny\"."},
    {"effect not string", kId, R"({"Statement":{"Effect":true,"Action":"*","Resource":"*"}})",
     "Effect must be"},
    {"unknown statement member", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"*"}})",
     "Statement 1: unknown element \"Actions\""},
    {"no action", kId, R"({"Statement":{"Effect":"Allow","Resource":"*"}})",
     "exactly one of Action or NotAction"},
    {"action and notaction", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","NotAction":"x:y","Resource":"*"}})",
     "exactly one of Action or NotAction"},
    {"action empty array", kId, R"({"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}})",
     "Action must not be empty"},
    {"action number", kId, R"({"Statement":{"Effect":"Allow","Action":5,"Resource":"*"}})",
     "Action must be a string or an array of strings"},
    {"action array with number", kId,
     R"({"Statement":{"Effect":"Allow","Action":["x:y",5],"Resource":"*"}})",
     "Action must be a string or an array of strings"},
    {"action without service", kId,
     R"({"Statement":{"Effect":"Allow","Action":"GetSecretValue","Resource":"*"}})",
     "Action \"GetSecretValue\" must be"},
    {"action bad service", kId,
     R"({"Statement":{"Effect":"Allow","Action":"secrets_manager:Get","Resource":"*"}})",
     "Action \"secrets_manager:Get\""},
    {"action empty name", kId,
     R"({"Statement":{"Effect":"Allow","Action":"secretsmanager:","Resource":"*"}})",
     "Action \"secretsmanager:\""},
    {"notaction bad", kId,
     R"({"Statement":{"Effect":"Allow","NotAction":"a b:c","Resource":"*"}})",
     "NotAction \"a b:c\""},
    {"no resource", kId, R"({"Statement":{"Effect":"Allow","Action":"*"}})",
     "exactly one of Resource or NotResource"},
    {"resource and notresource", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}})",
     "exactly one of Resource or NotResource"},
    {"resource not arn", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"ml-platform/*"}})",
     "Resource \"ml-platform/*\" must be \"*\" or an ARN"},
    {"resource short arn", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::"}})",
     "must be \"*\" or an ARN"},
    {"resource object", kId, R"({"Statement":{"Effect":"Allow","Action":"*","Resource":{}}})",
     "Resource must be a string or an array"},
    {"principal in identity", kId,
     R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}})",
     "Principal is not allowed in an identity-based policy"},
    {"notprincipal in identity", kId,
     R"({"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}})",
     "NotPrincipal is not allowed in an identity-based policy"},
    {"no principal in resource", kRes,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
     "requires Principal or NotPrincipal"},
    {"both principals", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*",
         "Resource":"*"}})",
     "Principal and NotPrincipal cannot both be present"},
    {"principal string not star", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":"alice","Action":"*","Resource":"*"}})",
     "Principal must be \"*\" or an object"},
    {"principal empty object", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}})",
     "Principal must be \"*\" or an object"},
    {"principal unknown type", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":{"User":"x"},"Action":"*","Resource":"*"}})",
     "unknown principal type \"User\""},
    {"principal bad aws", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*","Resource":"*"}})",
     "invalid AWS principal \"alice\""},
    {"principal short account", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"*","Resource":"*"}})",
     "invalid AWS principal \"12345\""},
    {"principal empty list", kRes,
     R"({"Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*","Resource":"*"}})",
     "Principal AWS must not be empty"},
    {"sid not string", kId,
     R"({"Statement":{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}})",
     "Sid must be a string"},
    {"condition not object", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}})",
     "Condition must be an object"},
    {"unknown operator", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"StringEqual":{"k":"v"}}}})",
     "unknown condition operator \"StringEqual\""},
    {"unknown set prefix", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"ForSomeValues:StringEquals":{"k":"v"}}}})",
     "unknown condition operator"},
    {"null ifexists", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"NullIfExists":{"k":"true"}}}})",
     "unknown condition operator \"NullIfExists\""},
    {"operator maps to string", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"StringEquals":"v"}}})",
     "must map condition keys to values"},
    {"condition value object", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"k":{"a":1}}}}})",
     "must be a string, number, boolean or an array of them"},
    {"condition value null", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"k":null}}}})",
     "must be a string, number, boolean"},
    {"condition empty array", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"k":[]}}}})",
     "must be a string, number, boolean"},
    {"bad ip", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}}})",
     "is not an IP address or CIDR block"},
    {"bad prefix", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}})",
     "is not an IP address or CIDR block"},
    {"bad date", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"DateLessThan":{"aws:CurrentTime":"next tuesday"}}}})",
     "is not an ISO 8601 date"},
    {"bad number", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"NumericEquals":{"k":"ten"}}}})",
     "is not a number"},
    {"bad bool", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"Bool":{"aws:SecureTransport":"yes"}}}})",
     "must be \"true\" or \"false\""},
    {"bad null", kId,
     R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*",
         "Condition":{"Null":{"k":1}}}})",
     "must be \"true\" or \"false\""},
    {"second statement names index", kRes,
     R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
                      {"Effect":"Allow","Principal":"*","Action":"*","Resource":"bucket"}]})",
     "Statement 2: Resource \"bucket\""},
};

TEST(DocumentParseTest, RejectsMalformed) {
  for (const MalformedCase& c : kMalformed) {
    Result<Document> doc = Document::Parse(c.json, c.kind);
    ASSERT_FALSE(doc.ok()) << c.name;
    EXPECT_EQ(doc.status().code(), StatusCode::kMalformedPolicy) << c.name;
    EXPECT_NE(doc.status().message().find(c.fragment), std::string::npos)
        << c.name << ": " << doc.status().message();
  }
}

TEST(DocumentParseTest, MessagesQuoteSafely) {
  std::string json = R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"bad\u0001)";
  json += std::string(200, 'x') + R"("}})";
  Result<Document> doc = Document::Parse(json, kId);
  ASSERT_FALSE(doc.ok());
  const std::string& message = doc.status().message();
  EXPECT_NE(message.find("bad\\x01"), std::string::npos) << message;
  EXPECT_NE(message.find("...\""), std::string::npos) << message;
  EXPECT_LT(message.size(), 300u);
  for (char ch : message) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f);
}

struct PublicCase {
  const char* name;
  const char* statement;  // one resource-policy statement
  bool is_public;
};

const PublicCase kPublic[] = {
    {"principal star", R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"})", true},
    {"aws star", R"({"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"})",
     true},
    {"aws star in list",
     R"({"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/a","*"]},
         "Action":"*","Resource":"*"})",
     true},
    {"not principal allow",
     R"({"Effect":"Allow","NotPrincipal":{"AWS":"000000000000"},"Action":"*","Resource":"*"})",
     true},
    {"deny star", R"({"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"})", false},
    {"named user",
     R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/a"},"Action":"*",
         "Resource":"*"})",
     false},
    {"account", R"({"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"*",
                    "Resource":"*"})",
     false},
    {"service", R"({"Effect":"Allow","Principal":{"Service":"*"},"Action":"*","Resource":"*"})",
     false},
    {"narrowed by account",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"aws:PrincipalAccount":"000000000000"}}})",
     false},
    {"narrowed by principal arn",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::000000000000:role/*"}}})",
     false},
    {"narrowed by source ip",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})",
     false},
    {"narrowed by vpc",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1234"}}})",
     false},
    {"wildcard account arn does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}})",
     true},
    {"star value does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"StringLike":{"aws:PrincipalAccount":"*"}}})",
     true},
    {"whole internet does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","0.0.0.0/0"]}}})",
     true},
    {"negated does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})",
     true},
    {"ifexists does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}})",
     true},
    {"unrelated key does not narrow",
     R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
         "Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"ml"}}})",
     true},
};

TEST(DocumentParseTest, AllowsPublicAccess) {
  for (const PublicCase& c : kPublic) {
    const std::string json = std::string(R"({"Version":"2012-10-17","Statement":[)") +
                             c.statement + "]}";
    Result<Document> doc = Document::Parse(json, kRes);
    ASSERT_TRUE(doc.ok()) << c.name << ": " << doc.status().ToString();
    EXPECT_EQ(doc->AllowsPublicAccess(), c.is_public) << c.name;
  }
}

}  // namespace
}  // namespace coffer::policy
