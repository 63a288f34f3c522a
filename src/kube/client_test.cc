#include "kube/client.h"

#include <atomic>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "kube/testing/fake_apiserver.h"

namespace coffer::kube {
namespace {

using namespace std::chrono_literals;
using testing::FakeApiserver;
using testing::StatusResponse;

Json SecretObject(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"password", value}}}};
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClientOptions o;
    o.qps = 0;  // the limiter has its own tests
    auto c = Client::Create(server_.Config(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(c).value();
  }
  FakeApiserver::Recorded Last() { return server_.requests().back(); }

  FakeApiserver server_;
  std::unique_ptr<Client> client_;
};

TEST(ResourceRefTest, Paths) {
  EXPECT_EQ(SecretsRef("ns1", "s").Path(), "/api/v1/namespaces/ns1/secrets/s");
  EXPECT_EQ(SecretsRef().Path(), "/api/v1/secrets");
  EXPECT_EQ(LeasesRef("kube-system", "coffer").Path(),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/coffer");
  ResourceRef es{"external-secrets.io", "v1", "externalsecrets", "team", "db", "status"};
  EXPECT_EQ(es.Path(), "/apis/external-secrets.io/v1/namespaces/team/externalsecrets/db/status");
  ResourceRef css{"external-secrets.io", "v1", "clustersecretstores", "", "aws", ""};
  EXPECT_EQ(css.Path(), "/apis/external-secrets.io/v1/clustersecretstores/aws");
}

TEST(ClientCreateTest, RejectsMissingServer) {
  EXPECT_EQ(Client::Create(ClientConfig{}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, CreateGetUpdateDelete) {
  Result<Json> created = client_->Create(SecretsRef("ns1"), SecretObject("ns1", "db", "c2VjcmV0"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  FakeApiserver::Recorded r = Last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v1/namespaces/ns1/secrets");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.authorization, "Bearer test-token");
  EXPECT_EQ(Json::parse(r.body)["data"]["password"], "c2VjcmV0");
  const std::string rv = (*created)["metadata"]["resourceVersion"];

  Result<Json> got = client_->Get(SecretsRef("ns1", "db"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Last().method, "GET");
  EXPECT_EQ(Last().path, "/api/v1/namespaces/ns1/secrets/db");
  EXPECT_EQ((*got)["metadata"]["resourceVersion"], rv);

  Json changed = *got;
  changed["data"]["password"] = "bmV3";
  Result<Json> updated = client_->Update(SecretsRef("ns1", "db"), changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(Last().method, "PUT");
  EXPECT_EQ(Json::parse(Last().body)["metadata"]["resourceVersion"], rv);
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], rv);

  // The stale object conflicts.
  Result<Json> stale = client_->Update(SecretsRef("ns1", "db"), changed);
  EXPECT_TRUE(IsConflict(stale.status())) << stale.status().ToString();

  DeleteOptions d;
  d.propagation_policy = "Background";
  ASSERT_TRUE(client_->Delete(SecretsRef("ns1", "db"), d).ok());
  EXPECT_EQ(Last().method, "DELETE");
  EXPECT_EQ(Json::parse(Last().body)["propagationPolicy"], "Background");
  EXPECT_EQ(client_->Get(SecretsRef("ns1", "db")).status().code(), StatusCode::kNotFound);
}

TEST_F(ClientTest, Patches) {
  ASSERT_TRUE(client_->Create(SecretsRef("ns1"), SecretObject("ns1", "db", "YQ==")).ok());

  Result<Json> merged = client_->Patch(SecretsRef("ns1", "db"), PatchType::kMerge,
                                       {{"metadata", {{"labels", {{"a", "1"}}}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(Last().method, "PATCH");
  EXPECT_EQ(Last().content_type, "application/merge-patch+json");
  EXPECT_EQ((*merged)["metadata"]["labels"]["a"], "1");

  Json ops = Json::array({{{"op", "add"}, {"path", "/metadata/annotations"},
                           {"value", {{"b", "2"}}}}});
  Result<Json> patched = client_->Patch(SecretsRef("ns1", "db"), PatchType::kJson, ops);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ(Last().content_type, "application/json-patch+json");
  EXPECT_EQ(Json::parse(Last().body), ops);
  EXPECT_EQ((*patched)["metadata"]["annotations"]["b"], "2");

  Result<Json> applied =
      client_->Apply(SecretsRef("ns1", "db"), SecretObject("ns1", "db", "Yg=="), "coffer", true);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Last().content_type, "application/apply-patch+yaml");
  EXPECT_EQ(Last().query.at("fieldManager"), "coffer");
  EXPECT_EQ(Last().query.at("force"), "true");
  EXPECT_EQ((*applied)["data"]["password"], "Yg==");
  EXPECT_EQ(client_->Apply(SecretsRef("ns1", "db"), Json::object(), "").status().code(),
            StatusCode::kInvalidArgument);

  // Status subresource.
  ResourceRef es{"external-secrets.io", "v1", "externalsecrets", "ns1", "es1", ""};
  ASSERT_TRUE(client_->Create(es, {{"metadata", {{"name", "es1"}}}, {"spec", {{"x", 1}}}}).ok());
  Result<Json> status = client_->Patch(es.WithSubresource("status"), PatchType::kMerge,
                                       {{"status", {{"ready", true}}}},
                                       {.field_manager = "coffer-operator"});
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(Last().path, "/apis/external-secrets.io/v1/namespaces/ns1/externalsecrets/es1/status");
  EXPECT_EQ(Last().query.at("fieldManager"), "coffer-operator");
  EXPECT_EQ(Last().query.count("force"), 0u);
}

TEST_F(ClientTest, CreateAndUpdateNameTheFieldManager) {
  Result<Json> created =
      client_->Create(SecretsRef("ns1"), SecretObject("ns1", "fm", "YQ=="), "coffer-es/x");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Last().method, "POST");
  EXPECT_EQ(Last().query.at("fieldManager"), "coffer-es/x");
  Result<Json> updated = client_->Update(SecretsRef("ns1", "fm"), *created, "coffer-es/x");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(Last().method, "PUT");
  EXPECT_EQ(Last().query.at("fieldManager"), "coffer-es/x");
  ASSERT_TRUE(client_->Update(SecretsRef("ns1", "fm"), *updated).ok());
  EXPECT_EQ(Last().query.count("fieldManager"), 0u);
}

TEST_F(ClientTest, ListAllFollowsContinue) {
  for (int i = 0; i < 5; ++i) {
    server_.Seed("secrets", SecretObject("ns1", "s" + std::to_string(i), "eA=="));
  }
  server_.Seed("secrets", SecretObject("other", "x", "eA=="));
  ListOptions o;
  o.limit = 2;
  o.label_selector = "app=a,tier in (x,y)";
  Result<Json> all = client_->ListAll(SecretsRef("ns1"), o);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)["items"].size(), 5u);
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  EXPECT_EQ(server_.CountRequests("GET", "/api/v1/namespaces/ns1/secrets"), 3);
  EXPECT_EQ(Last().query.at("labelSelector"), "app=a,tier in (x,y)");
  EXPECT_EQ(Last().query.at("continue"), "4");

  Result<Json> everywhere = client_->List(SecretsRef());
  ASSERT_TRUE(everywhere.ok());
  EXPECT_EQ((*everywhere)["items"].size(), 6u);
}

TEST_F(ClientTest, ErrorMapping) {
  struct Case {
    int http;
    std::string reason;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {404, "NotFound", StatusCode::kNotFound},
      {409, "AlreadyExists", StatusCode::kAlreadyExists},
      {409, "Conflict", StatusCode::kAborted},
      {410, "Expired", StatusCode::kFailedPrecondition},
      {401, "Unauthorized", StatusCode::kUnauthenticated},
      {403, "Forbidden", StatusCode::kPermissionDenied},
      {422, "Invalid", StatusCode::kInvalidArgument},
      {429, "TooManyRequests", StatusCode::kThrottled},
      {500, "InternalError", StatusCode::kUnavailable},
      {503, "ServiceUnavailable", StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    server_.SetOverride([&](const FakeApiserver::Recorded&) {
      return StatusResponse(c.http, c.reason, "apiserver says " + c.reason);
    });
    Result<Json> r = client_->Get(SecretsRef("ns", "x"));
    EXPECT_EQ(r.status().code(), c.code) << c.http << " " << c.reason;
    EXPECT_EQ(r.status().message(), c.reason + ": apiserver says " + c.reason);
  }
  EXPECT_TRUE(IsGone(StatusFromResponse(410, "")));
  EXPECT_FALSE(IsGone(StatusFromResponse(404, "")));
  // A body that is not a Status still maps by HTTP code.
  Status plain = StatusFromResponse(502, "<html>bad gateway</html>");
  EXPECT_EQ(plain.code(), StatusCode::kUnavailable);
  EXPECT_EQ(plain.message(), "HTTP 502: the server returned HTTP 502");
}

TEST(ClientTransportTest, UnreachableServerIsUnavailable) {
  ClientConfig c;
  c.server = "http://127.0.0.1:1";
  auto client = Client::Create(c);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Get(SecretsRef("a", "b")).status().code(), StatusCode::kUnavailable);
}

TEST_F(ClientTest, UpdateWithRetryRetriesConflicts) {
  ASSERT_TRUE(client_->Create(SecretsRef("ns1"), SecretObject("ns1", "db", "YQ==")).ok());
  int calls = 0;
  Result<Json> r = UpdateWithRetry(*client_, SecretsRef("ns1", "db"), [&](Json& object) {
    ++calls;
    if (calls == 1) {
      // Someone else writes between our Get and our Update.
      Json other = *client_->Get(SecretsRef("ns1", "db"));
      other["metadata"]["labels"]["other"] = "writer";
      EXPECT_TRUE(client_->Update(SecretsRef("ns1", "db"), other).ok());
    }
    object["metadata"]["annotations"]["mine"] = "yes";
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ((*r)["metadata"]["annotations"]["mine"], "yes");
  EXPECT_EQ((*r)["metadata"]["labels"]["other"], "writer");  // not lost

  // A mutate error aborts without writing; persistent conflicts give up.
  const int puts = server_.CountRequests("PUT", "/");
  Result<Json> aborted = UpdateWithRetry(*client_, SecretsRef("ns1", "db"), [](Json&) {
    return Status::InvalidArgument("no");
  });
  EXPECT_EQ(aborted.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.CountRequests("PUT", "/"), puts);
  server_.SetOverride([](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (r.method == "PUT") return StatusResponse(409, "Conflict", "modified");
    return std::nullopt;
  });
  Result<Json> gave_up =
      UpdateWithRetry(*client_, SecretsRef("ns1", "db"), [](Json&) { return Status::Ok(); }, 3);
  EXPECT_TRUE(IsConflict(gave_up.status()));
  EXPECT_EQ(server_.CountRequests("PUT", "/"), puts + 3);
}

TEST(ClientLimiterTest, RequestsAreThrottled) {
  FakeApiserver server;
  ClientOptions o;
  o.qps = 10;
  o.burst = 2;
  auto client = Client::Create(server.Config(), o);
  ASSERT_TRUE(client.ok());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) (void)(*client)->Get(SecretsRef("a", "b"));  // 2 free, 3 x 100ms
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 280ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ClientTest, StreamLinesSplitsLinesAndStops) {
  server_.SetOverride([](const FakeApiserver::Recorded& r) -> std::optional<http::Response> {
    if (r.path == "/lines") return http::Response{200, {}, "one\r\ntwo\n\nthree"};
    return std::nullopt;
  });
  std::vector<std::string> lines;
  ASSERT_TRUE(client_->StreamLines("/lines", [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  }).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));

  // A stop request ends a stream that has nothing to say.
  server_.SetOverride(nullptr);
  server_.SetWatchWait(10s);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  Status st = client_->StreamLines("/api/v1/secrets?watch=true",
                                   [](std::string_view) { return true; }, stop.get_token());
  stopper.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  server_.SetWatchWait(300ms);
}

TEST_F(ClientTest, NeverLogsSecretData) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::trace);
  server_.SetOverride([](const FakeApiserver::Recorded&) {
    return StatusResponse(500, "InternalError", "boom");
  });
  Result<Json> r = client_->Create(SecretsRef("ns1"), SecretObject("ns1", "db", "VkFMVUUtWFla"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("VkFMVUUtWFla"), std::string::npos);
  spdlog::set_default_logger(previous);
  EXPECT_EQ(captured.str().find("VkFMVUUtWFla"), std::string::npos);
}

TEST(TimeFormatTest, KubernetesTimes) {
  EXPECT_EQ(FormatTime(1700000000123), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatMicroTime(1700000000123), "2023-11-14T22:13:20.123000Z");
}

}  // namespace
}  // namespace coffer::kube
