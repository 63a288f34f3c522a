// Authorization of every Secrets Manager action: the table of all 23 actions against an Allow, an
// explicit Deny and a policy that does not match; resource policies combined with identity
// policies; condition keys; not-found vs denied; ListSecrets and BatchGetSecretValue filtering;
// the audit list of resources.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "policy/authorizer.h"
#include "policy/policy.h"
#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/secret_id.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kAccount = "000000000000";
constexpr const char* kAlice = "arn:aws:iam::000000000000:user/alice";
constexpr const char* kBob = "arn:aws:iam::000000000000:user/bob";
constexpr const char* kSecretPrefix = "arn:aws:secretsmanager:us-east-1:000000000000:secret:";

std::string SecretArnPattern(const std::string& name_pattern) {
  return kSecretPrefix + name_pattern;
}

// Identity policies per principal, as src/iam would serve them.
class TestPolicySource : public policy::IdentityPolicySource {
 public:
  // Replaces the principal's policies with `documents` (JSON identity policies).
  void Set(const std::string& principal_arn, const std::vector<std::string>& documents) {
    auto policies = std::make_shared<policy::PrincipalPolicies>();
    policies->is_root = principal_arn.ends_with(":root");
    for (const auto& text : documents) {
      auto doc = policy::Document::Parse(text, policy::DocumentKind::kIdentity);
      EXPECT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << text;
      if (doc.ok()) policies->documents.push_back(std::make_shared<policy::Document>(*doc));
    }
    std::lock_guard lock(mu_);
    by_principal_[principal_arn] = std::move(policies);
  }

  Result<std::shared_ptr<const policy::PrincipalPolicies>> PoliciesFor(
      const std::string& principal_arn) override {
    std::lock_guard lock(mu_);
    auto it = by_principal_.find(principal_arn);
    if (it != by_principal_.end())
      return std::shared_ptr<const policy::PrincipalPolicies>(it->second);
    auto unknown = std::make_shared<policy::PrincipalPolicies>();
    unknown->is_root = principal_arn.ends_with(":root");
    return std::shared_ptr<const policy::PrincipalPolicies>(unknown);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const policy::PrincipalPolicies>> by_principal_;
};

// Records every RequestContext and allows or denies by a rule.
class RecordingAuthorizer : public policy::Authorizer {
 public:
  Status Authorize(const policy::RequestContext& request,
                   std::string_view resource_policy_json) const override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    policies_.emplace_back(resource_policy_json);
    return deny_all_ ? Status::PermissionDenied("denied") : Status::Ok();
  }
  std::vector<policy::RequestContext> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::string> policies() const {
    std::lock_guard lock(mu_);
    return policies_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    requests_.clear();
    policies_.clear();
  }
  bool deny_all_ = false;

 private:
  mutable std::mutex mu_;
  mutable std::vector<policy::RequestContext> requests_;
  mutable std::vector<std::string> policies_;
};

// An identity policy of one Allow statement.
std::string AllowPolicy(const std::string& action, const std::string& resource,
                        const std::string& condition = "") {
  std::string statement =
      R"({"Effect":"Allow","Action":")" + action + R"(","Resource":")" + resource + "\"";
  if (!condition.empty()) statement += ",\"Condition\":" + condition;
  return R"({"Version":"2012-10-17","Statement":[)" + statement + "}]}";
}

std::string DenyPolicy(const std::string& action, const std::string& resource) {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":")" + action +
         R"(","Resource":")" + resource + R"("}]})";
}

// Two services over one store: `admin_` without an authorizer (setup), `service_` as the caller
// with the authorizer.
class AuthzTest : public ServiceTest {
 protected:
  AuthzTest() : authorizer_(&source_) {
    ServiceOptions options;
    options.authorizer = &authorizer_;
    Reconfigure(options);
    admin_ = std::make_unique<Service>(&store_, envelope_.get(), &clock_, ServiceOptions{});
    ctx_.principal_arn = kAlice;
    ctx_.source_ip = "10.1.2.3";
    ctx_.resources = &resources_;
    admin_ctx_ = Ctx();
  }

