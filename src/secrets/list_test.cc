// ListSecrets filters, sorting and pagination; ListSecretVersionIds (reference §1.8).

#include "secrets/list_filters.h"
#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

class ListTest : public ServiceTest {
 protected:
  void SetUp() override {
    AddSecret("prod/db", "Primary database credentials", {{"env", "prod"}, {"team", "data"}});
    AddSecret("prod/api-key", "Payment API key", {{"env", "prod"}});
    AddSecret("dev/db", "credsDatabase#892 for dev", {{"env", "dev"}, {"Owner", "alice"}});
    AddSecret("Prod/legacy", "", {});
  }
  void AddSecret(const std::string& name, const std::string& description, std::vector<Tag> tags) {
    CreateSecretRequest r;
    r.name = name;
    if (!description.empty()) r.description = description;
    r.tags = std::move(tags);
    auto out = service_->CreateSecret(ctx_, r);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    clock_.AdvanceMillis(1000);
  }
  std::vector<std::string> ListNames(ListSecretsRequest r) {
    std::vector<std::string> names;
    auto out = service_->ListSecrets(ctx_, r);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (out.ok()) {
      for (const auto& e : out->secret_list) names.push_back(e.name);
    }
    return names;
  }
  std::vector<std::string> Filtered(std::vector<Filter> filters) {
    ListSecretsRequest r;
    r.filters = std::move(filters);
    return ListNames(r);
  }
};

using Names = std::vector<std::string>;

TEST_F(ListTest, DefaultOrderIsCreatedAscending) {
  EXPECT_EQ(ListNames({}), (Names{"prod/db", "prod/api-key", "dev/db", "Prod/legacy"}));
}

TEST_F(ListTest, NameFilterIsCaseSensitivePrefix) {
  EXPECT_EQ(Filtered({{"name", {"prod/"}}}), (Names{"prod/db", "prod/api-key"}));
  EXPECT_EQ(Filtered({{"name", {"Prod"}}}), (Names{"Prod/legacy"}));
  EXPECT_EQ(Filtered({{"name", {"db"}}}), Names{});
}

TEST_F(ListTest, ValuesAreOredAndFiltersAnded) {
  EXPECT_EQ(Filtered({{"name", {"dev/", "Prod/"}}}), (Names{"dev/db", "Prod/legacy"}));
  EXPECT_EQ(Filtered({{"name", {"prod/"}}, {"tag-key", {"team"}}}), (Names{"prod/db"}));
}

TEST_F(ListTest, NegationExcludes) {
  EXPECT_EQ(Filtered({{"name", {"!prod/"}}}), (Names{"dev/db", "Prod/legacy"}));
  EXPECT_EQ(Filtered({{"tag-value", {"!prod"}}}), (Names{"dev/db", "Prod/legacy"}));
}

TEST_F(ListTest, TagFilters) {
  EXPECT_EQ(Filtered({{"tag-key", {"env"}}}), (Names{"prod/db", "prod/api-key", "dev/db"}));
  EXPECT_EQ(Filtered({{"tag-key", {"owner"}}}), Names{});  // case-sensitive
  EXPECT_EQ(Filtered({{"tag-value", {"al"}}}), (Names{"dev/db"}));
}

TEST_F(ListTest, DescriptionIsCaseInsensitiveAndMatchesWords) {
  EXPECT_EQ(Filtered({{"description", {"primary"}}}), (Names{"prod/db"}));
  EXPECT_EQ(Filtered({{"description", {"DATABASE"}}}), (Names{"prod/db", "dev/db"}));
  EXPECT_EQ(Filtered({{"description", {"api key"}}}), (Names{"prod/api-key"}));
}

TEST_F(ListTest, AllMatchesWordsAcrossAttributes) {
  EXPECT_EQ(Filtered({{"all", {"alice"}}}), (Names{"dev/db"}));
  EXPECT_EQ(Filtered({{"all", {"legacy"}}}), (Names{"Prod/legacy"}));
  EXPECT_EQ(Filtered({{"all", {"892"}}}), (Names{"dev/db"}));
  EXPECT_EQ(Filtered({{"all", {"PROD"}}}), (Names{"prod/db", "prod/api-key", "Prod/legacy"}));
}

TEST_F(ListTest, OwningServiceNeverMatches) {
  EXPECT_EQ(Filtered({{"owning-service", {"rds"}}}), Names{});
  EXPECT_EQ(Filtered({{"primary-region", {"us-east"}}}).size(), 4u);
}

TEST_F(ListTest, InvalidFiltersAreRejected) {
  ListSecretsRequest r;
  r.filters = std::vector<Filter>{{"colour", {"x"}}};
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.filters = std::vector<Filter>{{"name", {"bad*char"}}};
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.filters = std::vector<Filter>{{"name", {}}};
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.filters = std::vector<Filter>(11, Filter{"name", {"a"}});
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
}

TEST_F(ListTest, SortByAndOrder) {
  ListSecretsRequest r;
  r.sort_by = "name";
  EXPECT_EQ(ListNames(r), (Names{"Prod/legacy", "dev/db", "prod/api-key", "prod/db"}));
  r.sort_order = "desc";
  EXPECT_EQ(ListNames(r), (Names{"prod/db", "prod/api-key", "dev/db", "Prod/legacy"}));
  r.sort_by.reset();
  EXPECT_EQ(ListNames(r), (Names{"Prod/legacy", "dev/db", "prod/api-key", "prod/db"}));

  ASSERT_TRUE(service_->TagResource(ctx_, {"prod/db", {{"x", "y"}}}).ok());
  r.sort_by = "last-changed-date";
  EXPECT_EQ(ListNames(r).front(), "prod/db");
  r.sort_by = "bogus";
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
}

