// Backends against a coffer server in-process, with the credentials Secret in a FakeApiserver.

#include "controller/backends.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/testing/coffer_backend.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"

namespace coffer::controller {
namespace {

using ::coffer::controller::testing::CofferBackend;
using ::coffer::controller::testing::kAccessKeyId;
using ::coffer::controller::testing::kSecretAccessKey;
using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNs[] = "team";
constexpr char kCredentials[] = "coffer-credentials";
constexpr char kCredentialsPath[] = "/api/v1/namespaces/team/secrets/coffer-credentials";

json CredentialsSecret(const std::string& ns, const std::string& access_key_id,
                       const std::string& secret_access_key) {
  json data = json::object();
  if (!access_key_id.empty()) data["access-key-id"] = Base64Encode(access_key_id);
  if (!secret_access_key.empty()) data["secret-access-key"] = Base64Encode(secret_access_key);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", kCredentials}, {"namespace", ns}}},
          {"type", "Opaque"},
          {"data", data}};
}

json SecretRefAuth(std::string secret_key = "secret-access-key", std::string ns = "") {
  json id = {{"name", kCredentials}, {"key", "access-key-id"}};
  json secret = {{"name", kCredentials}, {"key", std::move(secret_key)}};
  if (!ns.empty()) {
    id["namespace"] = ns;
    secret["namespace"] = ns;
  }
  return {{"secretRef", {{"accessKeyIDSecretRef", id}, {"secretAccessKeySecretRef", secret}}}};
}

// An aws SecretStore (or ClusterSecretStore when `ns` is empty); `auth` null: no auth section.
op::SecretStore AwsStore(const std::string& endpoint, json auth, const std::string& ns = kNs,
                         const std::string& name = "aws") {
  json aws = {{"service", "SecretsManager"}, {"region", "us-east-1"}, {"endpoint", endpoint}};
  if (!auth.is_null()) aws["auth"] = std::move(auth);
  json meta = {{"name", name}, {"uid", "uid-store-" + name}, {"generation", 1}};
  if (!ns.empty()) meta["namespace"] = ns;
  json object = {{"apiVersion", "external-secrets.io/v1"},
                 {"kind", ns.empty() ? "ClusterSecretStore" : "SecretStore"},
                 {"metadata", meta},
                 {"spec", {{"provider", {{"aws", aws}}}}}};
  Result<op::SecretStore> store = op::ParseSecretStore(object);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? *store : op::SecretStore{};
}

op::SecretStore FakeStore() {
  json object = {
      {"apiVersion", "external-secrets.io/v1"},
      {"kind", "SecretStore"},
      {"metadata", {{"name", "fake"}, {"namespace", kNs}, {"uid", "uid-fake"}}},
      {"spec", {{"provider", {{"fake", {{"data", {{{"key", "k"}, {"value", "fake-value"}}}}}}}}}}};
  Result<op::SecretStore> store = op::ParseSecretStore(object);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? *store : op::SecretStore{};
}

// An ExternalSecret reading `refs` (secretKey -> {key, version}) from store "aws".
op::ExternalSecret Es(const std::string& name,
                      const std::vector<std::pair<std::string, json>>& refs,
                      const std::string& ns = kNs) {
  json data = json::array();
  for (const auto& [secret_key, remote_ref] : refs) {
    data.push_back({{"secretKey", secret_key}, {"remoteRef", remote_ref}});
  }
  json object = {{"apiVersion", "external-secrets.io/v1"},
                 {"kind", "ExternalSecret"},
                 {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}}},
                 {"spec", {{"secretStoreRef", {{"name", "aws"}}}, {"data", data}}}};
  Result<op::ExternalSecret> es = op::ParseExternalSecret(object);
  EXPECT_TRUE(es.ok()) << es.status().ToString();
  return es.ok() ? *es : op::ExternalSecret{};
}

const op::FetchOutcome* Outcome(const op::FetchResult& result, const std::string& key,
                                const std::string& version = "") {
  auto it = result.values.find(op::FetchKey{key, version, op::MetadataPolicy::kNone});
  return it == result.values.end() ? nullptr : &it->second;
}

class BackendsTest : public ::testing::Test {
 protected:
  BackendsTest() : clock_(SystemClock::Get()->NowMillis()) {
    auto client = kube::Client::Create(apiserver_.Config(), kube::ClientOptions{.qps = 0});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    apiserver_.Seed("secrets", CredentialsSecret(kNs, kAccessKeyId, kSecretAccessKey));
  }

