#pragma once

// Shared fixture for the secrets service tests: the in-memory store, a real Envelope over a
// fixed test key, and a FakeClock.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/envelope.h"
#include "secrets/service.h"
#include "storage/testing/memory_store.h"

namespace coffer::secrets::testing {

// 2026-01-10T12:00:00Z
inline constexpr std::int64_t kStartMs = 1768046400000;
inline constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

// A ClientRequestToken (32..64 chars) made from a short tag: "tok-a" -> "tok-a000...".
inline std::string Token(const std::string& tag) {
  return tag + "-" + std::string(35 - tag.size(), '0');
}

inline CallContext Ctx(const std::string& region = "us-east-1") {
  CallContext ctx;
  ctx.region = region;
  ctx.account_id = "000000000000";
  return ctx;
}

inline SecretValue Str(const std::string& s) { return SecretValue{s, std::nullopt}; }
inline SecretValue Bin(const std::string& b) { return SecretValue{std::nullopt, b}; }

// version id -> labels
using StageTable = std::map<std::string, std::vector<std::string>>;

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : clock_(kStartMs) {
    auto keyring = crypto::KeyringFromText(Base64Encode(std::string(32, 'k')));
    EXPECT_TRUE(keyring.ok()) << keyring.status().ToString();
    keyring_ = std::move(*keyring);
    envelope_ = std::make_unique<crypto::Envelope>(keyring_.get());
    service_ = std::make_unique<Service>(&store_, envelope_.get(), &clock_, options_);
  }

  void Reconfigure(ServiceOptions options) {
    options_ = options;
    service_ = std::make_unique<Service>(&store_, envelope_.get(), &clock_, options_);
  }

  Result<CreateSecretResponse> Create(const std::string& name, const std::string& value,
                                      const std::string& token = "") {
    CreateSecretRequest r;
    r.name = name;
    r.value = Str(value);
    r.client_request_token = token.empty() ? Token("c-" + name.substr(0, 10)) : token;
    return service_->CreateSecret(ctx_, r);
  }
  Result<CreateSecretResponse> CreateEmpty(const std::string& name) {
    CreateSecretRequest r;
    r.name = name;
    return service_->CreateSecret(ctx_, r);
  }
  Result<PutSecretValueResponse> Put(const std::string& id, const std::string& value,
                                     const std::string& token,
                                     std::optional<std::vector<std::string>> stages = {}) {
    PutSecretValueRequest r;
    r.secret_id = id;
    r.value = Str(value);
    r.client_request_token = token;
    r.version_stages = std::move(stages);
    return service_->PutSecretValue(ctx_, r);
  }
  Result<GetSecretValueResponse> Get(const std::string& id,
                                     std::optional<std::string> version_id = {},
                                     std::optional<std::string> stage = {}) {
    GetSecretValueRequest r;
    r.secret_id = id;
    r.version_id = std::move(version_id);
    r.version_stage = std::move(stage);
    return service_->GetSecretValue(ctx_, r);
  }
  std::string GetString(const std::string& id) {
    auto r = Get(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->value.string.value_or("<binary>") : "<error>";
  }
  Result<SecretDescription> Describe(const std::string& id) {
    return service_->DescribeSecret(ctx_, DescribeSecretRequest{id});
  }
  // DescribeSecret's VersionIdsToStages as a map.
  StageTable Stages(const std::string& id) {
    StageTable out;
    auto d = Describe(id);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (d.ok() && d->version_ids_to_stages) {
      for (const auto& e : *d->version_ids_to_stages) out[e.version_id] = e.stages;
    }
    return out;
  }
  Result<DeleteSecretResponse> Delete(const std::string& id, std::optional<std::int64_t> days = {},
                                      std::optional<bool> force = {}) {
    return service_->DeleteSecret(ctx_, DeleteSecretRequest{id, days, force});
  }

  storage::MemorySecretStore store_;
  FakeClock clock_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<crypto::Envelope> envelope_;
  ServiceOptions options_;
  std::unique_ptr<Service> service_;
  CallContext ctx_ = Ctx();
};

MATCHER_P(StatusIs, code, "") { return arg.code() == code; }
MATCHER_P2(StatusIs, code, message, "") { return arg.code() == code && arg.message() == message; }

}  // namespace coffer::secrets::testing
