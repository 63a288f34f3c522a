// End-to-end runs of the pure pipeline, the way the controller strings it together: the seed
// guide's manifests are parsed, the reads are planned, "fetched", reconciled, and the written
// objects are fed back in as the apiserver would return them.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "operator/reconcile.h"
#include "operator/test_yaml.h"

namespace coffer::op {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'767'225'600'000;
constexpr std::int64_t kMinute = 60'000;

json SeedDocument(std::size_t index) {
  std::ifstream in("testdata/seed_manifests.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return testing::YamlToJson(ss.str()).at(index);
}

// What the apiserver adds to an ExternalSecret on create.
json AsStored(json object) {
  object["metadata"]["uid"] = "uid-" + object["metadata"]["name"].get<std::string>();
  object["metadata"]["generation"] = 1;
  if (!object["metadata"].contains("namespace")) object["metadata"]["namespace"] = "ml-platform";
  return object;
}

ObservedSecret StoredSecret(json object, int resource_version) {
  object["metadata"]["resourceVersion"] = std::to_string(resource_version);
  return *ParseSecret(object);
}

FetchResult Backend(const ExternalSecret& es, const std::map<std::string, std::string>& remote) {
  FetchResult f;
  for (const FetchKey& k : RequiredFetches(es)) {
    auto it = remote.find(k.key);
    f.values[k] = it == remote.end() ? FetchOutcome{Status::NotFound("not found"), {}}
                                     : FetchOutcome{Status::Ok(), {it->second}};
  }
  return f;
}

// Applies a plan's status to the stored object, as the status patch would.
void ApplyStatus(json& object, const Plan& plan) { object["status"] = StatusToJson(plan.status); }

TEST(PipelineTest, SeedRotatedSecretLifecycle) {
  json object = AsStored(SeedDocument(0));
  std::map<std::string, std::string> remote = {
      {"ml-platform/database", R"({"password":"first-password","user":"mlflow"})"}};

  // 1. First reconcile: the Secret is created with the property's value.
  ExternalSecret es = *ParseExternalSecret(object);
  ObservedState observed;
  ASSERT_TRUE(NeedsRefresh(es, observed, kNow));
  Plan plan = ReconcileExternalSecret(es, observed, Backend(es, remote), kNow);
  ASSERT_EQ(plan.action, SecretAction::kCreate);
  EXPECT_EQ(*Base64Decode(plan.secret["data"]["database-password"].get<std::string>()),
            "first-password");
  EXPECT_EQ(plan.secret["data"].size(), 1u);
  EXPECT_EQ(plan.secret["metadata"]["ownerReferences"][0]["apiVersion"],
            "external-secrets.io/v1beta1");
  EXPECT_EQ(plan.requeue_after_ms, 15 * kMinute);
  ApplyStatus(object, plan);
  observed.target = StoredSecret(plan.secret, 1);

  // 2. The operator restarts 5 minutes later: nothing to do, nothing written.
  es = *ParseExternalSecret(object);
  EXPECT_FALSE(NeedsRefresh(es, observed, kNow + 5 * kMinute));
  EXPECT_EQ(NextRefreshDelay(es, kNow + 5 * kMinute), 10 * kMinute);

  // 3. Due after 15 minutes with an unchanged remote value: a fetch, but no Secret write.
  ASSERT_TRUE(NeedsRefresh(es, observed, kNow + 15 * kMinute + 1000));
  plan = ReconcileExternalSecret(es, observed, Backend(es, remote), kNow + 15 * kMinute + 1000);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  ApplyStatus(object, plan);

  // 4. The value is rotated in the store, and force-sync is annotated: the update happens at once.
  remote["ml-platform/database"] = R"({"password":"rotated-password","user":"mlflow"})";
  object["metadata"]["annotations"]["force-sync"] = "1767226800";
  es = *ParseExternalSecret(object);
  const std::int64_t t4 = kNow + 16 * kMinute;
  ASSERT_TRUE(NeedsRefresh(es, observed, t4));
  plan = ReconcileExternalSecret(es, observed, Backend(es, remote), t4);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_EQ(*Base64Decode(plan.patch["data"]["database-password"].get<std::string>()),
            "rotated-password");
  EXPECT_EQ(plan.patch["metadata"]["resourceVersion"], "1");
  ApplyStatus(object, plan);
  observed.target = StoredSecret(plan.secret, 2);
  es = *ParseExternalSecret(object);
  EXPECT_FALSE(NeedsRefresh(es, observed, t4 + kMinute));

  // 5. Outage: the backend is down at the next refresh. The Secret stays, Ready turns False.
  const std::int64_t t5 = t4 + 16 * kMinute;
  FetchResult down;
  down.values[{"ml-platform/database"}] = {Status::Unavailable("connection refused"), {}};
  plan = ReconcileExternalSecret(es, observed, down, t5);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(plan.requeue_after_ms, 5'000);
  ApplyStatus(object, plan);
  observed.consecutive_failures = plan.consecutive_failures;
  es = *ParseExternalSecret(object);
  EXPECT_EQ(es.status.conditions.at(0).status, "False");
  ASSERT_TRUE(NeedsRefresh(es, observed, t5 + 5'000));  // the retry refetches

  // 6. Recovery: Ready True again, no write (the value did not change), failures reset.
  plan = ReconcileExternalSecret(es, observed, Backend(es, remote), t5 + 5'000);
  EXPECT_TRUE(plan.ok);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_EQ(plan.consecutive_failures, 0);
  EXPECT_EQ(plan.status.conditions.at(0).status, "True");
}

TEST(PipelineTest, SeedMinimalManifestSyncsTheWholeValue) {
  json object = AsStored(SeedDocument(1));
  ExternalSecret es = *ParseExternalSecret(object);
  Plan plan = ReconcileExternalSecret(
      es, {}, Backend(es, {{"ml-platform/service/credential", "s3cr3t-no-json"}}), kNow);
  ASSERT_EQ(plan.action, SecretAction::kCreate);
  EXPECT_EQ(plan.secret["metadata"]["name"], "service-credentials");
  EXPECT_EQ(*Base64Decode(plan.secret["data"]["password"].get<std::string>()), "s3cr3t-no-json");
  EXPECT_EQ(plan.requeue_after_ms, 60 * kMinute);  // default refreshInterval
}

TEST(PipelineTest, DeletedTargetIsRecreatedAndRemoteDeletionHonoursDelete) {
  json object = AsStored(SeedDocument(0));
  object["spec"]["target"]["deletionPolicy"] = "Delete";
  ExternalSecret es = *ParseExternalSecret(object);
  std::map<std::string, std::string> remote = {{"ml-platform/database", R"({"password":"p"})"}};
  Plan plan = ReconcileExternalSecret(es, {}, Backend(es, remote), kNow);
  ApplyStatus(object, plan);
  es = *ParseExternalSecret(object);

  // kubectl delete secret rotated-secret: refreshed before the interval, and recreated.
  ObservedState gone;
  ASSERT_TRUE(NeedsRefresh(es, gone, kNow + kMinute));
  EXPECT_EQ(ReconcileExternalSecret(es, gone, Backend(es, remote), kNow + kMinute).action,
            SecretAction::kCreate);

  // The remote secret is deleted: the Kubernetes Secret goes too.
  ObservedState present;
  present.target = StoredSecret(plan.secret, 1);
  Plan del = ReconcileExternalSecret(es, present, Backend(es, {}), kNow + 20 * kMinute);
  EXPECT_EQ(del.action, SecretAction::kDelete);
  EXPECT_EQ(del.status.conditions.at(0).reason, "SecretDeleted");
}

}  // namespace
}  // namespace coffer::op
