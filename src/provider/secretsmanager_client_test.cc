// The client against a real coffer server in-process: the Beast HTTP server, the api pipeline
// with real SigV4 verification, and the secrets service over the in-memory store.

#include "provider/secretsmanager_client.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/testing/in_process_server.h"
#include "core/encoding.h"
#include "provider/provider.h"
#include "secrets/service.h"

namespace coffer::provider {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyId[] = "AKIAPROVIDERTEST0001";
constexpr char kSecret[] = "provider/Test/Secret/Key/0123456789abcdefgh";
constexpr char kCanary[] = "CANARY-provider-7c1e";

class SecretsManagerClientTest : public ::testing::Test {
 protected:
  SecretsManagerClient Client(std::string secret = kSecret, std::string endpoint = "") {
    SecretsManagerOptions options;
    options.endpoint = endpoint.empty() ? coffer_.endpoint() : endpoint;
    options.timeout = std::chrono::milliseconds(5000);
    return SecretsManagerClient(options, AwsCredentials{kKeyId, std::move(secret), ""});
  }

  // Creates `name`; returns its ARN.
  std::string Create(const std::string& name, std::optional<std::string> value,
                     std::optional<std::string> binary = std::nullopt,
                     std::vector<secrets::Tag> tags = {}) {
    return coffer_.Create(name, std::move(value), std::move(binary), std::move(tags)).arn;
  }

  api::testing::InProcessServer coffer_{kKeyId, kSecret};
};

TEST_F(SecretsManagerClientTest, GetsStringAndBinaryValues) {
  std::string arn = Create("ml-platform/db", std::string(R"({"password":")") + kCanary + "\"}");
  Create("ml-platform/cert", std::nullopt, std::string("\x00\x01\xff", 3));
  SecretsManagerClient client = Client();

  auto got = client.GetSecretValue("ml-platform/db");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->arn, arn);
  EXPECT_EQ(got->name, "ml-platform/db");
  EXPECT_EQ(got->string, std::string(R"({"password":")") + kCanary + "\"}");
  EXPECT_FALSE(got->binary.has_value());
  EXPECT_EQ(got->version_stages, std::vector<std::string>{"AWSCURRENT"});
  EXPECT_GT(got->created_ms, 0);

  auto by_id = client.GetSecretValue(arn, got->version_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->version_id, got->version_id);
  auto by_stage = client.GetSecretValue("ml-platform/db", "", "AWSCURRENT");
  ASSERT_TRUE(by_stage.ok());

  auto bin = client.GetSecretValue("ml-platform/cert");
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  EXPECT_EQ(bin->binary, std::string("\x00\x01\xff", 3));
  EXPECT_FALSE(bin->string.has_value());
}

