// ReloaderController against the fake apiserver: the catch-up, the debounce window, retries of
// failed patches, filters. (The real apiserver with kube-controller-manager: tests/kube/
// test_reloader.py.) The fake applies strategic-merge patches as merge patches, which is enough
// to see what was patched.

#include "controller/reloader_controller.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "controller/testing/wait_for.h"
#include "core/encoding.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "metrics/registry.h"
#include "reloader/hash.h"
#include "reloader/plan.h"

namespace coffer::controller {
namespace {

using ::coffer::kube::testing::FakeApiserver;
using ::nlohmann::json;

constexpr char kNs[] = "ml";
constexpr char kKey[] = "reloader-test-key-0123456789abcd";
using ::coffer::controller::testing::kDeadline;
using ::coffer::controller::testing::WaitFor;

json Secret(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"data", {{"value", Base64Encode(value)}}}};
}

json Deployment(const std::string& name, const std::vector<std::string>& secrets,
                json annotations = {{"reloader.stakater.com/auto", "true"}}) {
  json env = json::array();
  for (const std::string& s : secrets) {
    env.push_back(
        {{"name", "V_" + s}, {"valueFrom", {{"secretKeyRef", {{"name", s}, {"key", "value"}}}}}});
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", kNs}, {"annotations", annotations}}},
          {"spec",
           {{"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "x"}, {"env", env}}}}}}}}}}};
}

class ReloaderControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apiserver_.SetWatchWait(std::chrono::milliseconds(100));
    kube::ClientOptions o;
    o.qps = 0;
    client_ = std::move(kube::Client::Create(apiserver_.Config(), o)).value();
  }

  std::unique_ptr<ReloaderController> Start(ReloaderOptions options = {}) {
    options.hmac_key = kKey;
    if (options.debounce_ms == 5000) options.debounce_ms = 300;
    auto r = ReloaderController::Create(*client_, registry_, std::move(options));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    (*r)->StartInformers();
    EXPECT_TRUE((*r)->WaitForSync(kDeadline));
    (*r)->StartWorkers();
    return std::move(*r);
  }

  json Stored(const std::string& name) const {
    return apiserver_.Stored("deployments", kNs, name).value_or(json());
  }
  std::string Record(const std::string& name) const {
    json d = Stored(name);
    return d["metadata"]
        .value("annotations", json::object())
        .value(std::string(reloader::kRecordAnnotation), "");
  }
  // PATCHes of the Deployment that changed its pod template (rollouts).
  int Rollouts(const std::string& name) const {
    int n = 0;
    for (const auto& r : apiserver_.requests()) {
      if (r.method == "PATCH" && r.path == "/apis/apps/v1/namespaces/ml/deployments/" + name &&
          json::parse(r.body).contains("spec")) {
        ++n;
      }
    }
    return n;
  }
  void SetSecret(const std::string& name, const std::string& value) {
    ASSERT_TRUE(client_->Update(kube::SecretsRef(kNs, name), Secret(name, value)).ok());
  }
  std::string Render() const { return "\n" + registry_.Render(); }

  FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  metrics::Registry registry_;
};

TEST_F(ReloaderControllerTest, RecordsFirstThenRollsOnChangeAndNotAfterARestart) {
  apiserver_.Seed("secrets", Secret("db", "first-s3cr3t"));
  apiserver_.Seed("deployments", Deployment("web", {"db"}));
  apiserver_.Seed("deployments", Deployment("plain", {"db"}, json::object()));
  {
    auto r = Start();
    ASSERT_TRUE(WaitFor([&] { return !Record("web").empty(); }));
    EXPECT_EQ(Rollouts("web"), 0);
    EXPECT_EQ(json::parse(Record("web")),
              (json{{"secret/db", reloader::SourceHash(kKey, Secret("db", "first-s3cr3t"))}}));
    EXPECT_TRUE(Record("plain").empty());

    SetSecret("db", "second-s3cr3t");
    ASSERT_TRUE(WaitFor([&] { return Rollouts("web") == 1; }));
    const std::string hash = reloader::SourceHash(kKey, Secret("db", "second-s3cr3t"));
    EXPECT_EQ(Stored("web")["spec"]["template"]["spec"]["containers"][0]["env"][0],
              (json{{"name", "STAKATER_DB_SECRET"}, {"value", hash}}));
    EXPECT_EQ(Rollouts("plain"), 0);
    // What a real apiserver's strategic merge leaves: the original env plus the variable (the
    // fake merge-patched the containers list whole).
    json web = Stored("web");
    json env = Deployment("web", {"db"})["spec"]["template"]["spec"]["containers"][0]["env"];
    env.push_back(web["spec"]["template"]["spec"]["containers"][0]["env"][0]);
    web["spec"]["template"]["spec"]["containers"][0]["env"] = env;
    ASSERT_TRUE(
        client_->Update(kube::ResourceRef{"apps", "v1", "deployments", kNs, "web", {}}, web).ok());
    EXPECT_NE(Render().find("\nreloader_reload_executed_total{success=\"true\"} 1\n"),
              std::string::npos);
  }
  // A restart: the record matches, nothing rolls; a change while stopped rolls once.
  SetSecret("db", "third-s3cr3t");
  metrics::Registry fresh;
  auto r = ReloaderController::Create(*client_, fresh, ReloaderOptions{.hmac_key = kKey});
  ASSERT_TRUE(r.ok());
  (*r)->StartInformers();
  ASSERT_TRUE((*r)->WaitForSync(kDeadline));
  (*r)->StartWorkers();
  ASSERT_TRUE(WaitFor([&] { return Rollouts("web") == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Rollouts("web"), 2);
  for (const auto& req : apiserver_.requests()) {
    EXPECT_EQ(req.body.find("s3cr3t"), std::string::npos) << req.path;
  }
}

TEST_F(ReloaderControllerTest, ChangesWithinTheWindowGiveOneRolloutAfterIt) {
  apiserver_.Seed("secrets", Secret("a", "a1"));
  apiserver_.Seed("secrets", Secret("b", "b1"));
  apiserver_.Seed("deployments", Deployment("web", {"a", "b"}));
  ReloaderOptions o;
  o.debounce_ms = 800;
  auto r = Start(o);
  ASSERT_TRUE(WaitFor([&] { return !Record("web").empty(); }));
  const auto changed = std::chrono::steady_clock::now();
  SetSecret("a", "a2");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SetSecret("b", "b2");
  // A status-like update of the workload in the window must not roll it early.
  json web = Stored("web");
  web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2";
  ASSERT_TRUE(
      client_->Update(kube::ResourceRef{"apps", "v1", "deployments", kNs, "web", {}}, web).ok());
  ASSERT_TRUE(WaitFor([&] { return Rollouts("web") == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - changed, std::chrono::milliseconds(750));
  const json env = Stored("web")["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env.size(), 2u) << env.dump();  // both variables in the one patch
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(Rollouts("web"), 1);
}

TEST_F(ReloaderControllerTest, FailedPatchesAreRetriedUntilTheyWork) {
  apiserver_.Seed("secrets", Secret("db", "one"));
  apiserver_.Seed("deployments", Deployment("web", {"db"}));
  ReloaderOptions o;
  o.debounce_ms = 0;
  auto r = Start(o);
  ASSERT_TRUE(WaitFor([&] { return !Record("web").empty(); }));
  std::atomic<int> refused{0};
  apiserver_.SetOverride([&](const FakeApiserver::Recorded& req) -> std::optional<http::Response> {
    if (req.method == "PATCH" && req.path.find("/deployments/") != std::string::npos &&
        refused.load() < 3) {
      ++refused;
      return kube::testing::StatusResponse(500, "InternalError", "etcd is unhappy");
    }
    return std::nullopt;
  });
  SetSecret("db", "two");
  // 0.5 s, 1 s, 2 s of backoff: the fourth attempt goes through.
  ASSERT_TRUE(WaitFor([&] { return Rollouts("web") >= 1 && refused.load() == 3; }));
  ASSERT_TRUE(WaitFor([&] {
    return Stored("web")["spec"]["template"]["spec"]["containers"][0]["env"][0].value("name", "") ==
           "STAKATER_DB_SECRET";
  }));
  EXPECT_NE(Render().find("\nreloader_reload_executed_total{success=\"false\"} 3\n"),
            std::string::npos)
      << Render();
  EXPECT_NE(Render().find("\nreloader_reload_executed_total{success=\"true\"} 1\n"),
            std::string::npos);
}

TEST_F(ReloaderControllerTest, NamespaceFiltersAndBadSelectors) {
  apiserver_.Seed("secrets", Secret("db", "one"));
  apiserver_.Seed("deployments", Deployment("web", {"db"}));
  ReloaderOptions o;
  o.namespaces_to_ignore = {kNs};
  auto r = Start(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(Record("web").empty());  // never touched

  ReloaderOptions bad;
  bad.hmac_key = kKey;
  bad.namespace_selector = "team in (a";
  EXPECT_EQ(ReloaderController::Create(*client_, registry_, bad).status().code(),
            StatusCode::kInvalidArgument);
  ReloaderOptions no_key;
  EXPECT_EQ(ReloaderController::Create(*client_, registry_, no_key).status().code(),
            StatusCode::kInvalidArgument);
}

json InNamespace(json object, const std::string& ns) {
  object["metadata"]["namespace"] = ns;
  return object;
}

TEST_F(ReloaderControllerTest, NamespaceSelectorAndResourceLabelSelector) {
  apiserver_.SetHonourLabelSelectors(true);
  apiserver_.Seed("namespaces", json{{"apiVersion", "v1"},
                                     {"kind", "Namespace"},
                                     {"metadata", {{"name", kNs}, {"labels", {{"team", "ml"}}}}}});
  apiserver_.Seed("namespaces",
                  json{{"apiVersion", "v1"},
                       {"kind", "Namespace"},
                       {"metadata", {{"name", "other"}, {"labels", {{"team", "x"}}}}}});
  json labelled = Secret("db", "one");
  labelled["metadata"]["labels"] = {{"reload", "true"}};
  apiserver_.Seed("secrets", labelled);
  apiserver_.Seed("secrets", Secret("plain", "one"));
  apiserver_.Seed("secrets", InNamespace(labelled, "other"));
  apiserver_.Seed("deployments", Deployment("web", {"db"}));
  apiserver_.Seed("deployments", Deployment("unlabelled-user", {"plain"}));
  apiserver_.Seed("deployments", InNamespace(Deployment("web", {"db"}), "other"));
  ReloaderOptions o;
  o.namespace_selector = "team in (ml, data)";
  o.resource_label_selector = "reload=true";
  o.debounce_ms = 0;
  auto r = Start(o);
  ASSERT_TRUE(WaitFor([&] { return !Record("web").empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The other namespace does not match the selector; the unlabelled Secret is not seen at all.
  const json other = apiserver_.Stored("deployments", "other", "web").value_or(json());
  EXPECT_FALSE(other["metadata"]["annotations"].contains(std::string(reloader::kRecordAnnotation)));
  EXPECT_TRUE(Record("unlabelled-user").empty());

  json changed = Secret("plain", "two");
  ASSERT_TRUE(client_->Update(kube::SecretsRef(kNs, "plain"), changed).ok());
  json db = Secret("db", "two");
  db["metadata"]["labels"] = {{"reload", "true"}};
  ASSERT_TRUE(client_->Update(kube::SecretsRef(kNs, "db"), db).ok());
  ASSERT_TRUE(WaitFor([&] { return Rollouts("web") == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Rollouts("unlabelled-user"), 0);
}

TEST_F(ReloaderControllerTest, HmacKeyIsCreatedOnceAndReadBack) {
  auto key = LoadOrCreateHmacKey(*client_, "coffer-system", "coffer-reloader-hmac");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 32u);
  auto again = LoadOrCreateHmacKey(*client_, "coffer-system", "coffer-reloader-hmac");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *key);
  apiserver_.Seed("secrets", json{{"apiVersion", "v1"},
                                  {"kind", "Secret"},
                                  {"metadata", {{"name", "short"}, {"namespace", "coffer-system"}}},
                                  {"data", {{"key", Base64Encode("tiny")}}}});
  EXPECT_EQ(LoadOrCreateHmacKey(*client_, "coffer-system", "short").status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace coffer::controller
