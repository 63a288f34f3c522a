// AwsProvider::FindSecrets (dataFrom.find) against a real coffer server in-process: ListSecrets
// with filters, BatchGetSecretValue by filters and by SecretIdList, and the client-side re-checks.

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
#include "provider/secretsmanager_client.h"
#include "secrets/service.h"

namespace coffer::provider {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kKeyId[] = "AKIAPROVIDERFIND0001";
constexpr char kSecret[] = "provider/Find/Secret/Key/0123456789abcdefgh";

class FindSecretsTest : public ::testing::Test {
 protected:
  FindSecretsTest() {
    SecretsManagerOptions sm;
    sm.endpoint = coffer_.endpoint();
    sm.timeout = std::chrono::milliseconds(5000);
    client_ = std::make_shared<SecretsManagerClient>(sm, AwsCredentials{kKeyId, kSecret, ""});
  }

  void Create(const std::string& name, std::optional<std::string> value,
              std::vector<secrets::Tag> tags = {}, std::optional<std::string> binary = {}) {
    coffer_.Create(name, std::move(value), std::move(binary), std::move(tags));
  }

  void ScheduleDeletion(const std::string& name) {
    secrets::DeleteSecretRequest del;
    del.secret_id = name;
    del.recovery_window_in_days = 7;
    ASSERT_TRUE(coffer_.service().DeleteSecret(api::testing::InProcessServer::Context(), del).ok());
  }

  // The provider, recording every backend call.
  std::unique_ptr<AwsProvider> Provider() {
    return std::make_unique<AwsProvider>(client_, [this](std::string_view call, const Status& s) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.emplace_back(call);
    });
  }

  std::vector<std::string> Calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  static std::vector<std::string> Names(const std::vector<FoundSecret>& found) {
    std::vector<std::string> out;
    for (const FoundSecret& f : found) out.push_back(f.name);
    return out;
  }

  void CreateMlSecrets() {
    Create("ml-platform/mlflow/db", "mlflow-s3cr3t", {{"team", "ml"}, {"env", "prod"}});
    Create("ml-platform/airflow/db", "airflow-s3cr3t", {{"team", "ml"}, {"env", "dev"}});
    Create("other/x", "other-s3cr3t", {{"team", "mlops"}, {"owner", "ml"}});
    Create("ml-platform-legacy/db", "legacy-s3cr3t", {{"team", "ml"}});
  }

  api::testing::InProcessServer coffer_{kKeyId, kSecret};
  std::shared_ptr<SecretsManagerClient> client_;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

TEST_F(FindSecretsTest, NameRegexpListsThenBatchesValues) {
  CreateMlSecrets();
  auto provider = Provider();
  auto found = provider->FindSecrets({"", "^ml-platform/", {}});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform/airflow/db", "ml-platform/mlflow/db"));
  EXPECT_EQ((*found)[0].value.string, "airflow-s3cr3t");
  EXPECT_EQ((*found)[1].value.string, "mlflow-s3cr3t");
  EXPECT_FALSE((*found)[1].value.version_id.empty());
  EXPECT_THAT(Calls(), ElementsAre("ListSecrets", "BatchGetSecretValue"));
}

TEST_F(FindSecretsTest, TagsAreExactPairsNotPrefixes) {
  CreateMlSecrets();
  auto provider = Provider();
  // AWS's tag filters would also return other/x (tag-key "team" and a value starting "ml") and
  // ml-platform-legacy/db; the exact re-check keeps only team=ml and env=prod.
  auto found = provider->FindSecrets({"", "", {{"team", "ml"}, {"env", "prod"}}});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform/mlflow/db"));
  found = provider->FindSecrets({"", "", {{"team", "ml"}}});
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform-legacy/db", "ml-platform/airflow/db",
                                         "ml-platform/mlflow/db"));
  // Tags with a path and a regexp: all three must hold.
  found = provider->FindSecrets({"ml-platform/", "air", {{"team", "ml"}}});
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform/airflow/db"));
}

TEST_F(FindSecretsTest, PathUsesBatchFiltersAndIsAnExactPrefix) {
  CreateMlSecrets();
  auto provider = Provider();
  auto found = provider->FindSecrets({"ml-platform/", ".*", {}});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform/airflow/db", "ml-platform/mlflow/db"));
  EXPECT_THAT(Calls(), ElementsAre("BatchGetSecretValue"));
  found = provider->FindSecrets({"ml-platform/", "mlflow", {}});
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(Names(*found), ElementsAre("ml-platform/mlflow/db"));
}

TEST_F(FindSecretsTest, PaginatesAndChunksBatchesOfTwenty) {
  for (int i = 0; i < 45; ++i) {
    Create("bulk/" + std::to_string(100 + i), "v" + std::to_string(i), {{"bulk", "yes"}});
  }
  auto provider = Provider();
  auto by_tag = provider->FindSecrets({"", "", {{"bulk", "yes"}}});
  ASSERT_TRUE(by_tag.ok()) << by_tag.status().ToString();
  EXPECT_EQ(by_tag->size(), 45u);
  EXPECT_EQ(by_tag->front().name, "bulk/100");
  EXPECT_EQ(by_tag->back().value.string, "v44");
  // One listing page (100), three batches (20 + 20 + 5).
  EXPECT_THAT(Calls(), ElementsAre("ListSecrets", "BatchGetSecretValue", "BatchGetSecretValue",
                                   "BatchGetSecretValue"));
  auto by_path = provider->FindSecrets({"bulk/", "", {{"bulk", "yes"}}});
  ASSERT_TRUE(by_path.ok());
  EXPECT_EQ(by_path->size(), 45u);
  auto batch_pages = provider->FindSecrets({"bulk/", "1[0-4]$", {}});
  ASSERT_TRUE(batch_pages.ok());
  EXPECT_EQ(batch_pages->size(), 5u);  // bulk/110 .. bulk/114
}

TEST_F(FindSecretsTest, SkipsSecretsMarkedForDeletionAndReadsBinary) {
  Create("app/live", "live-s3cr3t", {{"app", "x"}});
  Create("app/doomed", "doomed-s3cr3t", {{"app", "x"}});
  Create("app/bin", std::nullopt, {{"app", "x"}}, std::string("\x00\x01", 2));
  ScheduleDeletion("app/doomed");
  auto provider = Provider();
  for (const FindQuery& q : {FindQuery{"", "^app/", {}}, FindQuery{"", "", {{"app", "x"}}},
                             FindQuery{"app/", "", {{"app", "x"}}}, FindQuery{"app/", ".", {}}}) {
    auto found = provider->FindSecrets(q);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_THAT(Names(*found), ElementsAre("app/bin", "app/live"));
    EXPECT_EQ((*found)[0].value.binary, std::string("\x00\x01", 2));
  }
}

TEST_F(FindSecretsTest, ErrorsCarryNoValues) {
  Create("app/one", "one-s3cr3t");
  auto provider = Provider();
  auto bad = provider->FindSecrets({"", "(", {}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider->FindSecrets({"app/", "", {}}).status().code(),
            StatusCode::kInvalidArgument);  // neither name nor tags
  SecretsManagerOptions sm;
  sm.endpoint = client_->endpoint();
  AwsProvider wrong(std::make_shared<SecretsManagerClient>(sm, AwsCredentials{kKeyId, "bad", ""}));
  auto denied = wrong.FindSecrets({"", "^app/", {}});
  EXPECT_EQ(denied.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(denied.status().ToString(), ::testing::Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace coffer::provider
