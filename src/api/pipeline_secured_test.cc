// The pipeline with every part wired as the server wires it: IAM (Query protocol), the
// IAM-backed authorizer, a real audit trail in a temp dir, and metrics. Requests are signed with
// sigv4::SignRequest; the store is the in-memory one.

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/credentials.h"
#include "api/errors.h"
#include "api/pipeline.h"
#include "audit/trail.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "iam/iam_service.h"
#include "iam/policy_source.h"
#include "iam/query_api.h"
#include "metrics/server_metrics.h"
#include "policy/authorizer.h"
#include "storage/testing/memory_store.h"

namespace coffer::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRootId[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kRootSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kAccount[] = "123456789012";
constexpr char kCanary[] = "CANARY-7f3a9c-value";

// The part of an XML document between <tag> and </tag> ("" when absent).
std::string XmlText(const std::string& xml, const std::string& tag) {
  std::size_t open = xml.find("<" + tag + ">");
  if (open == std::string::npos) return "";
  open += tag.size() + 2;
  std::size_t close = xml.find("</" + tag + ">", open);
  return close == std::string::npos ? "" : xml.substr(open, close - open);
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + '=';
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}

class SecuredPipelineTest : public ::testing::Test {
 protected:
  SecuredPipelineTest()
      : clock_(*ParseAmzDate("20261127T183456Z")),
        keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        credentials_(&store_, &envelope_, &clock_),
        verifier_(&clock_, &credentials_),
        policy_source_(&store_, kAccount),
        authorizer_(&policy_source_),
        iam_service_(&store_, &envelope_, &clock_, IamOptions()),
        iam_api_(&iam_service_, &authorizer_),
        service_(&store_, &envelope_, &clock_, ServiceOptions()) {
    auto root =
        EnsureRootCredentials(&store_, &envelope_, &clock_, kAccount,
                              std::make_pair(std::string(kRootId), std::string(kRootSecret)));
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    dir_ = std::filesystem::temp_directory_path() /
           ("coffer-pipeline-" + HexEncode(crypto::RandomBytes(6)));
    std::filesystem::create_directories(dir_);
    OpenTrail(nullptr);
  }
  ~SecuredPipelineTest() override {
    pipeline_.reset();
    if (trail_) (void)trail_->Close();
    std::filesystem::remove_all(dir_);
  }

  iam::IamServiceOptions IamOptions() {
    iam::IamServiceOptions o;
    o.account_id = kAccount;
    o.policy_source = &policy_source_;
    o.on_access_key_changed = [this](const std::string& id) { credentials_.Invalidate(id); };
    return o;
  }
  secrets::ServiceOptions ServiceOptions() {
    secrets::ServiceOptions o;
    o.authorizer = &authorizer_;
    return o;
  }

  // (Re)opens the trail, optionally with a failing write function, and rebuilds the pipeline.
  void OpenTrail(std::function<ssize_t(int, const void*, std::size_t)> write_fn) {
    pipeline_.reset();
    if (trail_) ASSERT_TRUE(trail_->Close().ok());
    audit::TrailOptions options;
    options.dir = (dir_ / "audit").string();
    options.clock = &clock_;
    options.digest_interval = std::chrono::milliseconds(0);
    options.write_fn = std::move(write_fn);
    auto trail = audit::Trail::Open(options, keyring_.get());
    ASSERT_TRUE(trail.ok()) << trail.status().ToString();
    trail_ = std::move(trail).value();
    PipelineOptions pipeline_options;
    pipeline_options.account_id = kAccount;
    PipelineParts parts{&authorizer_, trail_.get(), &metrics_, &iam_api_};
    pipeline_ = std::make_unique<Pipeline>(pipeline_options, &service_, &verifier_, &clock_, parts);
  }

  http::Request Json(std::string_view target, std::string body, const std::string& key_id,
                     const std::string& secret, std::string_view service = "secretsmanager") {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.body = std::move(body);
    r.remote_address = "10.1.2.3";
    r.headers = {{"Host", "127.0.0.1:7430"},
                 {"X-Amz-Target", std::string(target)},
                 {"Content-Type", "application/x-amz-json-1.1"}};
    sigv4::SignRequest(r.method, r.target, r.headers, r.body, key_id, secret, "us-east-1", service,
                       clock_.NowMillis());
    r.headers.emplace_back("User-Agent", "unit-test/1.0");
    return r;
  }
  http::Response Sm(std::string_view action, json body, const std::string& key_id = kRootId,
                    const std::string& secret = kRootSecret) {
    if (action == "CreateSecret" && !body.contains("ClientRequestToken")) {
      body["ClientRequestToken"] = NewRequestId();  // a UUID, as the SDKs send
    }
    return pipeline_->Handle(
        Json("secretsmanager." + std::string(action), body.dump(), key_id, secret));
  }
  http::Response Iam(const std::vector<std::pair<std::string, std::string>>& params,
                     const std::string& key_id = kRootId, const std::string& secret = kRootSecret,
                     std::string_view service = "iam") {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    auto all = params;
    all.emplace_back("Version", "2010-05-08");
    r.body = FormEncode(all);
    r.remote_address = "10.1.2.3";
    r.headers = {{"Host", "127.0.0.1:7430"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    sigv4::SignRequest(r.method, r.target, r.headers, r.body, key_id, secret, "us-east-1", service,
                       clock_.NowMillis());
    return pipeline_->Handle(r);
  }
  http::Response Lookup(const json& body, const std::string& key_id = kRootId,
                        const std::string& secret = kRootSecret) {
    return pipeline_->Handle(Json(std::string(kCloudTrailTargetPrefix) + "LookupEvents",
                                  body.dump(), key_id, secret, "cloudtrail"));
  }

  // Creates user `name` with an inline policy and an access key; returns {id, secret}.
  std::pair<std::string, std::string> MakeUser(const std::string& name, const json& policy) {
    EXPECT_EQ(Iam({{"Action", "CreateUser"}, {"UserName", name}}).status, 200);
    EXPECT_EQ(Iam({{"Action", "PutUserPolicy"},
                   {"UserName", name},
                   {"PolicyName", "p"},
                   {"PolicyDocument", policy.dump()}})
                  .status,
              200);
    http::Response key = Iam({{"Action", "CreateAccessKey"}, {"UserName", name}});
    EXPECT_EQ(key.status, 200) << key.body;
    return {XmlText(key.body, "AccessKeyId"), XmlText(key.body, "SecretAccessKey")};
  }

  // Every record of the trail, newest first, as LookupEvents returns them.
  json AllEvents() {
    http::Response r = Lookup(json::object());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["Events"];
  }

  FakeClock clock_;
  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  StoreCredentialSource credentials_;
  sigv4::Verifier verifier_;
  iam::StorePolicySource policy_source_;
  policy::PolicyAuthorizer authorizer_;
  iam::IamService iam_service_;
  iam::QueryApi iam_api_;
  secrets::Service service_;
  metrics::ServerMetrics metrics_;
  std::filesystem::path dir_;
  std::unique_ptr<audit::Trail> trail_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(SecuredPipelineTest, EveryRequestIsAuditedWithWhoWhatAndHow) {
  http::Response created =
      Sm("CreateSecret", {{"Name", "ml-platform/db"}, {"SecretString", kCanary}});
  ASSERT_EQ(created.status, 200) << created.body;
  ASSERT_EQ(Sm("GetSecretValue", {{"SecretId", "ml-platform/db"}}).status, 200);
  // Unauthenticated: a wrong secret key. Still recorded, with the key id the client claimed.
  EXPECT_EQ(Sm("GetSecretValue", {{"SecretId", "ml-platform/db"}}, kRootId, "wrong-secret").status,
            400);
  EXPECT_EQ(trail_->last_seq(), 3u);

  json events = AllEvents();
  ASSERT_EQ(events.size(), 3u);  // the lookup itself is recorded after it answered
  EXPECT_EQ(events[0]["EventName"], "GetSecretValue");
  json failed = json::parse(events[0]["CloudTrailEvent"].get<std::string>());
  EXPECT_EQ(failed["errorCode"], "InvalidSignatureException");
  EXPECT_EQ(failed["userIdentity"]["accessKeyId"], kRootId);
  json read = json::parse(events[1]["CloudTrailEvent"].get<std::string>());
  EXPECT_EQ(read["eventName"], "GetSecretValue");
  EXPECT_EQ(read["readOnly"], true);
  EXPECT_EQ(read["sourceIPAddress"], "10.1.2.3");
  EXPECT_EQ(read["userAgent"], "unit-test/1.0");
  EXPECT_EQ(read["userIdentity"]["type"], "Root");
  EXPECT_EQ(read["userIdentity"]["arn"], "arn:aws:iam::123456789012:root");
  ASSERT_EQ(read["resources"].size(), 1u);
  EXPECT_THAT(read["resources"][0]["ARN"].get<std::string>(), HasSubstr(":secret:ml-platform/db-"));
  EXPECT_EQ(events[2]["ReadOnly"], "false");
  EXPECT_EQ(trail_->last_seq(), 4u);

  // No record holds the value.
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "audit")) {
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(text, Not(HasSubstr(kCanary))) << entry.path();
  }
}

TEST_F(SecuredPipelineTest, FailsClosedWhenTheRecordCannotBeWritten) {
  ASSERT_EQ(Sm("CreateSecret", {{"Name", "app/db"}, {"SecretString", kCanary}}).status, 200);
  OpenTrail([](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  });
  http::Response r = Sm("GetSecretValue", {{"SecretId", "app/db"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr("InternalServiceError"));
  EXPECT_THAT(r.body, Not(HasSubstr(kCanary)));
  // IAM answers in its own protocol, and fails closed too.
  http::Response iam = Iam({{"Action", "ListUsers"}});
  EXPECT_EQ(iam.status, 500);
  EXPECT_THAT(iam.body, HasSubstr("<ErrorResponse"));
  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("coffer_audit_write_failures_total 2"));
  EXPECT_THAT(text, HasSubstr("coffer_requests_total{service=\"secretsmanager\",action="
                              "\"GetSecretValue\",outcome=\"server_error\"} 1"));
}

TEST_F(SecuredPipelineTest, LeastPrivilegeUserAndDenialMetrics) {
  ASSERT_EQ(Sm("CreateSecret", {{"Name", "ml-platform/a"}, {"SecretString", "a"}}).status, 200);
  ASSERT_EQ(Sm("CreateSecret", {{"Name", "other/b"}, {"SecretString", "b"}}).status, 200);
  auto [id, secret] = MakeUser(
      "eso",
      {{"Version", "2012-10-17"},
       {"Statement",
        {{{"Effect", "Allow"},
          {"Action", {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}},
          {"Resource", "arn:aws:secretsmanager:us-east-1:123456789012:secret:ml-platform/*"}}}}});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Sm("GetSecretValue", {{"SecretId", "ml-platform/a"}}, id, secret).status, 200);
  http::Response denied = Sm("GetSecretValue", {{"SecretId", "other/b"}}, id, secret);
  EXPECT_EQ(denied.status, 400);
  EXPECT_THAT(denied.body, HasSubstr("AccessDeniedException"));
  EXPECT_THAT(denied.body,
              HasSubstr("User: arn:aws:iam::123456789012:user/eso is not authorized to perform: "
                        "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:"));
  // IAM and CloudTrail are denied to this user too.
  http::Response iam = Iam({{"Action", "ListUsers"}}, id, secret);
  EXPECT_EQ(iam.status, 403);
  EXPECT_EQ(XmlText(iam.body, "Code"), "AccessDenied");
  EXPECT_EQ(Lookup(json::object(), id, secret).status, 400);

  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("coffer_authorization_denials_total{service=\"secretsmanager\","
                              "action=\"GetSecretValue\"} 1"));
  EXPECT_THAT(text, HasSubstr("coffer_authorization_denials_total{service=\"iam\","
                              "action=\"ListUsers\"} 1"));
  EXPECT_THAT(text, HasSubstr("coffer_authorization_denials_total{service=\"cloudtrail\","
                              "action=\"LookupEvents\"} 1"));

  // The denied read is in the trail with the user's identity and the secret it named.
  json events = AllEvents();
  bool found = false;
  for (const json& e : events) {
    json event = json::parse(e["CloudTrailEvent"].get<std::string>());
    if (event.value("errorCode", "") == "AccessDeniedException" &&
        event["eventName"] == "GetSecretValue") {
      found = true;
      EXPECT_EQ(event["userIdentity"]["type"], "IAMUser");
      EXPECT_EQ(event["userIdentity"]["userName"], "eso");
      EXPECT_EQ(e["Username"], "eso");
      EXPECT_THAT(event["resources"][0]["ARN"].get<std::string>(), HasSubstr(":secret:other/b-"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SecuredPipelineTest, QueryProtocolErrorsAreXml) {
  // Signed for the wrong service.
  http::Response wrong = Iam({{"Action", "ListUsers"}}, kRootId, kRootSecret, "secretsmanager");
  EXPECT_THAT(wrong.body, HasSubstr("<ErrorResponse"));
  EXPECT_THAT(XmlText(wrong.body, "Message"), HasSubstr("correct service"));
  // A key that does not exist.
  http::Response unknown = Iam({{"Action", "ListUsers"}}, "AKIANOSUCHKEY0000000", "x");
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(XmlText(unknown.body, "Code"), "InvalidClientTokenId");
  // Unknown action.
  http::Response bad = Iam({{"Action", "Frobnicate"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(XmlText(bad.body, "Code"), "InvalidAction");
  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("coffer_authentication_failures_total"));
  // An unknown action is counted as "unknown", never as a label the client chose.
  EXPECT_THAT(text, Not(HasSubstr("Frobnicate")));
}

TEST_F(SecuredPipelineTest, StsGetCallerIdentityNeedsNoPermission) {
  auto [id, secret] = MakeUser(
      "nobody", {{"Version", "2012-10-17"},
                 {"Statement", {{{"Effect", "Deny"}, {"Action", "*"}, {"Resource", "*"}}}}});
  http::Request r;
  r.method = "POST";
  r.target = "/";
  r.body = "Action=GetCallerIdentity&Version=2011-06-15";
  r.remote_address = "10.1.2.3";
  r.headers = {{"Host", "127.0.0.1:7430"},
               {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  sigv4::SignRequest(r.method, r.target, r.headers, r.body, id, secret, "us-east-1", "sts",
                     clock_.NowMillis());
  http::Response user = pipeline_->Handle(r);
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_EQ(XmlText(user.body, "Arn"), "arn:aws:iam::123456789012:user/nobody");
  EXPECT_EQ(XmlText(user.body, "Account"), kAccount);
  EXPECT_EQ(XmlText(user.body, "UserId").substr(0, 4), "AIDA");

  r.headers.resize(2);
  sigv4::SignRequest(r.method, r.target, r.headers, r.body, kRootId, kRootSecret, "us-east-1",
                     "sts", clock_.NowMillis());
  http::Response root = pipeline_->Handle(r);
  ASSERT_EQ(root.status, 200) << root.body;
  EXPECT_EQ(XmlText(root.body, "Arn"), "arn:aws:iam::123456789012:root");
  EXPECT_EQ(XmlText(root.body, "UserId"), kAccount);

  r.body = "Action=AssumeRole&Version=2011-06-15";
  r.headers.resize(2);
  sigv4::SignRequest(r.method, r.target, r.headers, r.body, kRootId, kRootSecret, "us-east-1",
                     "sts", clock_.NowMillis());
  http::Response other = pipeline_->Handle(r);
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(XmlText(other.body, "Code"), "InvalidAction");

  json events = AllEvents();
  EXPECT_EQ(events[0]["EventSource"], "sts.amazonaws.com");
}

TEST_F(SecuredPipelineTest, DeactivatedKeyStopsAtOnce) {
  auto [id, secret] = MakeUser(
      "ops", {{"Version", "2012-10-17"},
              {"Statement", {{{"Effect", "Allow"}, {"Action", "iam:*"}, {"Resource", "*"}}}}});
  EXPECT_EQ(Iam({{"Action", "ListUsers"}}, id, secret).status, 200);
  ASSERT_EQ(Iam({{"Action", "UpdateAccessKey"},
                 {"UserName", "ops"},
                 {"AccessKeyId", id},
                 {"Status", "Inactive"}})
                .status,
            200);
  http::Response r = Iam({{"Action", "ListUsers"}}, id, secret);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(XmlText(r.body, "Code"), "InvalidClientTokenId");
}

}  // namespace
}  // namespace coffer::api
