// The Controller against a FakeApiserver: stores with the `fake` provider (no network) and one aws
// store against a coffer server in-process. Tests either start the workers and poll the fake's
// objects with a deadline (no timing assertions), or call Process() for deterministic steps.

#include "controller/controller.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/testing/coffer_backend.h"
#include "controller/testing/wait_for.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "metrics/registry.h"
#include "operator/eso_hash.h"
#include "operator/reconcile.h"

namespace coffer::controller {
namespace {

using ::coffer::controller::testing::CofferBackend;
using ::coffer::controller::testing::kAccessKeyId;
using ::coffer::controller::testing::kSecretAccessKey;
using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNs[] = "team";
using ::coffer::controller::testing::kDeadline;
using ::coffer::controller::testing::WaitFor;

json FakeStoreObject(const std::string& name, const std::string& key, const std::string& value) {
  return {{"apiVersion", "external-secrets.io/v1"},
          {"kind", "SecretStore"},
          {"metadata", {{"name", name}, {"namespace", kNs}, {"generation", 1}}},
          {"spec", {{"provider", {{"fake", {{"data", {{{"key", key}, {"value", value}}}}}}}}}}};
}

json EsObject(const std::string& name, const std::string& store, json target = json::object(),
              const std::string& remote_key = "db/password") {
  if (!target.contains("name")) target["name"] = name + "-secret";
  return {{"apiVersion", "external-secrets.io/v1"},
          {"kind", "ExternalSecret"},
          {"metadata", {{"name", name}, {"namespace", kNs}, {"generation", 1}}},
          {"spec",
           {{"refreshInterval", "1h"},
            {"secretStoreRef", {{"name", store}, {"kind", "SecretStore"}}},
            {"target", target},
            {"data", {{{"secretKey", "password"}, {"remoteRef", {{"key", remote_key}}}}}}}}};
}

std::optional<json> ReadyOf(const std::optional<json>& object) {
  if (!object || !object->contains("status")) return std::nullopt;
  for (const json& c : (*object)["status"].value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c;
  }
  return std::nullopt;
}

std::string DataOf(const std::optional<json>& secret, const std::string& key) {
  if (!secret || !secret->contains("data") || !(*secret)["data"].contains(key)) return "";
  return Base64Decode((*secret)["data"][key].get<std::string>()).value_or("<not base64>");
}

std::string RvOf(const std::optional<json>& object) {
  return object ? (*object)["metadata"].value("resourceVersion", "") : "";
}

// The value of one rendered series, if present.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

std::string EsSeries(const std::string& metric, const std::string& name) {
  return metric + "{name=\"" + name + "\",namespace=\"" + kNs + "\"}";
}

// A Controller with its own metrics registry (one per process in production).
struct Running {
  metrics::Registry registry;
  std::unique_ptr<Controller> controller;

  Controller* operator->() { return controller.get(); }
  void Process(const op::WorkItem& item) { controller->Process(item); }
  std::string metrics() const { return "\n" + registry.Render(); }
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() {
    apiserver_.SetHonourLabelSelectors(true);
    apiserver_.SetWatchWait(std::chrono::milliseconds(100));
    auto client = kube::Client::Create(apiserver_.Config(), kube::ClientOptions{.qps = 0});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    apiserver_.SetOverride([this](const kube::testing::FakeApiserver::Recorded& r) {
      if (r.method == "GET" && r.query.count("watch") && r.path.ends_with("/secrets")) {
        std::unique_lock lock(hold_mu_);
        ++held_;
        hold_cv_.notify_all();
        hold_cv_.wait(lock, [&] { return !hold_; });
        --held_;
      }
      return std::optional<http::Response>();
    });
  }
  ~ControllerTest() override { ReleaseSecretWatch(); }

  // Holds back the Secret watch: the next watch request waits until ReleaseSecretWatch(), so
  // what happens meanwhile reaches the controller's cache at once, with no reconcile in between.
  // Returns once a watch request is waiting.
  bool HoldSecretWatch() {
    std::unique_lock lock(hold_mu_);
    hold_ = true;
    return hold_cv_.wait_for(lock, kDeadline, [&] { return held_ > 0; });
  }
  void ReleaseSecretWatch() {
    {
      std::lock_guard lock(hold_mu_);
      hold_ = false;
    }
    hold_cv_.notify_all();
  }

