// The PushSecretController against a FakeApiserver and a coffer server in-process. Most tests call
// Process() for deterministic steps (the object is then read live); one runs informers and workers
// and checks that a change of the source Secret is pushed, with a watch on that Secret only.

#include "controller/push_secret_controller.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/controller.h"  // SecretStoresRef
#include "controller/testing/coffer_backend.h"
#include "core/encoding.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "provider/secretsmanager_client.h"

namespace coffer::controller {
namespace {

using ::coffer::controller::testing::CofferBackend;
using ::coffer::controller::testing::kAccessKeyId;
using ::coffer::controller::testing::kSecretAccessKey;
using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNs[] = "team";
constexpr char kValue[] = "s3cr3t";

json SourceSecret(const std::string& name, const json& data) {
  json encoded = json::object();
  for (const auto& [k, v] : data.items()) encoded[k] = Base64Encode(v.get<std::string>());
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"data", encoded}};
}

json PushSecretObject(const std::string& name, const std::string& source, json data,
                      const std::string& deletion_policy = "None",
                      const std::string& update_policy = "Replace") {
  return {{"apiVersion", "external-secrets.io/v1alpha1"},
          {"kind", "PushSecret"},
          {"metadata", {{"name", name}, {"namespace", kNs}, {"generation", 1}}},
          {"spec",
           {{"refreshInterval", "1h"},
            {"updatePolicy", update_policy},
            {"deletionPolicy", deletion_policy},
            {"secretStoreRefs", {{{"name", "aws"}, {"kind", "SecretStore"}}}},
            {"selector", {{"secret", {{"name", source}}}}},
            {"data", std::move(data)}}}};
}

json Entry(const std::string& secret_key, const std::string& remote_key,
           const std::string& property = "") {
  json remote = {{"remoteKey", remote_key}};
  if (!property.empty()) remote["property"] = property;
  return {{"match", {{"secretKey", secret_key}, {"remoteRef", remote}}}};
}

class PushSecretControllerTest : public ::testing::Test {
 protected:
  PushSecretControllerTest() {
    apiserver_.SetHonourLabelSelectors(true);
    apiserver_.SetWatchWait(std::chrono::milliseconds(100));
    auto client = kube::Client::Create(apiserver_.Config(), kube::ClientOptions{.qps = 0});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    apiserver_.Seed("secrets",
                    SourceSecret("coffer-credentials", {{"access-key-id", kAccessKeyId},
                                                        {"secret-access-key", kSecretAccessKey}}));
    json auth = {
        {"secretRef",
         {{"accessKeyIDSecretRef", {{"name", "coffer-credentials"}, {"key", "access-key-id"}}},
          {"secretAccessKeySecretRef",
           {{"name", "coffer-credentials"}, {"key", "secret-access-key"}}}}}};
    apiserver_.Seed("secretstores",
                    {{"apiVersion", "external-secrets.io/v1"},
                     {"kind", "SecretStore"},
                     {"metadata", {{"name", "aws"}, {"namespace", kNs}, {"generation", 1}}},
                     {"spec",
                      {{"provider",
                        {{"aws",
                          {{"service", "SecretsManager"},
                           {"region", "us-east-1"},
                           {"endpoint", coffer_.endpoint()},
                           {"secretsManager", {{"forceDeleteWithoutRecovery", true}}},
                           {"auth", auth}}}}}}},
                     {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}});
    provider::SecretsManagerOptions sm;
    sm.endpoint = coffer_.endpoint();
    remote_ = std::make_unique<provider::SecretsManagerClient>(
        sm, provider::AwsCredentials{kAccessKeyId, kSecretAccessKey, ""});
  }

  std::unique_ptr<PushSecretController> Make() {
    return std::make_unique<PushSecretController>(*client_, PushSecretControllerOptions{});
  }

  void Process(PushSecretController& c, const std::string& name) {
    c.Process(op::WorkItem{std::string(kNs) + "/" + name, op::Trigger::kEvent, 0});
  }