  std::string CreateAsAdmin(const std::string& name, std::vector<Tag> tags = {}) {
    CreateSecretRequest r;
    r.name = name;
    r.value = Str("value-of-" + name);
    r.client_request_token = Token("c-" + std::to_string(created_++));
    if (!tags.empty()) r.tags = std::move(tags);
    auto created = admin_->CreateSecret(admin_ctx_, r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->arn : "";
  }

  void PutResourcePolicyAsAdmin(const std::string& name, const std::string& document) {
    auto put = admin_->PutResourcePolicy(admin_ctx_, {name, document, false});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  TestPolicySource source_;
  policy::PolicyAuthorizer authorizer_;
  std::unique_ptr<Service> admin_;
  CallContext admin_ctx_;
  std::vector<AuditResource> resources_;
  int created_ = 0;
};

MATCHER_P2(IsResource, arn, name, "") { return arg.arn == arn && arg.name == name; }

std::string NotAuthorized(const std::string& principal, const std::string& action,
                          const std::string& resource) {
  std::string m = "User: " + principal + " is not authorized to perform: secretsmanager:" + action;
  if (resource != "*") m += " on resource: " + resource;
  return m;
}
std::string NoIdentityAllows(const std::string& action) {
  return " because no identity-based policy allows the secretsmanager:" + action + " action";
}
constexpr const char* kExplicitIdentityDeny = " with an explicit deny in an identity-based policy";
constexpr const char* kExplicitResourceDeny = " with an explicit deny in a resource-based policy";

// ---------------------------------------------------------------------------------------------
// The table: every action against Allow, explicit Deny and no-match.

constexpr const char* kTableSecret = "table/s";
constexpr const char* kNewSecret = "table/new";
constexpr const char* kLambda = "arn:aws:lambda:us-east-1:000000000000:function:rotate";
constexpr const char* kValidResourcePolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::000000000000:user/bob"},
        "Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";

struct ActionCase {
  std::string action;
  // kSecret: resource is table/s's ARN; kNew: the ARN of table/new (random suffix); kAccount:
  // "*".
  enum class Resource { kSecret, kNew, kAccount } resource = Resource::kSecret;
  std::function<Status(Service&, const CallContext&)> call;
  StatusCode allowed = StatusCode::kOk;  // the action's normal outcome on table/s
  // Further statements the Allow policy needs (BatchGetSecretValue: GetSecretValue per secret).
  std::vector<std::string> extra_allow;
  bool names_secret = true;  // the call names table/s (or table/new): the audit list has it
};

template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

std::vector<ActionCase> AllActions() {
  using R = ActionCase::Resource;
  const std::string s = kTableSecret;
  std::vector<ActionCase> cases = {
      {"CreateSecret", R::kNew,
       [](Service& svc, const CallContext& c) {
         CreateSecretRequest r;
         r.name = kNewSecret;
         r.value = Str("v");
         r.client_request_token = Token("new");
         return StatusOf(svc.CreateSecret(c, r));
       }},
      {"GetSecretValue", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(svc.GetSecretValue(c, {s, std::nullopt, std::nullopt}));
       }},
      {"BatchGetSecretValue",
       R::kAccount,
       [s](Service& svc, const CallContext& c) {
         BatchGetSecretValueRequest r;
         r.secret_id_list = std::vector<std::string>{s};
         auto out = svc.BatchGetSecretValue(c, r);
         if (out.ok() && (!out->errors.empty() || out->secret_values.size() != 1)) {
           return Status::Internal("expected one value and no errors");
         }
         return out.status();
       },
       StatusCode::kOk,
       {AllowPolicy("secretsmanager:GetSecretValue", SecretArnPattern("table/s-*"))},
       /*names_secret=*/false},
      {"PutSecretValue", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         PutSecretValueRequest r;
         r.secret_id = s;
         r.value = Str("v2");
         r.client_request_token = Token("put");
         return StatusOf(svc.PutSecretValue(c, r));
       }},
      {"UpdateSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         UpdateSecretRequest r;
         r.secret_id = s;
         r.description = "d";
         return StatusOf(svc.UpdateSecret(c, r));
       }},
      {"DescribeSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) { return StatusOf(svc.DescribeSecret(c, {s})); }},
      {"ListSecrets",
       R::kAccount,
       [](Service& svc, const CallContext& c) {
         auto out = svc.ListSecrets(c, {});
         if (out.ok() && out->secret_list.size() != 1) return Status::Internal("expected 1");
         return out.status();
       },
       StatusCode::kOk,
       {},
       /*names_secret=*/false},
      {"ListSecretVersionIds", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         ListSecretVersionIdsRequest r;
         r.secret_id = s;
         return StatusOf(svc.ListSecretVersionIds(c, r));
       }},
      {"UpdateSecretVersionStage", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(
             svc.UpdateSecretVersionStage(c, {s, "CUSTOM", std::nullopt, Token("c-0")}));
       }},
      {"DeleteSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(svc.DeleteSecret(c, {s, 7, std::nullopt}));
       }},
      {"RestoreSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) { return StatusOf(svc.RestoreSecret(c, {s})); }},
      {"TagResource", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return svc.TagResource(c, {s, {{"team", "ml"}}});
       }},
      {"UntagResource", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return svc.UntagResource(c, {s, {"team"}});
       }},
      {"GetRandomPassword",
       R::kAccount,
       [](Service& svc, const CallContext& c) { return StatusOf(svc.GetRandomPassword(c, {})); },
       StatusCode::kOk,
       {},
       /*names_secret=*/false},
      {"PutResourcePolicy", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(svc.PutResourcePolicy(c, {s, kValidResourcePolicy, true}));
       }},
      {"GetResourcePolicy", R::kSecret,
       [s](Service& svc, const CallContext& c) { return StatusOf(svc.GetResourcePolicy(c, {s})); }},
      {"DeleteResourcePolicy", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(svc.DeleteResourcePolicy(c, {s}));
       }},
      {"ValidateResourcePolicy", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         auto out = svc.ValidateResourcePolicy(c, {s, kValidResourcePolicy});
         if (out.ok() && !out->policy_validation_passed) return Status::Internal("not passed");
         return out.status();
       }},
      {"RotateSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         RotateSecretRequest r;
         r.secret_id = s;
         r.client_request_token = Token("rot");
         r.rotation_lambda_arn = kLambda;
         r.rotation_rules = RotationRules{30, std::nullopt, std::nullopt};
         return StatusOf(svc.RotateSecret(c, r));
       }},
      {"CancelRotateSecret", R::kSecret,
       [s](Service& svc, const CallContext& c) {
         return StatusOf(svc.CancelRotateSecret(c, {s}));
       }},
      {"ReplicateSecretToRegions", R::kSecret,
       [s](Service& svc, const CallContext& c) { return svc.ReplicateSecretToRegions(c, {s}); },
       StatusCode::kFailedPrecondition},
      {"RemoveRegionsFromReplication", R::kSecret,
       [s](Service& svc, const CallContext& c) { return svc.RemoveRegionsFromReplication(c, {s}); },
       StatusCode::kFailedPrecondition},
      {"StopReplicationToReplica", R::kSecret,
       [s](Service& svc, const CallContext& c) { return svc.StopReplicationToReplica(c, {s}); },
       StatusCode::kFailedPrecondition},
  };
  return cases;
}