  // Starts the informers and waits for their first lists; `workers` also starts the workers.
  std::unique_ptr<Running> Start(bool workers, const Clock* clock = nullptr) {
    auto running = std::make_unique<Running>();
    ControllerOptions options;
    options.workers = 2;
    options.clock = clock;
    options.backends.clock = clock;
    options.backends.request_timeout = std::chrono::milliseconds(5000);
    running->controller = std::make_unique<Controller>(*client_, running->registry, options);
    running->controller->StartInformers();
    EXPECT_TRUE(running->controller->WaitForSync(std::chrono::milliseconds(10'000)));
    if (workers) running->controller->StartWorkers();
    return running;
  }

  std::optional<json> Secret(const std::string& name) const {
    return apiserver_.Stored("secrets", kNs, name);
  }
  std::optional<json> Es(const std::string& name) const {
    return apiserver_.Stored("externalsecrets", kNs, name);
  }
  bool ReadyIs(const std::string& es, const std::string& status, const std::string& reason) const {
    std::optional<json> ready = ReadyOf(Es(es));
    return ready && ready->value("status", "") == status && ready->value("reason", "") == reason;
  }
  // Events on ExternalSecret `es` with `reason`.
  int EventCount(const std::string& es, const std::string& reason) const {
    int n = 0;
    for (const json& e : apiserver_.Objects("events", kNs)) {
      if (e["involvedObject"].value("name", "") == es && e.value("reason", "") == reason) ++n;
    }
    return n;
  }
  // A request that changes something, other than an Event.
  static bool IsWrite(const kube::testing::FakeApiserver::Recorded& r) {
    return r.method != "GET" && r.path.find("/events") == std::string::npos;
  }
  // The requests that change something, other than Events.
  int Writes() const {
    int n = 0;
    for (const auto& r : apiserver_.requests()) n += IsWrite(r) ? 1 : 0;
    return n;
  }
  // The writes after the first `n`, for a failure message.
  std::string WritesAfter(int n) const {
    std::string out = "writes after the first " + std::to_string(n) + ":";
    for (const auto& r : apiserver_.requests()) {
      if (IsWrite(r) && n-- <= 0) out += "\n  " + r.method + " " + r.path + " " + r.body;
    }
    return out;
  }
  static op::WorkItem Item(const std::string& key) {
    return op::WorkItem{key, op::Trigger::kEvent, SystemClock::Get()->NowMillis()};
  }
  // Waits until the controller's watch of `resource` ("secrets", "externalsecrets") has handled
  // every change made so far: an informer watches again from the last resourceVersion it handled,
  // and the fake ends each watch with a bookmark of its current resourceVersion.
  bool WaitForWatch(const std::string& resource) const {
    const std::int64_t now = apiserver_.resource_version();
    return WaitFor([&] {
      for (const auto& r : apiserver_.requests()) {
        if (r.method == "GET" && r.query.count("watch") && r.path.ends_with("/" + resource) &&
            r.query.count("resourceVersion") && std::stoll(r.query.at("resourceVersion")) >= now) {
          return true;
        }
      }
      return false;
    });
  }

  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;  // guarded by hold_mu_
  int held_ = 0;       // guarded by hold_mu_
  kube::testing::FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
};

TEST_F(ControllerTest, CreatesTheSecretWithEsoMetadataStatusAndEvent) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  json es = apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(true);

  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); })) << Es("db")->dump();
  std::optional<json> secret = Secret("db-secret");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(DataOf(secret, "password"), "s3cret");
  const json& meta = (*secret)["metadata"];
  EXPECT_EQ(meta["labels"].value(std::string(op::kLabelManaged), ""), "true");
  EXPECT_FALSE(meta["annotations"].value(std::string(op::kAnnotationDataHash), "").empty());
  ASSERT_EQ(meta["ownerReferences"].size(), 1u);
  const json& owner = meta["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "ExternalSecret");
  EXPECT_EQ(owner["name"], "db");
  EXPECT_EQ(owner["uid"], es["metadata"]["uid"]);
  EXPECT_EQ(owner["controller"], true);

  std::optional<json> stored = Es("db");
  EXPECT_EQ(ReadyOf(stored)->value("message", ""), "secret synced");
  EXPECT_EQ((*stored)["status"]["binding"]["name"], "db-secret");
  EXPECT_FALSE((*stored)["status"].value("syncedResourceVersion", "").empty());
  EXPECT_FALSE((*stored)["status"].value("refreshTime", "").empty());
  EXPECT_TRUE(ReadyOf(apiserver_.Stored("secretstores", kNs, "fake")).has_value());
  EXPECT_EQ(ReadyOf(apiserver_.Stored("secretstores", kNs, "fake"))->value("status", ""), "True");

  // The status went through the status subresource, the Secret was created under ESO's field
  // manager, and the ExternalSecret object itself was never written.
  bool created = false;
  for (const auto& r : apiserver_.requests()) {
    if (r.path == "/apis/external-secrets.io/v1/namespaces/team/externalsecrets/db") {
      EXPECT_EQ(r.method, "GET") << "the ExternalSecret itself must not be written";
    }
    if (r.method == "POST" && r.path == "/api/v1/namespaces/team/secrets") {
      created = true;
      EXPECT_EQ(r.query.count("fieldManager") ? r.query.at("fieldManager") : "",
                op::FieldManagerName("db"));
    }
  }
  EXPECT_TRUE(created);
  EXPECT_GE(apiserver_.CountRequests(
                "PATCH", "/apis/external-secrets.io/v1/namespaces/team/externalsecrets/db/status"),
            1);
  ASSERT_TRUE(WaitFor([&] { return EventCount("db", "Created") == 1; }));

  const std::string text = c->metrics();
  EXPECT_EQ(Sample(text,
                   "externalsecret_status_condition{name=\"db\",namespace=\"team\","
                   "condition=\"Ready\",status=\"True\"}"),
            1);
  EXPECT_EQ(Sample(text, EsSeries("externalsecret_sync_calls_error", "db")), 0);
  EXPECT_EQ(Sample(text,
                   "secretstore_status_condition{name=\"fake\",namespace=\"team\","
                   "condition=\"Ready\",status=\"True\"}"),
            1);
}

TEST_F(ControllerTest, NoSecondWriteWhenNothingChangedAlsoAfterARestart) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  {
    auto c = Start(false);
    ASSERT_TRUE(HoldSecretWatch());
    c->Process(Item("ss:team/fake"));
    c->Process(Item("es:team/db"));
    ASSERT_TRUE(ReadyIs("db", "True", "SecretSynced"));
    const std::string secret_rv = RvOf(Secret("db-secret"));
    const std::string es_rv = RvOf(Es("db"));
    const int writes = Writes();
    ASSERT_FALSE(secret_rv.empty());

    // While the Secret cache still shows the state before the write...
    c->Process(Item("es:team/db"));
    EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
    // ... and once the Secret watch has delivered it.
    ReleaseSecretWatch();
    ASSERT_TRUE(WaitForWatch("secrets"));
    c->Process(Item("es:team/db"));
    c->Process(Item("ss:team/fake"));
    EXPECT_EQ(RvOf(Secret("db-secret")), secret_rv);
    EXPECT_EQ(RvOf(Es("db")), es_rv);
    EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
    c->controller->Stop();
  }

