#pragma once

// Test-only: a coffer server in-process (the Beast HTTP server, the api pipeline with real SigV4
// verification, the secrets service over the in-memory store), as
// provider/secretsmanager_client_test.cc runs one, for the controller's tests. Header-only.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "api/credentials.h"
#include "api/pipeline.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "http/server.h"
#include "secrets/service.h"
#include "storage/testing/memory_store.h"

namespace coffer::controller::testing {

inline constexpr char kAccessKeyId[] = "AKIACONTROLLERTEST01";
inline constexpr char kSecretAccessKey[] = "controller/Test/Secret/Key/0123456789abcdef";

class CofferBackend {
 public:
  CofferBackend()
      : keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        credentials_(&store_, &envelope_, SystemClock::Get()),
        verifier_(SystemClock::Get(), &credentials_),
        service_(&store_, &envelope_, SystemClock::Get()) {
    auto root = api::EnsureRootCredentials(
        &store_, &envelope_, SystemClock::Get(), "000000000000",
        std::make_pair(std::string(kAccessKeyId), std::string(kSecretAccessKey)));
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    pipeline_ = std::make_unique<api::Pipeline>(api::PipelineOptions{}, &service_, &verifier_,
                                                SystemClock::Get());
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.io_threads = 1;
    options.worker_threads = 2;
    auto server =
        http::StartServer(options, [this](const http::Request& r) { return pipeline_->Handle(r); });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~CofferBackend() {
    if (server_) server_->Shutdown();
    service_.Shutdown();
  }
  CofferBackend(const CofferBackend&) = delete;
  CofferBackend& operator=(const CofferBackend&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // Creates secret `name` holding `value`; returns its first version id.
  std::string Create(const std::string& name, const std::string& value) {
    secrets::CreateSecretRequest r;
    r.name = name;
    r.client_request_token = crypto::RandomUuid();
    r.value.string = value;
    auto created = service_.CreateSecret(Context(), r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->version_id.value_or("") : "";
  }
  // Adds a version holding `value` (it becomes AWSCURRENT); returns its id.
  std::string Put(const std::string& name, const std::string& value) {
    secrets::PutSecretValueRequest r;
    r.secret_id = name;
    r.client_request_token = crypto::RandomUuid();
    r.value.string = value;
    auto put = service_.PutSecretValue(Context(), r);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? put->version_id : "";
  }

 private:
  static secrets::CallContext Context() {
    secrets::CallContext ctx;
    ctx.region = "us-east-1";
    ctx.account_id = "000000000000";
    return ctx;
  }

  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  api::StoreCredentialSource credentials_;
  sigv4::Verifier verifier_;
  secrets::Service service_;
  std::unique_ptr<api::Pipeline> pipeline_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace coffer::controller::testing
