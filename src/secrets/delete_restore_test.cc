// DeleteSecret, RestoreSecret and PurgeExpired with a FakeClock (reference §1.7).

#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

const std::string kMarked(msg::kMarkedForDeletion);

TEST_F(ServiceTest, DeleteSchedulesWithDefaultThirtyDayWindow) {
  auto created = Create("d", "v", Token("v1"));
  ASSERT_TRUE(created.ok());
  clock_.AdvanceMillis(1000);
  auto r = Delete("d");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->arn, created->arn);
  EXPECT_EQ(r->name, "d");
  EXPECT_EQ(r->deletion_date_ms, kStartMs + 1000 + 30 * kDayMs);

  auto d = Describe("d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->deleted_date_ms, r->deletion_date_ms);
  EXPECT_EQ(d->last_changed_date_ms, kStartMs + 1000);
}

TEST_F(ServiceTest, RecoveryWindowValidation) {
  ASSERT_TRUE(Create("d", "v").ok());
  EXPECT_THAT(Delete("d", 6).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kRecoveryWindowRange)));
  EXPECT_THAT(Delete("d", 31).status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Delete("d", 7, true).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kForceWithWindow)));
  auto r = Delete("d", 7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deletion_date_ms, kStartMs + 7 * kDayMs);
}

TEST_F(ServiceTest, ScheduledSecretRefusesOperations) {
  ASSERT_TRUE(Create("d", "v", Token("v1")).ok());
  ASSERT_TRUE(Delete("d").ok());
  EXPECT_THAT(Get("d").status(), StatusIs(StatusCode::kFailedPrecondition, kMarked));
  EXPECT_THAT(Put("d", "x", Token("v2")).status(),
              StatusIs(StatusCode::kFailedPrecondition, kMarked));
  UpdateSecretRequest u;
  u.secret_id = "d";
  u.description = "x";
  EXPECT_THAT(service_->UpdateSecret(ctx_, u).status(),
              StatusIs(StatusCode::kFailedPrecondition, kMarked));
  EXPECT_THAT(service_->TagResource(ctx_, {"d", {{"k", "v"}}}),
              StatusIs(StatusCode::kFailedPrecondition, kMarked));
  EXPECT_THAT(service_->UntagResource(ctx_, {"d", {"k"}}),
              StatusIs(StatusCode::kFailedPrecondition, kMarked));
  EXPECT_THAT(Create("d", "again", Token("v3")).status(),
              StatusIs(StatusCode::kFailedPrecondition, std::string(msg::kScheduledForDeletion)));
  EXPECT_THAT(Delete("d").status(), StatusIs(StatusCode::kFailedPrecondition));
  // Reads of metadata still work.
  EXPECT_TRUE(Describe("d").ok());
  EXPECT_TRUE(service_->ListSecretVersionIds(ctx_, {"d"}).ok());
}

TEST_F(ServiceTest, ListHidesScheduledSecretsUnlessAsked) {
  ASSERT_TRUE(Create("keep", "v").ok());
  ASSERT_TRUE(Create("gone", "v").ok());
  ASSERT_TRUE(Delete("gone").ok());
  auto plain = service_->ListSecrets(ctx_, {});
  ASSERT_TRUE(plain.ok());
  ASSERT_EQ(plain->secret_list.size(), 1u);
  EXPECT_EQ(plain->secret_list[0].name, "keep");
  ListSecretsRequest all;
  all.include_planned_deletion = true;
  auto with_deleted = service_->ListSecrets(ctx_, all);
  ASSERT_TRUE(with_deleted.ok());
  EXPECT_EQ(with_deleted->secret_list.size(), 2u);
}

TEST_F(ServiceTest, RestoreClearsDeletion) {
  ASSERT_TRUE(Create("r", "value", Token("v1")).ok());
  ASSERT_TRUE(Delete("r").ok());
  clock_.AdvanceMillis(2 * kDayMs);
  auto restored = service_->RestoreSecret(ctx_, {"r"});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->name, "r");
  auto d = Describe("r");
  EXPECT_FALSE(d->deleted_date_ms.has_value());
  EXPECT_EQ(d->last_changed_date_ms, kStartMs + 2 * kDayMs);
  EXPECT_EQ(GetString("r"), "value");
  // Restoring a secret that is not deleted is a no-op success.
  EXPECT_TRUE(service_->RestoreSecret(ctx_, {"r"}).ok());
  EXPECT_THAT(service_->RestoreSecret(ctx_, {"none"}).status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, PurgeHappensOnlyAfterTheWindow) {
  auto created = Create("p", "value", Token("v1"));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(Create("other", "value").ok());
  ASSERT_TRUE(Delete("p", 7).ok());
  clock_.AdvanceMillis(7 * kDayMs - 1);
  auto none = service_->PurgeExpired();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  EXPECT_TRUE(Describe("p").ok());

  clock_.AdvanceMillis(1);
  auto purged = service_->PurgeExpired();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_THAT(Describe("p").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(store_.ListVersions(created->arn)->empty());
  EXPECT_TRUE(Describe("other").ok());

  // The name is free again, under a new ARN.
  auto again = Create("p", "new", Token("v2"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(again->arn, created->arn);
  EXPECT_THAT(Get(created->arn).status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, ForceDeletePurgesImmediately) {
  auto created = Create("f", "value", Token("v1"));
  ASSERT_TRUE(created.ok());
  clock_.AdvanceMillis(500);
  auto r = Delete("f", std::nullopt, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->arn, created->arn);
  EXPECT_EQ(r->deletion_date_ms, kStartMs + 500);
  EXPECT_THAT(Describe("f").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(Create("f", "again", Token("v2")).ok());
}

TEST_F(ServiceTest, ForceDeleteOfScheduledSecretSucceeds) {
  ASSERT_TRUE(Create("f", "value").ok());
  ASSERT_TRUE(Delete("f").ok());
  EXPECT_TRUE(Delete("f", std::nullopt, true).ok());
  EXPECT_THAT(Describe("f").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, ForceDeleteOfMissingSecretSucceeds) {
  auto by_name = Delete("never-was", std::nullopt, true);
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->name, "never-was");
  EXPECT_EQ(
      by_name->arn.rfind("arn:aws:secretsmanager:us-east-1:000000000000:secret:never-was-", 0), 0u);
  const std::string arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:x-AbCdEf";
  auto by_arn = Delete(arn, std::nullopt, true);
  ASSERT_TRUE(by_arn.ok());
  EXPECT_EQ(by_arn->arn, arn);
  // Without force a missing secret is not found.
  EXPECT_THAT(Delete("never-was").status(), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace coffer::secrets::testing