  std::optional<json> Ready(const std::string& name) {
    std::optional<json> object = apiserver_.Stored("pushsecrets", kNs, name);
    if (!object || !object->contains("status")) return std::nullopt;
    for (const json& c : (*object)["status"].value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") return c;
    }
    return std::nullopt;
  }

  std::optional<std::string> RemoteValue(const std::string& name) {
    auto got = remote_->GetSecretValue(name);
    if (!got.ok()) return std::nullopt;
    return got->binary ? got->binary : got->string;
  }

  std::size_t Versions(const std::string& name) {
    auto d = remote_->DescribeSecret(name);
    return d.ok() ? d->versions.size() : 0;
  }

  void UpdateSource(const std::string& name, const json& data) {
    json patch = {{"data", json::object()}};
    for (const auto& [k, v] : data.items()) patch["data"][k] = Base64Encode(v.get<std::string>());
    ASSERT_TRUE(client_->Patch(kube::SecretsRef(kNs, name), kube::PatchType::kMerge, patch).ok());
  }

  CofferBackend coffer_;
  kube::testing::FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<provider::SecretsManagerClient> remote_;
};

TEST_F(PushSecretControllerTest, CreatesTaggedRemoteSecretAndWritesOnlyOnChange) {
  apiserver_.Seed("secrets", SourceSecret("db", {{"password", kValue}}));
  apiserver_.Seed("pushsecrets", PushSecretObject("push-db", "db", {Entry("password", "team/db")}));
  auto c = Make();
  Process(*c, "push-db");

  EXPECT_EQ(RemoteValue("team/db"), kValue);
  auto described = remote_->DescribeSecret("team/db");
  ASSERT_TRUE(described.ok());
  EXPECT_THAT(described->tags, ::testing::Contains(std::pair<std::string, std::string>(
                                   "managed-by", "external-secrets")));
  std::optional<json> ready = Ready("push-db");
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->value("status", ""), "True");
  EXPECT_EQ(ready->value("reason", ""), "Synced");
  json status = (*apiserver_.Stored("pushsecrets", kNs, "push-db"))["status"];
  EXPECT_EQ(status["syncedPushSecrets"]["SecretStore/aws"]["team/db"]["match"]["secretKey"],
            "password");
  EXPECT_TRUE(status.contains("refreshTime"));
  EXPECT_FALSE(status.dump().find(kValue) != std::string::npos);
  // deletionPolicy None: no finalizer.
  EXPECT_FALSE(
      (*apiserver_.Stored("pushsecrets", kNs, "push-db"))["metadata"].contains("finalizers"));

  // Unchanged: no new version.
  Process(*c, "push-db");
  EXPECT_EQ(Versions("team/db"), 1u);
  // Changed: exactly one new version.
  UpdateSource("db", {{"password", "n3w"}});
  Process(*c, "push-db");
  EXPECT_EQ(RemoteValue("team/db"), "n3w");
  EXPECT_EQ(Versions("team/db"), 2u);
}

TEST_F(PushSecretControllerTest, RefusesRemoteSecretWithoutManagedByTag) {
  coffer_.Create("team/foreign", "theirs");
  apiserver_.Seed("secrets", SourceSecret("db", {{"password", kValue}}));
  apiserver_.Seed("pushsecrets", PushSecretObject("p", "db", {Entry("password", "team/foreign")}));
  auto c = Make();
  Process(*c, "p");
  EXPECT_EQ(RemoteValue("team/foreign"), "theirs");
  std::optional<json> ready = Ready("p");
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->value("status", ""), "False");
  EXPECT_EQ(ready->value("reason", ""), "Errored");
  EXPECT_THAT(ready->value("message", ""), HasSubstr("secret not managed by external-secrets"));
  EXPECT_THAT(ready->value("message", ""), Not(HasSubstr(kValue)));
  EXPECT_THAT(ready->value("message", ""), Not(HasSubstr("theirs")));
}

