// Resource policies (reference §1.11) and the stored rotation configuration (§1.10).

#include "policy/policy.h"
#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

constexpr const char* kPrivatePolicy = R"({
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow",
                 "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                 "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})";
constexpr const char* kPublicPolicy =
    R"({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}})";

TEST_F(ServiceTest, PutGetDeleteResourcePolicy) {
  ASSERT_TRUE(CreateEmpty("p").ok());
  auto none = service_->GetResourcePolicy(ctx_, {"p"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->resource_policy.has_value());

  clock_.AdvanceMillis(100);
  auto put = service_->PutResourcePolicy(ctx_, {"p", kPrivatePolicy, true});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->name, "p");
  EXPECT_EQ(service_->GetResourcePolicy(ctx_, {"p"})->resource_policy, kPrivatePolicy);
  EXPECT_EQ(Describe("p")->last_changed_date_ms, kStartMs + 100);

  ASSERT_TRUE(service_->DeleteResourcePolicy(ctx_, {"p"}).ok());
  EXPECT_FALSE(service_->GetResourcePolicy(ctx_, {"p"})->resource_policy.has_value());
}

TEST_F(ServiceTest, MalformedAndPublicPolicies) {
  ASSERT_TRUE(CreateEmpty("p").ok());
  for (const char* bad : {"not json", "[]", R"({"Version": "2012-10-17"})", R"({"Statement": []})",
                          R"({"Statement": [{"Effect": "Maybe"}]})"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(service_->PutResourcePolicy(ctx_, {"p", bad, std::nullopt}).status(),
                StatusIs(StatusCode::kMalformedPolicy));
  }
  EXPECT_THAT(service_->PutResourcePolicy(ctx_, {"p", kPublicPolicy, true}).status(),
              StatusIs(StatusCode::kPublicPolicy));
  EXPECT_TRUE(service_->PutResourcePolicy(ctx_, {"p", kPublicPolicy, false}).ok());
  EXPECT_THAT(service_->PutResourcePolicy(ctx_, {"p", std::string(20481, ' '), false}).status(),
              StatusIs(StatusCode::kValidation));
}

TEST_F(ServiceTest, ValidateResourcePolicy) {
  auto ok = service_->ValidateResourcePolicy(ctx_, {std::nullopt, kPrivatePolicy});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->policy_validation_passed);
  EXPECT_TRUE(ok->validation_errors.empty());

  auto pub = service_->ValidateResourcePolicy(ctx_, {std::nullopt, kPublicPolicy});
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->policy_validation_passed);
  ASSERT_EQ(pub->validation_errors.size(), 1u);
  EXPECT_EQ(pub->validation_errors[0].check_name, "PUBLIC_POLICY_CHECK");

  auto bad = service_->ValidateResourcePolicy(ctx_, {std::nullopt, "{"});
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->policy_validation_passed);
  EXPECT_EQ(bad->validation_errors[0].check_name, "SYNTAX_CHECK");

  EXPECT_THAT(service_->ValidateResourcePolicy(ctx_, {"missing", kPrivatePolicy}).status(),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, PublicPolicyChecksUseTheParser) {
  ASSERT_TRUE(CreateEmpty("p").ok());
  // "*" inside an AWS principal list is public; a Deny to everyone is not; a condition that
  // narrows a public grant makes it non-public.
  const char* listed =
      R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:root","*"]},
      "Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";
  const char* deny_all = R"({"Statement":[{"Effect":"Deny","Principal":"*",
      "Action":"secretsmanager:*","Resource":"*"}]})";
  const char* narrowed = R"({"Statement":[{"Effect":"Allow","Principal":"*",
      "Action":"secretsmanager:GetSecretValue","Resource":"*",
      "Condition":{"StringEquals":{"aws:PrincipalAccount":"000000000000"}}}]})";
  EXPECT_THAT(service_->PutResourcePolicy(ctx_, {"p", listed, true}).status(),
              StatusIs(StatusCode::kPublicPolicy, std::string(msg::kPublicPolicy)));
  auto v = service_->ValidateResourcePolicy(ctx_, {std::nullopt, listed});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->validation_errors.size(), 1u);
  EXPECT_EQ(v->validation_errors[0].check_name, "PUBLIC_POLICY_CHECK");
  for (const char* fine : {deny_all, narrowed}) {
    SCOPED_TRACE(fine);
    EXPECT_TRUE(service_->PutResourcePolicy(ctx_, {"p", fine, true}).ok());
    auto ok = service_->ValidateResourcePolicy(ctx_, {"p", fine});
    ASSERT_TRUE(ok.ok());
    EXPECT_TRUE(ok->policy_validation_passed);
  }
}

TEST_F(ServiceTest, MalformedPolicyCarriesTheParsersMessage) {
  ASSERT_TRUE(CreateEmpty("p").ok());
  // An identity-style statement (no Principal) is malformed as a resource policy.
  const char* no_principal = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";
  auto expected = policy::Document::Parse(no_principal, policy::DocumentKind::kResource).status();
  ASSERT_EQ(expected.code(), StatusCode::kMalformedPolicy);
  EXPECT_THAT(service_->PutResourcePolicy(ctx_, {"p", no_principal, std::nullopt}).status(),
              StatusIs(StatusCode::kMalformedPolicy,
                       std::string(msg::kPolicySyntax) + " " + expected.message()));
  auto v = service_->ValidateResourcePolicy(ctx_, {"p", no_principal});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->policy_validation_passed);
  ASSERT_EQ(v->validation_errors.size(), 1u);
  EXPECT_EQ(v->validation_errors[0].check_name, "SYNTAX_CHECK");
  EXPECT_EQ(v->validation_errors[0].error_message, expected.message());
  // Nothing was stored.
  EXPECT_FALSE(service_->GetResourcePolicy(ctx_, {"p"})->resource_policy.has_value());
}