  // An operator restart: a new Controller syncs everything again and writes nothing.
  const std::string secret_rv = RvOf(Secret("db-secret"));
  const std::string es_rv = RvOf(Es("db"));
  const int writes = Writes();
  auto restarted = Start(true);
  ASSERT_TRUE(WaitFor([&] {
    return Sample(restarted->metrics(), EsSeries("externalsecret_sync_calls_total", "db"))
               .value_or(0) >= 1;
  }));
  EXPECT_EQ(Sample(restarted->metrics(), EsSeries("externalsecret_sync_calls_error", "db")), 0);
  EXPECT_EQ(RvOf(Secret("db-secret")), secret_rv);
  EXPECT_EQ(RvOf(Es("db")), es_rv);
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
  ASSERT_TRUE(restarted->controller->FlushEvents(std::chrono::seconds(5)));
  EXPECT_EQ(EventCount("db", "Created"), 1);
  EXPECT_EQ(EventCount("db", "Updated"), 0);
}

TEST_F(ControllerTest, ASpecChangeUpdatesTheSecret) {
  // (The force-sync of a changed remote value is covered with the aws store below: a fake
  // store's data is its spec, and ESO does not re-sync ExternalSecrets when a store changes.)
  json store = FakeStoreObject("fake", "db/password", "first");
  store["spec"]["provider"]["fake"]["data"].push_back({{"key", "db/other"}, {"value", "second"}});
  apiserver_.Seed("secretstores", store);
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(true);
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "password") == "first"; }));
  const std::string uid = (*Secret("db-secret"))["metadata"].value("uid", "");

  ASSERT_TRUE(
      client_
          ->Patch(
              ExternalSecretsRef(kNs, "db"), kube::PatchType::kMerge,
              {{"metadata", {{"generation", 2}}},
               {"spec",
                {{"data", {{{"secretKey", "password"}, {"remoteRef", {{"key", "db/other"}}}}}}}}})
          .ok());
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "password") == "second"; }));
  EXPECT_EQ((*Secret("db-secret"))["metadata"].value("uid", ""), uid);  // updated, not recreated
  ASSERT_TRUE(WaitFor([&] { return EventCount("db", "Updated") == 1; }));
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); }));
}

