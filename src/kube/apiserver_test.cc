// Runs the client against a real kube-apiserver (tools/kube/control-plane.sh). Skipped unless
// COFFER_KUBE_TEST_KUBECONFIG names the control plane's kubeconfig; apiserver_test.sh (CTest
// `kube.client`, label `kube`) starts one and sets it. A dedicated variable, not KUBECONFIG, so
// the test never touches a developer's real cluster.

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/leader.h"
#include "kube/watch.h"

namespace coffer::kube {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class RealApiserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kubeconfig = std::getenv("COFFER_KUBE_TEST_KUBECONFIG");
    if (kubeconfig == nullptr || *kubeconfig == '\0') {
      GTEST_SKIP() << "COFFER_KUBE_TEST_KUBECONFIG is not set (run through apiserver_test.sh)";
    }
    Result<ClientConfig> config = LoadKubeconfig({kubeconfig});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    ASSERT_FALSE(config->ca_pem.empty());  // TLS verified against the apiserver's CA
    Result<std::unique_ptr<Client>> client = Client::Create(*config);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    ns_ = "kube-client-" + std::to_string(::getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : ns_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Result<Json> created = client_->Create(
        {"", "v1", "namespaces", "", "", ""},
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  void TearDown() override {
    if (client_) (void)client_->Delete({"", "v1", "namespaces", "", ns_, ""});
  }
  Json Secret(const std::string& name, const std::string& b64) {
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name}, {"namespace", ns_}}},
            {"type", "Opaque"},
            {"data", {{"password", b64}}}};
  }

  std::unique_ptr<Client> client_;
  std::string ns_;
};

TEST_F(RealApiserverTest, SecretCrudPatchesAndErrors) {
  Result<Json> created = client_->Create(SecretsRef(ns_), Secret("db", "b25l"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(client_->Create(SecretsRef(ns_), Secret("db", "b25l")).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(client_->Get(SecretsRef(ns_, "missing")).status().code(), StatusCode::kNotFound);

  Json stale = *created;
  Json fresh = *client_->Get(SecretsRef(ns_, "db"));
  fresh["data"]["password"] = "dHdv";
  Result<Json> updated = client_->Update(SecretsRef(ns_, "db"), fresh);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  stale["data"]["password"] = "c3RhbGU=";
  EXPECT_TRUE(IsConflict(client_->Update(SecretsRef(ns_, "db"), stale).status()));

  Result<Json> merged = client_->Patch(SecretsRef(ns_, "db"), PatchType::kMerge,
                                       {{"metadata", {{"labels", {{"app", "coffer"}}}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["metadata"]["labels"]["app"], "coffer");

  Result<Json> applied = client_->Apply(
      SecretsRef(ns_, "db"),
      {{"apiVersion", "v1"},
       {"kind", "Secret"},
       {"metadata", {{"name", "db"}, {"namespace", ns_}}},
       {"data", {{"password", "YXBwbGllZA=="}}}},
      "coffer-test", /*force=*/true);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ((*applied)["data"]["password"], "YXBwbGllZA==");
  bool managed = false;
  for (const Json& f : (*applied)["metadata"]["managedFields"]) {
    managed = managed || f.value("manager", "") == "coffer-test";
  }
  EXPECT_TRUE(managed);

  Result<Json> retried = UpdateWithRetry(*client_, SecretsRef(ns_, "db"), [](Json& s) {
    s["metadata"]["annotations"]["touched"] = "yes";
    return Status::Ok();
  });
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();

  Result<Json> list = client_->ListAll(SecretsRef(ns_), {.limit = 1});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_TRUE(client_->Delete(SecretsRef(ns_, "db")).ok());
  EXPECT_EQ(client_->Get(SecretsRef(ns_, "db")).status().code(), StatusCode::kNotFound);
}

TEST_F(RealApiserverTest, WatchAndInformerSeeAddModifyDelete) {
  Json list = *client_->List(SecretsRef(ns_));
  const std::string rv = list["metadata"]["resourceVersion"];

  std::mutex mu;
  std::vector<std::string> informer_log;
  auto note = [&](std::string s) {
    std::lock_guard<std::mutex> lock(mu);
    informer_log.push_back(std::move(s));
  };
  auto has = [&](const std::string& s) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(informer_log.begin(), informer_log.end(), s) != informer_log.end();
  };
  InformerOptions io;
  io.transform = KeepMetadataOnly;
  Informer informer(*client_, SecretsRef(ns_), io,
                    {[&](const Json& o) { note("add " + ObjectKey(o)); },
                     [&](const Json&, const Json& o) { note("update " + ObjectKey(o)); },
                     [&](const Json& o) { note("delete " + ObjectKey(o)); }});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));

  ASSERT_TRUE(client_->Create(SecretsRef(ns_), Secret("w", "YQ==")).ok());
  ASSERT_TRUE(client_->Patch(SecretsRef(ns_, "w"), PatchType::kMerge, {{"data", {{"k", "Yg=="}}}})
                  .ok());
  ASSERT_TRUE(client_->Delete(SecretsRef(ns_, "w")).ok());
  const std::string key = ns_ + "/w";
  EXPECT_TRUE(Eventually([&] { return has("add " + key) && has("update " + key) &&
                                      has("delete " + key); }));
  EXPECT_FALSE(informer.Get(ns_, "w"));
  informer.Stop();

  // The raw watch from the list's version replays the same three changes.
  std::vector<WatchEventType> types;
  WatchOptions wo;
  wo.resource_version = rv;
  wo.timeout_seconds = 5;
  Status st = Watch(*client_, SecretsRef(ns_), wo, [&](const WatchEvent& e) {
    if (e.type != WatchEventType::kBookmark && e.object["metadata"].value("name", "") == "w") {
      types.push_back(e.type);
    }
    return types.size() < 3;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(types, (std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kModified,
                                                WatchEventType::kDeleted}));
}

TEST_F(RealApiserverTest, LeaseElectionAndEvents) {
  auto config = [&](const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = ns_;
    c.lease_name = "coffer-operator";
    c.identity = id;
    c.lease_duration = 2s;
    c.renew_deadline = 1500ms;
    c.retry_period = 200ms;
    return c;
  };
  std::atomic<int> a_started{0}, b_started{0};
  LeaderElector a(*client_, config("a"), {[&] { ++a_started; }, nullptr, nullptr});
  LeaderElector b(*client_, config("b"), {[&] { ++b_started; }, nullptr, nullptr});
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  b.Start();
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(b.IsLeader());
  a.Stop();
  ASSERT_TRUE(Eventually([&] { return b.IsLeader(); }));
  Json lease = *client_->Get(LeasesRef(ns_, "coffer-operator"));
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  b.Stop();
  EXPECT_EQ(a_started.load(), 1);
  EXPECT_EQ(b_started.load(), 1);

  EventRecorder recorder(*client_, {.component = "coffer-test"});
  ASSERT_TRUE(recorder.Record(lease, EventType::kNormal, "LeaderElection", "b became leader").ok());
  Result<Json> again =
      recorder.Record(lease, EventType::kNormal, "LeaderElection", "b became leader");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["count"], 2);
  Json events = *client_->List(EventsRef(ns_));
  ASSERT_EQ(events["items"].size(), 1u);
  EXPECT_EQ(events["items"][0]["involvedObject"]["kind"], "Lease");
}

}  // namespace
}  // namespace coffer::kube