  std::unique_ptr<Backends> Make(BackendOptions options = {}) {
    options.clock = &clock_;
    options.request_timeout = std::chrono::milliseconds(5000);
    return std::make_unique<Backends>(
        *client_, options, [this](std::string_view call, const Status& status) {
          std::lock_guard lock(mu_);
          calls_.push_back(std::string(call) + (status.ok() ? " ok" : " error"));
        });
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int CredentialReads() const { return apiserver_.CountRequests("GET", kCredentialsPath); }

  CofferBackend coffer_;
  kube::testing::FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  // The real time, advanced by hand: SigV4 signs with it, and not_before_ms compares with it.
  FakeClock clock_;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

TEST_F(BackendsTest, FetchReadsValuesAndVersionSelectorsReachTheBackend) {
  const std::string first = coffer_.Create("team/db", "first-value");
  const std::string second = coffer_.Put("team/db", "second-value");
  coffer_.Create("team/api", "api-value");
  auto backends = Make();
  op::SecretStore store = AwsStore(coffer_.endpoint(), SecretRefAuth());
  op::ExternalSecret es = Es("db", {{"current", {{"key", "team/db"}}},
                                    {"previous", {{"key", "team/db"}, {"version", "AWSPREVIOUS"}}},
                                    {"pinned", {{"key", "team/db"}, {"version", "uuid/" + first}}},
                                    {"api", {{"key", "team/api"}}},
                                    {"gone", {{"key", "team/missing"}}}});

  op::FetchResult result = backends->Fetch(es, store, clock_.NowMillis());
  ASSERT_TRUE(result.error.ok()) << result.error.ToString();
  ASSERT_EQ(result.values.size(), 5u);
  const op::FetchOutcome* current = Outcome(result, "team/db");
  ASSERT_NE(current, nullptr);
  ASSERT_TRUE(current->status.ok()) << current->status.ToString();
  EXPECT_EQ(current->value.bytes, "second-value");
  EXPECT_EQ(current->value.version_id, second);
  EXPECT_FALSE(current->value.binary);
  const op::FetchOutcome* previous = Outcome(result, "team/db", "AWSPREVIOUS");
  ASSERT_NE(previous, nullptr);
  ASSERT_TRUE(previous->status.ok()) << previous->status.ToString();
  EXPECT_EQ(previous->value.bytes, "first-value");
  EXPECT_EQ(previous->value.version_id, first);
  const op::FetchOutcome* pinned = Outcome(result, "team/db", "uuid/" + first);
  ASSERT_NE(pinned, nullptr);
  ASSERT_TRUE(pinned->status.ok()) << pinned->status.ToString();
  EXPECT_EQ(pinned->value.bytes, "first-value");
  EXPECT_EQ(Outcome(result, "team/api")->value.bytes, "api-value");
  const op::FetchOutcome* gone = Outcome(result, "team/missing");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->status.code(), StatusCode::kNotFound) << gone->status.ToString();

  // One call per distinct read; the observer saw each.
  EXPECT_EQ(backends->fetch_stats().backend_calls, 5u);
  std::vector<std::string> seen = calls();
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "GetSecretValue ok"), 4);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "GetSecretValue error"), 1);
}

TEST_F(BackendsTest, ExternalSecretsReadingTheSameKeyShareOneCall) {
  coffer_.Create("team/db", "shared-value");
  auto backends = Make();
  op::SecretStore store = AwsStore(coffer_.endpoint(), SecretRefAuth());
  op::ExternalSecret a = Es("a", {{"password", {{"key", "team/db"}}}});
  op::ExternalSecret b = Es("b", {{"pw", {{"key", "team/db"}}}});
  const std::int64_t start = clock_.NowMillis();

  op::FetchResult ra = backends->Fetch(a, store, start);
  op::FetchResult rb = backends->Fetch(b, store, start);
  ASSERT_TRUE(ra.error.ok()) << ra.error.ToString();
  ASSERT_TRUE(rb.error.ok()) << rb.error.ToString();
  EXPECT_EQ(Outcome(ra, "team/db")->value.bytes, "shared-value");
  EXPECT_EQ(Outcome(rb, "team/db")->value.bytes, "shared-value");
  EXPECT_EQ(backends->fetch_stats().backend_calls, 1u);
  EXPECT_EQ(backends->fetch_stats().cache_hits, 1u);
  EXPECT_EQ(calls(), std::vector<std::string>{"GetSecretValue ok"});
  // The provider (and its credentials) was built once.
  EXPECT_EQ(CredentialReads(), 2);  // access key id and secret key, one GET each

  // A caller that must see changes made after the first fetch (a force-sync) gets a new call.
  coffer_.Put("team/db", "rotated-value");
  clock_.AdvanceMillis(1);
  op::FetchResult fresh = backends->Fetch(b, store, clock_.NowMillis());
  ASSERT_TRUE(fresh.error.ok()) << fresh.error.ToString();
  EXPECT_EQ(Outcome(fresh, "team/db")->value.bytes, "rotated-value");
  EXPECT_EQ(backends->fetch_stats().backend_calls, 2u);
  // DescribeSecret first: the version moved, so the value is read.
  EXPECT_EQ(calls(), (std::vector<std::string>{"GetSecretValue ok", "DescribeSecret ok",
                                               "GetSecretValue ok"}));

  // Unchanged since: the next fresh read is a DescribeSecret alone, answered with the held value.
  clock_.AdvanceMillis(1);
  op::FetchResult again = backends->Fetch(a, store, clock_.NowMillis());
  ASSERT_TRUE(again.error.ok()) << again.error.ToString();
  EXPECT_EQ(Outcome(again, "team/db")->value.bytes, "rotated-value");
  EXPECT_EQ(calls().size(), 4u);
  EXPECT_EQ(calls().back(), "DescribeSecret ok");
  EXPECT_EQ(backends->fetch_stats().revalidated, 1u);
}