TEST_F(ControllerTest, TemplateFromAConfigMapAndASecretIsRendered) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cr3t"));
  apiserver_.Seed("configmaps", json{{"apiVersion", "v1"},
                                     {"kind", "ConfigMap"},
                                     {"metadata", {{"name", "tpl"}, {"namespace", kNs}}},
                                     {"data", {{"dsn", "postgres://app:{{ .password }}@db/app"}}}});
  apiserver_.Seed("secrets", json{{"apiVersion", "v1"},
                                  {"kind", "Secret"},
                                  {"metadata", {{"name", "tpl-secret"}, {"namespace", kNs}}},
                                  {"data", {{"env", Base64Encode("PW: '{{ .password }}'")}}}});
  json es = EsObject("db", "fake");
  es["spec"]["target"]["template"] = json::parse(R"({
      "templateFrom": [
        {"configMap": {"name": "tpl", "items": [{"key": "dsn"}]}},
        {"secret": {"name": "tpl-secret", "items": [{"key": "env", "templateAs": "KeysAndValues"}]}}
      ]})");
  apiserver_.Seed("externalsecrets", es);
  auto c = Start(true);
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "PW") == "s3cr3t"; }));
  EXPECT_EQ(DataOf(Secret("db-secret"), "dsn"), "postgres://app:s3cr3t@db/app");
  EXPECT_EQ((*Secret("db-secret"))["data"].size(), 2u);  // Replace: "password" itself is not kept
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); }));

  // A templateFrom ConfigMap that does not exist: Ready False naming it, no write.
  auto SecretWrites = [&] {
    int n = 0;
    for (const auto& r : apiserver_.requests()) {
      if (r.method != "GET" && r.path.find("/secrets") != std::string::npos) ++n;
    }
    return n;
  };
  const int secret_writes = SecretWrites();
  ASSERT_TRUE(
      client_
          ->Patch(
              ExternalSecretsRef(kNs, "db"), kube::PatchType::kMerge,
              {{"metadata", {{"generation", 2}}},
               {"spec",
                {{"target",
                  {{"template",
                    {{"templateFrom",
                      {{{"configMap", {{"name", "absent"}, {"items", {{{"key", "k"}}}}}}}}}}}}}}}})
          .ok());
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "False", "SecretSyncedError"); }));
  const std::string message = ReadyOf(Es("db"))->value("message", "");
  EXPECT_NE(message.find("configmap absent"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  EXPECT_EQ(DataOf(Secret("db-secret"), "PW"), "s3cr3t");  // untouched
  EXPECT_EQ(SecretWrites(), secret_writes);                // no Secret write since the spec change
}

TEST_F(ControllerTest, AwsStoreAgainstCofferServerAndForceSyncReadsAFreshValue) {
  CofferBackend coffer;
  coffer.Create("team/db", "from-coffer");
  apiserver_.Seed("secrets", {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "coffer-credentials"}, {"namespace", kNs}}},
                              {"data",
                               {{"access-key-id", Base64Encode(kAccessKeyId)},
                                {"secret-access-key", Base64Encode(kSecretAccessKey)}}}});
  json auth = {
      {"secretRef",
       {{"accessKeyIDSecretRef", {{"name", "coffer-credentials"}, {"key", "access-key-id"}}},
        {"secretAccessKeySecretRef",
         {{"name", "coffer-credentials"}, {"key", "secret-access-key"}}}}}};
  apiserver_.Seed("secretstores", {{"apiVersion", "external-secrets.io/v1"},
                                   {"kind", "SecretStore"},
                                   {"metadata", {{"name", "aws"}, {"namespace", kNs}}},
                                   {"spec",
                                    {{"provider",
                                      {{"aws",
                                        {{"service", "SecretsManager"},
                                         {"region", "us-east-1"},
                                         {"endpoint", coffer.endpoint()},
                                         {"auth", auth}}}}}}}});
  apiserver_.Seed("externalsecrets", EsObject("db", "aws", json::object(), "team/db"));
  apiserver_.Seed("externalsecrets", EsObject("db2", "aws", json::object(), "team/db"));
  auto c = Start(true);

  ASSERT_TRUE(WaitFor([&] {
    return DataOf(Secret("db-secret"), "password") == "from-coffer" &&
           DataOf(Secret("db2-secret"), "password") == "from-coffer";
  }));
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); }));
  EXPECT_EQ(ReadyOf(apiserver_.Stored("secretstores", kNs, "aws"))->value("reason", ""), "Valid");
  EXPECT_GE(Sample(c->metrics(),
                   "externalsecret_provider_api_calls_count{provider="
                   "\"AWS/SecretsManager\",call=\"GetSecretValue\",status="
                   "\"success\"}")
                .value_or(0),
            1);
  EXPECT_THAT(c->metrics(), Not(HasSubstr("from-coffer")));
  // Both ExternalSecrets were queued before the first fetch started: one backend call.
  EXPECT_EQ(c->controller->fetch_stats().backend_calls, 1u);

  coffer.Put("team/db", "rotated");
  ASSERT_TRUE(client_
                  ->Patch(ExternalSecretsRef(kNs, "db"), kube::PatchType::kMerge,
                          {{"metadata", {{"annotations", {{"force-sync", "1"}}}}}})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "password") == "rotated"; }));
  ASSERT_TRUE(WaitFor([&] { return EventCount("db", "Updated") == 1; }));
  ASSERT_TRUE(c->controller->FlushEvents(std::chrono::seconds(5)));
  EXPECT_EQ(EventCount("db", "Created"), 1);
  EXPECT_EQ(c->controller->fetch_stats().backend_calls, 2u);  // the forced one read afresh
  // The ExternalSecret's own annotations are copied onto the Secret, as ESO does.
  EXPECT_EQ((*Secret("db-secret"))["metadata"]["annotations"].value("force-sync", ""), "1");
  // db2 was not forced: its next refresh is an hour away.
  EXPECT_EQ(DataOf(Secret("db2-secret"), "password"), "from-coffer");
}

