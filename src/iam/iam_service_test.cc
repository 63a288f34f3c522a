#include "iam/iam_service.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "iam/iam_test_fixture.h"

namespace coffer::iam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IamFixture;
using ::testing::IsEmpty;
using testing::kAccount;
using testing::kAllowAll;
using testing::kAllowGetSecret;

class IamServiceTest : public IamFixture {};

std::vector<std::string> UserNames(const std::vector<User>& users) {
  std::vector<std::string> out;
  for (const User& u : users) out.push_back(u.name);
  return out;
}

// --- users ---

TEST_F(IamServiceTest, CreateGetListDeleteUser) {
  Result<User> created = service().CreateUser("alice", "/eng/", {{"team", "ml"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "alice");
  EXPECT_EQ(created->path, "/eng/");
  EXPECT_EQ(created->create_ms, 1'700'000'000'000);
  EXPECT_EQ(created->id.size(), 21u);
  EXPECT_EQ(created->id.substr(0, 4), "AIDA");
  EXPECT_EQ(UserArn(kAccount, created->path, created->name),
            "arn:aws:iam::000000000000:user/eng/alice");

  Result<User> got = service().GetUser("ALICE");  // names ignore case
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->id, created->id);
  ASSERT_EQ(got->tags.size(), 1u);
  EXPECT_EQ(got->tags[0].key, "team");

  MustCreateUser("bob");
  Result<Page<User>> all = service().ListUsers("/", {});
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(UserNames(all->items), ElementsAre("alice", "bob"));
  EXPECT_FALSE(all->truncated);
  Result<Page<User>> eng = service().ListUsers("/eng", {});
  ASSERT_TRUE(eng.ok());
  EXPECT_THAT(UserNames(eng->items), ElementsAre("alice"));

  ASSERT_TRUE(service().DeleteUser("alice").ok());
  Result<User> gone = service().GetUser("alice");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "The user with name alice cannot be found.");
  EXPECT_EQ(service().DeleteUser("alice").code(), StatusCode::kNotFound);
}

TEST_F(IamServiceTest, CreateUserRejectsDuplicatesIgnoringCase) {
  MustCreateUser("bob");
  Result<User> again = service().CreateUser("BOB", "/", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "User with name BOB already exists.");
}

TEST_F(IamServiceTest, UserNameAndPathValidation) {
  EXPECT_EQ(service().CreateUser("", "/", {}).status().code(), StatusCode::kValidation);
  EXPECT_EQ(service().CreateUser(std::string(65, 'a'), "/", {}).status().code(),
            StatusCode::kValidation);
  EXPECT_TRUE(service().CreateUser(std::string(64, 'a'), "/", {}).ok());
  Result<User> space = service().CreateUser("a b", "/", {});
  ASSERT_FALSE(space.ok());
  EXPECT_EQ(space.status().code(), StatusCode::kValidation);
  EXPECT_THAT(space.status().message(), HasSubstr("[\\w+=,.@-]+"));
  EXPECT_TRUE(service().CreateUser("a_b+c=d,e.f@g-h", "/", {}).ok());
  EXPECT_EQ(service().CreateUser("x", "eng", {}).status().code(), StatusCode::kValidation);
  EXPECT_EQ(service().CreateUser("x", "/eng", {}).status().code(), StatusCode::kValidation);
  EXPECT_EQ(service().CreateUser("x", "/a b/", {}).status().code(), StatusCode::kValidation);
  EXPECT_TRUE(service().CreateUser("x", "/a/b/", {}).ok());
  // Lookups accept up to 128 characters, but still only name characters.
  EXPECT_EQ(service().GetUser(std::string(100, 'a')).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().GetUser(std::string(100, '!')).status().code(), StatusCode::kValidation);
  EXPECT_EQ(service().GetUser(std::string(129, 'a')).status().code(), StatusCode::kValidation);
}