TEST_F(BackendsTest, MissingCredentialsSecretOrKeyIsAClearErrorWithoutValues) {
  coffer_.Create("team/db", "value");
  auto backends = Make();
  op::ExternalSecret es = Es("db", {{"password", {{"key", "team/db"}}}});

  // The Secret does not exist in the store's namespace.
  op::SecretStore elsewhere = AwsStore(coffer_.endpoint(), SecretRefAuth(), "other");
  op::FetchResult missing = backends->Fetch(Es("db", {{"password", {{"key", "team/db"}}}}, "other"),
                                            elsewhere, clock_.NowMillis());
  EXPECT_FALSE(missing.error.ok());
  EXPECT_THAT(missing.error.message(), HasSubstr("other/coffer-credentials"));
  EXPECT_THAT(missing.error.message(), HasSubstr("not found"));

  // The Secret lacks the key the store names.
  op::SecretStore wrong_key = AwsStore(coffer_.endpoint(), SecretRefAuth("no-such-key"));
  op::FetchResult no_key = backends->Fetch(es, wrong_key, clock_.NowMillis());
  EXPECT_FALSE(no_key.error.ok());
  EXPECT_THAT(no_key.error.message(), HasSubstr("team/coffer-credentials"));
  EXPECT_THAT(no_key.error.message(), HasSubstr("\"no-such-key\""));
  EXPECT_THAT(no_key.error.message(), Not(HasSubstr(kAccessKeyId)));
  EXPECT_THAT(no_key.error.message(), Not(HasSubstr(kSecretAccessKey)));
  EXPECT_EQ(backends->fetch_stats().backend_calls, 0u);

  // Validate reports the same cause (a client error: no client could be built).
  op::StoreValidationResult validated = backends->Validate(wrong_key);
  EXPECT_EQ(validated.outcome, op::StoreValidation::kClientError);
  EXPECT_THAT(validated.cause.message(), HasSubstr("\"no-such-key\""));
  EXPECT_THAT(validated.cause.message(), Not(HasSubstr(kAccessKeyId)));
}

TEST_F(BackendsTest, Validate) {
  auto backends = Make();
  EXPECT_EQ(backends->Validate(AwsStore(coffer_.endpoint(), SecretRefAuth())).outcome,
            op::StoreValidation::kValid);

  // A secret key the backend rejects.
  apiserver_.Seed("secrets", CredentialsSecret("wrong", kAccessKeyId, "not-the-secret-key-at-all"));
  op::StoreValidationResult rejected =
      backends->Validate(AwsStore(coffer_.endpoint(), SecretRefAuth(), "wrong"));
  EXPECT_EQ(rejected.outcome, op::StoreValidation::kFailed);
  EXPECT_EQ(rejected.cause.code(), StatusCode::kUnauthenticated) << rejected.cause.ToString();
  EXPECT_THAT(rejected.cause.message(), Not(HasSubstr("not-the-secret-key-at-all")));

  // Nothing listens there.
  op::StoreValidationResult unreachable =
      backends->Validate(AwsStore("http://127.0.0.1:1", SecretRefAuth()));
  EXPECT_EQ(unreachable.outcome, op::StoreValidation::kFailed);
  EXPECT_EQ(unreachable.cause.code(), StatusCode::kUnavailable) << unreachable.cause.ToString();

  EXPECT_EQ(backends->Validate(FakeStore()).outcome, op::StoreValidation::kValid);

  // Referent auth: a ClusterSecretStore whose refs name no namespace reads the credentials in
  // each ExternalSecret's namespace, so it cannot be validated alone.
  EXPECT_EQ(backends->Validate(AwsStore(coffer_.endpoint(), SecretRefAuth(), "")).outcome,
            op::StoreValidation::kUnknown);
  // With the namespace named it can.
  EXPECT_EQ(
      backends->Validate(AwsStore(coffer_.endpoint(), SecretRefAuth("secret-access-key", kNs), ""))
          .outcome,
      op::StoreValidation::kValid);
}