TEST_F(ControllerTest, DataFromFindWithRewriteAgainstCofferServer) {
  CofferBackend coffer;
  coffer.Create("ml-platform/mlflow/db", "mlflow-s3cr3t");
  coffer.Create("ml-platform/airflow/db", "airflow-s3cr3t");
  coffer.Create("other/x", "other-s3cr3t");
  apiserver_.Seed("secrets", {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "coffer-credentials"}, {"namespace", kNs}}},
                              {"data",
                               {{"access-key-id", Base64Encode(kAccessKeyId)},
                                {"secret-access-key", Base64Encode(kSecretAccessKey)}}}});
  json auth = {
      {"secretRef",
       {{"accessKeyIDSecretRef", {{"name", "coffer-credentials"}, {"key", "access-key-id"}}},
        {"secretAccessKeySecretRef",
         {{"name", "coffer-credentials"}, {"key", "secret-access-key"}}}}}};
  apiserver_.Seed("secretstores", {{"apiVersion", "external-secrets.io/v1"},
                                   {"kind", "SecretStore"},
                                   {"metadata", {{"name", "aws"}, {"namespace", kNs}}},
                                   {"spec",
                                    {{"provider",
                                      {{"aws",
                                        {{"service", "SecretsManager"},
                                         {"region", "us-east-1"},
                                         {"endpoint", coffer.endpoint()},
                                         {"auth", auth}}}}}}}});
  json es = EsObject("ml", "aws", json::object(), "unused");
  es["spec"].erase("data");
  es["spec"]["dataFrom"] = json::parse(R"([{
      "find": {"name": {"regexp": "^ml-platform/"}},
      "rewrite": [{"regexp": {"source": "ml-platform/(.*)/db", "target": "$1-db"}}]}])");
  apiserver_.Seed("externalsecrets", es);
  auto c = Start(true);

  ASSERT_TRUE(WaitFor([&] { return ReadyIs("ml", "True", "SecretSynced"); }));
  std::optional<json> secret = Secret("ml-secret");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ((*secret)["data"].size(), 2u) << (*secret)["data"].dump();
  EXPECT_EQ(DataOf(secret, "mlflow-db"), "mlflow-s3cr3t");
  EXPECT_EQ(DataOf(secret, "airflow-db"), "airflow-s3cr3t");
  EXPECT_GE(Sample(c->metrics(),
                   "externalsecret_provider_api_calls_count{provider="
                   "\"AWS/SecretsManager\",call=\"BatchGetSecretValue\",status="
                   "\"success\"}")
                .value_or(0),
            1);
}