TEST_F(IamServiceTest, DeleteUserConflictsWhileItHasKeysOrPolicies) {
  MustCreateUser("carol");
  ManagedPolicy p = MustCreatePolicy("P");
  Result<NewAccessKey> key = service().CreateAccessKey("carol");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(service().AttachUserPolicy("carol", p.arn).ok());
  ASSERT_TRUE(service().PutUserPolicy("carol", "inline", kAllowAll).ok());

  Status s = service().DeleteUser("carol");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "Cannot delete entity, must delete access keys first.");
  ASSERT_TRUE(service().DeleteAccessKey("carol", key->info.access_key_id).ok());
  s = service().DeleteUser("carol");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "Cannot delete entity, must detach all policies first.");
  ASSERT_TRUE(service().DetachUserPolicy("carol", p.arn).ok());
  s = service().DeleteUser("carol");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "Cannot delete entity, must delete policies first.");
  ASSERT_TRUE(service().DeleteUserPolicy("carol", "inline").ok());
  EXPECT_TRUE(service().DeleteUser("carol").ok());
}

TEST_F(IamServiceTest, TagUntagAndListUserTags) {
  MustCreateUser("dave");
  ASSERT_TRUE(service().TagUser("dave", {{"b", "1"}, {"a", "2"}}).ok());
  ASSERT_TRUE(service().TagUser("dave", {{"B", "3"}}).ok());  // replaces "b"
  Result<Page<Tag>> tags = service().ListUserTags("dave", {});
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->items.size(), 2u);
  EXPECT_EQ(tags->items[0].key, "a");
  EXPECT_EQ(tags->items[1].key, "B");
  EXPECT_EQ(tags->items[1].value, "3");
  ASSERT_TRUE(service().UntagUser("dave", {"a", "missing"}).ok());
  tags = service().ListUserTags("dave", {});
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->items.size(), 1u);
  EXPECT_EQ(service().TagUser("dave", {{"k", "v"}, {"K", "w"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service().TagUser("dave", {{"bad!", "v"}}).code(), StatusCode::kValidation);
  EXPECT_EQ(service().TagUser("nobody", {{"k", "v"}}).code(), StatusCode::kNotFound);
  std::vector<Tag> many;
  for (int i = 0; i < 50; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(service().TagUser("dave", many).code(), StatusCode::kResourceExhausted);
}

// --- access keys ---

TEST_F(IamServiceTest, CreateAccessKeySealsTheSecretForTheCredentialSource) {
  User u = MustCreateUser("erin", "/ops/");
  Result<NewAccessKey> key = service().CreateAccessKey("erin");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string& id = key->info.access_key_id;
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(id.substr(0, 4), "AKIA");
  EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos);
  EXPECT_EQ(key->secret_access_key.size(), 40u);
  EXPECT_EQ(key->info.status, "Active");
  EXPECT_EQ(key->info.user_name, "erin");

  Result<std::optional<storage::AccessKeyRecord>> row = store_.GetAccessKey(id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->principal_arn, "arn:aws:iam::000000000000:user/ops/erin");
  EXPECT_EQ((*row)->user_name, "erin");
  EXPECT_EQ((*row)->secret_ciphertext.find(key->secret_access_key), std::string::npos);
  // The aad every access key is sealed with (also by api/credentials.cc and `keys rotate`).
  Result<std::string> opened = envelope_.Open((*row)->secret_ciphertext, "access-key\n" + id);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, key->secret_access_key);
  EXPECT_EQ(AccessKeyAad("AKIAX"), "access-key\nAKIAX");
}

TEST_F(IamServiceTest, AtMostTwoAccessKeysPerUser) {
  MustCreateUser("frank");
  ASSERT_TRUE(service().CreateAccessKey("frank").ok());
  ASSERT_TRUE(service().CreateAccessKey("frank").ok());
  Result<NewAccessKey> third = service().CreateAccessKey("frank");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(), "Cannot exceed quota for AccessKeysPerUser: 2");
  EXPECT_EQ(service().CreateAccessKey("nobody").status().code(), StatusCode::kNotFound);
}

