#include "kube/leader.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "kube/testing/fake_apiserver.h"

namespace coffer::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeApiserver;

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct Counters {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  LeaderCallbacks Callbacks() {
    return {[this] { ++started; }, [this] { ++stopped; }, nullptr};
  }
};

class LeaderTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> NewClient() {
    ClientOptions o;
    o.qps = 0;
    return std::move(Client::Create(server_.Config(), o)).value();
  }
  LeaderElectionConfig Config(const std::string& identity) {
    LeaderElectionConfig c;
    c.lease_namespace = "coffer-system";
    c.lease_name = "coffer-operator";
    c.identity = identity;
    c.lease_duration = 1s;
    c.renew_deadline = 600ms;
    c.retry_period = 100ms;
    return c;
  }
  Json Lease() { return *server_.Stored("leases", "coffer-system", "coffer-operator"); }

  FakeApiserver server_;
};

TEST_F(LeaderTest, FirstCandidateCreatesTheLease) {
  auto client = NewClient();
  LeaderElector a(*client, Config("a"), {});
  LeaderElector b(*client, Config("b"), {});
  ASSERT_TRUE(a.TryAcquireOrRenew());
  const FakeApiserver::Recorded r = server_.requests().back();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/apis/coordination.k8s.io/v1/namespaces/coffer-system/leases");
  Json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"].get<std::string>().size(), 27u);  // MicroTime
  EXPECT_FALSE(b.TryAcquireOrRenew());  // held and fresh
  EXPECT_EQ(b.observed_leader(), "a");
  // Renewal keeps acquireTime and the transition count.
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_EQ(server_.requests().back().method, "PUT");
  EXPECT_EQ(Lease()["spec"]["acquireTime"], spec["acquireTime"]);
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 0);
}

TEST_F(LeaderTest, ExpiredLeaseIsTakenOverWithATransition) {
  auto client = NewClient();
  LeaderElector a(*client, Config("a"), {});
  LeaderElector b(*client, Config("b"), {});
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  std::this_thread::sleep_for(1100ms);  // a stops renewing; b's view of the record ages
  ASSERT_TRUE(b.TryAcquireOrRenew());
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 1);
  EXPECT_FALSE(a.TryAcquireOrRenew());  // a now sees b's fresh record
}

TEST_F(LeaderTest, ConcurrentUpdatesCannotBothWin) {
  auto client = NewClient();
  // Both candidates read the same expired record, and both try to write it: resourceVersion
  // makes the second write fail.
  server_.Seed("leases", {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", "coffer-operator"}, {"namespace", "coffer-system"}}},
                          {"spec", {{"holderIdentity", ""}, {"leaseDurationSeconds", 1}}}});
  const Json snapshot = Lease();
  std::atomic<int> gets{0};
  std::atomic<bool> release{false};
  server_.SetOverride([&](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (r.method != "GET") return std::nullopt;
    ++gets;
    while (gets.load() < 2 && !release.load()) std::this_thread::sleep_for(1ms);
    return testing::JsonResponse(200, snapshot);  // both read the same version
  });
  LeaderElector a(*client, Config("a"), {});
  LeaderElector b(*client, Config("b"), {});
  std::atomic<int> winners{0};
  std::thread ta([&] { winners += a.TryAcquireOrRenew() ? 1 : 0; });
  std::thread tb([&] { winners += b.TryAcquireOrRenew() ? 1 : 0; });
  ta.join();
  tb.join();
  release = true;
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(server_.CountRequests("PUT", "/apis/coordination.k8s.io"), 2);
}

TEST_F(LeaderTest, TwoCandidatesOneLeaderAndHandoverOnStop) {
  auto client_a = NewClient();
  auto client_b = NewClient();
  Counters ca, cb;
  std::mutex mu;
  std::vector<std::string> b_saw;  // leaders b observed, in order
  LeaderCallbacks b_callbacks = cb.Callbacks();
  b_callbacks.on_new_leader = [&](const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    b_saw.push_back(id);
  };
  auto a = std::make_unique<LeaderElector>(*client_a, Config("a"), ca.Callbacks());
  auto b = std::make_unique<LeaderElector>(*client_b, Config("b"), b_callbacks);
  a->Start();
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }));
  b->Start();
  // b keeps campaigning but never leads while a renews.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(a->IsLeader());
  EXPECT_FALSE(b->IsLeader());
  EXPECT_EQ(cb.started.load(), 0);
  EXPECT_EQ(b->observed_leader(), "a");

  // a stops and releases; b takes over well before the lease would have expired.
  const auto stop_at = std::chrono::steady_clock::now();
  a->Stop();
  EXPECT_EQ(ca.started.load(), 1);
  EXPECT_EQ(ca.stopped.load(), 1);
  EXPECT_FALSE(a->IsLeader());
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 900ms);
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "b");
  EXPECT_EQ(Lease()["spec"]["leaseTransitions"], 1);
  EXPECT_TRUE(Eventually([&] { return cb.started.load() == 1; })) << cb.started.load();
  b->Stop();
  EXPECT_EQ(cb.stopped.load(), 1);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(b_saw, (std::vector<std::string>{"a", "b"}));
  }
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
}

TEST_F(LeaderTest, LosesLeadershipWhenRenewalsFail) {
  auto client = NewClient();
  Counters c;
  LeaderElector a(*client, Config("a"), c.Callbacks());
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  std::atomic<bool> failing{true};
  server_.SetOverride([&](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (failing.load() && r.method == "PUT") {
      return testing::StatusResponse(500, "InternalError", "etcd unavailable");
    }
    return std::nullopt;
  });
  ASSERT_TRUE(Eventually([&] { return c.stopped.load() == 1; }));
  EXPECT_FALSE(a.IsLeader());
  // When the apiserver recovers, the candidate wins again (its own record).
  failing = false;
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  // IsLeader() turns true just before the callback runs.
  EXPECT_TRUE(Eventually([&] { return c.started.load() == 2; })) << c.started.load();
  a.Stop();
}

}  // namespace
}  // namespace coffer::kube