TEST_F(ListTest, SortByLastAccessed) {
  ASSERT_TRUE(Put("dev/db", "v", Token("a")).ok());
  clock_.AdvanceMillis(kDayMs);
  ASSERT_TRUE(Put("prod/db", "v", Token("b")).ok());
  ASSERT_TRUE(Get("prod/db").ok());
  clock_.AdvanceMillis(-kDayMs);
  ASSERT_TRUE(Get("dev/db").ok());
  ListSecretsRequest r;
  r.sort_by = "last-accessed-date";
  r.sort_order = "desc";
  const auto names = ListNames(r);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "prod/db");
  EXPECT_EQ(names[1], "dev/db");
}

TEST_F(ListTest, PaginatesWithOpaqueTokens) {
  ListSecretsRequest r;
  r.max_results = 3;
  auto page1 = service_->ListSecrets(ctx_, r);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(page1->secret_list.size(), 3u);
  ASSERT_TRUE(page1->next_token.has_value());
  r.next_token = page1->next_token;
  auto page2 = service_->ListSecrets(ctx_, r);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->secret_list.size(), 1u);
  EXPECT_EQ(page2->secret_list[0].name, "Prod/legacy");
  EXPECT_FALSE(page2->next_token.has_value());

  // A token only works for the query that made it.
  r.filters = std::vector<Filter>{{"name", {"prod"}}};
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(),
              StatusIs(StatusCode::kInvalidNextToken, std::string(msg::kInvalidNextToken)));
  r.filters.reset();
  r.next_token = "garbage";
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kInvalidNextToken));
  r.next_token.reset();
  r.max_results = 0;
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.max_results = 101;
  EXPECT_THAT(service_->ListSecrets(ctx_, r).status(), StatusIs(StatusCode::kValidation));
}

TEST_F(ListTest, EntriesCarryVersionsToStages) {
  ASSERT_TRUE(Put("prod/db", "v", Token("a")).ok());
  ListSecretsRequest r;
  r.filters = std::vector<Filter>{{"name", {"prod/db"}}};
  auto out = service_->ListSecrets(ctx_, r);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->secret_list.size(), 1u);
  const auto& e = out->secret_list[0];
  ASSERT_TRUE(e.version_ids_to_stages.has_value());
  EXPECT_EQ((*e.version_ids_to_stages)[0].version_id, Token("a"));
  EXPECT_FALSE(e.owning_service.has_value());
  EXPECT_EQ(e.description, "Primary database credentials");
}

TEST_F(ServiceTest, ListSecretVersionIdsHidesDeprecatedByDefault) {
  ASSERT_TRUE(Create("v", "1", Token("v1")).ok());
  ASSERT_TRUE(Put("v", "2", Token("v2")).ok());
  ASSERT_TRUE(Put("v", "3", Token("v3")).ok());
  auto out = service_->ListSecretVersionIds(ctx_, {"v"});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->versions.size(), 2u);
  EXPECT_EQ(out->versions[0].version_id, Token("v2"));
  EXPECT_EQ(out->versions[0].kms_key_ids, std::vector<std::string>{"DefaultEncryptionKey"});
  EXPECT_EQ(out->name, "v");

  ListSecretVersionIdsRequest r{"v", std::nullopt, std::nullopt, true};
  auto all = service_->ListSecretVersionIds(ctx_, r);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->versions.size(), 3u);
  EXPECT_EQ(all->versions[0].version_id, Token("v1"));
  EXPECT_FALSE(all->versions[0].version_stages.has_value());

  r.max_results = 2;
  auto page1 = service_->ListSecretVersionIds(ctx_, r);
  ASSERT_TRUE(page1.ok() && page1->next_token.has_value());
  r.next_token = page1->next_token;
  auto page2 = service_->ListSecretVersionIds(ctx_, r);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->versions.size(), 1u);
  EXPECT_EQ(page2->versions[0].version_id, Token("v3"));
}

TEST_F(ServiceTest, ListSecretVersionIdsShowsTheSecretKmsKey) {
  CreateSecretRequest c;
  c.name = "k";
  c.kms_key_id = "alias/custom";
  c.client_request_token = Token("a");
  c.value = Str("v");
  ASSERT_TRUE(service_->CreateSecret(ctx_, c).ok());
  auto out = service_->ListSecretVersionIds(ctx_, {"k"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->versions[0].kms_key_ids, std::vector<std::string>{"alias/custom"});
  EXPECT_EQ(Describe("k")->kms_key_id, "alias/custom");
}

TEST(ListFiltersTest, SplitWords) {
  EXPECT_EQ(SplitWords("credsDatabase#892"),
            (std::vector<std::string>{"creds", "Database", "892"}));
  EXPECT_EQ(SplitWords("prod/db-main v2"),
            (std::vector<std::string>{"prod", "db", "main", "v", "2"}));
  EXPECT_TRUE(SplitWords("--//").empty());
}

}  // namespace
}  // namespace coffer::secrets::testing
