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
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  // ESO's metadataPolicy: Fetch. The secret's metadata instead of its value: for AWS its tags, as
  // a JSON object {"key":"value",...} in the secret's tag order (versions are ignored).
  bool metadata = false;

  bool operator==(const RemoteKey&) const = default;
};

// A remote secret's value: text or bytes, and the version it came from.
struct RemoteValue {
  std::optional<std::string> string;
  std::optional<std::string> binary;
  std::string version_id;
};

// dataFrom.find: which remote secrets to read. At least one of name_regexp and tags is set.
struct FindQuery {
  std::string path;         // a name prefix (exact, case-sensitive); empty = any name
  std::string name_regexp;  // Go RE2 syntax, unanchored; empty = any name
  std::vector<std::pair<std::string, std::string>> tags;  // exact key=value pairs, all required
};

// One secret a find selected: its full name and AWSCURRENT value.
struct FoundSecret {
  std::string name;
  RemoteValue value;
};

// Told of every backend call a provider makes: its name ("GetSecretValue", "DescribeSecret",
// "ListSecrets") and outcome. For metrics; called on the calling thread, so it must be cheap and
// thread-safe.
using CallObserver = std::function<void(std::string_view call, const Status& status)>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual Result<RemoteValue> GetSecret(const RemoteKey& key) = 0;
  // The version id `key` (not a metadata key) selects now, without reading the value: what the
  // AWS caching client's DescribeSecret-first refresh asks. kNotFound when the secret, or that
  // version or stage, does not exist (or the secret is marked for deletion). Providers that cannot
  // answer more cheaply than GetSecret return kFailedPrecondition, and callers read the value.
  virtual Result<std::string> CurrentVersionId(const RemoteKey& key) {
    (void)key;
    return Status::FailedPrecondition("not supported");
  }
  // dataFrom.find: every secret `query` selects, sorted by name, skipping secrets marked for
  // deletion. Providers without a listing answer kFailedPrecondition.
  virtual Result<std::vector<FoundSecret>> FindSecrets(const FindQuery& query) {
    (void)query;
    return Status::FailedPrecondition("dataFrom.find is not supported by this provider");
  }
  // Whether the store is usable: credentials accepted, endpoint reachable. What a store's Ready
  // condition reports.
  virtual Status Validate() = 0;
  // Backend calls made so far (GetSecret and Validate), for metrics and the benchmark.
  virtual std::uint64_t calls() const = 0;
};

// AWS Secrets Manager (or coffer server) behind the client.
//  - GetSecret: GetSecretValue, or DescribeSecret when key.metadata is set.
//  - A secret scheduled for deletion is kNotFound ("secret <key> is marked for deletion"), as ESO
//    treats it: AWS answers InvalidRequestException for its value, and DescribeSecret shows a
//    DeletedDate.
//  - CurrentVersionId: DescribeSecret's VersionIdsToStages.
//  - FindSecrets, with the fewest calls that give exact semantics (AWS's tag filters are
//    prefix matches and not pair-bound, BatchGetSecretValue returns no tags):
//      tags (± path, ± name): ListSecrets (100 a page) filtered by name=[path] and one tag-key and
//        tag-value filter per tag, then exact pairs, prefix and regexp re-checked on the listed
//        names and tags, then BatchGetSecretValue by SecretIdList, 20 names a call;
//      path (+ name), no tags: BatchGetSecretValue filtered by name=[path] (20 a page), prefix and
//        regexp re-checked (ESO's batch path);
//      name only: ListSecrets unfiltered, the regexp, then BatchGetSecretValue by SecretIdList.
//    Secrets with a DeletedDate, and per-secret NotFound / marked-for-deletion errors, are
//    skipped; any other per-secret error (denied, decryption) fails the find, naming the secret.
//    Filter values AWS would reject (characters outside its filter alphabet) are left out of the
//    filters and checked only client-side.
//  - Validate: the client's CheckCredentials (a ListSecrets).
class AwsProvider : public Provider {
 public:
  explicit AwsProvider(std::shared_ptr<const SecretsManagerClient> client,
                       CallObserver observer = {})
      : client_(std::move(client)), observer_(std::move(observer)) {}
  Result<RemoteValue> GetSecret(const RemoteKey& key) override;
  Result<std::vector<FoundSecret>> FindSecrets(const FindQuery& query) override;
  Result<std::string> CurrentVersionId(const RemoteKey& key) override;
  Status Validate() override;
  std::uint64_t calls() const override { return calls_.load(); }

 private:
  Result<RemoteValue> GetMetadata(const RemoteKey& key);
  void Observe(std::string_view call, const Status& status) const;

  std::shared_ptr<const SecretsManagerClient> client_;
  CallObserver observer_;
  std::atomic<std::uint64_t> calls_{0};
};

}  // namespace coffer::provider