TEST_F(PushSecretControllerTest, PropertiesMergeAndIfNotExistsLeavesExistingAlone) {
  coffer_.Create("team/doc", R"({"keep":"x"})");
  ASSERT_TRUE(remote_->TagResource("team/doc", {{"managed-by", "external-secrets"}}).ok());
  apiserver_.Seed("secrets", SourceSecret("tls", {{"tls.crt", "CRT"}, {"tls.key", kValue}}));
  apiserver_.Seed("pushsecrets", PushSecretObject("merge", "tls",
                                                  {Entry("tls.crt", "team/doc", "crt"),
                                                   Entry("tls.key", "team/doc", "key")}));
  coffer_.Create("team/existing", "untouched");
  apiserver_.Seed(
      "pushsecrets",
      PushSecretObject("once", "tls", {Entry("tls.crt", "team/existing")}, "None", "IfNotExists"));
  auto c = Make();
  Process(*c, "merge");
  Process(*c, "once");
  EXPECT_EQ(json::parse(*RemoteValue("team/doc")),
            json::parse(R"({"keep":"x","crt":"CRT","key":"s3cr3t"})"));
  EXPECT_EQ(Versions("team/doc"), 2u);  // one write for both properties
  EXPECT_EQ(RemoteValue("team/existing"), "untouched");
  EXPECT_EQ(Ready("once")->value("reason", ""), "Synced");
}