class RotationTest : public ServiceTest {
 protected:
  void SetUp() override { ASSERT_TRUE(Create("r", "v", Token("v1")).ok()); }
  Result<RotateSecretResponse> Rotate(std::optional<std::string> lambda,
                                      std::optional<RotationRules> rules) {
    RotateSecretRequest r;
    r.secret_id = "r";
    r.client_request_token = Token("rot");
    r.rotation_lambda_arn = std::move(lambda);
    r.rotation_rules = std::move(rules);
    return service_->RotateSecret(ctx_, r);
  }
  static constexpr const char* kLambda = "arn:aws:lambda:us-east-1:000000000000:function:rotate";
};

TEST_F(RotationTest, NeedsALambdaArn) {
  EXPECT_THAT(Rotate(std::nullopt, RotationRules{30, std::nullopt, std::nullopt}).status(),
              StatusIs(StatusCode::kFailedPrecondition, std::string(msg::kNoLambda)));
  EXPECT_FALSE(Describe("r")->rotation_enabled.has_value());
}

TEST_F(RotationTest, StoresConfigurationAndNextDate) {
  auto r = Rotate(kLambda, RotationRules{30, std::nullopt, std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->arn, Describe("r")->arn);
  EXPECT_FALSE(r->version_id.has_value());
  auto d = Describe("r");
  EXPECT_EQ(d->rotation_enabled, true);
  EXPECT_EQ(d->rotation_lambda_arn, kLambda);
  ASSERT_TRUE(d->rotation_rules.has_value());
  EXPECT_EQ(d->rotation_rules->automatically_after_days, 30);
  EXPECT_EQ(d->next_rotation_date_ms, kStartMs + 30 * kDayMs);
  // No version was created.
  EXPECT_EQ(Stages("r").size(), 1u);

  // A second call may omit the Lambda ARN: the stored one is used.
  EXPECT_TRUE(
      Rotate(std::nullopt, RotationRules{std::nullopt, std::nullopt, "rate(10 hours)"}).ok());
  EXPECT_EQ(Describe("r")->next_rotation_date_ms, kStartMs + 10 * 3600 * 1000);
  EXPECT_TRUE(
      Rotate(std::nullopt, RotationRules{std::nullopt, "3h", "cron(0 16 1,15 * ? *)"}).ok());
  EXPECT_FALSE(Describe("r")->next_rotation_date_ms.has_value());
}

TEST_F(RotationTest, RulesValidation) {
  EXPECT_THAT(Rotate(kLambda, RotationRules{0, std::nullopt, std::nullopt}).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kRotationDaysRange)));
  EXPECT_THAT(Rotate(kLambda, RotationRules{1001, std::nullopt, std::nullopt}).status(),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate(kLambda, RotationRules{5, std::nullopt, "rate(5 days)"}).status(),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate(kLambda, RotationRules{5, "2d", std::nullopt}).status(),
              StatusIs(StatusCode::kValidation));
  for (const char* bad :
       {"rate(2 hours)", "rate(x days)", "every day", "cron(0 1 * *)", "rate(5 weeks)"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(Rotate(kLambda, RotationRules{std::nullopt, std::nullopt, bad}).ok());
  }
}

TEST_F(RotationTest, RefusesWhilePendingOnAnotherVersion) {
  ASSERT_TRUE(Put("r", "pending", Token("p"), std::vector<std::string>{"AWSPENDING"}).ok());
  EXPECT_THAT(Rotate(kLambda, std::nullopt).status(),
              StatusIs(StatusCode::kFailedPrecondition, std::string(msg::kRotationInProgress)));
  auto cancel = service_->CancelRotateSecret(ctx_, {"r"});
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->version_id, Token("p"));
  EXPECT_EQ(Describe("r")->rotation_enabled, false);
}

TEST_F(RotationTest, CancelTurnsRotationOff) {
  ASSERT_TRUE(Rotate(kLambda, RotationRules{7, std::nullopt, std::nullopt}).ok());
  auto cancel = service_->CancelRotateSecret(ctx_, {"r"});
  ASSERT_TRUE(cancel.ok());
  EXPECT_FALSE(cancel->version_id.has_value());
  auto d = Describe("r");
  EXPECT_EQ(d->rotation_enabled, false);
  EXPECT_FALSE(d->next_rotation_date_ms.has_value());
  EXPECT_TRUE(d->rotation_rules.has_value());  // the previous schedule stays visible
}

TEST_F(RotationTest, ExternalRotationFieldsAreStored) {
  RotateSecretRequest r;
  r.secret_id = "r";
  r.client_request_token = Token("rot");
  r.external_secret_rotation_role_arn = "arn:aws:iam::000000000000:role/rotator";
  r.external_secret_rotation_metadata_json = R"([{"Key":"k","Value":"v"}])";
  ASSERT_TRUE(service_->RotateSecret(ctx_, r).ok());
  auto d = Describe("r");
  EXPECT_EQ(d->external_secret_rotation_role_arn, "arn:aws:iam::000000000000:role/rotator");
  EXPECT_EQ(d->external_secret_rotation_metadata_json, R"([{"Key":"k","Value":"v"}])");
  r.external_secret_rotation_metadata_json = R"({"Key":"k"})";
  EXPECT_THAT(service_->RotateSecret(ctx_, r).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(RotationTest, TokenRequired) {
  RotateSecretRequest r;
  r.secret_id = "r";
  r.rotation_lambda_arn = kLambda;
  EXPECT_THAT(service_->RotateSecret(ctx_, r).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kTokenRequired)));
}

}  // namespace
}  // namespace coffer::secrets::testing