TEST_F(SecretsManagerClientTest, ErrorsMapToStatusCodesWithoutValues) {
  Create("app/one", kCanary);
  auto missing = Client().GetSecretValue("app/missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("ResourceNotFoundException"));

  auto stage = Client().GetSecretValue("app/one", "", "NOSUCHSTAGE");
  EXPECT_EQ(stage.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(stage.status().message(), Not(HasSubstr(kCanary)));

  auto bad_key = Client("wrong-secret").GetSecretValue("app/one");
  EXPECT_EQ(bad_key.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(bad_key.status().message(), HasSubstr("InvalidSignatureException"));
  EXPECT_THAT(bad_key.status().message(), Not(HasSubstr("wrong-secret")));
  EXPECT_EQ(Client("wrong-secret").CheckCredentials().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Client().CheckCredentials().ok());

  // Nothing listens on port 1.
  auto down = Client(kSecret, "http://127.0.0.1:1").GetSecretValue("app/one");
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(down.status().message(), HasSubstr("127.0.0.1:1"));
}

TEST_F(SecretsManagerClientTest, DescribesAndListsWithFiltersAndPages) {
  Create("team-a/one", "1", std::nullopt, {{"env", "prod"}, {"team", "a"}});
  Create("team-a/two", "2");
  Create("team-b/one", "3");
  SecretsManagerClient client = Client();

  auto described = client.DescribeSecret("team-a/one");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->name, "team-a/one");
  EXPECT_EQ(described->tags.size(), 2u);
  ASSERT_EQ(described->versions.size(), 1u);
  EXPECT_EQ(described->versions[0].second, std::vector<std::string>{"AWSCURRENT"});

  auto filtered = client.ListSecrets({{"name", {"team-a/"}}});
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  ASSERT_EQ(filtered->secrets.size(), 2u);

  std::vector<std::string> names;
  std::string token;
  do {
    auto page = client.ListSecrets({}, token, 1);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->secrets.size(), 1u);
    for (const auto& s : page->secrets) names.push_back(s.name);
    token = page->next_token;
  } while (!token.empty());
  EXPECT_EQ(names.size(), 3u);
}

TEST_F(SecretsManagerClientTest, AwsProviderReadsThroughTheClient) {
  Create("ml-platform/api", "k1");
  AwsProvider provider(std::make_shared<SecretsManagerClient>(Client()));
  EXPECT_TRUE(provider.Validate().ok());
  auto current = provider.GetSecret({"ml-platform/api", "", ""});
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_EQ(current->string, "k1");
  auto by_stage = provider.GetSecret({"ml-platform/api", "", "AWSCURRENT"});
  ASSERT_TRUE(by_stage.ok());
  auto by_id = provider.GetSecret({"ml-platform/api", current->version_id, ""});
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(provider.GetSecret({"ml-platform/nope", "", ""}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(provider.calls(), 5u);
  AwsProvider wrong(std::make_shared<SecretsManagerClient>(Client("bad")));
  EXPECT_EQ(wrong.Validate().code(), StatusCode::kUnauthenticated);
}

TEST_F(SecretsManagerClientTest, AwsProviderFetchesTagsAsMetadata) {
  Create("team-a/tagged", kCanary, std::nullopt, {{"team", "a"}, {"env", "prod"}, {"q", "\"x\""}});
  Create("team-a/untagged", kCanary);
  AwsProvider provider(std::make_shared<SecretsManagerClient>(Client()));
  RemoteKey key{"team-a/tagged", "", ""};
  key.metadata = true;
  auto tagged = provider.GetSecret(key);
  ASSERT_TRUE(tagged.ok()) << tagged.status().ToString();
  EXPECT_EQ(tagged->string, R"({"team":"a","env":"prod","q":"\"x\""})");
  EXPECT_FALSE(tagged->binary.has_value());
  EXPECT_EQ(tagged->version_id, "");

  key.key = "team-a/untagged";
  auto untagged = provider.GetSecret(key);
  ASSERT_TRUE(untagged.ok()) << untagged.status().ToString();
  EXPECT_EQ(untagged->string, "{}");

  key.key = "team-a/missing";
  EXPECT_EQ(provider.GetSecret(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(provider.calls(), 3u);
}

TEST_F(SecretsManagerClientTest, AwsProviderTreatsSecretsMarkedForDeletionAsMissing) {
  Create("app/doomed", kCanary, std::nullopt, {{"env", "prod"}});
  const secrets::CallContext ctx = api::testing::InProcessServer::Context();
  secrets::DeleteSecretRequest del;
  del.secret_id = "app/doomed";
  del.recovery_window_in_days = 7;
  ASSERT_TRUE(coffer_.service().DeleteSecret(ctx, del).ok());

  // The client sees AWS's InvalidRequestException...
  auto raw = Client().GetSecretValue("app/doomed");
  EXPECT_EQ(raw.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(raw.status().message(), HasSubstr("InvalidRequestException"));

  // ...which the provider reports as kNotFound, for the value and for the metadata.
  AwsProvider provider(std::make_shared<SecretsManagerClient>(Client()));
  auto value = provider.GetSecret({"app/doomed", "", ""});
  EXPECT_EQ(value.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(value.status().message(), HasSubstr("app/doomed is marked for deletion"));
  EXPECT_THAT(value.status().message(), Not(HasSubstr(kCanary)));
  RemoteKey metadata{"app/doomed", "", ""};
  metadata.metadata = true;
  auto tags = provider.GetSecret(metadata);
  EXPECT_EQ(tags.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(tags.status().message(), HasSubstr("marked for deletion"));
}

TEST_F(SecretsManagerClientTest, AwsProviderKeepsOtherInvalidRequests) {
  Create("app/one", kCanary);
  AwsProvider provider(std::make_shared<SecretsManagerClient>(Client()));
  auto current = provider.GetSecret({"app/one", "", ""});
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  // A version id with a stage it does not carry: InvalidRequestException, not a missing secret.
  auto mismatch = provider.GetSecret({"app/one", current->version_id, "AWSPREVIOUS"});
  EXPECT_EQ(mismatch.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(mismatch.status().message(), HasSubstr("InvalidRequestException"));
}

TEST_F(SecretsManagerClientTest, AwsProviderReportsEveryBackendCall) {
  Create("app/one", kCanary, std::nullopt, {{"env", "prod"}});
  std::vector<std::pair<std::string, StatusCode>> seen;
  std::mutex mu;
  AwsProvider provider(std::make_shared<SecretsManagerClient>(Client()),
                       [&](std::string_view call, const Status& status) {
                         std::lock_guard<std::mutex> lock(mu);
                         seen.emplace_back(std::string(call), status.code());
                       });
  ASSERT_TRUE(provider.Validate().ok());
  ASSERT_TRUE(provider.GetSecret({"app/one", "", ""}).ok());
  EXPECT_FALSE(provider.GetSecret({"app/none", "", ""}).ok());
  RemoteKey metadata{"app/one", "", ""};
  metadata.metadata = true;
  ASSERT_TRUE(provider.GetSecret(metadata).ok());

  AwsProvider wrong(std::make_shared<SecretsManagerClient>(Client("bad")),
                    [&](std::string_view call, const Status& status) {
                      std::lock_guard<std::mutex> lock(mu);
                      seen.emplace_back(std::string(call), status.code());
                    });
  EXPECT_FALSE(wrong.Validate().ok());

  const std::vector<std::pair<std::string, StatusCode>> want = {
      {"ListSecrets", StatusCode::kOk},
      {"GetSecretValue", StatusCode::kOk},
      {"GetSecretValue", StatusCode::kNotFound},
      {"DescribeSecret", StatusCode::kOk},
      {"ListSecrets", StatusCode::kUnauthenticated},
  };
  EXPECT_EQ(seen, want);
  EXPECT_EQ(provider.calls(), 4u);
}

TEST(RemoteKeyTest, MetadataFlagTakesPartInEquality) {
  RemoteKey value{"db", "", ""};
  RemoteKey metadata{"db", "", ""};
  metadata.metadata = true;
  EXPECT_FALSE(value == metadata);
  RemoteKey same{"db", "", ""};
  EXPECT_TRUE(value == same);
}

// --- Writes (PushSecret) ------------------------------------------------------------------------

TEST_F(SecretsManagerClientTest, CreatePutTagAndDeleteForPushSecret) {
  SecretsManagerClient client = Client();
  Result<std::string> v1 = client.CreateSecret("push/db", std::nullopt,
                                               std::string("\x00"
                                                           "b1",
                                                           3),
                                               "secret 'managed-by:external-secrets'", "",
                                               {{"managed-by", "external-secrets"}});
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto described = client.DescribeSecret("push/db");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->tags,
            (std::vector<std::pair<std::string, std::string>>{{"managed-by", "external-secrets"}}));
  auto got = client.GetSecretValue("push/db");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->binary, std::string("\x00"
                                     "b1",
                                     3));
  EXPECT_EQ(got->version_id, *v1);

  Result<std::string> v2 = client.PutSecretValue("push/db", std::string(kCanary), std::nullopt);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_NE(*v2, *v1);  // a fresh ClientRequestToken each call
  Result<std::string> v3 = client.PutSecretValue("push/db", std::string("other"), std::nullopt);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_NE(*v3, *v2);
  got = client.GetSecretValue("push/db");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->string, "other");

  ASSERT_TRUE(client.TagResource("push/db", {{"team", "payments"}}).ok());
  described = client.DescribeSecret("push/db");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->tags.size(), 2u);

  Status exists =
      client.CreateSecret("push/db", std::string("x"), std::nullopt, "", "", {}).status();
  EXPECT_FALSE(exists.ok());
  EXPECT_THAT(exists.message(), Not(HasSubstr("other")));

  ASSERT_TRUE(client.DeleteSecret("push/db", /*force=*/false, 7).ok());
  described = client.DescribeSecret("push/db");
  ASSERT_TRUE(described.ok());
  EXPECT_TRUE(described->deleted_ms.has_value());  // scheduled, recoverable

  ASSERT_TRUE(client.CreateSecret("push/gone", std::string("x"), std::nullopt, "", "", {}).ok());
  ASSERT_TRUE(client.DeleteSecret("push/gone", /*force=*/true, std::nullopt).ok());
  EXPECT_EQ(client.DescribeSecret("push/gone").status().code(), StatusCode::kNotFound);
  // As AWS: a forced delete of a missing secret succeeds; otherwise it is NotFound.
  EXPECT_TRUE(client.DeleteSecret("push/missing", true, std::nullopt).ok());
  EXPECT_EQ(client.DeleteSecret("push/missing", false, std::nullopt).code(), StatusCode::kNotFound);
}

TEST(StatusFromAwsErrorTest, MapsTypesAndKeepsMessagesShort) {
  EXPECT_EQ(
      StatusFromAwsError(400, R"({"__type":"ResourceNotFoundException","Message":"x"})").code(),
      StatusCode::kNotFound);
  EXPECT_EQ(
      StatusFromAwsError(400, R"({"__type":"com.amazonaws.secretsmanager#AccessDeniedException"})")
          .code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromAwsError(400, R"({"__type":"ThrottlingException"})").code(),
            StatusCode::kThrottled);
  EXPECT_EQ(StatusFromAwsError(400, R"({"__type":"InvalidRequestException"})").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromAwsError(503, "<html>busy</html>").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromAwsError(400, R"({"__type":"ValidationException"})").code(),
            StatusCode::kInvalidArgument);
  Status long_message =
      StatusFromAwsError(400, R"({"__type":"X","Message":")" + std::string(2000, 'm') + "\"}");
  EXPECT_LT(long_message.message().size(), 600u);
}

}  // namespace
}  // namespace coffer::provider
