#include "api/credentials.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "core/encoding.h"
#include "crypto/random.h"
#include "storage/testing/memory_store.h"

namespace coffer::api {
namespace {

constexpr char kAccount[] = "000000000000";
constexpr char kRootArn[] = "arn:aws:iam::000000000000:root";
constexpr char kInvalidToken[] = "The security token included in the request is invalid.";

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsTest()
      : clock_(1700000000000),
        keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        source_(&store_, &envelope_, &clock_) {}

  Result<RootCredentials> Ensure(
      std::optional<std::pair<std::string, std::string>> from_env = std::nullopt) {
    return EnsureRootCredentials(&store_, &envelope_, &clock_, kAccount, from_env);
  }

  FakeClock clock_;
  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  StoreCredentialSource source_;
};

TEST_F(CredentialsTest, GeneratesARootKeyOnFirstStart) {
  auto root = Ensure();
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_TRUE(root->created);
  ASSERT_EQ(root->access_key_id.size(), 20u);
  EXPECT_EQ(root->access_key_id.substr(0, 4), "AKIA");
  EXPECT_TRUE(std::all_of(root->access_key_id.begin(), root->access_key_id.end(),
                          [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }));
  EXPECT_EQ(root->secret_access_key.size(), 40u);

  auto setting = store_.GetSetting("root_access_key_id");
  ASSERT_TRUE(setting.ok());
  EXPECT_EQ(*setting, root->access_key_id);

  auto record = store_.GetAccessKey(root->access_key_id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->principal_arn, kRootArn);
  EXPECT_EQ((*record)->status, "Active");
  EXPECT_EQ((*record)->created_ms, 1700000000000);
  // Sealed, not stored in the clear.
  EXPECT_EQ((*record)->secret_ciphertext.find(root->secret_access_key), std::string::npos);
  EXPECT_EQ((*record)->key_version, keyring_->ActiveVersion());

  auto credential = source_.Lookup(root->access_key_id);
  ASSERT_TRUE(credential.ok()) << credential.status().ToString();
  EXPECT_EQ(credential->secret_access_key, root->secret_access_key);
  EXPECT_EQ(credential->principal_arn, kRootArn);
}

TEST_F(CredentialsTest, InvalidateDropsACachedKeyBeforeItsTtl) {
  auto root = Ensure();
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(source_.Lookup(root->access_key_id).ok());  // cached now
  auto record = store_.GetAccessKey(root->access_key_id);
  ASSERT_TRUE(record.ok() && record->has_value());
  storage::AccessKeyRecord inactive = **record;
  inactive.status = "Inactive";
  ASSERT_TRUE(store_.PutAccessKey(inactive).ok());
  // Still served from the cache...
  EXPECT_TRUE(source_.Lookup(root->access_key_id).ok());
  // ...until invalidated.
  source_.Invalidate(root->access_key_id);
  auto after = source_.Lookup(root->access_key_id);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kUnauthenticated);
  source_.Invalidate("AKIANEVERSEEN0000000");  // unknown ids are fine
}

TEST_F(CredentialsTest, KeepsTheRootKeyAcrossRestarts) {
  auto first = Ensure();
  ASSERT_TRUE(first.ok());
  auto second = Ensure();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->access_key_id, first->access_key_id);
  EXPECT_EQ(second->secret_access_key, first->secret_access_key);
}

TEST_F(CredentialsTest, EnvKeyReplacesThePreviousRootKey) {
  auto generated = Ensure();
  ASSERT_TRUE(generated.ok());
  auto env = Ensure(std::make_pair("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_TRUE(env->created);
  EXPECT_EQ(env->access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(env->secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  // The old key is gone; the new one verifies.
  auto old = source_.Lookup(generated->access_key_id);
  EXPECT_EQ(old.status().code(), StatusCode::kUnauthenticated);
  auto now = source_.Lookup("AKIAIOSFODNN7EXAMPLE");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(*store_.GetSetting("root_access_key_id"), "AKIAIOSFODNN7EXAMPLE");

  // Same env pair again: nothing to do. Without env: the env key is kept.
  auto again = Ensure(std::make_pair("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  auto kept = Ensure();
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->created);
  EXPECT_EQ(kept->access_key_id, "AKIAIOSFODNN7EXAMPLE");

  // Same id, new secret: re-keyed.
  auto rekeyed = Ensure(std::make_pair("AKIAIOSFODNN7EXAMPLE", "another-secret"));
  ASSERT_TRUE(rekeyed.ok());
  EXPECT_TRUE(rekeyed->created);
  clock_.AdvanceMillis(31 * 1000);  // past the lookup cache
  EXPECT_EQ(source_.Lookup("AKIAIOSFODNN7EXAMPLE")->secret_access_key, "another-secret");
}

TEST_F(CredentialsTest, RejectsMalformedEnvKeys) {
  const std::pair<std::string, std::string> bad[] = {
      {"AKIA123", "long-enough-secret"},               // id too short
      {"akiaiosfodnn7example", "long-enough-secret"},  // lowercase
      {"AKIA-IOSFODNN7EXAMPLE", "long-enough-secret"}, // punctuation
      {std::string(129, 'A'), "long-enough-secret"},   // too long
      {"AKIAIOSFODNN7EXAMPLE", "short"},               // secret too short
  };
  for (const auto& pair : bad) {
    auto r = Ensure(pair);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << pair.first;
    EXPECT_EQ(r.status().message().find(pair.second), std::string::npos);
  }
  EXPECT_FALSE(store_.GetSetting("root_access_key_id")->has_value());
}

TEST_F(CredentialsTest, UnknownAndInactiveKeysAreUnrecognized) {
  auto unknown = source_.Lookup("AKIANOSUCHKEY0000000");
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().message(), kInvalidToken);

  auto root = Ensure();
  ASSERT_TRUE(root.ok());
  auto record = **store_.GetAccessKey(root->access_key_id);
  record.status = "Inactive";
  ASSERT_TRUE(store_.PutAccessKey(record).ok());
  auto inactive = source_.Lookup(root->access_key_id);
  EXPECT_EQ(inactive.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(inactive.status().message(), kInvalidToken);
}

TEST_F(CredentialsTest, CachesForThirtySeconds) {
  auto root = Ensure();
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(source_.Lookup(root->access_key_id).ok());
  ASSERT_TRUE(store_.DeleteAccessKey(root->access_key_id).ok());

  clock_.AdvanceMillis(29 * 1000);
  EXPECT_TRUE(source_.Lookup(root->access_key_id).ok()) << "served from the cache";
  clock_.AdvanceMillis(2 * 1000);
  EXPECT_EQ(source_.Lookup(root->access_key_id).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(CredentialsTest, SealedSecretIsBoundToItsKeyId) {
  auto root = Ensure();
  ASSERT_TRUE(root.ok());
  auto record = **store_.GetAccessKey(root->access_key_id);
  record.access_key_id = "AKIAMOVEDKEY00000000";  // same blob under another id
  ASSERT_TRUE(store_.PutAccessKey(record).ok());
  auto moved = source_.Lookup("AKIAMOVEDKEY00000000");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), StatusCode::kInternal);
  EXPECT_EQ(moved.status().message().find(root->secret_access_key), std::string::npos);
}

}  // namespace
}  // namespace coffer::api
