// The ClusterExternalSecret controller against a FakeApiserver: its workers run, and the tests
// poll the fake's objects with a deadline (no timing assertions). The last test runs the
// ExternalSecret Controller beside it, with a ClusterSecretStore of the `fake` provider whose
// spec.conditions leave one of the selected namespaces out.

#include "controller/cluster_external_secret_controller.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/controller.h"
#include "controller/testing/wait_for.h"
#include "core/encoding.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "metrics/registry.h"

namespace coffer::controller {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

using ::coffer::controller::testing::kDeadline;
using ::coffer::controller::testing::WaitFor;

json NamespaceObject(const std::string& name, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", labels}}}};
}

json CesObject(const std::string& name, const std::string& store_kind = "SecretStore",
               const std::string& store = "fake") {
  return {{"apiVersion", "external-secrets.io/v1"},
          {"kind", "ClusterExternalSecret"},
          {"metadata", {{"name", name}, {"generation", 1}}},
          {"spec",
           {{"externalSecretName", "db"},
            {"externalSecretMetadata", {{"labels", {{"stamped-by", name}}}}},
            {"namespaceSelectors", {{{"matchLabels", {{"team", "ml"}}}}}},
            {"refreshTime", "1h"},
            {"externalSecretSpec",
             {{"refreshInterval", "1h"},
              {"secretStoreRef", {{"name", store}, {"kind", store_kind}}},
              {"target", {{"name", "db-secret"}}},
              {"data", {{{"secretKey", "password"}, {"remoteRef", {{"key", "db/password"}}}}}}}}}}};
}

std::vector<std::string> Strings(const json& list) {
  std::vector<std::string> out;
  if (list.is_array()) {
    for (const json& s : list) out.push_back(s.get<std::string>());
  }
  return out;
}

class CesControllerTest : public ::testing::Test {
 protected:
  CesControllerTest() {
    apiserver_.SetHonourLabelSelectors(true);
    apiserver_.SetWatchWait(std::chrono::milliseconds(100));
    auto client = kube::Client::Create(apiserver_.Config(), kube::ClientOptions{.qps = 0});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  std::unique_ptr<ClusterExternalSecretController> Start() {
    auto c = std::make_unique<ClusterExternalSecretController>(
        *client_, CesControllerOptions{.registry = &registry_});
    c->StartInformers();
    EXPECT_TRUE(c->WaitForSync(std::chrono::milliseconds(10'000)));
    c->StartWorkers();
    return c;
  }

  std::optional<json> Es(const std::string& ns, const std::string& name = "db") const {
    return apiserver_.Stored("externalsecrets", ns, name);
  }
  json CesStatus(const std::string& name) const {
    std::optional<json> ces = apiserver_.Stored("clusterexternalsecrets", "", name);
    return ces ? ces->value("status", json::object()) : json::object();
  }
  void Relabel(const std::string& ns, json labels) {
    Result<json> r = client_->Patch(NamespacesRef(ns), kube::PatchType::kMerge,
                                    json{{"metadata", {{"labels", labels}}}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  int EsWrites() const {
    int n = 0;
    for (const auto& r : apiserver_.requests()) {
      if (r.method != "GET" && r.path.find("/externalsecrets") != std::string::npos) ++n;
    }
    return n;
  }

  std::string Metrics() const { return "\n" + registry_.Render(); }

  metrics::Registry registry_;
  kube::testing::FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
};

TEST_F(CesControllerTest, StampsMatchingNamespacesFollowsLabelsAndReportsStatus) {
  apiserver_.Seed("namespaces", NamespaceObject("ml-a", {{"team", "ml"}}));
  apiserver_.Seed("namespaces", NamespaceObject("ml-b", {{"team", "ml"}}));
  apiserver_.Seed("namespaces", NamespaceObject("web", {{"team", "web"}}));
  json ces = apiserver_.Seed("clusterexternalsecrets", CesObject("ml-db"));
  auto controller = Start();

  ASSERT_TRUE(WaitFor([&] {
    return Strings(CesStatus("ml-db").value("provisionedNamespaces", json())) ==
           std::vector<std::string>{"ml-a", "ml-b"};
  })) << CesStatus("ml-db").dump();
  for (const std::string ns : {"ml-a", "ml-b"}) {
    std::optional<json> es = Es(ns);
    ASSERT_TRUE(es.has_value()) << ns;
    EXPECT_EQ((*es)["spec"], ces["spec"]["externalSecretSpec"]);
    EXPECT_EQ((*es)["metadata"]["labels"], json({{"stamped-by", "ml-db"}}));
    const json& owner = (*es)["metadata"]["ownerReferences"][0];
    EXPECT_EQ(owner["kind"], "ClusterExternalSecret");
    EXPECT_EQ(owner["name"], "ml-db");
    EXPECT_EQ(owner["uid"], ces["metadata"]["uid"]);
    EXPECT_EQ(owner["controller"], true);
  }
  EXPECT_FALSE(Es("web").has_value());
  json status = CesStatus("ml-db");
  EXPECT_EQ(status["externalSecretName"], "db");
  EXPECT_FALSE(status.contains("failedNamespaces"));
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_THAT(Metrics(), HasSubstr("\nclusterexternalsecret_status_condition{name=\"ml-db\","
                                   "namespace=\"\",condition=\"Ready\",status=\"True\"} 1\n"));
  EXPECT_THAT(Metrics(), HasSubstr("\nclusterexternalsecret_reconcile_duration{name=\"ml-db\","
                                   "namespace=\"\"} "));

  // A namespace labelled later is provisioned; one whose label goes loses its ExternalSecret.
  Relabel("web", {{"team", "ml"}});
  Relabel("ml-a", {{"team", "none"}});
  ASSERT_TRUE(WaitFor([&] {
    return Strings(CesStatus("ml-db").value("provisionedNamespaces", json())) ==
           std::vector<std::string>{"ml-b", "web"};
  })) << CesStatus("ml-db").dump();
  EXPECT_TRUE(Es("web").has_value());
  EXPECT_TRUE(WaitFor([&] { return !Es("ml-a").has_value(); }));

  // Edited by hand: put back.
  Result<json> edited = client_->Patch(
      ExternalSecretsRef("ml-b", "db"), kube::PatchType::kMerge,
      json{{"metadata", {{"generation", 2}}}, {"spec", {{"refreshInterval", "5m"}}}});
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return Es("ml-b")->at("spec").value("refreshInterval", "") == "1h"; }));

  // Deleted by hand: recreated.
  ASSERT_TRUE(client_->Delete(ExternalSecretsRef("web", "db")).ok());
  EXPECT_TRUE(WaitFor([&] { return Es("web").has_value(); }));

  // Nothing left to do: no more writes.
  ASSERT_TRUE(WaitFor([&] { return controller->queue_ready() == 0; }));
  const int writes = EsWrites();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(EsWrites(), writes);
}

TEST_F(CesControllerTest, AnExternalSecretItDoesNotOwnIsAFailedNamespaceAndLeftAlone) {
  apiserver_.Seed("namespaces", NamespaceObject("ml-a", {{"team", "ml"}}));
  apiserver_.Seed("namespaces", NamespaceObject("ml-b", {{"team", "ml"}}));
  json foreign = CesObject("x")["spec"]["externalSecretSpec"];
  apiserver_.Seed(
      "externalsecrets",
      {{"apiVersion", "external-secrets.io/v1"},
       {"kind", "ExternalSecret"},
       {"metadata", {{"name", "db"}, {"namespace", "ml-b"}, {"labels", {{"mine", "1"}}}}},
       {"spec", foreign}});
  apiserver_.Seed("clusterexternalsecrets", CesObject("ml-db"));
  auto controller = Start();

  ASSERT_TRUE(WaitFor([&] { return CesStatus("ml-db").contains("failedNamespaces"); }));
  json status = CesStatus("ml-db");
  EXPECT_EQ(status["failedNamespaces"], json::parse(R"([{"namespace":"ml-b",
                             "reason":"external secret already exists in namespace"}])"));
  EXPECT_EQ(Strings(status["provisionedNamespaces"]), std::vector<std::string>{"ml-a"});
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["message"], "one or more namespaces failed");
  EXPECT_TRUE(WaitFor([&] {
    return Metrics().find(
               "\nclusterexternalsecret_status_condition{name=\"ml-db\",namespace="
               "\"\",condition=\"Ready\",status=\"False\"} 1\n") != std::string::npos;
  })) << Metrics();
  std::optional<json> kept = Es("ml-b");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ((*kept)["metadata"]["labels"], json({{"mine", "1"}}));
  EXPECT_FALSE((*kept)["metadata"].contains("ownerReferences"));

  // Its owner deletes it: the namespace is provisioned.
  ASSERT_TRUE(client_->Delete(ExternalSecretsRef("ml-b", "db")).ok());
  EXPECT_TRUE(WaitFor([&] {
    return Strings(CesStatus("ml-db").value("provisionedNamespaces", json())) ==
           std::vector<std::string>{"ml-a", "ml-b"};
  })) << CesStatus("ml-db").dump();
  EXPECT_FALSE(CesStatus("ml-db").contains("failedNamespaces"));

  // Deleted: its series go.
  ASSERT_TRUE(client_->Delete(ClusterExternalSecretsRef("ml-db")).ok());
  EXPECT_TRUE(WaitFor([&] {
    return Metrics().find("clusterexternalsecret_status_condition{name=\"ml-db\"") ==
           std::string::npos;
  })) << Metrics();
}

TEST_F(CesControllerTest, InvalidSpecIsReported) {
  json ces = CesObject("broken");
  ces["spec"]["namespaceSelectors"] =
      json::parse(R"([{"matchExpressions":[{"key":"team","operator":"Near"}]}])");
  apiserver_.Seed("clusterexternalsecrets", ces);
  auto controller = Start();
  ASSERT_TRUE(WaitFor([&] { return CesStatus("broken").contains("conditions"); }));
  json status = CesStatus("broken");
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_THAT(status["conditions"][0].value("message", ""), HasSubstr("operator"));
  EXPECT_EQ(status["failedNamespaces"][0]["namespace"], "unknown");
}

// A ClusterSecretStore's spec.conditions decide which of the stamped ExternalSecrets may use it:
// the excluded namespace's ExternalSecret says so, the allowed one syncs.
TEST_F(CesControllerTest, ClusterSecretStoreConditionsExcludeANamespace) {
  apiserver_.Seed("namespaces", NamespaceObject("ml-a", {{"team", "ml"}}));
  apiserver_.Seed("namespaces", NamespaceObject("ml-b", {{"team", "ml"}}));
  apiserver_.Seed(
      "clustersecretstores",
      {{"apiVersion", "external-secrets.io/v1"},
       {"kind", "ClusterSecretStore"},
       {"metadata", {{"name", "shared"}, {"generation", 1}}},
       {"spec",
        {{"conditions", {{{"namespaces", {"ml-a"}}}}},
         {"provider", {{"fake", {{"data", {{{"key", "db/password"}, {"value", "s3cr3t"}}}}}}}}}}});
  apiserver_.Seed("clusterexternalsecrets", CesObject("ml-db", "ClusterSecretStore", "shared"));

  metrics::Registry registry;
  ControllerOptions options;
  options.workers = 2;
  Controller es_controller(*client_, registry, options);
  es_controller.StartInformers();
  ASSERT_TRUE(es_controller.WaitForSync(std::chrono::milliseconds(10'000)));
  es_controller.StartWorkers();
  auto controller = Start();

  auto ready = [&](const std::string& ns) {
    std::optional<json> es = Es(ns);
    if (!es) return json::object();
    for (const json& c : es->value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") return c;
    }
    return json::object();
  };
  ASSERT_TRUE(WaitFor([&] { return ready("ml-a").value("status", "") == "True"; }))
      << ready("ml-a").dump();
  std::optional<json> secret = apiserver_.Stored("secrets", "ml-a", "db-secret");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(Base64Decode((*secret)["data"]["password"].get<std::string>()).value_or(""), "s3cr3t");

  ASSERT_TRUE(WaitFor([&] { return ready("ml-b").value("status", "") == "False"; }))
      << ready("ml-b").dump();
  const std::string message = ready("ml-b").value("message", "");
  EXPECT_THAT(message, HasSubstr("using cluster store \"shared\" is not allowed from namespace "
                                 "\"ml-b\""));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("s3cr3t")));
  EXPECT_FALSE(apiserver_.Stored("secrets", "ml-b", "db-secret").has_value());
  // The ClusterExternalSecret did its part in both namespaces.
  EXPECT_EQ(Strings(CesStatus("ml-db").value("provisionedNamespaces", json())),
            (std::vector<std::string>{"ml-a", "ml-b"}));
  controller->Stop();
  es_controller.Stop();
}

}  // namespace
}  // namespace coffer::controller
