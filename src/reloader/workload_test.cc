#include "reloader/workload.h"

#include <gtest/gtest.h>

namespace coffer::reloader {
namespace {

using nlohmann::json;

const SourceRef kSecretDb{SourceKind::kSecret, "db"};

json Deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "mlflow", "namespace": "ml", "resourceVersion": "42",
                 "annotations": {"reloader.stakater.com/auto": "true"}},
    "spec": {"template": {
      "metadata": {"annotations": {"prometheus.io/scrape": "true"}},
      "spec": {
        "initContainers": [{"name": "migrate",
                            "env": [{"name": "URL", "valueFrom": {"secretKeyRef":
                                     {"name": "migrations", "key": "url"}}}]}],
        "containers": [
          {"name": "server",
           "env": [{"name": "DB_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                   {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "mode", "key": "m"}}},
                   {"name": "STAKATER_DB_SECRET", "value": "abc"},
                   {"name": "PLAIN", "value": "x"}],
           "envFrom": [{"secretRef": {"name": "s3-creds"}}, {"configMapRef": {"name": "settings"}}],
           "volumeMounts": [{"name": "tls", "mountPath": "/tls"}]},
          {"name": "sidecar",
           "volumeMounts": [{"name": "bundle", "mountPath": "/b"}, {"name": "cache", "mountPath": "/c"}]}],
        "volumes": [
          {"name": "tls", "secret": {"secretName": "mlflow-tls"}},
          {"name": "bundle", "projected": {"sources": [
              {"secret": {"name": "ca"}}, {"configMap": {"name": "ca-bundle"}},
              {"serviceAccountToken": {"path": "token"}}]}},
          {"name": "cache", "emptyDir": {}},
          {"name": "unmounted", "secret": {"secretName": "never-mounted"}}]}}}})");
}

TEST(ParseWorkloadTest, FindsEveryKindOfReference) {
  Result<Workload> w = ParseWorkload(Deployment());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->kind, "Deployment");
  EXPECT_EQ(w->ns, "ml");
  EXPECT_EQ(w->name, "mlflow");
  EXPECT_EQ(w->resource_version, "42");
  EXPECT_EQ(w->annotations.at("reloader.stakater.com/auto"), "true");
  EXPECT_EQ(w->template_annotations.at("prometheus.io/scrape"), "true");
  ASSERT_EQ(w->containers.size(), 3u);  // regular ones first, then init
  const Container& server = w->containers[0];
  EXPECT_EQ(server.name, "server");
  EXPECT_FALSE(server.init);
  EXPECT_EQ(server.env_refs, (std::set<SourceRef>{kSecretDb,
                                                  {SourceKind::kConfigMap, "mode"},
                                                  {SourceKind::kSecret, "s3-creds"},
                                                  {SourceKind::kConfigMap, "settings"}}));
  EXPECT_EQ(server.mounted_refs, (std::set<SourceRef>{{SourceKind::kSecret, "mlflow-tls"}}));
  EXPECT_EQ(server.stakater_env,
            (std::map<std::string, std::string>{{"STAKATER_DB_SECRET", "abc"}}));
  EXPECT_EQ(
      w->containers[1].mounted_refs,
      (std::set<SourceRef>{{SourceKind::kSecret, "ca"}, {SourceKind::kConfigMap, "ca-bundle"}}));
  EXPECT_TRUE(w->containers[2].init);
  EXPECT_EQ(w->containers[2].name, "migrate");

  const std::set<SourceRef> all = ReferencedSources(*w);
  EXPECT_EQ(all.size(), 8u);
  EXPECT_TRUE(all.count({SourceKind::kSecret, "migrations"}));      // init containers count
  EXPECT_FALSE(all.count({SourceKind::kSecret, "never-mounted"}));  // a volume nobody mounts
}

TEST(ParseWorkloadTest, StatefulSetsAndDaemonSetsToo) {
  for (const char* kind : {"StatefulSet", "DaemonSet"}) {
    json o = Deployment();
    o["kind"] = kind;
    Result<Workload> w = ParseWorkload(o);
    ASSERT_TRUE(w.ok()) << kind;
    EXPECT_EQ(w->kind, kind);
    EXPECT_EQ(ReferencedSources(*w).size(), 8u);
  }
}

TEST(ParseWorkloadTest, RejectsOtherKindsAndNamelessObjects) {
  json job = Deployment();
  job["kind"] = "CronJob";
  EXPECT_EQ(ParseWorkload(job).status().code(), StatusCode::kInvalidArgument);
  json nameless = Deployment();
  nameless["metadata"].erase("name");
  EXPECT_EQ(ParseWorkload(nameless).status().code(), StatusCode::kInvalidArgument);
  // Odd shapes are not errors: nothing is referenced.
  Result<Workload> bare = ParseWorkload(json{
      {"kind", "Deployment"}, {"metadata", {{"name", "x"}}}, {"spec", {{"template", "nonsense"}}}});
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(ReferencedSources(*bare).empty());
}

TEST(SourceKeyTest, KindAndName) {
  EXPECT_EQ(SourceKey(kSecretDb), "secret/db");
  EXPECT_EQ(SourceKey({SourceKind::kConfigMap, "db"}), "configmap/db");
}

}  // namespace
}  // namespace coffer::reloader
