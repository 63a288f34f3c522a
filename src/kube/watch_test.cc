#include "kube/watch.h"

#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "kube/testing/fake_apiserver.h"

namespace coffer::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeApiserver;
using testing::StatusResponse;

Json Secret(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"k", "dmFsdWU="}}}};
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::unique_ptr<Client> NewClient(const FakeApiserver& server) {
  ClientOptions o;
  o.qps = 0;
  return std::move(Client::Create(server.Config(), o)).value();
}

TEST(ParseWatchEventTest, TypesAndMalformedLines) {
  for (const auto& [text, type] :
       std::vector<std::pair<std::string, WatchEventType>>{{"ADDED", WatchEventType::kAdded},
                                                           {"MODIFIED", WatchEventType::kModified},
                                                           {"DELETED", WatchEventType::kDeleted},
                                                           {"BOOKMARK", WatchEventType::kBookmark},
                                                           {"ERROR", WatchEventType::kError}}) {
    Result<WatchEvent> e =
        ParseWatchEvent(R"({"type":")" + text + R"(","object":{"metadata":{"name":"a"}}})");
    ASSERT_TRUE(e.ok()) << text;
    EXPECT_EQ(e->type, type);
    EXPECT_EQ(e->object["metadata"]["name"], "a");
  }
  EXPECT_FALSE(ParseWatchEvent("not json").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED"})").ok());
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"RENAMED","object":{}})").ok());
}

TEST(KeepMetadataOnlyTest, DropsDataAndManagedFields) {
  Json s = Secret("ns", "a");
  s["metadata"]["managedFields"] = Json::array({{{"manager", "x"}}});
  s["metadata"]["labels"] = {{"l", "v"}};
  Json kept = KeepMetadataOnly(s);
  EXPECT_FALSE(kept.contains("data"));
  EXPECT_FALSE(kept["metadata"].contains("managedFields"));
  EXPECT_EQ(kept["metadata"]["labels"]["l"], "v");
  EXPECT_EQ(kept["kind"], "Secret");
  EXPECT_EQ(ObjectKey(kept), "ns/a");
  EXPECT_EQ(ObjectKey(Json{{"metadata", {{"name", "cluster-wide"}}}}), "cluster-wide");
}

