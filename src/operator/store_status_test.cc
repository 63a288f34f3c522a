#include "operator/store_status.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "operator/metrics_names.h"

namespace coffer::op {
namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;

SecretStore AwsStore() {
  SecretStore s;
  s.metadata.name = "aws-secrets-manager";
  s.metadata.namespace_ = "ml-platform";
  s.provider_type = ProviderType::kAws;
  s.aws.service = "SecretsManager";
  s.aws.region = "us-east-1";
  return s;
}

struct StoreCase {
  std::string name;
  StoreValidation outcome;
  StatusCode code;
  std::string cause;
  std::string status;
  std::string reason;
  std::string message;
  std::string event_type;
  std::string event_message;
  std::string capabilities;
};

TEST(StoreStatusTest, ReasonsAndMessagesLikeEso) {
  const StoreCase cases[] = {
      {"valid", StoreValidation::kValid, StatusCode::kOk, "", "True", "Valid", "store validated",
       "Normal", "store validated", "ReadWrite"},
      {"unknown counts as valid", StoreValidation::kUnknown, StatusCode::kOk, "", "True", "Valid",
       "store validated", "Normal", "store validated", "ReadWrite"},
      {"client error", StoreValidation::kClientError, StatusCode::kNotFound,
       "Secret \"coffer-credentials\" not found in namespace ml-platform", "False",
       "InvalidProviderConfig", "unable to create client", "Warning",
       "Secret \"coffer-credentials\" not found in namespace ml-platform", ""},
      {"config error", StoreValidation::kConfigError, StatusCode::kInvalidArgument,
       "region is not valid", "False", "InvalidProviderConfig",
       "unable to validate store: region is not valid", "Warning", "region is not valid", ""},
      {"rejected", StoreValidation::kFailed, StatusCode::kUnauthenticated,
       "The security token included in the request is invalid.", "False", "ValidationFailed",
       "unable to validate store: The security token included in the request is invalid.",
       "Warning", "The security token included in the request is invalid.", ""},
  };
  for (const StoreCase& c : cases) {
    SCOPED_TRACE(c.name);
    SecretStore store = AwsStore();
    const StoreValidationResult result{
        c.outcome, c.code == StatusCode::kOk ? Status::Ok() : Status(c.code, c.cause)};
    StoreStatusPlan plan = ComputeStoreStatus(&store, {}, result, kNow);
    const Condition* ready = FindCondition(plan.conditions, "Ready");
    ASSERT_NE(ready, nullptr);
    EXPECT_EQ(ready->status, c.status);
    EXPECT_EQ(ready->reason, c.reason);
    EXPECT_EQ(ready->message, c.message);
    EXPECT_EQ(ready->last_transition_time, FormatIso8601(kNow));
    EXPECT_EQ(plan.ready, c.status == "True");
    EXPECT_EQ(StoreIsReady(plan.conditions), plan.ready);
    ASSERT_EQ(plan.events.size(), 1u);
    EXPECT_EQ(plan.events[0].type, c.event_type);
    EXPECT_EQ(plan.events[0].reason, c.reason);
    EXPECT_EQ(plan.events[0].message, c.event_message);
    EXPECT_EQ(plan.capabilities, c.capabilities);
    EXPECT_EQ(plan.status.value("capabilities", ""), c.capabilities);
    EXPECT_EQ(plan.status["conditions"][0]["reason"], c.reason);
    EXPECT_TRUE(plan.status_changed);
    EXPECT_EQ(plan.requeue_after_ms, kDefaultStoreRequeueMs);
  }
}

TEST(StoreStatusTest, UnparsableStoreAndRequeueInterval) {
  StoreStatusPlan plan = ComputeStoreStatus(
      nullptr, {},
      {StoreValidation::kClientError,
       Status::InvalidArgument("spec.provider: provider \"vault\" is not supported")},
      kNow);
  EXPECT_FALSE(plan.ready);
  EXPECT_EQ(FindCondition(plan.conditions, "Ready")->reason, "InvalidProviderConfig");
  EXPECT_EQ(plan.requeue_after_ms, kDefaultStoreRequeueMs);

  SecretStore store = AwsStore();
  store.refresh_interval_ms = 60'000;
  EXPECT_EQ(ComputeStoreStatus(&store, {}, {}, kNow).requeue_after_ms, 60'000);
}

TEST(StoreStatusTest, RevalidationKeepsTransitionTimeAndReportsNoChange) {
  SecretStore store = AwsStore();
  StoreStatusPlan first = ComputeStoreStatus(&store, {}, {}, kNow);
  StoreStatusPlan second = ComputeStoreStatus(&store, first.conditions, {}, kNow + 300'000);
  EXPECT_FALSE(second.status_changed);
  EXPECT_EQ(FindCondition(second.conditions, "Ready")->last_transition_time, FormatIso8601(kNow));
  StoreStatusPlan broken = ComputeStoreStatus(
      &store, second.conditions, {StoreValidation::kFailed, Status::Unavailable("timeout")},
      kNow + 600'000);
  EXPECT_TRUE(broken.status_changed);
  EXPECT_EQ(FindCondition(broken.conditions, "Ready")->last_transition_time,
            FormatIso8601(kNow + 600'000));
  EXPECT_FALSE(StoreIsReady(broken.conditions));
}

TEST(StoreStatusTest, CapabilitiesPerProvider) {
  EXPECT_EQ(ProviderCapabilities(ProviderType::kAws), "ReadWrite");
  EXPECT_EQ(ProviderCapabilities(ProviderType::kFake), "ReadWrite");
}

TEST(MetricsNamesTest, EsoNamesAndLabels) {
  EXPECT_EQ(metrics::kSyncCallsTotal, "externalsecret_sync_calls_total");
  EXPECT_EQ(metrics::kSyncCallsError, "externalsecret_sync_calls_error");
  EXPECT_EQ(metrics::kSyncCallsErrorSeedAlias, "external_secrets_sync_calls_error");
  EXPECT_EQ(metrics::kStatusCondition, "externalsecret_status_condition");
  EXPECT_EQ(metrics::kReconcileDuration, "externalsecret_reconcile_duration");
  EXPECT_EQ(metrics::kProviderApiCallsCount, "externalsecret_provider_api_calls_count");
  EXPECT_EQ(metrics::kSecretStoreStatusCondition, "secretstore_status_condition");
  EXPECT_EQ(metrics::kConditionLabels[2], "condition");
  EXPECT_EQ(metrics::kProviderCallLabels[0], "provider");
  EXPECT_EQ(metrics::kProviderAwsSecretsManager, "AWS/SecretsManager");
}

}  // namespace
}  // namespace coffer::op
