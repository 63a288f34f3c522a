// The pipeline end to end: real Verifier (requests signed with sigv4::SignRequest), real
// Envelope, the in-memory store and the real secrets::Service.

#include "api/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "api/credentials.h"
#include "api/ops/operations.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "storage/testing/memory_store.h"

namespace coffer::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kKeyId[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kToken1[] = "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1";

std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

struct Sent {
  http::Response response;
  json body;  // parsed response body (null if not JSON)
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : clock_(*ParseAmzDate("20261127T183456Z")),
        keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        credentials_(&store_, &envelope_, &clock_),
        verifier_(&clock_, &credentials_),
        service_(&store_, &envelope_, &clock_) {
    auto root = EnsureRootCredentials(&store_, &envelope_, &clock_, "123456789012",
                                      std::make_pair(std::string(kKeyId), std::string(kSecret)));
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    MakePipeline({});
  }

  void MakePipeline(std::vector<std::string> allowed_regions) {
    PipelineOptions options;
    options.account_id = "123456789012";
    options.allowed_regions = std::move(allowed_regions);
    pipeline_ = std::make_unique<Pipeline>(options, &service_, &verifier_, &clock_);
  }

  // A request as boto3 builds it, signed unless `sign` is false.
  http::Request Build(std::string_view action, std::string body,
                      std::string_view region = "us-east-1",
                      std::string_view service = "secretsmanager", bool sign = true) {
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.body = std::move(body);
    r.remote_address = "127.0.0.1";
    r.headers = {{"Host", "127.0.0.1:7430"},
                 {"X-Amz-Target", "secretsmanager." + std::string(action)},
                 {"Content-Type", "application/x-amz-json-1.1"}};
    if (sign) {
      sigv4::SignRequest(r.method, r.target, r.headers, r.body, kKeyId, kSecret, region, service,
                         clock_.NowMillis());
    }
    r.headers.emplace_back("User-Agent", "Boto3/1.26.27");
    r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
    return r;
  }

  // Signs again after the caller edited headers (so only the edit under test can fail).
  void Resign(http::Request& r) {
    std::erase_if(r.headers, [](const auto& h) {
      return h.first == "Authorization" || h.first == "X-Amz-Date" || h.first == "User-Agent" ||
             h.first == "Content-Length";
    });
    sigv4::SignRequest(r.method, r.target, r.headers, r.body, kKeyId, kSecret, "us-east-1",
                       "secretsmanager", clock_.NowMillis());
  }

  Sent Send(const http::Request& request) {
    Sent s{pipeline_->Handle(request), json()};
    s.body = json::parse(s.response.body, nullptr, /*allow_exceptions=*/false);
    return s;
  }
  Sent Call(std::string_view action, std::string body, std::string_view region = "us-east-1") {
    return Send(Build(action, std::move(body), region));
  }

  static void ExpectError(const Sent& s, int http, std::string_view type,
                          std::string_view message_part = "") {
    EXPECT_EQ(s.response.status, http) << s.response.body;
    EXPECT_EQ(HeaderOf(s.response, "Content-Type"), "application/x-amz-json-1.1");
    EXPECT_NE(HeaderOf(s.response, "x-amzn-RequestId"), "<absent>");
    ASSERT_TRUE(s.body.is_object()) << s.response.body;
    EXPECT_EQ(s.body.value("__type", ""), type) << s.response.body;
    EXPECT_THAT(s.body.value("Message", ""), HasSubstr(std::string(message_part)));
  }

  FakeClock clock_;
  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  StoreCredentialSource credentials_;
  sigv4::Verifier verifier_;
  secrets::Service service_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, CreateThenGetSecretValue) {
  Sent created = Call("CreateSecret", json{{"Name", "prod/db"},
                                           {"ClientRequestToken", kToken1},
                                           {"SecretString", R"({"password":"hunter2"})"}}
                                          .dump());
  ASSERT_EQ(created.response.status, 200) << created.response.body;
  EXPECT_EQ(HeaderOf(created.response, "Content-Type"), "application/x-amz-json-1.1");
  std::string arn = created.body.value("ARN", "");
  EXPECT_THAT(arn, StartsWith("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-"));
  EXPECT_EQ(arn.size(), std::string("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-")
                                .size() + 6);
  EXPECT_EQ(created.body["Name"], "prod/db");
  EXPECT_EQ(created.body["VersionId"], kToken1);

  Sent got = Call("GetSecretValue", R"({"SecretId":"prod/db"})");
  ASSERT_EQ(got.response.status, 200) << got.response.body;
  EXPECT_EQ(got.body["ARN"], arn);
  EXPECT_EQ(got.body["Name"], "prod/db");
  EXPECT_EQ(got.body["VersionId"], kToken1);
  EXPECT_EQ(got.body["SecretString"], R"({"password":"hunter2"})");
  EXPECT_EQ(got.body["VersionStages"], json::array({"AWSCURRENT"}));
  EXPECT_FALSE(got.body.contains("SecretBinary"));
  // Epoch seconds with a fraction, as a number.
  EXPECT_TRUE(got.body["CreatedDate"].is_number_float());
  EXPECT_THAT(got.response.body, HasSubstr(R"("CreatedDate":1795804496.0)"));
}

TEST_F(PipelineTest, BinarySecretsTravelAsBase64) {
  Sent created = Call("CreateSecret", json{{"Name", "bin"},
                                           {"ClientRequestToken", kToken1},
                                           {"SecretBinary", "AAEC/w=="}}
                                          .dump());
  ASSERT_EQ(created.response.status, 200) << created.response.body;
  Sent got = Call("GetSecretValue", R"({"SecretId":"bin"})");
  ASSERT_EQ(got.response.status, 200) << got.response.body;
  EXPECT_EQ(got.body["SecretBinary"], "AAEC/w==");
  EXPECT_FALSE(got.body.contains("SecretString"));
}

TEST_F(PipelineTest, SecretsLivePerRegion) {
  ASSERT_EQ(Call("CreateSecret", json{{"Name", "only-east"}, {"SecretString", "x"},
                                      {"ClientRequestToken", kToken1}}
                                     .dump())
                .response.status,
            200);
  Sent west = Call("GetSecretValue", R"({"SecretId":"only-east"})", "eu-west-1");
  ExpectError(west, 400, "ResourceNotFoundException");
  Sent described = Call("DescribeSecret", R"({"SecretId":"only-east"})", "us-east-1");
  ASSERT_EQ(described.response.status, 200);
  EXPECT_THAT(described.body.value("ARN", ""), HasSubstr(":us-east-1:"));
}

TEST_F(PipelineTest, EveryResponseCarriesADistinctRequestId) {
  std::set<std::string> ids;
  for (const http::Request& r :
       {Build("ListSecrets", "{}"), Build("NoSuchAction", "{}"), Build("ListSecrets", "not json"),
        Build("ListSecrets", "{}", "us-east-1", "secretsmanager", /*sign=*/false)}) {
    Sent s = Send(r);
    std::string id = HeaderOf(s.response, "x-amzn-RequestId");
    EXPECT_EQ(id.size(), 36u) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(PipelineTest, ListSecretsAnswersEmptyList) {
  Sent s = Call("ListSecrets", "{}");
  ASSERT_EQ(s.response.status, 200) << s.response.body;
  EXPECT_EQ(s.body["SecretList"], json::array());
}

TEST_F(PipelineTest, UnknownActionIsUnknownOperation) {
  ExpectError(Call("GetSecretValues", "{}"), 400, "UnknownOperationException",
              "GetSecretValues");
}

TEST_F(PipelineTest, MissingOrForeignTargetIsUnknownOperation) {
  http::Request r = Build("ListSecrets", "{}");
  std::erase_if(r.headers, [](const auto& h) { return h.first == "X-Amz-Target"; });
  Resign(r);
  ExpectError(Send(r), 400, "UnknownOperationException", "X-Amz-Target");

  http::Request foreign = Build("ListSecrets", "{}");
  for (auto& [name, value] : foreign.headers) {
    if (name == "X-Amz-Target") value = "DynamoDB_20120810.ListTables";
  }
  Resign(foreign);
  ExpectError(Send(foreign), 400, "UnknownOperationException", "DynamoDB_20120810.ListTables");
}

TEST_F(PipelineTest, BadJsonIsSerializationException) {
  ExpectError(Call("GetSecretValue", R"({"SecretId": "x")"), 400, "SerializationException");
  ExpectError(Call("GetSecretValue", R"(["SecretId"])"), 400, "SerializationException",
              "JSON object");
}

TEST_F(PipelineTest, WrongMemberTypeNamesTheMember) {
  ExpectError(Call("GetSecretValue", R"({"SecretId": {"a": 1}})"), 400, "SerializationException",
              "SecretId");
}

TEST_F(PipelineTest, ServiceErrorsUseTheTable) {
  ExpectError(Call("GetSecretValue", R"({"SecretId":"missing"})"), 400,
              "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
}

TEST_F(PipelineTest, WrongServiceScope) {
  Sent s = Send(Build("ListSecrets", "{}", "us-east-1", "kms"));
  ExpectError(s, 400, "InvalidSignatureException");
  EXPECT_EQ(s.body["Message"], "Credential should be scoped to correct service: 'secretsmanager'. ");
}

TEST_F(PipelineTest, RegionMustBeWellFormedAndAllowed) {
  Sent malformed = Send(Build("ListSecrets", "{}", "useast1"));
  ExpectError(malformed, 400, "InvalidSignatureException");
  EXPECT_EQ(malformed.body["Message"], "Credential should be scoped to a valid region. ");

  MakePipeline({"us-east-1", "eu-west-1"});
  EXPECT_EQ(Send(Build("ListSecrets", "{}", "eu-west-1")).response.status, 200);
  Sent disallowed = Send(Build("ListSecrets", "{}", "ap-south-1"));
  ExpectError(disallowed, 400, "InvalidSignatureException");
  EXPECT_EQ(disallowed.body["Message"], "Credential should be scoped to a valid region. ");
}

TEST_F(PipelineTest, BadSignature) {
  http::Request r = Build("GetSecretValue", R"({"SecretId":"a"})");
  r.body = R"({"SecretId":"b"})";  // tampered after signing
  ExpectError(Send(r), 400, "InvalidSignatureException",
              "The request signature we calculated does not match");
}

TEST_F(PipelineTest, UnsignedAndUnknownKey) {
  Sent unsigned_request = Send(Build("ListSecrets", "{}", "us-east-1", "secretsmanager", false));
  ExpectError(unsigned_request, 403, "MissingAuthenticationTokenException");

  http::Request r = Build("ListSecrets", "{}", "us-east-1", "secretsmanager", false);
  sigv4::SignRequest(r.method, r.target, r.headers, r.body, "AKIAUNKNOWNKEY000000", kSecret,
                     "us-east-1", "secretsmanager", clock_.NowMillis());
  ExpectError(Send(r), 400, "UnrecognizedClientException",
              "The security token included in the request is invalid.");
}

TEST_F(PipelineTest, ExpiredSignature) {
  http::Request r = Build("ListSecrets", "{}");
  clock_.AdvanceMillis(6 * 60 * 1000);
  ExpectError(Send(r), 400, "InvalidSignatureException", "Signature expired");
}

TEST_F(PipelineTest, MethodAndPath) {
  http::Request get = Build("ListSecrets", "{}");
  get.method = "GET";
  Sent s = Send(get);
  ExpectError(s, 405, "UnknownOperationException");
  EXPECT_EQ(HeaderOf(s.response, "Allow"), "POST");

  http::Request other = Build("ListSecrets", "{}");
  other.target = "/secrets";
  ExpectError(Send(other), 404, "UnknownOperationException");
}

TEST_F(PipelineTest, ContentType) {
  http::Request json10 = Build("ListSecrets", "{}");
  for (auto& [name, value] : json10.headers) {
    if (name == "Content-Type") value = "application/x-amz-json-1.0; charset=utf-8";
  }
  Resign(json10);
  EXPECT_EQ(Send(json10).response.status, 200);

  http::Request plain = Build("ListSecrets", "{}");
  for (auto& [name, value] : plain.headers) {
    if (name == "Content-Type") value = "application/json";
  }
  Resign(plain);
  ExpectError(Send(plain), 400, "SerializationException", "Content-Type");
}

TEST_F(PipelineTest, ReplicationIsNotSupported) {
  ASSERT_EQ(Call("CreateSecret", json{{"Name", "x"}, {"SecretString", "v"},
                                      {"ClientRequestToken", kToken1}}
                                     .dump())
                .response.status,
            200);
  for (const char* action :
       {"ReplicateSecretToRegions", "RemoveRegionsFromReplication", "StopReplicationToReplica"}) {
    ExpectError(Call(action, R"({"SecretId":"x"})"), 400, "InvalidRequestException",
                "Replication is not supported by coffer");
    // The secret is looked up first, as for any other action.
    ExpectError(Call(action, R"({"SecretId":"missing"})"), 400, "ResourceNotFoundException");
  }
}

TEST_F(PipelineTest, TagResourceAnswersEmptyObject) {
  ASSERT_EQ(Call("CreateSecret", json{{"Name", "t"}, {"SecretString", "x"},
                                      {"ClientRequestToken", kToken1}}
                                     .dump())
                .response.status,
            200);
  Sent tagged = Call("TagResource", R"({"SecretId":"t","Tags":[{"Key":"a","Value":"b"}]})");
  ASSERT_EQ(tagged.response.status, 200) << tagged.response.body;
  EXPECT_EQ(tagged.response.body, "{}");
  Sent described = Call("DescribeSecret", R"({"SecretId":"t"})");
  EXPECT_EQ(described.body["Tags"], json::parse(R"([{"Key":"a","Value":"b"}])"));
  EXPECT_EQ(Call("UntagResource", R"({"SecretId":"t","TagKeys":["a"]})").response.body, "{}");
}

TEST_F(PipelineTest, RotationConfigurationIsStoredAndReported) {
  ASSERT_EQ(Call("CreateSecret", json{{"Name", "r"}, {"SecretString", "x"},
                                      {"ClientRequestToken", kToken1}}
                                     .dump())
                .response.status,
            200);
  Sent rotated = Call("RotateSecret", R"j({"SecretId":"r",
      "ClientRequestToken":"EXAMPLE2-90ab-cdef-fedc-ba987SECRET2",
      "RotationLambdaARN":"arn:aws:lambda:us-east-1:123456789012:function:rot",
      "RotationRules":{"AutomaticallyAfterDays":30},"RotateImmediately":false,
      "ExternalSecretRotationMetadata":[{"Key":"k","Value":"v"}]})j");
  ASSERT_EQ(rotated.response.status, 200) << rotated.response.body;
  EXPECT_EQ(rotated.body["Name"], "r");
  Sent described = Call("DescribeSecret", R"({"SecretId":"r"})");
  ASSERT_EQ(described.response.status, 200);
  EXPECT_EQ(described.body["RotationEnabled"], true) << described.response.body;
  EXPECT_EQ(described.body["RotationLambdaARN"],
            "arn:aws:lambda:us-east-1:123456789012:function:rot");
  EXPECT_EQ(described.body["RotationRules"]["AutomaticallyAfterDays"], 30);
  EXPECT_EQ(described.body["ExternalSecretRotationMetadata"],
            json::parse(R"([{"Key":"k","Value":"v"}])"));
}

TEST_F(PipelineTest, LogsOneDebugLinePerRequestWithoutTheBody) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("pipeline_test", sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  Sent s = Call("CreateSecret", json{{"Name", "logged"}, {"SecretString", "hunter2-secret"},
                                     {"ClientRequestToken", kToken1}}
                                    .dump());
  spdlog::set_default_logger(previous);
  ASSERT_EQ(s.response.status, 200);
  std::vector<std::string> lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr(HeaderOf(s.response, "x-amzn-RequestId")));
  EXPECT_THAT(lines[0], HasSubstr("action=CreateSecret"));
  EXPECT_THAT(lines[0], HasSubstr("status=200"));
  EXPECT_THAT(lines[0], HasSubstr("latency_us="));
  EXPECT_EQ(lines[0].find("hunter2"), std::string::npos);
}

TEST_F(PipelineTest, ServerErrorsAre500WithoutDetails) {
  store_.FailNextCommit(Status::DataLoss("disk on fire at /var/lib/coffer"));
  Sent s = Call("CreateSecret", json{{"Name", "x"}, {"SecretString", "v"},
                                     {"ClientRequestToken", kToken1}}
                                    .dump());
  ExpectError(s, 500, "InternalServiceError");
  EXPECT_EQ(s.body["Message"], "An error occurred on the server side.");
  EXPECT_EQ(s.response.body.find("disk"), std::string::npos);
}

TEST(OperationsTest, AllTwentyThreeActionsAreRegistered) {
  const std::set<std::string> expected = {
      "BatchGetSecretValue",    "CancelRotateSecret",       "CreateSecret",
      "DeleteResourcePolicy",   "DeleteSecret",             "DescribeSecret",
      "GetRandomPassword",      "GetResourcePolicy",        "GetSecretValue",
      "ListSecretVersionIds",   "ListSecrets",              "PutResourcePolicy",
      "PutSecretValue",         "RemoveRegionsFromReplication", "ReplicateSecretToRegions",
      "RestoreSecret",          "RotateSecret",             "StopReplicationToReplica",
      "TagResource",            "UntagResource",            "UpdateSecret",
      "UpdateSecretVersionStage", "ValidateResourcePolicy",
  };
  std::set<std::string> registered;
  for (const auto& op : ops::AllOperations()) {
    EXPECT_TRUE(registered.insert(std::string(op.action)).second) << "twice: " << op.action;
    EXPECT_NE(op.handler, nullptr) << op.action;
    EXPECT_EQ(ops::FindHandler(op.action), op.handler) << op.action;
  }
  EXPECT_EQ(registered, expected);
  EXPECT_EQ(ops::FindHandler("getsecretvalue"), nullptr);  // action names are case-sensitive
  EXPECT_EQ(ops::FindHandler(""), nullptr);
}

}  // namespace
}  // namespace coffer::api