TEST_F(BackendsTest, ReferentAuthReadsCredentialsInTheExternalSecretsNamespace) {
  coffer_.Create("team/db", "referent-value");
  auto backends = Make();
  op::SecretStore cluster = AwsStore(coffer_.endpoint(), SecretRefAuth(), "");
  op::FetchResult result =
      backends->Fetch(Es("db", {{"password", {{"key", "team/db"}}}}), cluster, clock_.NowMillis());
  ASSERT_TRUE(result.error.ok()) << result.error.ToString();
  EXPECT_EQ(Outcome(result, "team/db")->value.bytes, "referent-value");
  EXPECT_EQ(CredentialReads(), 2);
}

TEST_F(BackendsTest, FakeStoreFetchesWithoutBackendCalls) {
  auto backends = Make();
  op::ExternalSecret es = Es("f", {{"v", {{"key", "k"}}}});
  op::FetchResult result = backends->Fetch(es, FakeStore(), clock_.NowMillis());
  ASSERT_TRUE(result.error.ok()) << result.error.ToString();
  ASSERT_NE(Outcome(result, "k"), nullptr);
  EXPECT_EQ(Outcome(result, "k")->value.bytes, "fake-value");
  EXPECT_EQ(backends->fetch_stats().backend_calls, 0u);
  EXPECT_TRUE(calls().empty());
}

TEST_F(BackendsTest, EnvironmentCredentialsWithoutSecretRef) {
  coffer_.Create("team/db", "env-value");
  op::SecretStore store = AwsStore(coffer_.endpoint(), json());
  op::ExternalSecret es = Es("db", {{"password", {{"key", "team/db"}}}});

  // None configured: a clear error, no backend call.
  auto without = Make();
  op::FetchResult none = without->Fetch(es, store, clock_.NowMillis());
  EXPECT_EQ(none.error.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.error.message(), HasSubstr("AWS_ACCESS_KEY_ID"));
  EXPECT_EQ(without->Validate(store).outcome, op::StoreValidation::kClientError);

  BackendOptions options;
  options.env_credentials = provider::AwsCredentials{kAccessKeyId, kSecretAccessKey, ""};
  auto with = Make(options);
  op::FetchResult result = with->Fetch(es, store, clock_.NowMillis());
  ASSERT_TRUE(result.error.ok()) << result.error.ToString();
  EXPECT_EQ(Outcome(result, "team/db")->value.bytes, "env-value");
  EXPECT_EQ(with->Validate(store).outcome, op::StoreValidation::kValid);
  EXPECT_EQ(CredentialReads(), 0);
}

TEST_F(BackendsTest, RejectedCredentialsAreReadAgainOnTheNextFetch) {
  coffer_.Create("team/db", "value-after-fix");
  // The credentials Secret holds a wrong secret key at first.
  ASSERT_TRUE(client_
                  ->Patch(kube::SecretsRef(kNs, kCredentials), kube::PatchType::kMerge,
                          {{"data", {{"secret-access-key", Base64Encode("wrong-secret-key")}}}})
                  .ok());
  auto backends = Make();
  op::SecretStore store = AwsStore(coffer_.endpoint(), SecretRefAuth());
  op::ExternalSecret es = Es("db", {{"password", {{"key", "team/db"}}}});

  op::FetchResult rejected = backends->Fetch(es, store, clock_.NowMillis());
  ASSERT_TRUE(rejected.error.ok()) << rejected.error.ToString();
  EXPECT_EQ(Outcome(rejected, "team/db")->status.code(), StatusCode::kUnauthenticated)
      << Outcome(rejected, "team/db")->status.ToString();
  const int reads_before_fix = CredentialReads();
  EXPECT_EQ(reads_before_fix, 2);

  // The user fixes the Secret; the next fetch (well within provider_ttl) reads it again.
  ASSERT_TRUE(client_
                  ->Patch(kube::SecretsRef(kNs, kCredentials), kube::PatchType::kMerge,
                          {{"data", {{"secret-access-key", Base64Encode(kSecretAccessKey)}}}})
                  .ok());
  clock_.AdvanceMillis(1);
  op::FetchResult fixed = backends->Fetch(es, store, clock_.NowMillis());
  ASSERT_TRUE(fixed.error.ok()) << fixed.error.ToString();
  ASSERT_TRUE(Outcome(fixed, "team/db")->status.ok())
      << Outcome(fixed, "team/db")->status.ToString();
  EXPECT_EQ(Outcome(fixed, "team/db")->value.bytes, "value-after-fix");
  EXPECT_EQ(CredentialReads(), reads_before_fix + 2);

  // Accepted credentials are kept: another fetch reads no Secret.
  clock_.AdvanceMillis(1);
  op::FetchResult again = backends->Fetch(es, store, clock_.NowMillis());
  ASSERT_TRUE(again.error.ok());
  EXPECT_EQ(CredentialReads(), reads_before_fix + 2);
}

