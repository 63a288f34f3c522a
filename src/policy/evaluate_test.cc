#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policy/policy.h"
#include "policy/test_fixtures.h"

namespace coffer::policy {
namespace {

using test_fixtures::kAlice;
using test_fixtures::kBob;
using test_fixtures::kExternalSecretsPolicy;
using test_fixtures::kMlDb;
using test_fixtures::kRoot;
using test_fixtures::kWebDb;

Document Identity(const std::string& json) {
  Result<Document> doc = Document::Parse(json, DocumentKind::kIdentity);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *std::move(doc) : Document();
}

Document ResourcePolicy(const std::string& json) {
  Result<Document> doc = Document::Parse(json, DocumentKind::kResource);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return doc.ok() ? *std::move(doc) : Document();
}

// {"Version":..., "Statement":[<statements>]}
std::string Policy(const std::string& statements) {
  return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}";
}

RequestContext Request(const std::string& action, const std::string& resource,
                       const std::string& principal = kAlice) {
  RequestContext r;
  r.action = action;
  r.resource = resource;
  r.principal_arn = principal;
  r.account_id = "000000000000";
  r.source_ip = "10.1.2.3";
  r.now_ms = 1717200000000;
  return r;
}

Decision Decide(const RequestContext& request, const std::vector<const Document*>& identity,
                const Document* resource = nullptr, bool is_root = false) {
  return Evaluate(request, identity, resource, is_root).decision;
}

TEST(EvaluateTest, ExternalSecretsPolicy) {
  const Document policy = Identity(kExternalSecretsPolicy);
  struct Case {
    const char* action;
    const char* resource;
    Decision expected;
  };
  const Case cases[] = {
      {"secretsmanager:GetSecretValue", kMlDb, Decision::kAllow},
      {"secretsmanager:DescribeSecret", kMlDb, Decision::kAllow},
      {"secretsmanager:ListSecrets",
       "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/x-123456",
       Decision::kAllow},
      {"secretsmanager:GetSecretValue", kWebDb, Decision::kImplicitDeny},
      {"secretsmanager:DescribeSecret", kWebDb, Decision::kImplicitDeny},
      {"secretsmanager:PutSecretValue", kMlDb, Decision::kImplicitDeny},
      {"secretsmanager:DeleteSecret", kMlDb, Decision::kImplicitDeny},
      // Another region or account is another resource.
      {"secretsmanager:GetSecretValue",
       "arn:aws:secretsmanager:eu-west-1:000000000000:secret:ml-platform/mlflow/database-AbCdEf",
       Decision::kImplicitDeny},
      // ListSecrets is account-level (Resource "*" in the request); a policy scoped to
      // ml-platform/* does not cover it, exactly as in AWS.
      {"secretsmanager:ListSecrets", "*", Decision::kImplicitDeny},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Decide(Request(c.action, c.resource), {&policy}), c.expected)
        << c.action << " " << c.resource;
  }
  const RequestContext put = Request("secretsmanager:PutSecretValue", kMlDb);
  EXPECT_EQ(DenialMessage(put, Evaluate(put, {&policy}, nullptr, false)),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:PutSecretValue on resource: " +
                std::string(kMlDb) +
                " because no identity-based policy allows the secretsmanager:PutSecretValue "
                "action");
}