TEST_F(ControllerTest, TakesOverAnUnlabelledSecretAfterAlreadyExists) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  apiserver_.Seed("secrets", {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "db-secret"}, {"namespace", kNs}}},
                              {"type", "Opaque"},
                              {"data", {{"password", Base64Encode("old")}}}});
  auto c = Start(false);
  ASSERT_TRUE(HoldSecretWatch());
  c->Process(Item("ss:team/fake"));
  c->Process(Item("es:team/db"));

  EXPECT_EQ(apiserver_.CountRequests("POST", "/api/v1/namespaces/team/secrets"), 1);  // 409
  ASSERT_TRUE(ReadyIs("db", "True", "SecretSynced")) << Es("db")->dump();
  std::optional<json> secret = Secret("db-secret");
  EXPECT_EQ(DataOf(secret, "password"), "s3cret");
  EXPECT_EQ((*secret)["metadata"]["labels"].value(std::string(op::kLabelManaged), ""), "true");
  ASSERT_EQ((*secret)["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ((*secret)["metadata"]["ownerReferences"][0]["name"], "db");
  ASSERT_TRUE(c->controller->FlushEvents(std::chrono::seconds(5)));
  EXPECT_EQ(EventCount("db", "UpdateFailed"), 0);
  EXPECT_EQ(Sample(c->metrics(), EsSeries("externalsecret_sync_calls_error", "db")), 0);

  // Nothing more is written, before and after the watch shows the adopted Secret.
  const int writes = Writes();
  c->Process(Item("es:team/db"));
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
  ReleaseSecretWatch();
  ASSERT_TRUE(WaitForWatch("secrets"));
  c->Process(Item("es:team/db"));
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
}

TEST_F(ControllerTest, AnUpdateRightAfterTheCreateIsNotFollowedByAnotherCreate) {
  // The Secret cache shows neither the create nor the update yet: the controller's memory of its
  // writes must still say that the Secret exists.
  json store = FakeStoreObject("fake", "db/password", "first");
  store["spec"]["provider"]["fake"]["data"].push_back({{"key", "db/other"}, {"value", "second"}});
  apiserver_.Seed("secretstores", store);
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(false);
  ASSERT_TRUE(HoldSecretWatch());
  c->Process(Item("ss:team/fake"));
  c->Process(Item("es:team/db"));
  ASSERT_EQ(DataOf(Secret("db-secret"), "password"), "first");

  ASSERT_TRUE(
      client_
          ->Patch(
              ExternalSecretsRef(kNs, "db"), kube::PatchType::kMerge,
              {{"metadata", {{"generation", 2}}},
               {"spec",
                {{"data", {{{"secretKey", "password"}, {"remoteRef", {{"key", "db/other"}}}}}}}}})
          .ok());
  ASSERT_TRUE(WaitForWatch("externalsecrets"));
  c->Process(Item("es:team/db"));
  ASSERT_EQ(DataOf(Secret("db-secret"), "password"), "second");
  EXPECT_EQ(apiserver_.CountRequests("POST", "/api/v1/namespaces/team/secrets"), 1);

  const int writes = Writes();
  c->Process(Item("es:team/db"));
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
  EXPECT_EQ(apiserver_.CountRequests("POST", "/api/v1/namespaces/team/secrets"), 1);
  ReleaseSecretWatch();
  ASSERT_TRUE(WaitForWatch("secrets"));
  c->Process(Item("es:team/db"));
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
  ASSERT_TRUE(c->controller->FlushEvents(std::chrono::seconds(5)));
  EXPECT_EQ(EventCount("db", "Updated"), 1);
}

TEST_F(ControllerTest, MergeOntoAnExistingSecretKeepsForeignKeys) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets",
                  EsObject("db", "fake", {{"name", "shared"}, {"creationPolicy", "Merge"}}));
  apiserver_.Seed("secrets", {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "shared"}, {"namespace", kNs}}},
                              {"type", "Opaque"},
                              {"data", {{"foreign", Base64Encode("keep-me")}}}});
  auto c = Start(false);
  c->Process(Item("ss:team/fake"));
  c->Process(Item("es:team/db"));

  ASSERT_TRUE(ReadyIs("db", "True", "SecretSynced")) << Es("db")->dump();
  std::optional<json> secret = Secret("shared");
  EXPECT_EQ(DataOf(secret, "password"), "s3cret");
  EXPECT_EQ(DataOf(secret, "foreign"), "keep-me");
  EXPECT_FALSE((*secret)["metadata"].contains("ownerReferences"));

  // Merge targets are read live each time; nothing changed, nothing is written.
  const int writes = Writes();
  c->Process(Item("es:team/db"));
  EXPECT_EQ(Writes(), writes) << WritesAfter(writes);
}