TEST_F(IamServiceTest, ListUpdateDeleteAccessKeysNotifyTheCredentialCache) {
  MustCreateUser("gina");
  MustCreateUser("hank");
  Result<NewAccessKey> k1 = service().CreateAccessKey("gina");
  Result<NewAccessKey> other = service().CreateAccessKey("hank");
  ASSERT_TRUE(k1.ok() && other.ok());
  const std::string id = k1->info.access_key_id;

  Result<Page<AccessKeyInfo>> keys = service().ListAccessKeys("gina", {});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->items.size(), 1u);
  EXPECT_EQ(keys->items[0].access_key_id, id);
  EXPECT_EQ(keys->items[0].user_name, "gina");

  ASSERT_TRUE(service().UpdateAccessKey("gina", id, "Inactive").ok());
  EXPECT_THAT(invalidated_keys_, ElementsAre(id));
  keys = service().ListAccessKeys("gina", {});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->items[0].status, "Inactive");
  EXPECT_EQ(service().UpdateAccessKey("gina", id, "Paused").code(), StatusCode::kValidation);

  // Another user's key is not found through gina.
  Status wrong_owner = service().DeleteAccessKey("gina", other->info.access_key_id);
  EXPECT_EQ(wrong_owner.code(), StatusCode::kNotFound);
  EXPECT_EQ(wrong_owner.message(),
            "The Access Key with id " + other->info.access_key_id + " cannot be found.");
  EXPECT_EQ(service().UpdateAccessKey("gina", other->info.access_key_id, "Inactive").code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(service().DeleteAccessKey("gina", id).ok());
  EXPECT_THAT(invalidated_keys_, ElementsAre(id, id));
  EXPECT_EQ(service().DeleteAccessKey("gina", id).code(), StatusCode::kNotFound);
  keys = service().ListAccessKeys("gina", {});
  ASSERT_TRUE(keys.ok());
  EXPECT_THAT(keys->items, IsEmpty());
}

TEST_F(IamServiceTest, RootKeysListSeparately) {
  storage::AccessKeyRecord root;
  root.access_key_id = "AKIAROOTROOTROOT0000";
  root.principal_arn = RootArn(kAccount);
  root.user_name = "root";
  root.secret_ciphertext = "x";
  ASSERT_TRUE(store_.PutAccessKey(root).ok());
  MustCreateUser("ivy");
  ASSERT_TRUE(service().CreateAccessKey("ivy").ok());
  Result<Page<AccessKeyInfo>> keys = service().ListRootAccessKeys({});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->items.size(), 1u);
  EXPECT_EQ(keys->items[0].access_key_id, "AKIAROOTROOTROOT0000");
}

// --- managed policies ---

