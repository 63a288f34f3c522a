// CreateSecret, PutSecretValue, UpdateSecret, tags: validation, idempotency and quotas.

#include <regex>

#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(ServiceTest, CreateReturnsArnWithSixCharacterSuffix) {
  auto r = Create("prod/db", "s3cr3t", Token("v1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(std::regex_match(
      r->arn,
      std::regex("arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-[A-Za-z0-9]{6}")))
      << r->arn;
  EXPECT_EQ(r->name, "prod/db");
  EXPECT_EQ(r->version_id, Token("v1"));
  EXPECT_EQ(GetString("prod/db"), "s3cr3t");
}

TEST_F(ServiceTest, CreateWithoutValueHasNoVersion) {
  auto r = CreateEmpty("empty");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->version_id.has_value());
  auto d = Describe("empty");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->version_ids_to_stages.has_value());
  EXPECT_EQ(d->created_date_ms, kStartMs);
  EXPECT_EQ(d->last_changed_date_ms, kStartMs);
  EXPECT_THAT(Get("empty").status(),
              StatusIs(StatusCode::kNotFound,
                       "Secrets Manager can't find the specified secret value for staging label: "
                       "AWSCURRENT"));
}

struct NameCase {
  std::string name;
  bool valid;
};

class NameValidationTest : public ServiceTest, public ::testing::WithParamInterface<NameCase> {};

TEST_P(NameValidationTest, AcceptsOnlyTheNameCharsetAndLength) {
  auto r = Create(GetParam().name, "v", Token("n"));
  if (GetParam().valid) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  } else {
    EXPECT_THAT(r.status(), StatusIs(StatusCode::kValidation));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Names, NameValidationTest,
    ::testing::Values(NameCase{"Valid/_+=.@-Name", true}, NameCase{"Valid/_+=.@-Name-a1b2", true},
                      NameCase{"Valid/_+=.@-Name-a1b2c3-", true}, NameCase{"a", true},
                      NameCase{std::string(512, 'x'), true}, NameCase{"", false},
                      NameCase{std::string(513, 'x'), false}, NameCase{"Inv Name", false},
                      NameCase{" Inv*Name? ", false}, NameCase{"bang!", false},
                      NameCase{"colon:name", false}, NameCase{"caf\xc3\xa9", false}));

TEST_F(ServiceTest, InvalidNameMessageIsAwsText) {
  EXPECT_THAT(Create("Inv Name", "v").status(),
              StatusIs(StatusCode::kValidation,
                       "Invalid name. Must be a valid name containing alphanumeric characters, "
                       "or any of the following: -/_+=.@!"));
  EXPECT_THAT(Get("Inv*Name?").status(),
              StatusIs(StatusCode::kValidation, std::string(msg::kInvalidName)));
}