enum class PolicyKind { kAllow, kExplicitDeny, kNoMatch };

class ActionTableTest : public AuthzTest,
                        public ::testing::WithParamInterface<std::tuple<ActionCase, PolicyKind>> {};

TEST_P(ActionTableTest, Decides) {
  const auto& [c, kind] = GetParam();
  const std::string arn = CreateAsAdmin(kTableSecret);
  // A custom label to move, for UpdateSecretVersionStage.
  ASSERT_TRUE(admin_
                  ->UpdateSecretVersionStage(admin_ctx_,
                                             {kTableSecret, "CUSTOM", std::nullopt, Token("c-0")})
                  .ok());
  std::string pattern;  // the Resource of the policies
  switch (c.resource) {
    case ActionCase::Resource::kSecret:
      pattern = SecretArnPattern("table/s-*");
      break;
    case ActionCase::Resource::kNew:
      pattern = SecretArnPattern("table/new-*");
      break;
    case ActionCase::Resource::kAccount:
      pattern = "*";
      break;
  }
  const std::string action = "secretsmanager:" + c.action;
  std::vector<std::string> policies;
  switch (kind) {
    case PolicyKind::kAllow:
      policies = c.extra_allow;
      policies.push_back(AllowPolicy(action, pattern));
      break;
    case PolicyKind::kExplicitDeny:
      policies = {AllowPolicy("secretsmanager:*", "*"), DenyPolicy(action, pattern)};
      break;
    case PolicyKind::kNoMatch:
      // Another action on the resource, and this action on other secrets only.
      policies = {AllowPolicy(c.action == "DescribeSecret" ? "secretsmanager:GetSecretValue"
                                                           : "secretsmanager:DescribeSecret",
                              pattern),
                  AllowPolicy(action, SecretArnPattern("elsewhere/*"))};
      break;
  }
  source_.Set(kAlice, policies);

  const Status status = c.call(*service_, ctx_);
  if (kind == PolicyKind::kAllow) {
    EXPECT_EQ(status.code(), c.allowed) << status.ToString();
  } else {
    ASSERT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
    const std::string reason =
        kind == PolicyKind::kExplicitDeny ? kExplicitIdentityDeny : NoIdentityAllows(c.action);
    if (c.resource == ActionCase::Resource::kNew) {
      // The new secret's ARN carries a random suffix.
      const std::string head = NotAuthorized(kAlice, c.action, SecretArnPattern("table/new-"));
      EXPECT_TRUE(status.message().starts_with(head)) << status.message();
      EXPECT_TRUE(status.message().ends_with(reason)) << status.message();
      EXPECT_EQ(status.message().size(), head.size() + kArnSuffixLength + reason.size());
    } else {
      EXPECT_EQ(
          status.message(),
          NotAuthorized(kAlice, c.action,
                        c.resource == ActionCase::Resource::kSecret ? arn : std::string("*")) +
              reason);
    }
  }

  // The audit list names the secret the call named, allowed or denied.
  if (c.resource == ActionCase::Resource::kSecret) {
    EXPECT_THAT(resources_, ElementsAre(IsResource(arn, kTableSecret)));
  } else if (c.resource == ActionCase::Resource::kNew) {
    ASSERT_EQ(resources_.size(), 1u);
    EXPECT_TRUE(resources_[0].arn.starts_with(SecretArnPattern("table/new-")));
    EXPECT_EQ(resources_[0].name, kNewSecret);
  } else if (c.action == "BatchGetSecretValue" && kind == PolicyKind::kAllow) {
    EXPECT_THAT(resources_, ElementsAre(IsResource(arn, kTableSecret)));
  } else {
    EXPECT_THAT(resources_, IsEmpty());
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<ActionCase, PolicyKind>>& info) {
  const auto& [c, kind] = info.param;
  const char* suffix = kind == PolicyKind::kAllow          ? "Allow"
                       : kind == PolicyKind::kExplicitDeny ? "ExplicitDeny"
                                                           : "NoMatch";
  return c.action + "_" + suffix;
}

INSTANTIATE_TEST_SUITE_P(EveryAction, ActionTableTest,
                         ::testing::Combine(::testing::ValuesIn(AllActions()),
                                            ::testing::Values(PolicyKind::kAllow,
                                                              PolicyKind::kExplicitDeny,
                                                              PolicyKind::kNoMatch)),
                         CaseName);

TEST(ActionTableCoverage, ListsEveryActionOnce) {
  std::set<std::string> names;
  for (const auto& c : AllActions()) EXPECT_TRUE(names.insert(c.action).second) << c.action;
  EXPECT_EQ(names.size(), 23u);
}

// ---------------------------------------------------------------------------------------------
// Resource policies combined with identity policies.

TEST_F(AuthzTest, ResourcePolicyDenyBeatsIdentityAllow) {
  const std::string arn = CreateAsAdmin("app/db");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:*", "*")});
  PutResourcePolicyAsAdmin("app/db", R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
      "Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},
      "Action":"secretsmanager:GetSecretValue","Resource":"*"}]})");
  auto got = Get("app/db");
  EXPECT_THAT(got.status(),
              StatusIs(StatusCode::kPermissionDenied,
                       NotAuthorized(kAlice, "GetSecretValue", arn) + kExplicitResourceDeny));
  // Only GetSecretValue is denied.
  EXPECT_TRUE(Describe("app/db").ok());
}