TEST_F(IamServiceTest, CreateAndGetPolicy) {
  Result<ManagedPolicy> p =
      service().CreatePolicy("ExternalSecretsPolicy", "/k8s/", kAllowGetSecret, "for ESO", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->arn, "arn:aws:iam::000000000000:policy/k8s/ExternalSecretsPolicy");
  EXPECT_EQ(p->id.substr(0, 4), "ANPA");
  EXPECT_EQ(p->id.size(), 21u);
  EXPECT_EQ(p->default_version_id, "v1");
  EXPECT_EQ(p->attachment_count, 0);

  Result<ManagedPolicy> got = service().GetPolicy(p->arn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->description, "for ESO");
  EXPECT_EQ(got->id, p->id);
  Result<PolicyVersionView> v1 = service().GetPolicyVersion(p->arn, "v1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->version.document, kAllowGetSecret);
  EXPECT_TRUE(v1->is_default);

  Result<ManagedPolicy> dup =
      service().CreatePolicy("externalsecretspolicy", "/", kAllowAll, "", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(),
            "A policy called externalsecretspolicy already exists. Duplicate names are not "
            "allowed.");

  Result<ManagedPolicy> missing = service().GetPolicy("arn:aws:iam::000000000000:policy/Nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "Policy arn:aws:iam::000000000000:policy/Nope was not found.");
  EXPECT_EQ(service().GetPolicy("not-an-arn").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service().GetPolicyVersion(p->arn, "v2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().GetPolicyVersion(p->arn, "2").status().code(), StatusCode::kValidation);
}

TEST_F(IamServiceTest, CreatePolicyChecksTheDocument) {
  Result<ManagedPolicy> bad = service().CreatePolicy("P", "/", "{not json", "", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kMalformedPolicy);
  // An identity policy must not have a Principal.
  Result<ManagedPolicy> principal = service().CreatePolicy(
      "P", "/",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",)"
      R"("Action":"*","Resource":"*"}]})",
      "", {});
  EXPECT_EQ(principal.status().code(), StatusCode::kMalformedPolicy);
  // Over the 6,144-character quota (whitespace does not count).
  std::string big = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[)";
  for (int i = 0; i < 500; ++i) big += (i ? "," : "") + std::string("\"s3:GetObject\"");
  big += R"(],"Resource":"*"}]})";
  Result<ManagedPolicy> large = service().CreatePolicy("Big", "/", big, "", {});
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(service().CreatePolicy("P", "/a b/", kAllowAll, "", {}).status().code(),
            StatusCode::kValidation);
  EXPECT_EQ(service().CreatePolicy("P", "/", kAllowAll, std::string(1001, 'd'), {}).status().code(),
            StatusCode::kValidation);
}

TEST_F(IamServiceTest, PolicyVersionsLifecycle) {
  ManagedPolicy p = MustCreatePolicy("Versions");
  Result<PolicyVersionView> v2 = service().CreatePolicyVersion(p.arn, kAllowGetSecret, false);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version.version_id, "v2");
  EXPECT_FALSE(v2->is_default);
  Result<PolicyVersionView> v3 = service().CreatePolicyVersion(p.arn, kAllowGetSecret, true);
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->is_default);
  EXPECT_EQ(service().GetPolicy(p.arn)->default_version_id, "v3");
  ASSERT_TRUE(service().CreatePolicyVersion(p.arn, kAllowAll, false).ok());
  ASSERT_TRUE(service().CreatePolicyVersion(p.arn, kAllowAll, false).ok());
  Result<PolicyVersionView> sixth = service().CreatePolicyVersion(p.arn, kAllowAll, false);
  ASSERT_FALSE(sixth.ok());
  EXPECT_EQ(sixth.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(sixth.status().message(), HasSubstr("up to 5 versions"));

  Status del_default = service().DeletePolicyVersion(p.arn, "v3");
  EXPECT_EQ(del_default.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(del_default.message(), "Cannot delete the default version of a policy.");
  ASSERT_TRUE(service().DeletePolicyVersion(p.arn, "v1").ok());
  EXPECT_EQ(service().DeletePolicyVersion(p.arn, "v1").code(), StatusCode::kNotFound);
  // Numbers are never reused.
  Result<PolicyVersionView> v6 = service().CreatePolicyVersion(p.arn, kAllowAll, false);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->version.version_id, "v6");

  ASSERT_TRUE(service().SetDefaultPolicyVersion(p.arn, "v6").ok());
  EXPECT_EQ(service().SetDefaultPolicyVersion(p.arn, "v1").code(), StatusCode::kNotFound);

  Result<Page<PolicyVersionView>> versions = service().ListPolicyVersions(p.arn, {});
  ASSERT_TRUE(versions.ok());
  std::vector<std::string> ids;
  for (const auto& v : versions->items)
    ids.push_back(v.version.version_id + (v.is_default ? "*" : ""));
  EXPECT_THAT(ids, ElementsAre("v2", "v3", "v4", "v5", "v6*"));

  Status has_versions = service().DeletePolicy(p.arn);
  EXPECT_EQ(has_versions.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(has_versions.message(), HasSubstr("more than one version"));
  for (const char* v : {"v2", "v3", "v4", "v5"})
    ASSERT_TRUE(service().DeletePolicyVersion(p.arn, v).ok());
  EXPECT_TRUE(service().DeletePolicy(p.arn).ok());
  EXPECT_EQ(service().GetPolicy(p.arn).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service().DeletePolicy(p.arn).code(), StatusCode::kNotFound);
}

TEST_F(IamServiceTest, VersionTenSortsAfterNine) {
  ManagedPolicy p = MustCreatePolicy("Many");
  auto create = [&](const char* expected) {
    Result<PolicyVersionView> v = service().CreatePolicyVersion(p.arn, kAllowAll, false);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->version.version_id, expected);
  };
  for (const char* v : {"v2", "v3", "v4", "v5"}) create(v);
  for (const char* v : {"v2", "v3", "v4"})
    ASSERT_TRUE(service().DeletePolicyVersion(p.arn, v).ok());
  for (const char* v : {"v6", "v7", "v8"}) create(v);
  for (const char* v : {"v5", "v6", "v7"})
    ASSERT_TRUE(service().DeletePolicyVersion(p.arn, v).ok());
  for (const char* v : {"v9", "v10"}) create(v);
  Result<Page<PolicyVersionView>> versions = service().ListPolicyVersions(p.arn, {});
  ASSERT_TRUE(versions.ok());
  std::vector<std::string> ids;
  for (const auto& v : versions->items) ids.push_back(v.version.version_id);
  EXPECT_THAT(ids, ElementsAre("v1", "v8", "v9", "v10"));
  // Paging keeps that order across pages.
  PageRequest req;
  req.max_items = 3;
  Result<Page<PolicyVersionView>> first = service().ListPolicyVersions(p.arn, req);
  ASSERT_TRUE(first.ok() && first->truncated);
  req.marker = first->marker;
  Result<Page<PolicyVersionView>> rest = service().ListPolicyVersions(p.arn, req);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].version.version_id, "v10");
  EXPECT_FALSE(rest->truncated);
}

TEST_F(IamServiceTest, ListPoliciesScopeOnlyAttachedAndPathPrefix) {
  ManagedPolicy a = MustCreatePolicy("Alpha", kAllowAll, "/team/");
  ManagedPolicy b = MustCreatePolicy("beta");
  MustCreateUser("u");
  ASSERT_TRUE(service().AttachUserPolicy("u", b.arn).ok());

  auto names = [&](ListPoliciesRequest req) {
    std::vector<std::string> out;
    Result<Page<ManagedPolicy>> page = service().ListPolicies(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const auto& p : page->items) {
        out.push_back(p.name + ":" + std::to_string(p.attachment_count));
      }
    }
    return out;
  };
  ListPoliciesRequest req;
  EXPECT_THAT(names(req), ElementsAre("Alpha:0", "beta:1"));
  req.only_attached = true;
  EXPECT_THAT(names(req), ElementsAre("beta:1"));
  req = {};
  req.scope = "AWS";
  EXPECT_THAT(names(req), IsEmpty());
  req.scope = "Local";
  req.path_prefix = "/team/";
  EXPECT_THAT(names(req), ElementsAre("Alpha:0"));
  req = {};
  req.usage_filter = "PermissionsBoundary";
  EXPECT_THAT(names(req), IsEmpty());
  req.usage_filter = "PermissionsPolicy";
  EXPECT_THAT(names(req), ElementsAre("Alpha:0", "beta:1"));
  req.scope = "Everything";
  EXPECT_EQ(service().ListPolicies(req).status().code(), StatusCode::kValidation);
  EXPECT_EQ(service().GetPolicy(b.arn)->attachment_count, 1);
  EXPECT_EQ(service().GetPolicy(a.arn)->attachment_count, 0);
}

