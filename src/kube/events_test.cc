#include "kube/events.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "kube/testing/fake_apiserver.h"

namespace coffer::kube {
namespace {

using testing::FakeApiserver;

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions o;
    o.qps = 0;
    client_ = std::move(Client::Create(server_.Config(), o)).value();
    EventRecorderOptions eo;
    eo.component = "coffer-operator";
    eo.host = "node-1";
    eo.clock = &clock_;
    recorder_ = std::make_unique<EventRecorder>(*client_, eo);
  }
  std::vector<Json> StoredEvents() {
    Json list = *client_->List(EventsRef());
    return list["items"].get<std::vector<Json>>();
  }

  FakeApiserver server_;
  FakeClock clock_{1700000000000};
  std::unique_ptr<Client> client_;
  std::unique_ptr<EventRecorder> recorder_;
  const Json es_ = {
      {"apiVersion", "external-secrets.io/v1"},
      {"kind", "ExternalSecret"},
      {"metadata",
       {{"name", "db"}, {"namespace", "team"}, {"uid", "u-1"}, {"resourceVersion", "7"}}},
      {"spec", {{"refreshInterval", "1h"}}}};
};

TEST_F(EventRecorderTest, CreatesAnEventAboutTheObject) {
  Result<Json> e = recorder_->Record(es_, EventType::kNormal, "Created", "Created Secret");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const FakeApiserver::Recorded r = server_.requests().back();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v1/namespaces/team/events");
  const Json sent = Json::parse(r.body);
  EXPECT_EQ(sent["involvedObject"], (Json{{"apiVersion", "external-secrets.io/v1"},
                                          {"kind", "ExternalSecret"},
                                          {"namespace", "team"},
                                          {"name", "db"},
                                          {"uid", "u-1"},
                                          {"resourceVersion", "7"}}));
  EXPECT_EQ(sent["reason"], "Created");
  EXPECT_EQ(sent["message"], "Created Secret");
  EXPECT_EQ(sent["type"], "Normal");
  EXPECT_EQ(sent["source"]["component"], "coffer-operator");
  EXPECT_EQ(sent["source"]["host"], "node-1");
  EXPECT_EQ(sent["count"], 1);
  EXPECT_EQ(sent["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(sent["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(sent["metadata"]["name"].get<std::string>().rfind("db.", 0), 0u);
  EXPECT_EQ(sent["metadata"]["namespace"], "team");
}

TEST_F(EventRecorderTest, AggregatesRepeatsWithinTheWindow) {
  ASSERT_TRUE(recorder_->Record(es_, EventType::kWarning, "UpdateFailed", "denied").ok());
  clock_.AdvanceMillis(5000);
  Result<Json> again = recorder_->Record(es_, EventType::kWarning, "UpdateFailed", "denied");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const FakeApiserver::Recorded r = server_.requests().back();
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.content_type, "application/merge-patch+json");
  EXPECT_EQ((*again)["count"], 2);
  EXPECT_EQ((*again)["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ((*again)["lastTimestamp"], "2023-11-14T22:13:25Z");
  EXPECT_EQ(StoredEvents().size(), 1u);

  // Another message is another Event.
  ASSERT_TRUE(recorder_->Record(es_, EventType::kWarning, "UpdateFailed", "timeout").ok());
  EXPECT_EQ(StoredEvents().size(), 2u);
  // After the window a repeat starts a new Event.
  clock_.AdvanceMillis(11 * 60 * 1000);
  ASSERT_TRUE(recorder_->Record(es_, EventType::kWarning, "UpdateFailed", "denied").ok());
  EXPECT_EQ(server_.requests().back().method, "POST");
  EXPECT_EQ(StoredEvents().size(), 3u);
}

TEST_F(EventRecorderTest, RecreatesAnEventTheServerDropped) {
  Json first = *recorder_->Record(es_, EventType::kNormal, "Updated", "Updated Secret");
  ASSERT_TRUE(client_->Delete(EventsRef("team", first["metadata"]["name"])).ok());
  Result<Json> again = recorder_->Record(es_, EventType::kNormal, "Updated", "Updated Secret");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["count"], 1);
  EXPECT_EQ(StoredEvents().size(), 1u);
}

TEST_F(EventRecorderTest, ClusterScopedObjectsAndErrors) {
  Json css = {{"apiVersion", "external-secrets.io/v1"},
              {"kind", "ClusterSecretStore"},
              {"metadata", {{"name", "aws"}}}};
  ASSERT_TRUE(recorder_->Record(css, EventType::kNormal, "Valid", "store validated").ok());
  EXPECT_EQ(server_.requests().back().path, "/api/v1/namespaces/default/events");
  EXPECT_EQ(recorder_->Record(Json::object(), EventType::kNormal, "X", "y").status().code(),
            StatusCode::kInvalidArgument);
  server_.SetOverride([](const FakeApiserver::Recorded&) {
    return testing::StatusResponse(403, "Forbidden", "events is forbidden");
  });
  EXPECT_EQ(recorder_->Record(es_, EventType::kNormal, "Created", "c").status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(EventRecorderTest, RecordAsyncReturnsAtOnceAndSendsInOrder) {
  // The apiserver answers slowly: RecordAsync must not wait for it.
  server_.SetOverride([](const FakeApiserver::Recorded&) -> std::optional<http::Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return std::nullopt;
  });
  const auto start = std::chrono::steady_clock::now();
  recorder_->RecordAsync(es_, EventType::kNormal, "Created", "Created Secret");
  recorder_->RecordAsync(es_, EventType::kWarning, "UpdateFailed", "could not get secret data");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  ASSERT_TRUE(recorder_->Flush(std::chrono::seconds(5)));
  const std::vector<Json> events = StoredEvents();
  ASSERT_EQ(events.size(), 2u);
  std::vector<std::string> reasons;
  for (const auto& r : server_.requests()) {
    if (r.method == "POST") reasons.push_back(Json::parse(r.body).value("reason", ""));
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"Created", "UpdateFailed"}));
  EXPECT_EQ(recorder_->dropped(), 0u);
}

TEST_F(EventRecorderTest, RecordAsyncDropsBeyondTheQueueBound) {
  EventRecorderOptions eo;
  eo.clock = &clock_;
  eo.max_queued = 2;
  std::atomic<bool> release{false};
  server_.SetOverride([&](const FakeApiserver::Recorded&) -> std::optional<http::Response> {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::nullopt;
  });
  EventRecorder recorder(*client_, eo);
  for (int i = 0; i < 10; ++i) {
    recorder.RecordAsync(es_, EventType::kNormal, "Updated", "Updated Secret " + std::to_string(i));
  }
  // One is being sent, two wait, the rest were dropped.
  EXPECT_GE(recorder.dropped(), 7u);
  EXPECT_LE(recorder.dropped(), 8u);
  release = true;
  ASSERT_TRUE(recorder.Flush(std::chrono::seconds(5)));
  EXPECT_EQ(StoredEvents().size(), 10u - recorder.dropped());
}

}  // namespace
}  // namespace coffer::kube
