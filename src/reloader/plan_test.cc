#include "reloader/plan.h"

#include <gtest/gtest.h>

namespace coffer::reloader {
namespace {

using nlohmann::json;

const SourceRef kDb{SourceKind::kSecret, "db-credentials"};
const SourceRef kApi{SourceKind::kSecret, "api.key"};
const SourceRef kSettings{SourceKind::kConfigMap, "settings"};
const std::string kH1(64, '1');
const std::string kH2(64, '2');
const std::string kH3(64, '3');

Workload Web(std::map<std::string, std::string> record = {}) {
  Workload w;
  w.kind = "Deployment";
  w.ns = "ml";
  w.name = "web";
  if (!record.empty()) {
    json r = json::object();
    for (const auto& [k, v] : record) r[k] = v;
    w.annotations[std::string(kRecordAnnotation)] = r.dump();
  }
  Container init;
  init.name = "migrate";
  init.init = true;
  init.env_refs = {kSettings};
  Container app;
  app.name = "app";
  app.env_refs = {kDb};
  Container proxy;
  proxy.name = "proxy";
  proxy.mounted_refs = {kApi};
  proxy.env_refs = {kDb};
  w.containers = {app, proxy, init};
  return w;
}

json RecordOf(const Plan& plan) {
  return json::parse(
      plan.patch["metadata"]["annotations"][std::string(kRecordAnnotation)].get<std::string>());
}

TEST(PlanReloadTest, FirstSightRecordsWithoutRolling) {
  const Plan plan = PlanReload(Web(), {{kDb, kH1}, {kApi, kH2}}, {});
  EXPECT_EQ(plan.action, Plan::kRecordOnly);
  EXPECT_TRUE(plan.changed.empty());
  EXPECT_EQ(RecordOf(plan), (json{{"secret/db-credentials", kH1}, {"secret/api.key", kH2}}));
  EXPECT_FALSE(plan.patch.contains("spec"));  // the pod template is untouched: no rollout
}

TEST(PlanReloadTest, EqualHashesDoNothingAsAfterARestart) {
  const Plan plan = PlanReload(Web({{"secret/db-credentials", kH1}}), {{kDb, kH1}}, {});
  EXPECT_EQ(plan.action, Plan::kNone);
  EXPECT_TRUE(plan.patch.is_null());
  // A source that disappeared: nothing either (its entry stays).
  EXPECT_EQ(PlanReload(Web({{"secret/db-credentials", kH1}}), {}, {}).action, Plan::kNone);
}

TEST(PlanReloadTest, AChangedSourceRollsTheContainerThatUsesIt) {
  const Plan plan = PlanReload(Web({{"secret/db-credentials", kH1}}), {{kDb, kH2}}, {});
  ASSERT_EQ(plan.action, Plan::kRollout);
  EXPECT_EQ(plan.changed, std::vector<SourceRef>{kDb});
  EXPECT_EQ(RecordOf(plan), (json{{"secret/db-credentials", kH2}}));
  // The first regular container with an env reference (no container mounts it).
  EXPECT_EQ(
      plan.patch["spec"]["template"]["spec"]["containers"],
      json::parse(R"([{"name":"app","env":[{"name":"STAKATER_DB_CREDENTIALS_SECRET","value":")" +
                  kH2 + R"("}]}])"));
}

TEST(PlanReloadTest, SeveralChangesGiveOnePatchAndNewSourcesAreRecorded) {
  const Plan plan = PlanReload(
      Web({{"secret/db-credentials", kH1}, {"secret/api.key", kH1}, {"configmap/settings", kH1}}),
      {{kDb, kH2}, {kApi, kH3}, {kSettings, kH2}, {{SourceKind::kSecret, "new"}, kH1}}, {});
  ASSERT_EQ(plan.action, Plan::kRollout);
  EXPECT_EQ(plan.changed.size(), 3u);
  const json& containers = plan.patch["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  // app: db (env) and settings (only the init container uses it: the first regular container);
  // proxy: api.key (mounted there).
  std::map<std::string, std::map<std::string, std::string>> env;
  for (const json& c : containers) {
    for (const json& e : c["env"]) env[c["name"]][e["name"]] = e["value"];
  }
  EXPECT_EQ(env["app"], (std::map<std::string, std::string>{{"STAKATER_DB_CREDENTIALS_SECRET", kH2},
                                                            {"STAKATER_SETTINGS_CONFIGMAP", kH2}}));
  EXPECT_EQ(env["proxy"], (std::map<std::string, std::string>{{"STAKATER_API_KEY_SECRET", kH3}}));
  EXPECT_EQ(RecordOf(plan)["secret/new"], kH1);
}

TEST(PlanReloadTest, AnnotationsStrategy) {
  PlanOptions o;
  o.strategy = Strategy::kAnnotations;
  o.now_unix = 1700000000;
  const Plan plan = PlanReload(Web({{"secret/api.key", kH1}, {"secret/db-credentials", kH1}}),
                               {{kApi, kH2}, {kDb, kH1}}, o);
  ASSERT_EQ(plan.action, Plan::kRollout);
  const json& annotations = plan.patch["spec"]["template"]["metadata"]["annotations"];
  const json from = json::parse(annotations[std::string(kLastReloadedFrom)].get<std::string>());
  EXPECT_EQ(from, (json{{"type", "SECRET"},
                        {"name", "api.key"},
                        {"namespace", "ml"},
                        {"hash", kH2},
                        {"containerRefs", {"proxy"}},
                        {"observedAt", 1700000000}}));
  EXPECT_EQ(json::parse(annotations[std::string(kTemplateHashes)].get<std::string>()),
            RecordOf(plan));
  EXPECT_FALSE(plan.patch["spec"]["template"].contains("spec"));  // no env vars
}

TEST(PlanReloadTest, AnUnreadableRecordCountsAsNone) {
  Workload w = Web();
  w.annotations[std::string(kRecordAnnotation)] = "{not json";
  EXPECT_EQ(PlanReload(w, {{kDb, kH1}}, {}).action, Plan::kRecordOnly);
}

TEST(EnvVarNameTest, ReloadersSpelling) {
  EXPECT_EQ(EnvVarName({SourceKind::kSecret, "my-secret"}), "STAKATER_MY_SECRET_SECRET");
  EXPECT_EQ(EnvVarName({SourceKind::kConfigMap, "a.b--c"}), "STAKATER_A_B_C_CONFIGMAP");
  EXPECT_EQ(EnvVarName({SourceKind::kSecret, "db2"}), "STAKATER_DB2_SECRET");
}

}  // namespace
}  // namespace coffer::reloader
