// GetSecretValue (reference §1.5 rule 7), LastAccessedDate, encryption binding, and
// BatchGetSecretValue.

#include "core/encoding.h"
#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"
#include "secrets/value_codec.h"

namespace coffer::secrets::testing {
namespace {

class GetValueTest : public ServiceTest {
 protected:
  void SetUp() override {
    auto created = Create("g", "one", Token("v1"));
    ASSERT_TRUE(created.ok());
    arn_ = created->arn;
    clock_.AdvanceMillis(1000);
    ASSERT_TRUE(Put("g", "two", Token("v2")).ok());
  }
  std::string arn_;
};

TEST_F(GetValueTest, DefaultsToAwsCurrent) {
  auto r = Get("g");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value.string, "two");
  EXPECT_EQ(r->version_id, Token("v2"));
  EXPECT_EQ(r->version_stages, std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(r->created_date_ms, kStartMs + 1000);
}

TEST_F(GetValueTest, ByStageAndByVersionId) {
  EXPECT_EQ(Get("g", std::nullopt, "AWSPREVIOUS")->value.string, "one");
  auto v1 = Get("g", Token("v1"));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->value.string, "one");
  EXPECT_EQ(v1->created_date_ms, kStartMs);
  EXPECT_TRUE(Get("g", Token("v1"), "AWSPREVIOUS").ok());
}

TEST_F(GetValueTest, Errors) {
  EXPECT_THAT(Get("g", std::nullopt, "AWSPENDING").status(),
              StatusIs(StatusCode::kNotFound, msg::ValueNotFoundForStage("AWSPENDING")));
  EXPECT_THAT(Get("g", Token("zz")).status(),
              StatusIs(StatusCode::kNotFound,
                       "Secrets Manager can't find the specified secret value for VersionId: " +
                           Token("zz")));
  EXPECT_THAT(Get("g", Token("v1"), "AWSCURRENT").status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       "You provided a VersionStage that is not associated to the provided "
                       "VersionId."));
}

TEST_F(GetValueTest, LastAccessedIsDayResolutionAndWrittenOncePerDay) {
  EXPECT_FALSE(Describe("g")->last_accessed_date_ms.has_value());
  ASSERT_TRUE(Get("g").ok());
  service_->FlushAccessRecords();
  const std::int64_t day = StartOfUtcDay(kStartMs);
  EXPECT_EQ(Describe("g")->last_accessed_date_ms, day);
  const auto commits = store_.commit_count();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Get("g").ok());
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits);
  // A read does not change LastChangedDate.
  EXPECT_EQ(Describe("g")->last_changed_date_ms, kStartMs + 1000);

  clock_.AdvanceMillis(kDayMs);
  ASSERT_TRUE(Get("g").ok());
  service_->FlushAccessRecords();
  EXPECT_EQ(store_.commit_count(), commits + 1);
  EXPECT_EQ(Describe("g")->last_accessed_date_ms, day + kDayMs);
  auto versions = service_->ListSecretVersionIds(ctx_, {"g"});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->versions[1].last_accessed_date_ms, day + kDayMs);
}

TEST_F(GetValueTest, StoredCiphertextHoldsNoPlaintextAndIsBoundToItsVersion) {
  auto v1 = store_.GetVersion(arn_, Token("v1"));
  auto v2 = store_.GetVersion(arn_, Token("v2"));
  ASSERT_TRUE(v1.ok() && v1->has_value() && v2.ok() && v2->has_value());
  EXPECT_EQ((*v2)->ciphertext.find("two"), std::string::npos);
  EXPECT_EQ((*v2)->key_version, 1u);
  // The blob of v1 does not open as v2.
  EXPECT_THAT(OpenValue(*envelope_, arn_, Token("v2"), (*v1)->ciphertext).status(),
              StatusIs(StatusCode::kDecryptionFailure));
  EXPECT_EQ(VersionAad(arn_, Token("v1")), arn_ + "\n" + Token("v1"));
}

TEST_F(ServiceTest, BatchGetByIdsReportsPerSecretErrors) {
  ASSERT_TRUE(Create("a", "va").ok());
  ASSERT_TRUE(Create("b", "vb").ok());
  ASSERT_TRUE(CreateEmpty("empty").ok());
  BatchGetSecretValueRequest r;
  r.secret_id_list = std::vector<std::string>{"a", "missing", "b", "empty"};
  auto out = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->secret_values.size(), 2u);
  EXPECT_EQ(out->secret_values[0].value.string, "va");
  EXPECT_EQ(out->secret_values[1].value.string, "vb");
  ASSERT_EQ(out->errors.size(), 2u);
  EXPECT_EQ(out->errors[0].secret_id, "missing");
  EXPECT_EQ(out->errors[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(out->errors[0].status.message(), "Secrets Manager can't find the specified secret.");
  EXPECT_EQ(out->errors[1].secret_id, "empty");
  EXPECT_FALSE(out->next_token.has_value());
}

TEST_F(ServiceTest, BatchGetValidation) {
  BatchGetSecretValueRequest neither;
  EXPECT_THAT(service_->BatchGetSecretValue(ctx_, neither).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kBatchIdsXorFilters)));
  BatchGetSecretValueRequest both;
  both.secret_id_list = std::vector<std::string>{"a"};
  both.filters = std::vector<Filter>{{"name", {"a"}}};
  EXPECT_THAT(service_->BatchGetSecretValue(ctx_, both).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kBatchIdsXorFilters)));
  BatchGetSecretValueRequest max_without_filters;
  max_without_filters.secret_id_list = std::vector<std::string>{"a"};
  max_without_filters.max_results = 5;
  EXPECT_THAT(
      service_->BatchGetSecretValue(ctx_, max_without_filters).status(),
      StatusIs(StatusCode::kInvalidArgument, std::string(msg::kBatchMaxResultsNeedsFilters)));
  BatchGetSecretValueRequest too_many;
  too_many.secret_id_list = std::vector<std::string>(21, "a");
  EXPECT_THAT(service_->BatchGetSecretValue(ctx_, too_many).status(),
              StatusIs(StatusCode::kValidation));
}

TEST_F(ServiceTest, BatchGetByFiltersPaginates) {
  for (const char* name : {"app/one", "app/two", "app/three", "other"}) {
    ASSERT_TRUE(Create(name, std::string("value-") + name).ok());
    clock_.AdvanceMillis(10);
  }
  BatchGetSecretValueRequest r;
  r.filters = std::vector<Filter>{{"name", {"app/"}}};
  r.max_results = 2;
  auto page1 = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(page1.ok()) << page1.status().ToString();
  ASSERT_EQ(page1->secret_values.size(), 2u);
  EXPECT_EQ(page1->secret_values[0].name, "app/one");
  ASSERT_TRUE(page1->next_token.has_value());
  r.next_token = page1->next_token;
  auto page2 = service_->BatchGetSecretValue(ctx_, r);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->secret_values.size(), 1u);
  EXPECT_EQ(page2->secret_values[0].value.string, "value-app/three");
  EXPECT_FALSE(page2->next_token.has_value());
}

}  // namespace
}  // namespace coffer::secrets::testing