TEST(EvaluateTest, EveryActionAgainstAllowDenyAndNoMatch) {
  const char* actions[] = {
      "BatchGetSecretValue", "CancelRotateSecret",     "CreateSecret",
      "DeleteResourcePolicy", "DeleteSecret",          "DescribeSecret",
      "GetRandomPassword",   "GetResourcePolicy",      "GetSecretValue",
      "ListSecretVersionIds", "ListSecrets",           "PutResourcePolicy",
      "PutSecretValue",      "RemoveRegionsFromReplication", "ReplicateSecretToRegions",
      "RestoreSecret",       "RotateSecret",           "StopReplicationToReplica",
      "TagResource",         "UntagResource",          "UpdateSecret",
      "UpdateSecretVersionStage", "ValidateResourcePolicy"};
  const Document allow = Identity(Policy(
      R"({"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"})"));
  const Document deny = Identity(Policy(
      R"({"Effect":"Allow","Action":"*","Resource":"*"},
         {"Effect":"Deny","Action":"secretsmanager:*","Resource":"*"})"));
  const Document no_match = Identity(Policy(
      R"({"Effect":"Allow","Action":"iam:*","Resource":"*"},
         {"Effect":"Deny","Action":"secretsmanager:Nothing","Resource":"*"})"));
  for (const char* name : actions) {
    const std::string action = std::string("secretsmanager:") + name;
    for (const char* resource : {kMlDb, "*"}) {
      const RequestContext r = Request(action, resource);
      EXPECT_EQ(Decide(r, {&allow}), Decision::kAllow) << action;
      EXPECT_EQ(Decide(r, {&deny}), Decision::kExplicitDeny) << action;
      EXPECT_EQ(Decide(r, {&no_match}), Decision::kImplicitDeny) << action;
      EXPECT_EQ(Decide(r, {}), Decision::kImplicitDeny) << action;
      // The same policies as a resource policy naming the caller.
      const Document res_allow = ResourcePolicy(Policy(
          R"({"Effect":"Allow","Principal":{"AWS":")" + std::string(kAlice) +
          R"("},"Action":"secretsmanager:*","Resource":"*"})"));
      const Document res_deny = ResourcePolicy(Policy(
          R"({"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"})"));
      EXPECT_EQ(Decide(r, {}, &res_allow), Decision::kAllow) << action;
      EXPECT_EQ(Decide(r, {&allow}, &res_deny), Decision::kExplicitDeny) << action;
    }
  }
}

TEST(EvaluateTest, ActionsCaseInsensitiveResourcesCaseSensitive) {
  const Document policy = Identity(Policy(
      R"({"Effect":"Allow","Action":"SecretsManager:getsecret*",
          "Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/*"})"));
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb), {&policy}), Decision::kAllow);
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue",
                           "arn:aws:secretsmanager:us-east-1:000000000000:secret:ML-platform/x"),
                   {&policy}),
            Decision::kImplicitDeny);
  const Document q = Identity(Policy(
      R"({"Effect":"Allow","Action":"secretsmanager:?etSecretValue",
          "Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:web/db-??????"})"));
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kWebDb), {&q}), Decision::kAllow);
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", std::string(kWebDb) + "7"), {&q}),
            Decision::kImplicitDeny);
}

TEST(EvaluateTest, DenyBeatsAllowAcrossIdentityAndResource) {
  const Document allow_all = Identity(Policy(R"({"Effect":"Allow","Action":"*","Resource":"*"})"));
  const Document identity_deny = Identity(Policy(
      R"({"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":")" +
      std::string(kMlDb) + R"("})"));
  const Document resource_allow = ResourcePolicy(Policy(
      R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"})"));
  const Document resource_deny_alice = ResourcePolicy(Policy(
      R"({"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
         {"Effect":"Deny","Principal":{"AWS":")" + std::string(kAlice) +
      R"("},"Action":"secretsmanager:Get*","Resource":"*"})"));

  const RequestContext get = Request("secretsmanager:GetSecretValue", kMlDb);
  Evaluation e = Evaluate(get, {&allow_all, &identity_deny}, &resource_allow, false);
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_FALSE(e.denied_by_resource_policy);
  EXPECT_EQ(DenialMessage(get, e),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: " +
                std::string(kMlDb) + " with an explicit deny in an identity-based policy");

  e = Evaluate(get, {&allow_all}, &resource_deny_alice, false);
  EXPECT_EQ(e.decision, Decision::kExplicitDeny);
  EXPECT_TRUE(e.denied_by_resource_policy);
  EXPECT_EQ(DenialMessage(get, e),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: " +
                std::string(kMlDb) + " with an explicit deny in a resource-based policy");

  // Bob is not named by the Deny, and the resource policy's "*" Allow grants him.
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb, kBob), {}, &resource_deny_alice),
            Decision::kAllow);
  // Root is allowed without policies but not past an explicit Deny in the resource policy.
  EXPECT_EQ(Decide(Request("secretsmanager:DeleteSecret", kMlDb, kRoot), {}, nullptr, true),
            Decision::kAllow);
  const Document deny_everyone = ResourcePolicy(Policy(
      R"({"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"})"));
  EXPECT_EQ(Decide(Request("secretsmanager:DeleteSecret", kMlDb, kRoot), {}, &deny_everyone, true),
            Decision::kExplicitDeny);
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb, kRoot), {}, &deny_everyone, true),
            Decision::kAllow);
}