TEST_F(AuthzTest, ResourcePolicyAllowNamingTheUserGrantsWithoutIdentityPolicy) {
  const std::string arn = CreateAsAdmin("app/db");
  source_.Set(kBob, {});
  PutResourcePolicyAsAdmin("app/db", kValidResourcePolicy);  // GetSecretValue for bob
  CallContext bob = ctx_;
  bob.principal_arn = kBob;
  auto got = service_->GetSecretValue(bob, {"app/db", std::nullopt, std::nullopt});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value.string, "value-of-app/db");
  // Not another action, and not for alice.
  EXPECT_THAT(service_->DescribeSecret(bob, {"app/db"}).status(),
              StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kBob, "DescribeSecret", arn) +
                                                          NoIdentityAllows("DescribeSecret")));
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, DeletedResourcePolicyNoLongerGrants) {
  CreateAsAdmin("app/db");
  PutResourcePolicyAsAdmin("app/db", kValidResourcePolicy);
  CallContext bob = ctx_;
  bob.principal_arn = kBob;
  ASSERT_TRUE(service_->GetSecretValue(bob, {"app/db", std::nullopt, std::nullopt}).ok());
  ASSERT_TRUE(admin_->DeleteResourcePolicy(admin_ctx_, {"app/db"}).ok());
  EXPECT_THAT(service_->GetSecretValue(bob, {"app/db", std::nullopt, std::nullopt}).status(),
              StatusIs(StatusCode::kPermissionDenied));
}

// ---------------------------------------------------------------------------------------------
// Condition keys.