TEST_F(ControllerTest, MissingStoreFailsAndRetriesWithBackoff) {
  FakeClock clock(SystemClock::Get()->NowMillis());
  apiserver_.Seed("externalsecrets", EsObject("db", "nope"));
  auto c = Start(true, &clock);

  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "False", "SecretSyncedError"); }));
  EXPECT_THAT(ReadyOf(Es("db"))->value("message", ""), HasSubstr("\"nope\""));
  EXPECT_FALSE(Secret("db-secret").has_value());
  ASSERT_TRUE(WaitFor([&] { return EventCount("db", "UpdateFailed") >= 1; }));
  ASSERT_TRUE(WaitFor([&] {
    return Sample(c->metrics(), EsSeries("externalsecret_sync_calls_error", "db")) == 1;
  }));

  // The retry is a timer: it fires once the clock passes the first backoff (5 s).
  clock.AdvanceMillis(op::BackoffDelay(1));
  ASSERT_TRUE(WaitFor([&] {
    return Sample(c->metrics(), EsSeries("externalsecret_sync_calls_error", "db")).value_or(0) >= 2;
  }));

  // The store appears: once validated, its users are synced at once.
  apiserver_.Seed("secretstores", FakeStoreObject("nope", "db/password", "found"));
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "password") == "found"; }));
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); }));
}

TEST_F(ControllerTest, StoreNotReadyFailsWithoutTouchingTheSecret) {
  json store = FakeStoreObject("down", "db/password", "s3cret");
  store["status"] = {{"conditions",
                      {{{"type", "Ready"},
                        {"status", "False"},
                        {"reason", "ValidationFailed"},
                        {"message", "unable to validate store"},
                        {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
  apiserver_.Seed("secretstores", store);
  apiserver_.Seed("externalsecrets", EsObject("db", "down"));
  auto c = Start(false);
  c->Process(Item("es:team/db"));  // the store is not validated: its status says not ready

  ASSERT_TRUE(ReadyIs("db", "False", "SecretSyncedError")) << Es("db")->dump();
  EXPECT_THAT(ReadyOf(Es("db"))->value("message", ""), HasSubstr("not ready"));
  EXPECT_FALSE(Secret("db-secret").has_value());
  EXPECT_EQ(Sample(c->metrics(), EsSeries("externalsecret_sync_calls_error", "db")), 1);
  EXPECT_EQ(Sample(c->metrics(),
                   "externalsecret_status_condition{name=\"db\",namespace=\"team\","
                   "condition=\"Ready\",status=\"False\"}"),
            1);
}

TEST_F(ControllerTest, ASecretDeletedByHandIsRecreated) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(true);
  ASSERT_TRUE(WaitFor([&] { return DataOf(Secret("db-secret"), "password") == "s3cret"; }));
  const std::string uid = (*Secret("db-secret"))["metadata"].value("uid", "");

  ASSERT_TRUE(client_->Delete(kube::SecretsRef(kNs, "db-secret")).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::optional<json> secret = Secret("db-secret");
    return secret && (*secret)["metadata"].value("uid", "") != uid;
  }));
  EXPECT_EQ(DataOf(Secret("db-secret"), "password"), "s3cret");
}

TEST_F(ControllerTest, ASecretDeletedRightAfterItsCreationIsRecreated) {
  // Deterministic: the creation and the deletion reach the cache together, with no reconcile in
  // between.
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(false);
  ASSERT_TRUE(HoldSecretWatch());
  c->Process(Item("ss:team/fake"));
  c->Process(Item("es:team/db"));
  ASSERT_TRUE(Secret("db-secret").has_value());
  ASSERT_TRUE(client_->Delete(kube::SecretsRef(kNs, "db-secret")).ok());
  ReleaseSecretWatch();
  ASSERT_TRUE(WaitForWatch("secrets"));  // the watch delivered the creation (and the deletion)

  ASSERT_TRUE(WaitFor([&] {
    c->Process(Item("es:team/db"));
    return Secret("db-secret").has_value();
  }));
  EXPECT_EQ(DataOf(Secret("db-secret"), "password"), "s3cret");
}

TEST_F(ControllerTest, ASecretDeletedBeforeItsCreateReturnedIsRecreated) {
  // The watch delivers the creation and a deletion before the create's response reaches the
  // controller (a slow worker thread): what it remembers of its write must not hide the deletion.
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(false);
  c->Process(Item("ss:team/fake"));
  std::atomic<bool> intercepted{false};
  apiserver_.SetOverride(
      [&](const kube::testing::FakeApiserver::Recorded& r) -> std::optional<http::Response> {
        if (r.method != "POST" || r.path != "/api/v1/namespaces/team/secrets" ||
            intercepted.exchange(true)) {
          return std::nullopt;
        }
        Result<json> created = client_->Create(kube::SecretsRef(kNs), json::parse(r.body));
        EXPECT_TRUE(created.ok()) << created.status().ToString();
        EXPECT_TRUE(client_->Delete(kube::SecretsRef(kNs, "db-secret")).ok());
        const std::string deleted_rv = std::to_string(apiserver_.resource_version());
        // The informer watches again from the deletion once it has handled both events.
        EXPECT_TRUE(WaitFor([&] {
          for (const auto& w : apiserver_.requests()) {
            if (w.method == "GET" && w.query.count("watch") && w.path.ends_with("/secrets") &&
                w.query.count("resourceVersion") && w.query.at("resourceVersion") == deleted_rv) {
              return true;
            }
          }
          return false;
        }));
        return kube::testing::JsonResponse(201, created.ok() ? *created : json());
      });
  c->Process(Item("es:team/db"));
  ASSERT_TRUE(intercepted.load());
  EXPECT_FALSE(Secret("db-secret").has_value());

  c->Process(Item("es:team/db"));
  EXPECT_TRUE(Secret("db-secret").has_value());
  EXPECT_EQ(DataOf(Secret("db-secret"), "password"), "s3cret");
}

TEST_F(ControllerTest, InvalidSpecIsReportedInTheStatus) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  json es = EsObject("bad", "fake");
  es["spec"].erase("data");
  apiserver_.Seed("externalsecrets", es);
  auto c = Start(true);

  ASSERT_TRUE(WaitFor([&] { return ReadyIs("bad", "False", "SecretSyncedError"); }));
  EXPECT_THAT(ReadyOf(Es("bad"))->value("message", ""), HasSubstr("invalid ExternalSecret"));
  EXPECT_FALSE(Secret("bad-secret").has_value());
  ASSERT_TRUE(WaitFor([&] {
    return Sample(c->metrics(), EsSeries("externalsecret_sync_calls_error", "bad")) == 1;
  }));
}

TEST_F(ControllerTest, DeletingTheExternalSecretRemovesItsMetrics) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  apiserver_.Seed("externalsecrets", EsObject("other", "fake"));
  auto c = Start(true);
  ASSERT_TRUE(WaitFor([&] {
    return ReadyIs("db", "True", "SecretSynced") && ReadyIs("other", "True", "SecretSynced");
  }));
  // The metrics are recorded after the status write.
  ASSERT_TRUE(WaitFor([&] {
    return c->metrics().find("name=\"db\"") != std::string::npos &&
           c->metrics().find("name=\"other\"") != std::string::npos;
  }));

  ASSERT_TRUE(client_->Delete(ExternalSecretsRef(kNs, "db")).ok());
  ASSERT_TRUE(WaitFor([&] { return c->metrics().find("name=\"db\"") == std::string::npos; }))
      << c->metrics();
  EXPECT_NE(c->metrics().find("name=\"other\""), std::string::npos);
}