TEST(WatchTest, StreamsEventsFromResourceVersionWithBookmark) {
  FakeApiserver server;
  auto client = NewClient(server);
  const std::string start = std::to_string(server.resource_version());
  ASSERT_TRUE(client->Create(SecretsRef("ns1"), Secret("ns1", "a")).ok());
  Json b = *client->Create(SecretsRef("ns1"), Secret("ns1", "b"));
  b["data"]["k"] = "bmV3";
  ASSERT_TRUE(client->Update(SecretsRef("ns1", "b"), b).ok());
  ASSERT_TRUE(client->Delete(SecretsRef("ns1", "a")).ok());
  ASSERT_TRUE(client->Create(SecretsRef("ns2"), Secret("ns2", "elsewhere")).ok());

  std::vector<std::string> seen;
  WatchOptions o;
  o.resource_version = start;
  o.timeout_seconds = 30;
  o.label_selector = "app=x";
  Status st = Watch(*client, SecretsRef("ns1"), o, [&](const WatchEvent& e) {
    static const char* kNames[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
    seen.push_back(std::string(kNames[static_cast<int>(e.type)]) + " " +
                   e.object["metadata"].value("name", "") + "@" +
                   e.object["metadata"].value("resourceVersion", ""));
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  const int rv0 = std::stoi(start);
  auto at = [&](int d) { return "@" + std::to_string(rv0 + d); };
  EXPECT_EQ(seen,
            (std::vector<std::string>{"ADDED a" + at(1), "ADDED b" + at(2), "MODIFIED b" + at(3),
                                      "DELETED a" + at(4), "BOOKMARK " + at(5)}));
  const FakeApiserver::Recorded r = server.requests().back();
  EXPECT_EQ(r.path, "/api/v1/namespaces/ns1/secrets");
  EXPECT_EQ(r.query.at("watch"), "true");
  EXPECT_EQ(r.query.at("resourceVersion"), start);
  EXPECT_EQ(r.query.at("allowWatchBookmarks"), "true");
  EXPECT_EQ(r.query.at("timeoutSeconds"), "30");
  EXPECT_EQ(r.query.at("labelSelector"), "app=x");
}

TEST(WatchTest, ExpiredResourceVersion) {
  FakeApiserver server;
  auto client = NewClient(server);
  server.Seed("secrets", Secret("ns1", "a"));
  server.Compact();
  WatchOptions o;
  o.resource_version = "1";
  Status st = Watch(*client, SecretsRef("ns1"), o, [](const WatchEvent&) { return true; });
  EXPECT_TRUE(IsGone(st)) << st.ToString();

  server.SetGoneAsEvent(true);
  std::vector<WatchEvent> events;
  st = Watch(*client, SecretsRef("ns1"), o, [&](const WatchEvent& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::kError);
  EXPECT_EQ(events[0].object["code"], 410);
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> log;
  InformerHandlers Handlers() {
    return {
        [this](const Json& o) { Add("add " + ObjectKey(o)); },
        [this](const Json& o, const Json& n) {
          Add("update " + ObjectKey(n));
          // The old object is the one the cache held: same key, an older resourceVersion.
          if (ObjectKey(o) == ObjectKey(n) &&
              o["metadata"]["resourceVersion"] != n["metadata"]["resourceVersion"]) {
            Add("old " + ObjectKey(o) + " labels " +
                o["metadata"].value("labels", Json::object()).dump());
          }
        },
        [this](const Json& o) { Add("delete " + ObjectKey(o)); },
    };
  }
  void Add(std::string s) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(std::move(s));
  }
  bool Has(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(log.begin(), log.end(), s) != log.end();
  }
  std::size_t Size() {
    std::lock_guard<std::mutex> lock(mu);
    return log.size();
  }
};

// Every informer test runs twice: objects cached parsed, and cached compact (CBOR).
class InformerTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    options_.compact = GetParam();
    server_.SetWatchWait(100ms);
    client_ = NewClient(server_);
    options_.page_size = 2;
    options_.min_backoff = 20ms;
    options_.max_backoff = 100ms;
  }
  FakeApiserver server_;
  std::unique_ptr<Client> client_;
  InformerOptions options_;
  Recorder rec_;
};

TEST_P(InformerTest, ListsPagesThenFollowsWatch) {
  for (int i = 0; i < 5; ++i) server_.Seed("secrets", Secret("ns1", "s" + std::to_string(i)));
  Informer informer(*client_, SecretsRef(), options_, rec_.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(5s));
  EXPECT_EQ(informer.List().size(), 5u);
  int list_pages = 0;
  for (const auto& r : server_.requests()) {
    if (r.path == "/api/v1/secrets" && !r.query.count("watch")) {
      ++list_pages;
      EXPECT_EQ(r.query.at("limit"), "2");
    }
  }
  EXPECT_EQ(list_pages, 3);
  EXPECT_TRUE(Eventually([&] { return rec_.Has("add ns1/s4"); }));
  ASSERT_TRUE(informer.Get("ns1", "s0"));
  EXPECT_EQ((*informer.Get("ns1", "s0"))["kind"], "Secret");  // restored on list items

  ASSERT_TRUE(client_->Create(SecretsRef("ns2"), Secret("ns2", "new")).ok());
  ASSERT_TRUE(Eventually([&] { return rec_.Has("add ns2/new"); }));
  Json s1 = *client_->Get(SecretsRef("ns1", "s1"));
  s1["metadata"]["labels"]["x"] = "y";
  ASSERT_TRUE(client_->Update(SecretsRef("ns1", "s1"), s1).ok());
  ASSERT_TRUE(Eventually([&] { return rec_.Has("update ns1/s1"); }));
  EXPECT_EQ((*informer.Get("ns1", "s1"))["metadata"]["labels"]["x"], "y");
  EXPECT_EQ((*informer.GetShared("ns1", "s1"))["metadata"]["labels"]["x"], "y");
  EXPECT_TRUE(rec_.Has("old ns1/s1 labels {}"));
  ASSERT_TRUE(client_->Delete(SecretsRef("ns1", "s2")).ok());
  ASSERT_TRUE(Eventually([&] { return rec_.Has("delete ns1/s2"); }));
  EXPECT_FALSE(informer.Get("ns1", "s2"));
  EXPECT_EQ(informer.relists(), 1);

  // Bookmarks move the resourceVersion forward even when nothing of ours changed.
  server_.BumpResourceVersion();
  const std::string target = std::to_string(server_.resource_version());
  ASSERT_TRUE(Eventually([&] { return informer.last_resource_version() == target; }));
  // And the next watch resumes from there.
  ASSERT_TRUE(Eventually([&] {
    auto reqs = server_.requests();
    return reqs.back().query.count("watch") && reqs.back().query.at("resourceVersion") == target;
  }));
  informer.Stop();
}

TEST_P(InformerTest, RelistsOnGoneAndDiffsTheCache) {
  server_.Seed("secrets", Secret("ns1", "keep"));
  server_.Seed("secrets", Secret("ns1", "vanish"));
  Informer informer(*client_, SecretsRef("ns1"), options_, rec_.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(5s));

  // Watches now fail with 410 while the world changes unseen.
  std::atomic<int> gone{0};
  server_.SetOverride([&](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (!r.query.count("watch")) return std::nullopt;
    ++gone;
    return StatusResponse(410, "Expired", "too old resource version");
  });
  ASSERT_TRUE(Eventually([&] { return gone.load() > 0; }));
  const int relists_before = informer.relists();
  ASSERT_TRUE(client_->Delete(SecretsRef("ns1", "vanish")).ok());
  ASSERT_TRUE(client_->Create(SecretsRef("ns1"), Secret("ns1", "appeared")).ok());
  ASSERT_TRUE(
      Eventually([&] { return rec_.Has("delete ns1/vanish") && rec_.Has("add ns1/appeared"); }));
  EXPECT_GT(informer.relists(), relists_before);
  EXPECT_FALSE(informer.Get("ns1", "vanish"));
  EXPECT_TRUE(informer.Get("ns1", "appeared"));
  EXPECT_FALSE(rec_.Has("delete ns1/keep"));

  // An ERROR event with code 410 relists too.
  std::atomic<bool> sent{false};
  server_.SetOverride([&](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (!r.query.count("watch") || sent.exchange(true)) return std::nullopt;
    Json status = {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "old"}};
    return http::Response{200, {}, Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n"};
  });
  const int relists_mid = informer.relists();
  ASSERT_TRUE(Eventually([&] { return sent.load() && informer.relists() > relists_mid; }));
}

TEST_P(InformerTest, RewatchesFromLastVersionAfterFailures) {
  server_.Seed("secrets", Secret("ns1", "a"));
  Informer informer(*client_, SecretsRef("ns1"), options_, rec_.Handlers());
  std::atomic<int> failures{0};
  server_.SetOverride([&](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (r.query.count("watch") && failures.load() < 3) {
      ++failures;
      return StatusResponse(503, "ServiceUnavailable", "apiserver restarting");
    }
    return std::nullopt;
  });
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(5s));
  const std::string listed_rv = informer.last_resource_version();
  ASSERT_TRUE(Eventually([&] { return failures.load() == 3; }));
  // A change made during the outage arrives through the resumed watch, not a relist.
  ASSERT_TRUE(client_->Create(SecretsRef("ns1"), Secret("ns1", "during-outage")).ok());
  ASSERT_TRUE(Eventually([&] { return rec_.Has("add ns1/during-outage"); }));
  EXPECT_EQ(informer.relists(), 1);
  int resumed_from_list_rv = 0;
  for (const auto& r : server_.requests()) {
    if (r.query.count("watch") && r.query.at("resourceVersion") == listed_rv)
      ++resumed_from_list_rv;
  }
  EXPECT_GE(resumed_from_list_rv, 4);  // 3 failed attempts and the one that worked
}

TEST_P(InformerTest, TransformAndPromptStop) {
  server_.Seed("secrets", Secret("ns1", "a"));
  server_.SetWatchWait(30s);
  options_.transform = KeepMetadataOnly;
  Informer informer(*client_, SecretsRef("ns1"), options_, rec_.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(5s));
  ASSERT_TRUE(informer.Get("ns1", "a"));
  EXPECT_FALSE(informer.Get("ns1", "a")->contains("data"));
  ASSERT_TRUE(client_->Create(SecretsRef("ns1"), Secret("ns1", "b")).ok());
  ASSERT_TRUE(Eventually([&] { return rec_.Has("add ns1/b"); }));
  EXPECT_FALSE(informer.Get("ns1", "b")->contains("data"));
  std::this_thread::sleep_for(100ms);  // now blocked in a long watch
  const auto start = std::chrono::steady_clock::now();
  informer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

INSTANTIATE_TEST_SUITE_P(ParsedAndCompact, InformerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Compact" : "Parsed";
                         });

}  // namespace
}  // namespace coffer::kube