TEST_F(BackendsTest, ForgetDropsTheStoresProviders) {
  coffer_.Create("team/db", "value");
  auto backends = Make();
  op::SecretStore store = AwsStore(coffer_.endpoint(), SecretRefAuth());
  op::ExternalSecret es = Es("db", {{"password", {{"key", "team/db"}}}});
  ASSERT_TRUE(backends->Fetch(es, store, clock_.NowMillis()).error.ok());
  EXPECT_EQ(CredentialReads(), 2);
  backends->Forget(store.metadata.uid);
  clock_.AdvanceMillis(1);
  ASSERT_TRUE(backends->Fetch(es, store, clock_.NowMillis()).error.ok());
  EXPECT_EQ(CredentialReads(), 4);
}

// An ExternalSecret with one dataFrom[].find by name regexp, from store "aws".
op::ExternalSecret FindEs(const std::string& name, const std::string& regexp) {
  json object = {{"apiVersion", "external-secrets.io/v1"},
                 {"kind", "ExternalSecret"},
                 {"metadata", {{"name", name}, {"namespace", kNs}, {"uid", "uid-" + name}}},
                 {"spec",
                  {{"secretStoreRef", {{"name", "aws"}}},
                   {"dataFrom", {{{"find", {{"name", {{"regexp", regexp}}}}}}}}}}};
  Result<op::ExternalSecret> es = op::ParseExternalSecret(object);
  EXPECT_TRUE(es.ok()) << es.status().ToString();
  return es.ok() ? *es : op::ExternalSecret{};
}

TEST_F(BackendsTest, FindListsOnceForEqualQueriesOfOneRound) {
  coffer_.Create("team/a", "a-value");
  coffer_.Create("team/b", "b-value");
  coffer_.Create("other/c", "c-value");
  auto backends = Make();
  op::SecretStore store = AwsStore(coffer_.endpoint(), SecretRefAuth());
  const std::int64_t start = clock_.NowMillis();
  op::FetchResult first = backends->Fetch(FindEs("one", "^team/"), store, start);
  ASSERT_TRUE(first.error.ok()) << first.error.ToString();
  ASSERT_EQ(first.found.size(), 1u);
  const op::FindOutcome& outcome = first.found.begin()->second;
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(outcome.secrets.size(), 2u);
  EXPECT_EQ(outcome.secrets[0].name, "team/a");
  EXPECT_EQ(outcome.secrets[0].value.bytes, "a-value");
  EXPECT_EQ(outcome.secrets[1].value.bytes, "b-value");
  EXPECT_EQ(calls(), (std::vector<std::string>{"ListSecrets ok", "BatchGetSecretValue ok"}));

  // Another ExternalSecret of the same round with an equal query: no backend call.
  op::FetchResult second = backends->Fetch(FindEs("two", "^team/"), store, start);
  ASSERT_EQ(second.found.size(), 1u);
  EXPECT_EQ(second.found.begin()->second.secrets.size(), 2u);
  EXPECT_EQ(calls().size(), 2u);

  // A caller that must see later changes lists again.
  coffer_.Create("team/d", "d-value");
  clock_.AdvanceMillis(1);
  op::FetchResult fresh = backends->Fetch(FindEs("two", "^team/"), store, clock_.NowMillis());
  EXPECT_EQ(fresh.found.begin()->second.secrets.size(), 3u);
  EXPECT_EQ(calls().size(), 4u);

  // The fake provider has no listing: a clear error for the entry.
  op::FetchResult fake = backends->Fetch(FindEs("f", "."), FakeStore(), start);
  ASSERT_EQ(fake.found.size(), 1u);
  EXPECT_EQ(fake.found.begin()->second.status.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace coffer::controller
