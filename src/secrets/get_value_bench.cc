// GetSecretValue through the service with and without authorization (measured by hand, not a
// timed test): the cost the Authorizer adds on the hot path. In-memory store, so the figures are
// the service's own CPU. Build e.g. (Release libraries in $B):
//   g++ -O2 -std=c++20 -Isrc src/secrets/get_value_bench.cc $B/src/secrets/libcoffer_secrets.a \
//       $B/src/policy/libcoffer_policy.a $B/src/storage/libcoffer_storage.a \
//       $B/src/crypto/libcoffer_crypto.a $B/src/core/libcoffer_core.a \
//       -lbenchmark -lspdlog -lfmt -lsqlite3 -lcrypto -lpthread -o get_value_bench

#include <benchmark/benchmark.h>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/envelope.h"
#include "policy/authorizer.h"
#include "policy/policy.h"
#include "secrets/service.h"
#include "storage/testing/memory_store.h"

namespace coffer::secrets {
namespace {

constexpr const char* kUser = "arn:aws:iam::000000000000:user/external-secrets";
// The seed guide's ExternalSecretsPolicy.
constexpr const char* kPolicy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret",
              "secretsmanager:ListSecrets"],
    "Resource":["arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/*"]}]})";
constexpr const char* kResourcePolicy = R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny",
    "Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}]})";

class OnePrincipal : public policy::IdentityPolicySource {
 public:
  OnePrincipal() {
    auto policies = std::make_shared<policy::PrincipalPolicies>();
    auto doc = policy::Document::Parse(kPolicy, policy::DocumentKind::kIdentity);
    if (!doc.ok()) std::abort();
    policies->documents.push_back(std::make_shared<policy::Document>(*doc));
    policies_ = policies;
  }
  Result<std::shared_ptr<const policy::PrincipalPolicies>> PoliciesFor(
      const std::string&) override {
    return policies_;
  }

 private:
  std::shared_ptr<const policy::PrincipalPolicies> policies_;
};

// state.range(0): 1 = with an authorizer; state.range(1): 1 = the secret has 3 tags and a
// resource policy.
void BM_GetSecretValue(benchmark::State& state) {
  storage::MemorySecretStore store;
  FakeClock clock(1768046400000);
  auto keyring = crypto::KeyringFromText(Base64Encode(std::string(32, 'k')));
  if (!keyring.ok()) std::abort();
  crypto::Envelope envelope(keyring->get());
  OnePrincipal source;
  policy::PolicyAuthorizer authorizer(&source);
  ServiceOptions options;
  if (state.range(0) == 1) options.authorizer = &authorizer;
  Service admin(&store, &envelope, &clock);
  Service service(&store, &envelope, &clock, options);

  CallContext ctx;
  ctx.region = "us-east-1";
  ctx.account_id = "000000000000";
  ctx.principal_arn = kUser;
  ctx.source_ip = "10.0.0.7";
  CreateSecretRequest create;
  create.name = "ml-platform/mlflow/database";
  create.value.string = R"({"password":"bench"})";
  create.client_request_token = std::string(36, 'a');
  if (state.range(1) == 1) {
    create.tags = std::vector<Tag>{{"team", "ml"}, {"env", "prod"}, {"owner", "platform"}};
  }
  if (!admin.CreateSecret(ctx, create).ok()) std::abort();
  if (state.range(1) == 1 &&
      !admin.PutResourcePolicy(ctx, {create.name, kResourcePolicy, false}).ok()) {
    std::abort();
  }
  GetSecretValueRequest get;
  get.secret_id = create.name;
  for (auto _ : state) {
    auto value = service.GetSecretValue(ctx, get);
    if (!value.ok()) std::abort();
    benchmark::DoNotOptimize(value);
  }
  service.Shutdown();
  admin.Shutdown();
}
BENCHMARK(BM_GetSecretValue)->ArgsProduct({{0, 1}, {0, 1}});

}  // namespace
}  // namespace coffer::secrets

BENCHMARK_MAIN();
