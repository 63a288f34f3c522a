#pragma once

// Shared by the iam tests: an IamService over the in-memory store, a real envelope, a fake
// clock, the StorePolicySource and a record of credential-cache invalidations.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/envelope.h"
#include "crypto/random.h"
#include "iam/iam_service.h"
#include "iam/policy_source.h"
#include "storage/testing/memory_store.h"

namespace coffer::iam::testing {

inline constexpr char kAccount[] = "000000000000";
inline constexpr char kAllowAll[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
inline constexpr char kAllowIam[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]})";
inline constexpr char kAllowGetSecret[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
    R"("Action":"secretsmanager:GetSecretValue","Resource":"*"}]})";

class IamFixture : public ::testing::Test {
 protected:
  IamFixture()
      : keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        clock_(1'700'000'000'000),
        source_(&store_, kAccount) {
    IamServiceOptions options;
    options.account_id = kAccount;
    options.policy_source = &source_;
    options.on_access_key_changed = [this](const std::string& id) {
      invalidated_keys_.push_back(id);
    };
    service_ = std::make_unique<IamService>(&store_, &envelope_, &clock_, options);
  }

  IamService& service() { return *service_; }

  User MustCreateUser(const std::string& name, const std::string& path = "/") {
    Result<User> u = service().CreateUser(name, path, {});
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : User{};
  }

  ManagedPolicy MustCreatePolicy(const std::string& name, const std::string& doc = kAllowAll,
                                 const std::string& path = "/") {
    Result<ManagedPolicy> p = service().CreatePolicy(name, path, doc, "", {});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : ManagedPolicy{};
  }

  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  FakeClock clock_;
  StorePolicySource source_;
  std::vector<std::string> invalidated_keys_;
  std::unique_ptr<IamService> service_;
};

}  // namespace coffer::iam::testing