// --- attachments ---

TEST_F(IamServiceTest, AttachDetachAndList) {
  MustCreateUser("jo");
  ManagedPolicy p = MustCreatePolicy("P1", kAllowAll, "/x/");
  ManagedPolicy q = MustCreatePolicy("P2");
  Status unknown = service().AttachUserPolicy("jo", "arn:aws:iam::000000000000:policy/Nope");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(),
            "Policy arn:aws:iam::000000000000:policy/Nope does not exist or is not attachable.");
  EXPECT_EQ(service().AttachUserPolicy("nobody", p.arn).code(), StatusCode::kNotFound);
  EXPECT_EQ(service().AttachUserPolicy("jo", "bogus").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(service().AttachUserPolicy("jo", p.arn).ok());
  ASSERT_TRUE(service().AttachUserPolicy("jo", p.arn).ok());  // idempotent
  ASSERT_TRUE(service().AttachUserPolicy("jo", q.arn).ok());
  Result<Page<AttachedPolicy>> attached = service().ListAttachedUserPolicies("jo", "/", {});
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->items.size(), 2u);
  EXPECT_EQ(attached->items[0].name, "P2");  // by ARN: policy/P2 < policy/x/P1
  EXPECT_EQ(attached->items[1].arn, p.arn);
  attached = service().ListAttachedUserPolicies("jo", "/x/", {});
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->items.size(), 1u);
  EXPECT_EQ(attached->items[0].name, "P1");

  Status in_use = service().DeletePolicy(p.arn);
  EXPECT_EQ(in_use.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(in_use.message(), "Cannot delete a policy attached to entities.");

  ASSERT_TRUE(service().DetachUserPolicy("jo", p.arn).ok());
  Status again = service().DetachUserPolicy("jo", p.arn);
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "Policy " + p.arn + " was not found.");
  EXPECT_TRUE(service().DeletePolicy(p.arn).ok());
}