TEST(EvaluateTest, ResourcePolicyPrincipals) {
  struct Case {
    const char* name;
    std::string statement;
    const char* caller;
    Decision expected;
  };
  const std::string tail = R"(,"Action":"secretsmanager:GetSecretValue","Resource":"*"})";
  const Case cases[] = {
      {"allow exact arn", R"({"Effect":"Allow","Principal":{"AWS":")" + std::string(kAlice) +
                              R"("})" + tail,
       kAlice, Decision::kAllow},
      {"allow exact arn, other user", R"({"Effect":"Allow","Principal":{"AWS":")" +
                                          std::string(kAlice) + R"("})" + tail,
       kBob, Decision::kImplicitDeny},
      {"allow star", R"({"Effect":"Allow","Principal":"*")" + tail, kBob, Decision::kAllow},
      {"allow aws star", R"({"Effect":"Allow","Principal":{"AWS":"*"})" + tail, kBob,
       Decision::kAllow},
      // An account principal delegates to the account's IAM policies: it grants nothing itself.
      {"allow account id", R"({"Effect":"Allow","Principal":{"AWS":"000000000000"})" + tail,
       kAlice, Decision::kImplicitDeny},
      {"allow account root arn", R"({"Effect":"Allow","Principal":{"AWS":")" +
                                     std::string(kRoot) + R"("})" + tail,
       kAlice, Decision::kImplicitDeny},
      {"allow other account", R"({"Effect":"Allow","Principal":{"AWS":"111111111111"})" + tail,
       kAlice, Decision::kImplicitDeny},
      // For Deny an account principal covers every caller of the account.
      {"deny account id", R"({"Effect":"Deny","Principal":{"AWS":"000000000000"})" + tail,
       kAlice, Decision::kExplicitDeny},
      {"deny account root arn", R"({"Effect":"Deny","Principal":{"AWS":")" + std::string(kRoot) +
                                    R"("})" + tail,
       kAlice, Decision::kExplicitDeny},
      {"deny other account", R"({"Effect":"Deny","Principal":{"AWS":"111111111111"})" + tail,
       kAlice, Decision::kImplicitDeny},
      {"deny other user", R"({"Effect":"Deny","Principal":{"AWS":")" + std::string(kBob) +
                              R"("})" + tail,
       kAlice, Decision::kImplicitDeny},
      {"service principal", R"({"Effect":"Allow","Principal":{"Service":"*"})" + tail, kAlice,
       Decision::kImplicitDeny},
      // NotPrincipal: everyone except those listed.
      {"deny notprincipal listed", R"({"Effect":"Deny","NotPrincipal":{"AWS":")" +
                                       std::string(kAlice) + R"("})" + tail,
       kAlice, Decision::kImplicitDeny},
      {"deny notprincipal unlisted", R"({"Effect":"Deny","NotPrincipal":{"AWS":")" +
                                         std::string(kAlice) + R"("})" + tail,
       kBob, Decision::kExplicitDeny},
      {"deny notprincipal account does not exempt users",
       R"({"Effect":"Deny","NotPrincipal":{"AWS":"000000000000"})" + tail, kBob,
       Decision::kExplicitDeny},
      {"allow notprincipal unlisted", R"({"Effect":"Allow","NotPrincipal":{"AWS":")" +
                                          std::string(kAlice) + R"("})" + tail,
       kBob, Decision::kAllow},
  };
  for (const Case& c : cases) {
    const Document policy = ResourcePolicy(Policy(c.statement));
    EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb, c.caller), {}, &policy),
              c.expected)
        << c.name;
  }
  // The root user of the account named by an Allow is granted (and allowed anyway).
  const Document account = ResourcePolicy(Policy(
      R"({"Effect":"Allow","Principal":{"AWS":"000000000000"})" + tail));
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb, kRoot), {}, &account),
            Decision::kAllow);
  // With an identity policy, the account-delegating resource policy adds nothing but blocks
  // nothing.
  const Document identity = Identity(Policy(
      R"({"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"})"));
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb), {&identity}, &account),
            Decision::kAllow);
}

