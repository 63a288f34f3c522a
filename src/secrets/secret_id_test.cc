// SecretId resolution (name, full ARN, partial ARN) and region isolation.

#include "secrets/secret_id.h"

#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

TEST_F(ServiceTest, ResolvesByNameFullArnAndPartialArn) {
  auto created = Create("app/db-password", "pw", Token("v1"));
  ASSERT_TRUE(created.ok());
  const std::string& arn = created->arn;
  const std::string partial = arn.substr(0, arn.size() - 7);
  EXPECT_EQ(partial, "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-password");
  for (const std::string& id : {std::string("app/db-password"), arn, partial}) {
    SCOPED_TRACE(id);
    auto r = Get(id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->arn, arn);
    EXPECT_EQ(r->name, "app/db-password");
  }
}

TEST_F(ServiceTest, UnknownIdsAreNotFound) {
  auto created = Create("s", "pw", Token("v1"));
  ASSERT_TRUE(created.ok());
  const std::string other_region = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:" +
                                   created->arn.substr(created->arn.find(":secret:") + 8);
  const std::string other_account = "arn:aws:secretsmanager:us-east-1:111111111111:secret:s";
  const std::string wrong_suffix = "arn:aws:secretsmanager:us-east-1:000000000000:secret:s-ZZZZZZ";
  for (const std::string& id : {std::string("t"), other_region, other_account, wrong_suffix,
                                std::string("arn:aws:s3:::bucket")}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(Get(id).status(), StatusIs(StatusCode::kNotFound,
                                           "Secrets Manager can't find the specified secret."));
  }
}

TEST_F(ServiceTest, SecretsArePerRegion) {
  auto east = Create("shared", "east", Token("e"));
  ASSERT_TRUE(east.ok());
  ctx_ = Ctx("eu-west-1");
  EXPECT_THAT(Get("shared").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Get(east->arn).status(), StatusIs(StatusCode::kNotFound));
  auto west = Create("shared", "west", Token("w"));
  ASSERT_TRUE(west.ok()) << west.status().ToString();
  EXPECT_NE(west->arn.find(":eu-west-1:"), std::string::npos);
  EXPECT_EQ(GetString("shared"), "west");
  auto listed = service_->ListSecrets(ctx_, {});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->secret_list.size(), 1u);
  EXPECT_EQ(listed->secret_list[0].arn, west->arn);
  ctx_ = Ctx("us-east-1");
  EXPECT_EQ(GetString("shared"), "east");
}

TEST(SecretIdTest, ParseSecretArn) {
  auto p = ParseSecretArn("arn:aws:secretsmanager:us-east-1:123:secret:a/b-XyZ123");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->region, "us-east-1");
  EXPECT_EQ(p->account_id, "123");
  EXPECT_EQ(p->resource, "a/b-XyZ123");
  EXPECT_FALSE(ParseSecretArn("arn:aws:secretsmanager:us-east-1:123:secret:").has_value());
  EXPECT_FALSE(ParseSecretArn("arn:aws:kms:us-east-1:123:key/abc").has_value());
  EXPECT_FALSE(ParseSecretArn("name").has_value());
}

TEST_F(ServiceTest, SecretIdLengthIsChecked) {
  EXPECT_THAT(Get("").status(), StatusIs(StatusCode::kValidation));
  EXPECT_THAT(Get(std::string(2049, 'a')).status(), StatusIs(StatusCode::kValidation));
}

}  // namespace
}  // namespace coffer::secrets::testing