TEST_F(IamServiceTest, AttachLimitIsTen) {
  MustCreateUser("k");
  for (int i = 0; i < 10; ++i) {
    ManagedPolicy p = MustCreatePolicy("P" + std::to_string(i));
    ASSERT_TRUE(service().AttachUserPolicy("k", p.arn).ok());
  }
  ManagedPolicy extra = MustCreatePolicy("Extra");
  Status s = service().AttachUserPolicy("k", extra.arn);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "Cannot exceed quota for PoliciesPerUser: 10");
}

// --- inline policies ---

TEST_F(IamServiceTest, InlineUserPolicies) {
  MustCreateUser("lee");
  ASSERT_TRUE(service().PutUserPolicy("lee", "b-policy", kAllowAll).ok());
  ASSERT_TRUE(service().PutUserPolicy("lee", "a-policy", kAllowGetSecret).ok());
  ASSERT_TRUE(service().PutUserPolicy("lee", "b-policy", kAllowGetSecret).ok());  // replaces
  Result<InlinePolicy> got = service().GetUserPolicy("lee", "b-policy");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->document, kAllowGetSecret);
  Result<Page<std::string>> names = service().ListUserPolicies("lee", {});
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(names->items, ElementsAre("a-policy", "b-policy"));

  EXPECT_EQ(service().PutUserPolicy("lee", "bad", "[]").code(), StatusCode::kMalformedPolicy);
  EXPECT_EQ(service().PutUserPolicy("nobody", "p", kAllowAll).code(), StatusCode::kNotFound);
  Result<InlinePolicy> missing = service().GetUserPolicy("lee", "zzz");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "The user policy with name zzz cannot be found.");
  ASSERT_TRUE(service().DeleteUserPolicy("lee", "a-policy").ok());
  EXPECT_EQ(service().DeleteUserPolicy("lee", "a-policy").code(), StatusCode::kNotFound);

  std::string big = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[)";
  for (int i = 0; i < 150; ++i) big += (i ? "," : "") + std::string("\"s3:GetObject\"");
  big += R"(],"Resource":"*"}]})";
  EXPECT_EQ(service().PutUserPolicy("lee", "big", big).code(), StatusCode::kResourceExhausted);
}

// --- paging ---

TEST_F(IamServiceTest, PagingWalksEveryUserOnceWithMarkers) {
  for (int i = 0; i < 7; ++i) MustCreateUser("user" + std::to_string(i));
  std::vector<std::string> seen;
  PageRequest req;
  req.max_items = 3;
  int pages = 0;
  while (true) {
    Result<Page<User>> page = service().ListUsers("/", req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const User& u : page->items) seen.push_back(u.name);
    if (!page->truncated) break;
    EXPECT_FALSE(page->marker.empty());
    req.marker = page->marker;
    if (pages == 1) MustCreateUser("user00");  // sorts into the page already read: not seen
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("user0", "user1", "user2", "user3", "user4", "user5", "user6"));

  req.marker = "!!not base64!!";
  EXPECT_EQ(service().ListUsers("/", req).status().code(), StatusCode::kInvalidArgument);
}

// --- concurrency ---

TEST_F(IamServiceTest, ConcurrentAttachesAllLand) {
  MustCreateUser("busy");
  std::vector<ManagedPolicy> policies;
  for (int i = 0; i < 8; ++i) policies.push_back(MustCreatePolicy("C" + std::to_string(i)));
  std::vector<std::thread> threads;
  for (const ManagedPolicy& p : policies) {
    threads.emplace_back(
        [&, arn = p.arn] { EXPECT_TRUE(service().AttachUserPolicy("busy", arn).ok()); });
  }
  for (std::thread& t : threads) t.join();
  Result<User> u = service().GetUser("busy");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->attached_policy_arns.size(), 8u);
}

}  // namespace
}  // namespace coffer::iam
