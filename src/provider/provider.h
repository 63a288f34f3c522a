#pragma once

// Where an ExternalSecret's values come from: the provider interface the operator reconciles
// against, and its implementations:
//  - AwsProvider: AWS Secrets Manager or coffer server (provider/secretsmanager_client.h);
//  - SharedFetcher (provider/shared_fetcher.h): one backend call per (store, key, version) per
//    refresh round, shared by every ExternalSecret that asks.
// ESO's `fake` provider (static data in the store's spec) needs no backend: it is the pure
// op::FetchFromFake in operator/fake_provider.h.
//
// Errors: kNotFound when the secret (or that version) does not exist — the operator's
// deletionPolicy acts on it; anything else (kUnavailable, kPermissionDenied, kUnauthenticated,
// kThrottled) is a sync error that keeps the existing Kubernetes Secret. Messages never carry a
// secret value.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "provider/secretsmanager_client.h"

namespace coffer::provider {

// Which version of which remote secret. At most one of version_id / version_stage is set; none
// means AWSCURRENT (for the fake provider: the entry without a version).
struct RemoteKey {
  std::string key;
  std::string version_id;
  std::string version_stage;

  bool operator==(const RemoteKey&) const = default;
};

// A remote secret's value: text or bytes, and the version it came from.
struct RemoteValue {
  std::optional<std::string> string;
  std::optional<std::string> binary;
  std::string version_id;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual Result<RemoteValue> GetSecret(const RemoteKey& key) = 0;
  // Whether the store is usable: credentials accepted, endpoint reachable. What a store's Ready
  // condition reports.
  virtual Status Validate() = 0;
  // Backend calls made so far (GetSecret and Validate), for metrics and the benchmark.
  virtual std::uint64_t calls() const = 0;
};

// AWS Secrets Manager (or coffer server) behind the client.
class AwsProvider : public Provider {
 public:
  explicit AwsProvider(std::shared_ptr<const SecretsManagerClient> client)
      : client_(std::move(client)) {}
  Result<RemoteValue> GetSecret(const RemoteKey& key) override;
  Status Validate() override;
  std::uint64_t calls() const override { return calls_.load(); }

 private:
  std::shared_ptr<const SecretsManagerClient> client_;
  std::atomic<std::uint64_t> calls_{0};
};

}  // namespace coffer::provider