TEST_F(ServiceTest, CreateExistingNameFails) {
  ASSERT_TRUE(Create("dup", "one", Token("a")).ok());
  EXPECT_THAT(Create("dup", "two", Token("b")).status(),
              StatusIs(StatusCode::kAlreadyExists,
                       "The operation failed because the secret dup already exists."));
  EXPECT_THAT(CreateEmpty("dup").status(), StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(ServiceTest, CreateRetryWithSameTokenAndValueIsIdempotent) {
  auto first = Create("idem", "value", Token("a"));
  ASSERT_TRUE(first.ok());
  const auto commits = store_.commit_count();
  auto again = Create("idem", "value", Token("a"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->arn, first->arn);
  EXPECT_EQ(again->version_id, Token("a"));
  EXPECT_EQ(store_.commit_count(), commits);
  EXPECT_THAT(Create("idem", "other", Token("a")).status(), StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(ServiceTest, ValueRequiresClientRequestToken) {
  const std::string message(msg::kTokenRequired);
  CreateSecretRequest c;
  c.name = "n";
  c.value = Str("v");
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(),
              StatusIs(StatusCode::kFailedPrecondition, message));
  ASSERT_TRUE(Create("n", "v").ok());
  PutSecretValueRequest p;
  p.secret_id = "n";
  p.value = Str("v2");
  EXPECT_THAT(service_->PutSecretValue(ctx_, p).status(),
              StatusIs(StatusCode::kFailedPrecondition, message));
  UpdateSecretRequest u;
  u.secret_id = "n";
  u.value = Str("v3");
  EXPECT_THAT(service_->UpdateSecret(ctx_, u).status(),
              StatusIs(StatusCode::kFailedPrecondition, message));
}

TEST_F(ServiceTest, TokenLengthIsChecked) {
  EXPECT_THAT(Create("t", "v", "short").status(), StatusIs(StatusCode::kValidation));
  EXPECT_THAT(Create("t", "v", std::string(65, 'a')).status(), StatusIs(StatusCode::kValidation));
  EXPECT_TRUE(Create("t", "v", std::string(32, 'a')).ok());
}

TEST_F(ServiceTest, BothStringAndBinaryIsInvalidParameter) {
  CreateSecretRequest c;
  c.name = "both";
  c.client_request_token = Token("a");
  c.value = SecretValue{"s", "b"};
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ServiceTest, ValueSizeLimitIs65536Bytes) {
  const std::string max(65536, 'a');
  ASSERT_TRUE(Create("big", max, Token("a")).ok());
  EXPECT_EQ(GetString("big"), max);
  const std::string over(65537, 'b');
  auto r = Put("big", over, Token("b"));
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status().message(), HasSubstr("65536"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("bbbb")));

  CreateSecretRequest c;
  c.name = "bigbin";
  c.client_request_token = Token("c");
  c.value = Bin(std::string(65537, '\x01'));
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ServiceTest, BinaryValuesRoundTrip) {
  CreateSecretRequest c;
  c.name = "bin";
  c.client_request_token = Token("a");
  c.value = Bin(std::string("\x00\xff\x10", 3));
  ASSERT_TRUE(service_->CreateSecret(ctx_, c).ok());
  auto r = Get("bin");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->value.string.has_value());
  EXPECT_EQ(r->value.binary, std::string("\x00\xff\x10", 3));
}

TEST_F(ServiceTest, PutIdempotency) {
  ASSERT_TRUE(Create("p", "one", Token("v1")).ok());
  auto first = Put("p", "two", Token("v2"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->version_stages, std::vector<std::string>{"AWSCURRENT"});
  const auto commits = store_.commit_count();
  auto retry = Put("p", "two", Token("v2"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->version_id, Token("v2"));
  EXPECT_EQ(store_.commit_count(), commits);
  EXPECT_EQ(Stages("p").size(), 2u);

  auto conflict = Put("p", "three", Token("v2"));
  EXPECT_THAT(conflict.status(),
              StatusIs(StatusCode::kAlreadyExists,
                       "You can't use ClientRequestToken " + Token("v2") +
                           " because that value is already in use for a version of secret " +
                           first->arn + "."));
  EXPECT_EQ(GetString("p"), "two");
}

TEST_F(ServiceTest, PutWithoutValueIsRejected) {
  ASSERT_TRUE(Create("p", "one").ok());
  PutSecretValueRequest r;
  r.secret_id = "p";
  r.client_request_token = Token("x");
  EXPECT_THAT(service_->PutSecretValue(ctx_, r).status(),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ServiceTest, UpdateMetadataOnlyCreatesNoVersion) {
  CreateSecretRequest c;
  c.name = "u";
  c.client_request_token = Token("v1");
  c.value = Str("one");
  c.kms_key_id = "alias/mine";
  ASSERT_TRUE(service_->CreateSecret(ctx_, c).ok());
  clock_.AdvanceMillis(5000);
  UpdateSecretRequest u;
  u.secret_id = "u";
  u.description = "the description";
  u.kms_key_id = "";
  u.client_request_token = Token("unused");
  auto r = service_->UpdateSecret(ctx_, u);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->version_id.has_value());
  auto d = Describe("u");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->description, "the description");
  EXPECT_FALSE(d->kms_key_id.has_value());
  EXPECT_EQ(d->last_changed_date_ms, kStartMs + 5000);
  EXPECT_EQ(Stages("u").size(), 1u);
  EXPECT_EQ(GetString("u"), "one");
}

TEST_F(ServiceTest, UpdateWithValueAndDescriptionDoesBoth) {
  ASSERT_TRUE(Create("u", "one", Token("v1")).ok());
  UpdateSecretRequest u;
  u.secret_id = "u";
  u.description = "d";
  u.client_request_token = Token("v2");
  u.value = Str("two");
  auto r = service_->UpdateSecret(ctx_, u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version_id, Token("v2"));
  EXPECT_EQ(GetString("u"), "two");
  EXPECT_EQ(Describe("u")->description, "d");
}

TEST_F(ServiceTest, ReplicaRegionsAreRejected) {
  CreateSecretRequest c;
  c.name = "r";
  c.add_replica_regions = std::vector<ReplicaRegion>{{"eu-west-1", std::nullopt}};
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(),
              StatusIs(StatusCode::kFailedPrecondition, std::string(msg::kReplicationUnsupported)));
}

std::vector<Tag> MakeTags(int n, const std::string& prefix = "k") {
  std::vector<Tag> tags;
  for (int i = 0; i < n; ++i) tags.push_back({prefix + std::to_string(i), "v"});
  return tags;
}

TEST_F(ServiceTest, TagQuotaIsFifty) {
  CreateSecretRequest c;
  c.name = "t";
  c.tags = MakeTags(51);
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(), StatusIs(StatusCode::kInvalidArgument));
  c.tags = MakeTags(50);
  ASSERT_TRUE(service_->CreateSecret(ctx_, c).ok());
  EXPECT_EQ(Describe("t")->tags->size(), 50u);
  // Overwriting existing keys keeps the count; one new key exceeds it.
  EXPECT_TRUE(service_->TagResource(ctx_, {"t", MakeTags(50)}).ok());
  EXPECT_THAT(service_->TagResource(ctx_, {"t", {{"new", "x"}}}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ServiceTest, TagAndUntag) {
  ASSERT_TRUE(CreateEmpty("t").ok());
  EXPECT_FALSE(Describe("t")->tags.has_value());
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(service_->TagResource(ctx_, {"t", {{"env", "dev"}, {"team", "a"}}}).ok());
  ASSERT_TRUE(service_->TagResource(ctx_, {"t", {{"env", "prod"}}}).ok());
  auto d = Describe("t");
  ASSERT_TRUE(d->tags.has_value());
  ASSERT_EQ(d->tags->size(), 2u);
  EXPECT_EQ((*d->tags)[0].key, "env");
  EXPECT_EQ((*d->tags)[0].value, "prod");
  EXPECT_EQ(d->last_changed_date_ms, kStartMs + 1000);
  ASSERT_TRUE(service_->UntagResource(ctx_, {"t", {"env", "missing"}}).ok());
  ASSERT_TRUE(service_->UntagResource(ctx_, {"t", {"team"}}).ok());
  EXPECT_FALSE(Describe("t")->tags.has_value());
  EXPECT_THAT(service_->TagResource(ctx_, {"t", {{"", "x"}}}), StatusIs(StatusCode::kValidation));
  EXPECT_THAT(service_->TagResource(ctx_, {"t", {{"k", std::string(257, 'v')}}}),
              StatusIs(StatusCode::kValidation));
  EXPECT_THAT(service_->TagResource(ctx_, {"nope", {{"k", "v"}}}), StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, DescriptionLengthIsChecked) {
  CreateSecretRequest c;
  c.name = "d";
  c.description = std::string(2049, 'd');
  EXPECT_THAT(service_->CreateSecret(ctx_, c).status(), StatusIs(StatusCode::kValidation));
  c.description = std::string(2048, 'd');
  EXPECT_TRUE(service_->CreateSecret(ctx_, c).ok());
}

}  // namespace
}  // namespace coffer::secrets::testing
