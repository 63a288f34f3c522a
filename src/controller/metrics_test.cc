#include "controller/metrics.h"

#include <optional>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace coffer::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the series `series` (name{labels...} as rendered) in `text`, if present.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

std::string Es(const std::string& metric, const std::string& name, const std::string& ns) {
  return metric + "{name=\"" + name + "\",namespace=\"" + ns + "\"}";
}

std::string Condition(const std::string& metric, const std::string& name, const std::string& ns,
                      const std::string& status) {
  return metric + "{name=\"" + name + "\",namespace=\"" + ns + "\",condition=\"Ready\",status=\"" +
         status + "\"}";
}

TEST(OperatorMetricsTest, RendersEsoNamesAndLabels) {
  metrics::Registry registry;
  OperatorMetrics m(registry);
  m.RecordSync("team", "db", true, 1'500'000, "True");
  m.RecordStore(op::StoreKind::kSecretStore, "team", "aws", "True", 2'000);
  m.RecordStore(op::StoreKind::kClusterSecretStore, "", "global", "False", 3'000);
  m.RecordProviderCall("AWS/SecretsManager", "GetSecretValue", true);
  m.RecordProviderCall("AWS/SecretsManager", "GetSecretValue", false);
  m.RecordProviderCall("AWS/SecretsManager", "GetSecretValue", true);
  const std::string text = registry.Render();

  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_total", "db", "team")), 1);
  EXPECT_EQ(Sample(text, Es("externalsecret_reconcile_duration", "db", "team")), 1'500'000);
  EXPECT_EQ(Sample(text, Condition("externalsecret_status_condition", "db", "team", "True")), 1);
  EXPECT_EQ(Sample(text, Condition("externalsecret_status_condition", "db", "team", "False")), 0);
  EXPECT_EQ(Sample(text, Condition("secretstore_status_condition", "aws", "team", "True")), 1);
  EXPECT_EQ(Sample(text, Es("secretstore_reconcile_duration", "aws", "team")), 2'000);
  EXPECT_EQ(Sample(text, Condition("clustersecretstore_status_condition", "global", "", "False")),
            1);
  EXPECT_EQ(Sample(text, Condition("clustersecretstore_status_condition", "global", "", "True")),
            0);
  EXPECT_EQ(Sample(text, Es("clustersecretstore_reconcile_duration", "global", "")), 3'000);
  EXPECT_EQ(Sample(text,
                   "externalsecret_provider_api_calls_count{provider=\"AWS/SecretsManager\","
                   "call=\"GetSecretValue\",status=\"success\"}"),
            2);
  EXPECT_EQ(Sample(text,
                   "externalsecret_provider_api_calls_count{provider=\"AWS/SecretsManager\","
                   "call=\"GetSecretValue\",status=\"error\"}"),
            1);
  EXPECT_THAT(text, HasSubstr("# TYPE externalsecret_sync_calls_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE externalsecret_sync_calls_error counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE external_secrets_sync_calls_error counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE externalsecret_status_condition gauge"));
  EXPECT_THAT(text, HasSubstr("# TYPE externalsecret_reconcile_duration gauge"));
  EXPECT_THAT(text, HasSubstr("# TYPE secretstore_status_condition gauge"));
  EXPECT_THAT(text, HasSubstr("# TYPE clustersecretstore_status_condition gauge"));
}

TEST(OperatorMetricsTest, ErrorCountersExistAtZeroAfterTheFirstReconcile) {
  metrics::Registry registry;
  OperatorMetrics m(registry);
  m.RecordSync("team", "db", true, 10, "True");
  std::string text = registry.Render();
  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_error", "db", "team")), 0);
  EXPECT_EQ(Sample(text, Es("external_secrets_sync_calls_error", "db", "team")), 0);

  m.RecordSync("team", "db", false, 10, "False");
  m.RecordSync("team", "db", false, 10, "False");
  text = registry.Render();
  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_total", "db", "team")), 3);
  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_error", "db", "team")), 2);
  EXPECT_EQ(Sample(text, Es("external_secrets_sync_calls_error", "db", "team")), 2);
}

TEST(OperatorMetricsTest, ConditionGaugesFlipBothWays) {
  metrics::Registry registry;
  OperatorMetrics m(registry);
  const std::string is_true = Condition("externalsecret_status_condition", "db", "team", "True");
  const std::string is_false = Condition("externalsecret_status_condition", "db", "team", "False");

  // No Ready condition yet: no condition series at all.
  m.RecordSync("team", "db", true, 10, "");
  EXPECT_EQ(Sample(registry.Render(), is_true), std::nullopt);

  m.RecordSync("team", "db", true, 10, "True");
  EXPECT_EQ(Sample(registry.Render(), is_true), 1);
  EXPECT_EQ(Sample(registry.Render(), is_false), 0);
  m.RecordSync("team", "db", false, 10, "False");
  EXPECT_EQ(Sample(registry.Render(), is_true), 0);
  EXPECT_EQ(Sample(registry.Render(), is_false), 1);
  m.RecordSync("team", "db", true, 10, "True");
  EXPECT_EQ(Sample(registry.Render(), is_true), 1);
  EXPECT_EQ(Sample(registry.Render(), is_false), 0);

  const std::string store_true = Condition("secretstore_status_condition", "aws", "team", "True");
  const std::string store_false = Condition("secretstore_status_condition", "aws", "team", "False");
  m.RecordStore(op::StoreKind::kSecretStore, "team", "aws", "False", 1);
  EXPECT_EQ(Sample(registry.Render(), store_true), 0);
  EXPECT_EQ(Sample(registry.Render(), store_false), 1);
  m.RecordStore(op::StoreKind::kSecretStore, "team", "aws", "True", 1);
  EXPECT_EQ(Sample(registry.Render(), store_true), 1);
  EXPECT_EQ(Sample(registry.Render(), store_false), 0);
}

TEST(OperatorMetricsTest, ForgetRemovesEverySeriesOfTheObjectOnly) {
  metrics::Registry registry;
  OperatorMetrics m(registry);
  m.RecordSync("team", "db", false, 10, "False");
  m.RecordSync("team", "api", true, 10, "True");
  m.RecordStore(op::StoreKind::kSecretStore, "team", "aws", "True", 1);
  m.RecordStore(op::StoreKind::kSecretStore, "team", "other", "True", 1);
  m.RecordStore(op::StoreKind::kClusterSecretStore, "", "global", "True", 1);

  m.ForgetExternalSecret("team", "db");
  m.ForgetStore(op::StoreKind::kSecretStore, "team", "aws");
  m.ForgetStore(op::StoreKind::kClusterSecretStore, "", "global");
  const std::string text = registry.Render();
  EXPECT_THAT(text, Not(HasSubstr("name=\"db\"")));
  EXPECT_THAT(text, Not(HasSubstr("name=\"aws\"")));
  EXPECT_THAT(text, Not(HasSubstr("name=\"global\"")));
  // Other objects keep theirs.
  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_total", "api", "team")), 1);
  EXPECT_EQ(Sample(text, Es("externalsecret_sync_calls_error", "api", "team")), 0);
  EXPECT_EQ(Sample(text, Condition("externalsecret_status_condition", "api", "team", "True")), 1);
  EXPECT_EQ(Sample(text, Condition("secretstore_status_condition", "other", "team", "True")), 1);

  // Forgetting twice, or an object never seen, is harmless; a new reconcile starts from zero.
  m.ForgetExternalSecret("team", "db");
  m.ForgetExternalSecret("team", "never");
  m.RecordSync("team", "db", true, 10, "True");
  EXPECT_EQ(Sample(registry.Render(), Es("externalsecret_sync_calls_total", "db", "team")), 1);
  EXPECT_EQ(Sample(registry.Render(), Es("externalsecret_sync_calls_error", "db", "team")), 0);
}

}  // namespace
}  // namespace coffer::controller
