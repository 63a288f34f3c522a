#pragma once

// Test-only: a coffer server in-process, real in everything a client sees: the Beast HTTP server
// on 127.0.0.1:<free port>, the api pipeline with real SigV4 verification, the secrets service
// over the in-memory store with envelope encryption. Root credentials are the ones given.
// Header-only; for the tests of clients of the Secrets Manager API (src/provider,
// src/controller).

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "api/credentials.h"
#include "api/pipeline.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "http/server.h"
#include "secrets/service.h"
#include "storage/testing/memory_store.h"

namespace coffer::api::testing {

class InProcessServer {
 public:
  InProcessServer(const std::string& access_key_id, const std::string& secret_access_key)
      : keyring_(std::move(*crypto::KeyringFromText(Base64Encode(crypto::RandomBytes(32))))),
        envelope_(keyring_.get()),
        credentials_(&store_, &envelope_, SystemClock::Get()),
        verifier_(SystemClock::Get(), &credentials_),
        service_(&store_, &envelope_, SystemClock::Get()) {
    auto root = EnsureRootCredentials(&store_, &envelope_, SystemClock::Get(), kAccountId,
                                      std::make_pair(access_key_id, secret_access_key));
    EXPECT_TRUE(root.ok()) << root.status().ToString();
    pipeline_ =
        std::make_unique<Pipeline>(PipelineOptions{}, &service_, &verifier_, SystemClock::Get());
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.io_threads = 1;
    options.worker_threads = 2;
    auto server =
        http::StartServer(options, [this](const http::Request& r) { return pipeline_->Handle(r); });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~InProcessServer() {
    if (server_) server_->Shutdown();
    service_.Shutdown();
  }
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // The service behind the endpoint, for direct calls (as the root of the account, Context()).
  secrets::Service& service() { return service_; }
  static secrets::CallContext Context() {
    secrets::CallContext ctx;
    ctx.region = "us-east-1";
    ctx.account_id = kAccountId;
    return ctx;
  }

  struct Created {
    std::string arn;
    std::string version_id;
  };
  // Creates secret `name` with a string and/or binary value and tags.
  Created Create(const std::string& name, std::optional<std::string> value,
                 std::optional<std::string> binary = std::nullopt,
                 std::vector<secrets::Tag> tags = {}) {
    secrets::CreateSecretRequest r;
    r.name = name;
    r.client_request_token = crypto::RandomUuid();
    r.value.string = std::move(value);
    r.value.binary = std::move(binary);
    if (!tags.empty()) r.tags = std::move(tags);
    auto created = service_.CreateSecret(Context(), r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return {};
    return {created->arn, created->version_id.value_or("")};
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
  static constexpr char kAccountId[] = "000000000000";

  storage::MemorySecretStore store_;
  std::unique_ptr<crypto::Keyring> keyring_;
  crypto::Envelope envelope_;
  StoreCredentialSource credentials_;
  sigv4::Verifier verifier_;
  secrets::Service service_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace coffer::api::testing