TEST_F(AuthzTest, ResourceTagCondition) {
  CreateAsAdmin("ml/tagged", {{"Team", "ml"}});
  CreateAsAdmin("ml/other-team", {{"Team", "web"}});
  CreateAsAdmin("ml/untagged");
  source_.Set(kAlice,
              {AllowPolicy("secretsmanager:GetSecretValue", "*",
                           R"({"StringEquals":{"secretsmanager:ResourceTag/Team":"ml"}})")});
  EXPECT_TRUE(Get("ml/tagged").ok());
  EXPECT_THAT(Get("ml/other-team").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Get("ml/untagged").status(), StatusIs(StatusCode::kPermissionDenied));
  // The tag is read from the secret as stored now.
  ASSERT_TRUE(admin_->TagResource(admin_ctx_, {"ml/untagged", {{"Team", "ml"}}}).ok());
  EXPECT_TRUE(Get("ml/untagged").ok());
  // aws:ResourceTag works as well.
  source_.Set(kAlice, {AllowPolicy("secretsmanager:GetSecretValue", "*",
                                   R"({"StringEquals":{"aws:ResourceTag/Team":"web"}})")});
  EXPECT_TRUE(Get("ml/other-team").ok());
  EXPECT_THAT(Get("ml/tagged").status(), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, RequestTagAndTagKeysConditionsOnCreateAndTag) {
  // CreateSecret only with Team=ml and no tag keys beyond Team and Env.
  source_.Set(kAlice, {AllowPolicy("secretsmanager:CreateSecret", "*",
                                   R"({"StringEquals":{"aws:RequestTag/Team":"ml"},
                               "ForAllValues:StringEquals":{"aws:TagKeys":["Team","Env"]}})"),
                       AllowPolicy("secretsmanager:TagResource", "*",
                                   R"({"ForAllValues:StringEquals":{"aws:TagKeys":["Env"]}})")});
  auto create = [&](const std::string& name, std::vector<Tag> tags) {
    CreateSecretRequest r;
    r.name = name;
    if (!tags.empty()) r.tags = std::move(tags);
    return service_->CreateSecret(ctx_, r).status();
  };
  EXPECT_TRUE(create("a", {{"Team", "ml"}}).ok());
  EXPECT_TRUE(create("b", {{"Team", "ml"}, {"Env", "prod"}}).ok());
  EXPECT_THAT(create("c", {{"Team", "web"}}), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(create("d", {{"Team", "ml"}, {"Owner", "x"}}),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(create("e", {}), StatusIs(StatusCode::kPermissionDenied));
  // Nothing was created by the denied calls.
  for (const char* name : {"c", "d", "e"}) {
    EXPECT_THAT(admin_->DescribeSecret(admin_ctx_, {name}).status(),
                StatusIs(StatusCode::kNotFound));
  }

  EXPECT_TRUE(service_->TagResource(ctx_, {"a", {{"Env", "dev"}}}).ok());
  EXPECT_THAT(service_->TagResource(ctx_, {"a", {{"Team", "web"}}}),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(admin_->DescribeSecret(admin_ctx_, {"a"})->tags->size(), 2u);
}

TEST_F(AuthzTest, NameCondition) {
  source_.Set(kAlice, {AllowPolicy("secretsmanager:CreateSecret", "*",
                                   R"({"StringLike":{"secretsmanager:Name":"ml-platform/*"}})")});
  CreateSecretRequest r;
  r.name = "ml-platform/mlflow/database";
  EXPECT_TRUE(service_->CreateSecret(ctx_, r).ok());
  r.name = "web/database";
  EXPECT_THAT(service_->CreateSecret(ctx_, r).status(), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, SourceIpCondition) {
  CreateAsAdmin("app/db");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:GetSecretValue", "*",
                                   R"({"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}})")});
  ctx_.source_ip = "10.20.30.40";
  EXPECT_TRUE(Get("app/db").ok());
  ctx_.source_ip = "192.168.1.1";
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
  ctx_.source_ip = "";
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, SecureTransportCondition) {
  CreateAsAdmin("app/db");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:*", "*"),
                       R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
                           "Action":"secretsmanager:*","Resource":"*",
                           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})"});
  ctx_.secure_transport = true;
  EXPECT_TRUE(Get("app/db").ok());
  ctx_.secure_transport = false;
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, VersionStageCondition) {
  CreateAsAdmin("app/db");
  ASSERT_TRUE(admin_
                  ->PutSecretValue(admin_ctx_,
                                   {"app/db", Token("p2"), Str("new"), std::nullopt, std::nullopt})
                  .ok());
  source_.Set(kAlice,
              {AllowPolicy("secretsmanager:GetSecretValue", "*",
                           R"({"StringEquals":{"secretsmanager:VersionStage":"AWSPREVIOUS"}})")});
  EXPECT_TRUE(Get("app/db", std::nullopt, "AWSPREVIOUS").ok());
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Get("app/db", std::nullopt, "AWSCURRENT").status(),
              StatusIs(StatusCode::kPermissionDenied));
}

// ---------------------------------------------------------------------------------------------
// Not found vs denied: only a caller allowed on the name learns that a secret does not exist.

TEST_F(AuthzTest, NotFoundOnlyWhenAllowedOnTheName) {
  const std::string other = CreateAsAdmin("other/x");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:*", SecretArnPattern("ml-platform/*"))});

  EXPECT_THAT(Get("ml-platform/missing").status(),
              StatusIs(StatusCode::kNotFound, std::string(msg::kSecretNotFound)));
  EXPECT_THAT(Get("other/missing").status(),
              StatusIs(StatusCode::kPermissionDenied,
                       NotAuthorized(kAlice, "GetSecretValue", SecretArnPattern("other/missing")) +
                           NoIdentityAllows("GetSecretValue")));
  // An existing secret the caller may not read: the same error shape, its real ARN.
  EXPECT_THAT(Get("other/x").status(), StatusIs(StatusCode::kPermissionDenied,
                                                NotAuthorized(kAlice, "GetSecretValue", other) +
                                                    NoIdentityAllows("GetSecretValue")));
  // An ARN given for a secret that does not exist is evaluated as given.
  const std::string missing_arn = SecretArnPattern("other/gone-AbCdEf");
  EXPECT_THAT(
      Get(missing_arn).status(),
      StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "GetSecretValue", missing_arn) +
                                                  NoIdentityAllows("GetSecretValue")));
  EXPECT_THAT(Get(SecretArnPattern("ml-platform/gone-AbCdEf")).status(),
              StatusIs(StatusCode::kNotFound));

  // Every single-secret action orders it the same way.
  const std::vector<std::function<Status(const std::string&)>> calls = {
      [&](const std::string& id) { return Describe(id).status(); },
      [&](const std::string& id) {
        return service_->TagResource(ctx_, {id, {{"k", "v"}}});
      },
      [&](const std::string& id) {
        return service_->UntagResource(ctx_, {id, {"k"}});
      },
      [&](const std::string& id) { return service_->GetResourcePolicy(ctx_, {id}).status(); },
      [&](const std::string& id) { return service_->DeleteResourcePolicy(ctx_, {id}).status(); },
      [&](const std::string& id) {
        return service_->PutResourcePolicy(ctx_, {id, kValidResourcePolicy, false}).status();
      },
      [&](const std::string& id) {
        return service_->ValidateResourcePolicy(ctx_, {id, kValidResourcePolicy}).status();
      },
      [&](const std::string& id) { return service_->RestoreSecret(ctx_, {id}).status(); },
      [&](const std::string& id) { return service_->CancelRotateSecret(ctx_, {id}).status(); },
      [&](const std::string& id) { return Put(id, "v", Token("put")).status(); },
      [&](const std::string& id) { return Delete(id).status(); },
      [&](const std::string& id) { return service_->StopReplicationToReplica(ctx_, {id}); },
  };
  for (std::size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_THAT(calls[i]("ml-platform/missing"), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(calls[i]("other/missing"), StatusIs(StatusCode::kPermissionDenied));
  }
}

TEST_F(AuthzTest, ForceDeleteOfAbsentSecretNeedsThePermission) {
  source_.Set(kAlice, {AllowPolicy("secretsmanager:DeleteSecret", SecretArnPattern("ml/*"))});
  auto allowed = Delete("ml/missing", std::nullopt, true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->name, "ml/missing");
  EXPECT_THAT(Delete("web/missing", std::nullopt, true).status(),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(AuthzTest, DeletedSecretIsDeniedBeforeItsStateIsRevealed) {
  CreateAsAdmin("app/db");
  ASSERT_TRUE(admin_->DeleteSecret(admin_ctx_, {"app/db", 7, std::nullopt}).ok());
  source_.Set(kAlice, {});
  EXPECT_THAT(Get("app/db").status(), StatusIs(StatusCode::kPermissionDenied));
  source_.Set(kAlice, {AllowPolicy("secretsmanager:GetSecretValue", "*")});
  EXPECT_THAT(Get("app/db").status(),
              StatusIs(StatusCode::kFailedPrecondition, std::string(msg::kMarkedForDeletion)));
}

// ---------------------------------------------------------------------------------------------
// ListSecrets and BatchGetSecretValue.

// The seed guide's ExternalSecretsPolicy.
constexpr const char* kExternalSecretsPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
               "secretsmanager:ListSecrets"],
    "Resource": ["arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/*"]
  }]
})";

std::vector<std::string> Names(const ListSecretsResponse& r) {
  std::vector<std::string> out;
  for (const auto& s : r.secret_list) out.push_back(s.name);
  return out;
}

TEST_F(AuthzTest, ListSecretsShowsOnlyWhatTheCallerMayList) {
  CreateAsAdmin("ml-platform/mlflow/database");
  clock_.AdvanceMillis(1);
  CreateAsAdmin("other/c");
  clock_.AdvanceMillis(1);
  CreateAsAdmin("ml-platform/feast/database");
  source_.Set(kAlice, {kExternalSecretsPolicy});

  auto all = service_->ListSecrets(ctx_, {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(Names(*all),
              ElementsAre("ml-platform/mlflow/database", "ml-platform/feast/database"));
  EXPECT_THAT(resources_, IsEmpty());  // ListSecrets names no secret

  // Pages run over the visible secrets only.
  ListSecretsRequest paged;
  paged.max_results = 1;
  auto first = service_->ListSecrets(ctx_, paged);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Names(*first), ElementsAre("ml-platform/mlflow/database"));
  ASSERT_TRUE(first->next_token.has_value());
  paged.next_token = first->next_token;
  auto second = service_->ListSecrets(ctx_, paged);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Names(*second), ElementsAre("ml-platform/feast/database"));
  EXPECT_FALSE(second->next_token.has_value());

  // A filter that leaves nothing the caller may list: the denial of "*".
  ListSecretsRequest others;
  others.filters = std::vector<Filter>{{"name", {"other/"}}};
  EXPECT_THAT(service_->ListSecrets(ctx_, others).status(),
              StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "ListSecrets", "*") +
                                                          NoIdentityAllows("ListSecrets")));

  // ListSecrets on "*" shows everything.
  source_.Set(kAlice, {AllowPolicy("secretsmanager:ListSecrets", "*")});
  EXPECT_EQ(service_->ListSecrets(ctx_, {})->secret_list.size(), 3u);
  // An explicit Deny on "*" hides everything, even with a per-secret Allow.
  source_.Set(kAlice, {kExternalSecretsPolicy, DenyPolicy("secretsmanager:ListSecrets", "*")});
  EXPECT_THAT(service_->ListSecrets(ctx_, {}).status(),
              StatusIs(StatusCode::kPermissionDenied,
                       NotAuthorized(kAlice, "ListSecrets", "*") + kExplicitIdentityDeny));
}

TEST_F(AuthzTest, ListSecretsPerSecretCheckSeesTags) {
  CreateAsAdmin("a", {{"team", "ml"}});
  CreateAsAdmin("b", {{"team", "web"}});
  source_.Set(kAlice,
              {AllowPolicy("secretsmanager:ListSecrets", SecretArnPattern("*"),
                           R"({"StringEquals":{"secretsmanager:ResourceTag/team":"ml"}})")});
  auto listed = service_->ListSecrets(ctx_, {});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_THAT(Names(*listed), ElementsAre("a"));
}

TEST_F(AuthzTest, BatchGetReportsDeniedSecretsPerSecret) {
  const std::string a = CreateAsAdmin("ml-platform/a");
  const std::string c = CreateAsAdmin("other/c");
  source_.Set(kAlice,
              {kExternalSecretsPolicy, AllowPolicy("secretsmanager:BatchGetSecretValue", "*")});
  BatchGetSecretValueRequest r;
  r.secret_id_list = std::vector<std::string>{"ml-platform/a", "other/c", "ml-platform/missing"};
  auto out = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->secret_values.size(), 1u);
  EXPECT_EQ(out->secret_values[0].name, "ml-platform/a");
  ASSERT_EQ(out->errors.size(), 2u);
  EXPECT_EQ(out->errors[0].secret_id, "other/c");
  EXPECT_THAT(out->errors[0].status,
              StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "GetSecretValue", c) +
                                                          NoIdentityAllows("GetSecretValue")));
  EXPECT_EQ(out->errors[1].secret_id, "ml-platform/missing");
  EXPECT_THAT(out->errors[1].status, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(resources_, ElementsAre(IsResource(a, "ml-platform/a"), IsResource(c, "other/c"),
                                      IsResource("ml-platform/missing", "ml-platform/missing")));
}

TEST_F(AuthzTest, BatchGetWithFiltersNeedsListSecretsAndGetSecretValue) {
  CreateAsAdmin("ml-platform/a");
  CreateAsAdmin("ml-platform/b");
  const std::string c = CreateAsAdmin("other/c");
  BatchGetSecretValueRequest r;
  r.filters = std::vector<Filter>{{"name", {"ml-platform/", "other/"}}};

  // Without BatchGetSecretValue: the whole call is denied.
  source_.Set(kAlice, {kExternalSecretsPolicy});
  EXPECT_THAT(
      service_->BatchGetSecretValue(ctx_, r).status(),
      StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "BatchGetSecretValue", "*") +
                                                  NoIdentityAllows("BatchGetSecretValue")));

  // ListSecrets on ml-platform/* only: other/c is not even listed.
  source_.Set(kAlice,
              {kExternalSecretsPolicy, AllowPolicy("secretsmanager:BatchGetSecretValue", "*")});
  auto listed = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->secret_values.size(), 2u);
  EXPECT_THAT(listed->errors, IsEmpty());

  // ListSecrets on "*" but GetSecretValue on ml-platform/* only: other/c is an error entry.
  source_.Set(kAlice,
              {kExternalSecretsPolicy, AllowPolicy("secretsmanager:BatchGetSecretValue", "*"),
               AllowPolicy("secretsmanager:ListSecrets", "*")});
  resources_.clear();
  auto mixed = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ(mixed->secret_values.size(), 2u);
  ASSERT_EQ(mixed->errors.size(), 1u);
  EXPECT_EQ(mixed->errors[0].secret_id, "other/c");
  EXPECT_THAT(mixed->errors[0].status,
              StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "GetSecretValue", c) +
                                                          NoIdentityAllows("GetSecretValue")));
  EXPECT_EQ(resources_.size(), 3u);

  // No secret the caller may list: the ListSecrets denial.
  source_.Set(kAlice, {AllowPolicy("secretsmanager:BatchGetSecretValue", "*"),
                       AllowPolicy("secretsmanager:GetSecretValue", "*")});
  EXPECT_THAT(service_->BatchGetSecretValue(ctx_, r).status(),
              StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "ListSecrets", "*") +
                                                          NoIdentityAllows("ListSecrets")));
}

TEST_F(AuthzTest, ValidateResourcePolicyWithoutSecretIdIsAccountLevel) {
  source_.Set(kAlice, {AllowPolicy("secretsmanager:ValidateResourcePolicy", "*")});
  auto ok = service_->ValidateResourcePolicy(ctx_, {std::nullopt, kValidResourcePolicy});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->policy_validation_passed);
  source_.Set(kAlice,
              {AllowPolicy("secretsmanager:ValidateResourcePolicy", SecretArnPattern("*"))});
  EXPECT_THAT(
      service_->ValidateResourcePolicy(ctx_, {std::nullopt, kValidResourcePolicy}).status(),
      StatusIs(StatusCode::kPermissionDenied, NotAuthorized(kAlice, "ValidateResourcePolicy", "*") +
                                                  NoIdentityAllows("ValidateResourcePolicy")));
}

// ---------------------------------------------------------------------------------------------
// The audit list and retries.

TEST_F(AuthzTest, RetriedCommitRecordsTheSecretOnce) {
  const std::string arn = CreateAsAdmin("app/db");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:*", "*")});
  store_.FailNextCommit(Status::Aborted("conflict"));
  ASSERT_TRUE(service_->TagResource(ctx_, {"app/db", {{"k", "v"}}}).ok());
  EXPECT_THAT(resources_, ElementsAre(IsResource(arn, "app/db")));

  resources_.clear();
  store_.FailNextCommit(Status::Aborted("conflict"));
  ASSERT_TRUE(Put("app/db", "v2", Token("p2")).ok());
  EXPECT_THAT(resources_, ElementsAre(IsResource(arn, "app/db")));
}

TEST_F(AuthzTest, CreateOfExistingNameRecordsTheExistingSecret) {
  const std::string arn = CreateAsAdmin("app/db");
  source_.Set(kAlice, {AllowPolicy("secretsmanager:CreateSecret", "*")});
  CreateSecretRequest r;
  r.name = "app/db";
  EXPECT_THAT(service_->CreateSecret(ctx_, r).status(), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(resources_, ElementsAre(IsResource(arn, "app/db")));
}

TEST_F(AuthzTest, NoAuthorizerStillFillsTheAuditList) {
  const std::string arn = CreateAsAdmin("app/db");
  std::vector<AuditResource> listed;
  CallContext ctx = admin_ctx_;
  ctx.resources = &listed;
  ASSERT_TRUE(admin_->GetSecretValue(ctx, {"app/db", std::nullopt, std::nullopt}).ok());
  ASSERT_TRUE(admin_->DescribeSecret(ctx, {arn}).ok());
  EXPECT_THAT(listed, ElementsAre(IsResource(arn, "app/db")));
}

// ---------------------------------------------------------------------------------------------
// What the Authorizer is told.

class RequestContextTest : public ServiceTest {
 protected:
  RequestContextTest() {
    ServiceOptions options;
    options.authorizer = &recorder_;
    Reconfigure(options);
    ctx_.principal_arn = kAlice;
    ctx_.source_ip = "203.0.113.9";
    ctx_.secure_transport = true;
  }
  RecordingAuthorizer recorder_;
};

TEST_F(RequestContextTest, GetSecretValueCarriesCallerResourceAndKeys) {
  CreateSecretRequest create;
  create.name = "app/db";
  create.value = Str("v");
  create.client_request_token = Token("c");
  create.tags = std::vector<Tag>{{"Team", "ML"}, {"env", "prod"}};
  auto created = service_->CreateSecret(ctx_, create);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(service_->PutResourcePolicy(ctx_, {"app/db", kValidResourcePolicy, false}).ok());
  recorder_.Clear();
  clock_.AdvanceMillis(5);

  ASSERT_TRUE(Get("app/db", Token("c"), "AWSCURRENT").ok());
  const auto requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const policy::RequestContext& q = requests[0];
  EXPECT_EQ(q.action, "secretsmanager:GetSecretValue");
  EXPECT_EQ(q.resource, created->arn);
  EXPECT_EQ(q.principal_arn, kAlice);
  EXPECT_EQ(q.account_id, kAccount);
  EXPECT_EQ(q.source_ip, "203.0.113.9");
  EXPECT_EQ(q.now_ms, kStartMs + 5);
  EXPECT_TRUE(q.secure_transport);
  using Keys = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(q.keys, (Keys{{"secretsmanager:name", {"app/db"}},
                          {"secretsmanager:secretid", {"app/db"}},
                          {"secretsmanager:resourcetag/team", {"ML"}},
                          {"aws:resourcetag/team", {"ML"}},
                          {"secretsmanager:resourcetag/env", {"prod"}},
                          {"aws:resourcetag/env", {"prod"}},
                          {"secretsmanager:versionid", {Token("c")}},
                          {"secretsmanager:versionstage", {"AWSCURRENT"}}}));
  EXPECT_EQ(recorder_.policies(), std::vector<std::string>{kValidResourcePolicy});
}

TEST_F(RequestContextTest, UntaggedSecretWithoutPolicyHasOnlyNameAndId) {
  auto created = Create("plain", "v");
  ASSERT_TRUE(created.ok());
  recorder_.Clear();
  ASSERT_TRUE(Get(created->arn).ok());
  const auto requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 1u);
  using Keys = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(requests[0].keys, (Keys{{"secretsmanager:name", {"plain"}},
                                    {"secretsmanager:secretid", {created->arn}}}));
  EXPECT_EQ(recorder_.policies(), std::vector<std::string>{""});
}

TEST_F(RequestContextTest, CreateAndTagCarryRequestTags) {
  CreateSecretRequest create;
  create.name = "app/db";
  create.tags = std::vector<Tag>{{"Team", "ml"}, {"Env", "prod"}};
  auto created = service_->CreateSecret(ctx_, create);
  ASSERT_TRUE(created.ok());
  auto requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].action, "secretsmanager:CreateSecret");
  EXPECT_EQ(requests[0].resource, created->arn);  // the new ARN, suffix included
  using Keys = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(requests[0].keys, (Keys{{"secretsmanager:name", {"app/db"}},
                                    {"aws:requesttag/team", {"ml"}},
                                    {"aws:requesttag/env", {"prod"}},
                                    {"aws:tagkeys", {"Team", "Env"}}}));

  recorder_.Clear();
  ASSERT_TRUE(service_->UntagResource(ctx_, {"app/db", {"Team"}}).ok());
  requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].keys.at("aws:tagkeys"), std::vector<std::string>{"Team"});
  EXPECT_EQ(requests[0].keys.count("aws:requesttag/team"), 0u);
  // The resource tags as stored before the call.
  EXPECT_EQ(requests[0].keys.at("secretsmanager:resourcetag/team"), std::vector<std::string>{"ml"});
}

TEST_F(RequestContextTest, AccountLevelActionsAreOnStar) {
  ASSERT_TRUE(service_->GetRandomPassword(ctx_, {}).ok());
  ASSERT_TRUE(service_->ListSecrets(ctx_, {}).ok());
  ASSERT_TRUE(service_->ValidateResourcePolicy(ctx_, {std::nullopt, kValidResourcePolicy}).ok());
  const auto requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].action, "secretsmanager:GetRandomPassword");
  EXPECT_EQ(requests[1].action, "secretsmanager:ListSecrets");
  EXPECT_EQ(requests[2].action, "secretsmanager:ValidateResourcePolicy");
  for (const auto& q : requests) {
    EXPECT_EQ(q.resource, "*");
    EXPECT_TRUE(q.keys.empty());
  }
}

TEST_F(RequestContextTest, AbsentSecretIsCheckedOnTheArnAwsWouldUse) {
  recorder_.deny_all_ = true;
  std::vector<AuditResource> listed;
  ctx_.resources = &listed;
  EXPECT_THAT(Describe("ml/missing").status(), StatusIs(StatusCode::kPermissionDenied));
  const auto requests = recorder_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].resource, SecretArnPattern("ml/missing"));
  EXPECT_EQ(requests[0].keys.at("secretsmanager:name"), std::vector<std::string>{"ml/missing"});
  EXPECT_EQ(recorder_.policies(), std::vector<std::string>{""});
  EXPECT_THAT(listed, ElementsAre(IsResource("ml/missing", "ml/missing")));
}

// ---------------------------------------------------------------------------------------------
// SecretGauges.

TEST_F(ServiceTest, SecretGaugesListEverySecretOfEveryRegion) {
  ASSERT_TRUE(Create("a", "v").ok());
  clock_.AdvanceMillis(1000);
  CallContext west = Ctx("us-west-2");
  CreateSecretRequest b;
  b.name = "b";
  ASSERT_TRUE(service_->CreateSecret(west, b).ok());
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(Create("gone", "v").ok());
  ASSERT_TRUE(Delete("gone", 7).ok());

  // The rotation engine is not here yet: record a LastRotatedDate as it will.
  {
    auto record = store_.GetSecretByName("us-east-1", "a");
    ASSERT_TRUE(record.ok() && record->has_value());
    auto meta = ParseMeta((*record)->meta_json);
    ASSERT_TRUE(meta.ok());
    meta->last_rotated_ms = kStartMs + 500;
    storage::Mutation m;
    m.secret = **record;
    m.secret.meta_json = SerializeMeta(*meta);
    m.expected_revision = (*record)->revision;
    ASSERT_TRUE(store_.Commit(m).ok());
  }

  auto rows = service_->SecretGauges();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  std::map<std::string, SecretGaugeRow> by_name;
  for (const auto& row : *rows) by_name[row.name] = row;
  EXPECT_EQ(by_name["a"].region, "us-east-1");
  EXPECT_EQ(by_name["a"].created_ms, kStartMs);
  EXPECT_EQ(by_name["a"].last_rotated_ms, kStartMs + 500);
  EXPECT_FALSE(by_name["b"].last_rotated_ms.has_value());
  EXPECT_FALSE(by_name["a"].scheduled_for_deletion);
  EXPECT_EQ(by_name["b"].region, "us-west-2");
  EXPECT_EQ(by_name["b"].created_ms, kStartMs + 1000);
  EXPECT_TRUE(by_name["gone"].scheduled_for_deletion);
}

}  // namespace
}  // namespace coffer::secrets::testing