TEST(EvaluateTest, NotActionAndNotResource) {
  const Document policy = Identity(Policy(
      R"({"Effect":"Allow","NotAction":["secretsmanager:Delete*","secretsmanager:Put*"],
          "Resource":"*"},
         {"Effect":"Deny","Action":"secretsmanager:*",
          "NotResource":"arn:aws:secretsmanager:*:000000000000:secret:ml-platform/*"})"));
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kMlDb), {&policy}), Decision::kAllow);
  EXPECT_EQ(Decide(Request("secretsmanager:UpdateSecret", kMlDb), {&policy}), Decision::kAllow);
  EXPECT_EQ(Decide(Request("secretsmanager:DeleteSecret", kMlDb), {&policy}),
            Decision::kImplicitDeny);
  EXPECT_EQ(Decide(Request("secretsmanager:PutSecretValue", kMlDb), {&policy}),
            Decision::kImplicitDeny);
  EXPECT_EQ(Decide(Request("secretsmanager:GetSecretValue", kWebDb), {&policy}),
            Decision::kExplicitDeny);
  // NotResource "ml-platform/*" does not match "*" either, so the account-level call is denied.
  EXPECT_EQ(Decide(Request("secretsmanager:ListSecrets", "*"), {&policy}),
            Decision::kExplicitDeny);
  EXPECT_EQ(Decide(Request("iam:ListUsers", "*"), {&policy}), Decision::kAllow);
}

TEST(EvaluateTest, ConditionsGateStatements) {
  const Document policy = Identity(Policy(
      R"({"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*",
          "Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"ml"},
                       "IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
         {"Effect":"Deny","Action":"*","Resource":"*",
          "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}})"));
  RequestContext r = Request("secretsmanager:GetSecretValue", kMlDb);
  EXPECT_EQ(Decide(r, {&policy}), Decision::kImplicitDeny);  // no tag
  r.keys["secretsmanager:resourcetag/team"] = {"ml"};
  EXPECT_EQ(Decide(r, {&policy}), Decision::kAllow);
  r.source_ip = "192.168.1.1";
  EXPECT_EQ(Decide(r, {&policy}), Decision::kImplicitDeny);
  r.source_ip = "10.0.0.1";
  r.now_ms = 1767225600000;  // 2026-01-01
  EXPECT_EQ(Decide(r, {&policy}), Decision::kExplicitDeny);
}

TEST(EvaluateTest, EvaluatePrincipal) {
  PrincipalPolicies principal;
  principal.documents = {nullptr, std::make_shared<const Document>(Identity(Policy(
                                      R"({"Effect":"Allow","Action":"x:*","Resource":"*"})")))};
  EXPECT_EQ(EvaluatePrincipal(Request("x:y", "*"), principal, nullptr).decision, Decision::kAllow);
  EXPECT_EQ(EvaluatePrincipal(Request("z:y", "*"), principal, nullptr).decision,
            Decision::kImplicitDeny);
  PrincipalPolicies root;
  root.is_root = true;
  EXPECT_EQ(EvaluatePrincipal(Request("z:y", "*", kRoot), root, nullptr).decision,
            Decision::kAllow);
}

TEST(EvaluateTest, AccountLevelMessageHasNoResource) {
  const RequestContext r = Request("secretsmanager:ListSecrets", "*");
  EXPECT_EQ(DenialMessage(r, Evaluation{}),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:ListSecrets because no identity-based policy allows the "
            "secretsmanager:ListSecrets action");
}

}  // namespace
}  // namespace coffer::policy
