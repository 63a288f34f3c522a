#pragma once

// Where ExternalSecrets' values come from at run time: providers built from (Cluster)SecretStores
// (endpoint, region and credentials read from Kubernetes Secrets), kept for reuse, validated for
// the stores' Ready condition, and one SharedFetcher so that ExternalSecrets reading the same
// store, key and version within one refresh round share one backend call.
//
// Credentials are read with live GETs (the operator does not cache unlabelled Secrets) and kept
// only inside the provider's client; a provider is rebuilt after `provider_ttl`, so a rotated
// credentials Secret is picked up, and at once after the backend rejected the credentials.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.h"
#include "core/status.h"
#include "kube/client.h"
#include "operator/store_status.h"
#include "operator/types.h"
#include "operator/values.h"
#include "provider/provider.h"
#include "provider/shared_fetcher.h"

namespace coffer::controller {

struct BackendOptions {
  // Default: none. AWS_SECRETSMANAGER_ENDPOINT: the endpoint of aws stores without
  // spec.provider.aws.endpoint (none: the regional AWS endpoint).
  std::string default_endpoint;
  // Default: none. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN of the operator
  // process, for aws stores without auth.secretRef.
  provider::AwsCredentials env_credentials;
  // Default: 5 minutes. How long a built provider (and the credentials it read) is reused.
  std::chrono::milliseconds provider_ttl{300'000};
  // Default: 2 minutes. How old a fetched value may be and still answer another ExternalSecret's
  // periodic refresh: at most this, and at most a tenth of that ExternalSecret's
  // refreshInterval (so a change still arrives within 1.1 x refreshInterval). Event-driven syncs
  // (new object, spec edit, force-sync) only share values fetched after their event.
  std::chrono::milliseconds share_window{120'000};
  // Default: 2 minutes. How long a fetched value is kept to answer later syncs at all (the
  // sharing rules above decide whether it may); bounds the values held in memory.
  std::chrono::milliseconds value_retention{120'000};
  // Default: 24 hours. DescribeSecret first (as the AWS caching client refreshes): a value older
  // than the sharing rules allow, but younger than this, is kept, and a refresh asks the backend
  // only which version is current; the value is read again only when that version changed.
  // 0 turns it off (every refresh reads the value).
  std::chrono::milliseconds revalidate_for{24 * 3'600'000};
  // Default: 10 s. Timeout of one backend call.
  std::chrono::milliseconds request_timeout{10'000};
  // Default: SystemClock.
  const Clock* clock = nullptr;
};

class Backends {
 public:
  // `observer` sees every backend call (for externalsecret_provider_api_calls_count).
  Backends(kube::Client& client, BackendOptions options, provider::CallObserver observer);
  Backends(const Backends&) = delete;
  Backends& operator=(const Backends&) = delete;

  // Reads every value `es` needs from `store` (already checked usable with op::CheckStoreUsable).
  // A fetch is shared with other ExternalSecrets only if it started at or after `not_before_ms`.
  // dataFrom.find queries run through the provider's FindSecrets; a successful result is shared
  // the same way (same store, equal query, started at or after `not_before_ms`, younger than
  // value_retention), so ExternalSecrets of one round with the same find list once.
  // Errors that concern the whole store (credentials unreadable) go into FetchResult::error.
  op::FetchResult Fetch(const op::ExternalSecret& es, const op::SecretStore& store,
                        std::int64_t not_before_ms);

  // Validates a store for its Ready condition: the fake provider is always valid; an aws store
  // needs readable credentials and a backend that accepts them. A ClusterSecretStore whose
  // credentials live in each ExternalSecret's namespace (referent auth) cannot be validated
  // alone: kUnknown, as in ESO.
  op::StoreValidationResult Validate(const op::SecretStore& store);

  // A Secrets Manager client for writing to an aws store used from namespace `ns` (PushSecret):
  // endpoint, region and credentials as for reads, built afresh (credentials read now).
  Result<std::shared_ptr<const provider::SecretsManagerClient>> WriteClient(
      const op::SecretStore& store, std::string_view ns);

  // Drops the providers built for a store (it was deleted or changed).
  void Forget(std::string_view store_uid);

  provider::SharedFetcher::Stats fetch_stats() const { return fetcher_.stats(); }

 private:
  struct CachedProvider {
    std::shared_ptr<provider::Provider> provider;
    std::int64_t built_ms = 0;
  };

  // The provider for an aws store used from `es_namespace` (which matters for referent auth);
  // `id` receives the identity the SharedFetcher keys values by.
  Result<std::shared_ptr<provider::Provider>> ProviderFor(const op::SecretStore& store,
                                                          std::string_view es_namespace,
                                                          std::string* id);
  Result<std::shared_ptr<provider::Provider>> Build(const op::SecretStore& store,
                                                    std::string_view es_namespace);
  Result<std::shared_ptr<const provider::SecretsManagerClient>> BuildClient(
      const op::SecretStore& store, std::string_view es_namespace);
  // The value of one key of a Kubernetes Secret (credentials). Messages name the Secret and key.
  Result<std::string> ReadSecretKey(const op::SecretKeySelector& ref);
  void Drop(const std::string& id);
  // Runs one find query, or answers it from a recent enough result of an equal query.
  op::FindOutcome Find(const std::string& id, provider::Provider& provider,
                       const op::FindQuery& query, std::int64_t not_before_ms, bool* rejected);

  struct FoundEntry {
    std::int64_t started_ms = 0;
    op::FindOutcome outcome;
  };

  kube::Client& client_;
  const BackendOptions options_;
  const provider::CallObserver observer_;
  provider::SharedFetcher fetcher_;
  std::mutex mu_;
  std::map<std::string, CachedProvider> providers_;  // guarded by mu_; key: the fetcher id
  // Successful find results, guarded by mu_; key: fetcher id + query.
  std::map<std::pair<std::string, op::FindQuery>, FoundEntry> found_;
};

// The fetcher identity of a store as used from a namespace: kind, namespace, name, uid and
// generation (a spec change makes new values), plus the namespace credentials are read in.
std::string StoreIdentity(const op::SecretStore& store, std::string_view credentials_namespace);

}  // namespace coffer::controller