TEST_F(PushSecretControllerTest, DeletionPolicyDeleteUsesAFinalizer) {
  apiserver_.Seed("secrets", SourceSecret("db", {{"a", "1"}, {"b", "2"}}));
  apiserver_.Seed(
      "pushsecrets",
      PushSecretObject("p", "db", {Entry("a", "team/a"), Entry("b", "team/b")}, "Delete"));
  auto c = Make();
  Process(*c, "p");
  json stored = *apiserver_.Stored("pushsecrets", kNs, "p");
  EXPECT_EQ(stored["metadata"]["finalizers"],
            json::array({"pushsecret.externalsecrets.io/finalizer"}));
  EXPECT_EQ(RemoteValue("team/a"), "1");
  EXPECT_EQ(RemoteValue("team/b"), "2");

  // An entry dropped from the spec: its remote secret goes.
  stored["spec"]["data"] = json::array({Entry("a", "team/a")});
  stored["metadata"]["generation"] = 2;
  ASSERT_TRUE(client_->Update(PushSecretsRef(kNs, "p"), stored).ok());
  Process(*c, "p");
  EXPECT_EQ(RemoteValue("team/a"), "1");
  EXPECT_FALSE(RemoteValue("team/b").has_value());
  EXPECT_EQ(remote_->DescribeSecret("team/b").status().code(), StatusCode::kNotFound);

  // Deletion: the remote secret goes, then the finalizer.
  stored = *apiserver_.Stored("pushsecrets", kNs, "p");
  stored["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  ASSERT_TRUE(client_->Update(PushSecretsRef(kNs, "p"), stored).ok());
  Process(*c, "p");
  EXPECT_EQ(remote_->DescribeSecret("team/a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*apiserver_.Stored("pushsecrets", kNs, "p"))["metadata"]["finalizers"], json::array());
}

TEST_F(PushSecretControllerTest, LabelSelectorPicksStoresAndStatusNamesEach) {
  json labelled = *apiserver_.Stored("secretstores", kNs, "aws");
  labelled["metadata"] = {{"name", "aws-b"}, {"namespace", kNs}, {"labels", {{"push", "yes"}}}};
  labelled["spec"]["provider"]["aws"]["prefix"] = "b/";
  apiserver_.Seed("secretstores", labelled);
  apiserver_.Seed("secrets", SourceSecret("db", {{"password", kValue}}));
  json ps = PushSecretObject("sel", "db", {Entry("password", "team/sel")});
  ps["spec"]["secretStoreRefs"] = {
      {{"name", "aws"}},
      {{"labelSelector", {{"matchLabels", {{"push", "yes"}}}}}, {"kind", "SecretStore"}}};
  apiserver_.Seed("pushsecrets", ps);
  auto c = Make();
  Process(*c, "sel");
  EXPECT_EQ(RemoteValue("team/sel"), kValue);
  EXPECT_EQ(RemoteValue("b/team/sel"), kValue);  // the store's prefix
  json synced = (*apiserver_.Stored("pushsecrets", kNs, "sel"))["status"]["syncedPushSecrets"];
  EXPECT_TRUE(synced["SecretStore/aws"].contains("team/sel"));
  EXPECT_TRUE(synced["SecretStore/aws-b"].contains("team/sel"));
}

TEST_F(PushSecretControllerTest, FinalizerFollowsTheDeletionPolicyAndAGoneStoreDoesNotBlock) {
  apiserver_.Seed("secrets", SourceSecret("db", {{"a", "1"}}));
  apiserver_.Seed("pushsecrets", PushSecretObject("p", "db", {Entry("a", "team/f")}, "Delete"));
  auto c = Make();
  Process(*c, "p");
  json stored = *apiserver_.Stored("pushsecrets", kNs, "p");
  ASSERT_EQ(stored["metadata"]["finalizers"].size(), 1u);
  // Delete -> None: the finalizer goes, the remote secret stays.
  stored["spec"]["deletionPolicy"] = "None";
  ASSERT_TRUE(client_->Update(PushSecretsRef(kNs, "p"), stored).ok());
  Process(*c, "p");
  stored = *apiserver_.Stored("pushsecrets", kNs, "p");
  EXPECT_EQ(stored["metadata"]["finalizers"], json::array());
  // Back to Delete; then the store disappears and the PushSecret is deleted: the finalizer is
  // removed rather than kept forever.
  stored["spec"]["deletionPolicy"] = "Delete";
  ASSERT_TRUE(client_->Update(PushSecretsRef(kNs, "p"), stored).ok());
  Process(*c, "p");
  ASSERT_TRUE(client_->Delete(SecretStoresRef(kNs, "aws")).ok());
  stored = *apiserver_.Stored("pushsecrets", kNs, "p");
  ASSERT_EQ(stored["metadata"]["finalizers"].size(), 1u);
  stored["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  ASSERT_TRUE(client_->Update(PushSecretsRef(kNs, "p"), stored).ok());
  Process(*c, "p");
  EXPECT_EQ((*apiserver_.Stored("pushsecrets", kNs, "p"))["metadata"]["finalizers"], json::array());
  EXPECT_EQ(RemoteValue("team/f"), "1");
}

TEST_F(PushSecretControllerTest, WatchesOnlyTheSourceSecretAndPushesItsChanges) {
  apiserver_.Seed("secrets", SourceSecret("db", {{"password", kValue}}));
  apiserver_.Seed("secrets", SourceSecret("unrelated", {{"x", "y"}}));
  apiserver_.Seed("pushsecrets", PushSecretObject("p", "db", {Entry("password", "team/w")}));
  auto c = Make();
  c->StartInformers();
  ASSERT_TRUE(c->WaitForSync(std::chrono::seconds(10)));
  c->StartWorkers();
  auto wait_for = [](const std::function<bool()>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ok();
  };
  ASSERT_TRUE(wait_for([&] { return RemoteValue("team/w") == kValue; }));
  EXPECT_EQ(c->watched_sources(), 1u);
  UpdateSource("db", {{"password", "rotated"}});
  ASSERT_TRUE(wait_for([&] { return RemoteValue("team/w") == "rotated"; }));
  // Every list or watch of Secrets was limited to the source Secret by name.
  for (const auto& r : apiserver_.requests()) {
    if (r.method != "GET" || !r.path.ends_with("/secrets")) continue;
    EXPECT_EQ(r.query.count("fieldSelector") ? r.query.at("fieldSelector") : "", "metadata.name=db")
        << r.path;
  }
  // The PushSecret is deleted: its source watch ends.
  ASSERT_TRUE(client_->Delete(PushSecretsRef(kNs, "p")).ok());
  ASSERT_TRUE(wait_for([&] { return c->watched_sources() == 0; }));
  c->Stop();
}

}  // namespace
}  // namespace coffer::controller
