#include "iam/policy_source.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "iam/iam_test_fixture.h"

namespace coffer::iam {
namespace {

using testing::IamFixture;
using testing::kAllowAll;
using testing::kAllowGetSecret;

class StorePolicySourceTest : public IamFixture {
 protected:
  std::shared_ptr<const policy::PrincipalPolicies> For(const std::string& arn) {
    Result<std::shared_ptr<const policy::PrincipalPolicies>> got = source_.PoliciesFor(arn);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : nullptr;
  }
};

TEST_F(StorePolicySourceTest, RootUnknownAndForeignPrincipals) {
  auto root = For("arn:aws:iam::000000000000:root");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->is_root);
  EXPECT_TRUE(root->exists);
  EXPECT_TRUE(root->documents.empty());

  for (const char* arn : {"arn:aws:iam::000000000000:user/nobody", "arn:aws:iam::111111111111:root",
                          "arn:aws:iam::111111111111:user/nobody",
                          "arn:aws:iam::000000000000:role/r", "garbage", ""}) {
    auto p = For(arn);
    ASSERT_NE(p, nullptr) << arn;
    EXPECT_FALSE(p->exists) << arn;
    EXPECT_FALSE(p->is_root) << arn;
  }
}

TEST_F(StorePolicySourceTest, UserGetsDefaultVersionsOfAttachedPlusInlinePolicies) {
  MustCreateUser("alice", "/eng/");
  ManagedPolicy managed = MustCreatePolicy("Read", kAllowGetSecret);
  ASSERT_TRUE(service().AttachUserPolicy("alice", managed.arn).ok());
  ASSERT_TRUE(service().PutUserPolicy("alice", "inline", kAllowAll).ok());

  auto p = For("arn:aws:iam::000000000000:user/eng/alice");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->exists);
  EXPECT_FALSE(p->is_root);
  ASSERT_EQ(p->documents.size(), 2u);
  // The managed policy first: one statement allowing GetSecretValue.
  ASSERT_EQ(p->documents[0]->statements().size(), 1u);
  EXPECT_EQ(p->documents[0]->statements()[0].actions.at(0), "secretsmanager:GetSecretValue");
  EXPECT_EQ(p->documents[1]->statements()[0].actions.at(0), "*");

  // The same name under another path is not this principal.
  EXPECT_FALSE(For("arn:aws:iam::000000000000:user/alice")->exists);
}

TEST_F(StorePolicySourceTest, CachedUntilAnIamWrite) {
  MustCreateUser("bob");
  ManagedPolicy v1 = MustCreatePolicy("P", kAllowGetSecret);
  ASSERT_TRUE(service().AttachUserPolicy("bob", v1.arn).ok());
  const std::string arn = "arn:aws:iam::000000000000:user/bob";

  auto first = For(arn);
  const auto loads = source_.stats().loads;
  auto second = For(arn);
  EXPECT_EQ(first.get(), second.get()) << "a hit shares the compiled policies";
  EXPECT_EQ(source_.stats().loads, loads);
  EXPECT_EQ(source_.stats().entries, 1u);

  // A new default version: the next lookup sees it.
  ASSERT_TRUE(service().CreatePolicyVersion(v1.arn, kAllowAll, /*set_as_default=*/true).ok());
  EXPECT_EQ(source_.stats().entries, 0u);
  auto third = For(arn);
  EXPECT_NE(third.get(), first.get());
  EXPECT_EQ(third->documents.at(0)->statements()[0].actions.at(0), "*");
  EXPECT_EQ(source_.stats().loads, loads + 1);

  // Detach: no documents; delete: unknown.
  ASSERT_TRUE(service().DetachUserPolicy("bob", v1.arn).ok());
  EXPECT_TRUE(For(arn)->documents.empty());
  ASSERT_TRUE(service().DeleteUser("bob").ok());
  EXPECT_FALSE(For(arn)->exists);
  EXPECT_GE(source_.stats().invalidations, 3u);
}

TEST_F(StorePolicySourceTest, ReadOnlyCallsDoNotInvalidate) {
  MustCreateUser("carol");
  const std::string arn = "arn:aws:iam::000000000000:user/carol";
  auto first = For(arn);
  const auto invalidations = source_.stats().invalidations;
  ASSERT_TRUE(service().GetUser("carol").ok());
  ASSERT_TRUE(service().ListUsers("/", {}).ok());
  // A failed write changes nothing either.
  EXPECT_FALSE(service().CreateUser("carol", "/", {}).ok());
  EXPECT_EQ(source_.stats().invalidations, invalidations);
  EXPECT_EQ(For(arn).get(), first.get());
}

TEST_F(StorePolicySourceTest, AStoredDocumentThatNoLongerParsesIsAnError) {
  MustCreateUser("dan");
  ASSERT_TRUE(service().PutUserPolicy("dan", "p", kAllowAll).ok());
  // Corrupt the stored document behind the service's back.
  auto row = store_.GetIamEntity("user", "dan");
  ASSERT_TRUE(row.ok() && row->has_value());
  Result<User> user = DecodeUser((*row)->json);
  ASSERT_TRUE(user.ok());
  user->inline_policies[0].document = "{\"Statement\": 42}";
  storage::IamEntityRecord changed = **row;
  changed.json = EncodeUser(*user);
  ASSERT_TRUE(store_.PutIamEntity(changed, changed.revision).ok());
  source_.Invalidate();

  Result<std::shared_ptr<const policy::PrincipalPolicies>> got =
      source_.PoliciesFor("arn:aws:iam::000000000000:user/dan");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
}

TEST_F(StorePolicySourceTest, ConcurrentReadersAndWritersNeverCacheAStaleAnswer) {
  MustCreateUser("eve");
  ManagedPolicy p = MustCreatePolicy("P", kAllowGetSecret);
  const std::string arn = "arn:aws:iam::000000000000:user/eve";
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto got = source_.PoliciesFor(arn);
        EXPECT_TRUE(got.ok());
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(service().AttachUserPolicy("eve", p.arn).ok());
    ASSERT_TRUE(service().DetachUserPolicy("eve", p.arn).ok());
  }
  ASSERT_TRUE(service().AttachUserPolicy("eve", p.arn).ok());
  stop = true;
  for (std::thread& t : readers) t.join();
  // After the last write, whatever the readers cached, the answer has the attached policy.
  EXPECT_EQ(For(arn)->documents.size(), 1u);
}

}  // namespace
}  // namespace coffer::iam
