#include "policy/authorizer.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "policy/test_fixtures.h"

namespace coffer::policy {
namespace {

using test_fixtures::kAlice;
using test_fixtures::kExternalSecretsPolicy;
using test_fixtures::kMlDb;
using test_fixtures::kRoot;
using test_fixtures::kWebDb;

class FakeSource : public IdentityPolicySource {
 public:
  void Set(const std::string& arn, std::shared_ptr<const PrincipalPolicies> policies) {
    std::lock_guard lock(mu_);
    principals_[arn] = std::move(policies);
  }
  void FailWith(Status status) { failure_ = std::move(status); }

  Result<std::shared_ptr<const PrincipalPolicies>> PoliciesFor(
      const std::string& principal_arn) override {
    ++calls;
    if (!failure_.ok()) return failure_;
    std::lock_guard lock(mu_);
    auto it = principals_.find(principal_arn);
    if (it == principals_.end()) {
      auto unknown = std::make_shared<PrincipalPolicies>();
      unknown->exists = false;
      return std::shared_ptr<const PrincipalPolicies>(unknown);
    }
    return it->second;
  }

  std::atomic<int> calls{0};

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const PrincipalPolicies>> principals_;
  Status failure_;
};

std::shared_ptr<const PrincipalPolicies> WithPolicies(const std::vector<std::string>& jsons) {
  auto p = std::make_shared<PrincipalPolicies>();
  for (const std::string& json : jsons) {
    Result<Document> doc = Document::Parse(json, DocumentKind::kIdentity);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString();
    if (doc.ok()) p->documents.push_back(std::make_shared<const Document>(*std::move(doc)));
  }
  return p;
}

RequestContext Request(const std::string& action, const std::string& resource,
                       const std::string& principal = kAlice) {
  RequestContext r;
  r.action = action;
  r.resource = resource;
  r.principal_arn = principal;
  r.account_id = "000000000000";
  return r;
}

class PolicyAuthorizerTest : public ::testing::Test {
 protected:
  PolicyAuthorizerTest() {
    source_.Set(kAlice, WithPolicies({kExternalSecretsPolicy}));
    auto root = std::make_shared<PrincipalPolicies>();
    root->is_root = true;
    source_.Set(kRoot, root);
  }
  FakeSource source_;
  PolicyAuthorizer authorizer_{&source_};
};

TEST_F(PolicyAuthorizerTest, ExternalSecretsPolicy) {
  EXPECT_TRUE(authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), "").ok());
  EXPECT_TRUE(authorizer_.Authorize(Request("secretsmanager:DescribeSecret", kMlDb), "").ok());

  Status other = authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kWebDb), "");
  EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: " +
                std::string(kWebDb) +
                " because no identity-based policy allows the secretsmanager:GetSecretValue "
                "action");

  Status put = authorizer_.Authorize(Request("secretsmanager:PutSecretValue", kMlDb), "");
  EXPECT_EQ(put.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(put.message().find("secretsmanager:PutSecretValue action"), std::string::npos);
}

TEST_F(PolicyAuthorizerTest, UnknownPrincipalIsDenied) {
  Status s = authorizer_.Authorize(
      Request("secretsmanager:GetSecretValue", kMlDb, "arn:aws:iam::000000000000:user/gone"),
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}})");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "User: arn:aws:iam::000000000000:user/gone is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: " +
                std::string(kMlDb) +
                " because no identity-based policy allows the secretsmanager:GetSecretValue "
                "action");
}

TEST_F(PolicyAuthorizerTest, SourceErrorsPassThrough) {
  source_.FailWith(Status::Unavailable("iam store is closed"));
  Status s = authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), "");
  EXPECT_EQ(s, Status::Unavailable("iam store is closed"));
}

TEST_F(PolicyAuthorizerTest, ResourcePolicyDeniesAndGrants) {
  const std::string deny_alice = R"({"Statement":{"Effect":"Deny",
      "Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},
      "Action":"secretsmanager:GetSecretValue","Resource":"*"}})";
  Status s = authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), deny_alice);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("with an explicit deny in a resource-based policy"),
            std::string::npos)
      << s.message();

  const std::string grant_alice = R"({"Statement":{"Effect":"Allow",
      "Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},
      "Action":"secretsmanager:PutSecretValue","Resource":"*"}})";
  EXPECT_TRUE(authorizer_.Authorize(Request("secretsmanager:PutSecretValue", kMlDb), grant_alice)
                  .ok());

  // Root: allowed without identity policies, but not past a resource-policy Deny.
  EXPECT_TRUE(authorizer_.Authorize(Request("secretsmanager:DeleteSecret", kMlDb, kRoot), "").ok());
  const std::string deny_all = R"({"Statement":{"Effect":"Deny","Principal":"*",
      "Action":"secretsmanager:DeleteSecret","Resource":"*"}})";
  Status root = authorizer_.Authorize(Request("secretsmanager:DeleteSecret", kMlDb, kRoot),
                                      deny_all);
  EXPECT_EQ(root.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(root.message(),
            "User: arn:aws:iam::000000000000:root is not authorized to perform: "
            "secretsmanager:DeleteSecret on resource: " +
                std::string(kMlDb) + " with an explicit deny in a resource-based policy");
}