TEST_F(ControllerTest, DeletingAStoreRemovesItsMetricsAndFailsItsUsersNextSync) {
  apiserver_.Seed("secretstores", FakeStoreObject("fake", "db/password", "s3cret"));
  apiserver_.Seed("externalsecrets", EsObject("db", "fake"));
  auto c = Start(true);
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "True", "SecretSynced"); }));
  ASSERT_TRUE(WaitFor([&] { return c->metrics().find("name=\"fake\"") != std::string::npos; }));

  ASSERT_TRUE(client_->Delete(SecretStoresRef(kNs, "fake")).ok());
  ASSERT_TRUE(WaitFor([&] { return c->metrics().find("name=\"fake\"") == std::string::npos; }))
      << c->metrics();
  // As in ESO, the users notice at their next sync; force one.
  ASSERT_TRUE(client_
                  ->Patch(ExternalSecretsRef(kNs, "db"), kube::PatchType::kMerge,
                          {{"metadata", {{"annotations", {{"force-sync", "1"}}}}}})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return ReadyIs("db", "False", "SecretSyncedError"); }));
  EXPECT_THAT(ReadyOf(Es("db"))->value("message", ""), HasSubstr("\"fake\""));
  // The Secret is kept, as ESO keeps it when the provider fails.
  EXPECT_EQ(DataOf(Secret("db-secret"), "password"), "s3cret");
}

}  // namespace
}  // namespace coffer::controller