TEST_F(PolicyAuthorizerTest, IdentityDenyMessage) {
  source_.Set(kAlice, WithPolicies({kExternalSecretsPolicy,
                                    R"({"Statement":{"Effect":"Deny","Action":"*",
                                        "Resource":")" + std::string(kMlDb) + R"("}})"}));
  Status s = authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), "");
  EXPECT_EQ(s.message(),
            "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: " +
                std::string(kMlDb) + " with an explicit deny in an identity-based policy");
}

TEST_F(PolicyAuthorizerTest, MalformedStoredPolicyIsAbsent) {
  EXPECT_TRUE(
      authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), "{not json").ok());
  // It cannot deny (it is ignored) and cannot grant either.
  const std::string lax = R"({"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}})";
  EXPECT_TRUE(authorizer_.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), lax).ok());
  EXPECT_EQ(authorizer_.ResourcePolicy(lax), nullptr);
  EXPECT_EQ(authorizer_.ResourcePolicy(""), nullptr);
  EXPECT_EQ(authorizer_.CachedPolicies(), 2u);
}

TEST_F(PolicyAuthorizerTest, CachesParsedPolicies) {
  const std::string policy = R"({"Statement":{"Effect":"Allow","Principal":"*",
      "Action":"secretsmanager:GetSecretValue","Resource":"*"}})";
  std::shared_ptr<const Document> first = authorizer_.ResourcePolicy(policy);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(authorizer_.ResourcePolicy(policy), first);  // same object: parsed once
  EXPECT_EQ(authorizer_.CachedPolicies(), 1u);
  // A different text (even only in whitespace) is another entry.
  EXPECT_NE(authorizer_.ResourcePolicy(policy + " "), first);
  EXPECT_EQ(authorizer_.CachedPolicies(), 2u);
}

TEST(PolicyAuthorizerCacheTest, BoundedCapacity) {
  FakeSource source;
  PolicyAuthorizer authorizer(&source, 4);
  for (int i = 0; i < 20; ++i) {
    const std::string policy = R"({"Id":")" + std::to_string(i) +
                               R"(","Statement":{"Effect":"Allow","Principal":"*","Action":"*",
                                  "Resource":"*"}})";
    ASSERT_NE(authorizer.ResourcePolicy(policy), nullptr);
    EXPECT_LE(authorizer.CachedPolicies(), 4u);
  }
  EXPECT_EQ(authorizer.CachedPolicies(), 4u);
}

TEST(PolicyAuthorizerCacheTest, ConcurrentAuthorize) {
  FakeSource source;
  source.Set(kAlice, WithPolicies({kExternalSecretsPolicy}));
  PolicyAuthorizer authorizer(&source, 8);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        // Twelve distinct policies through an 8-entry cache: hits, misses and evictions race.
        const std::string policy = R"({"Id":")" + std::to_string((i + t) % 12) +
                                   R"(","Statement":{"Effect":"Deny","Principal":"*",
                                      "Action":"secretsmanager:PutSecretValue","Resource":"*"}})";
        const bool get_ok =
            authorizer.Authorize(Request("secretsmanager:GetSecretValue", kMlDb), policy).ok();
        const bool put_ok =
            authorizer.Authorize(Request("secretsmanager:PutSecretValue", kMlDb), policy).ok();
        if (!get_ok || put_ok) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(authorizer.CachedPolicies(), 8u);
}

TEST(AllowAllAuthorizerTest, AllowsEverything) {
  AllowAllAuthorizer authorizer;
  EXPECT_TRUE(authorizer.Authorize(Request("secretsmanager:DeleteSecret", kMlDb),
                                   R"({"Statement":{"Effect":"Deny","Principal":"*",
                                       "Action":"*","Resource":"*"}})")
                  .ok());
}

}  // namespace
}  // namespace coffer::policy
