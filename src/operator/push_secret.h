#pragma once

// PushSecret (external-secrets.io/v1alpha1): the reverse of an ExternalSecret. A Kubernetes
// Secret's keys are written to remote secrets of one or more (Cluster)SecretStores. This file is
// the pure part: parsing, and the decisions of a reconcile given what is known of the source
// Secret and of each remote secret. src/controller/push_secret_controller.h carries them out.
//
// Semantics (ESO's AWS Secrets Manager provider, with the choices noted):
//  - Entries of spec.data that name the same remote key in the same store are one remote secret:
//    their values are applied in order (a `property` merges into the JSON document, no property
//    replaces it), and the result is written at most once per reconcile (ESO writes once per
//    entry, making one version per property).
//  - A missing remote secret is created with the tag managed-by=external-secrets (plus the
//    entry's metadata tags). An existing one is written only when its value differs
//    (PutSecretValue), only if it carries that tag ("secret not managed by external-secrets"
//    otherwise), and never under updatePolicy IfNotExists.
//  - deletionPolicy Delete: remote secrets pushed before (status.syncedPushSecrets) and no longer
//    in the spec, and all of them when the PushSecret is deleted (finalizer
//    pushsecret.externalsecrets.io/finalizer), are deleted — only if tagged
//    managed-by=external-secrets. A remote key still used by another entry of the same store is
//    kept (ESO deletes it when one of its properties is dropped).
//
// Messages never contain a value of the Secret or of a remote secret.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "operator/cluster_external_secret.h"  // LabelSelector, SelectorMatches
#include "operator/reconcile.h"
#include "operator/types.h"

namespace coffer::op {

inline constexpr std::string_view kApiVersionV1Alpha1 = "external-secrets.io/v1alpha1";
inline constexpr std::string_view kPushSecretFinalizer = "pushsecret.externalsecrets.io/finalizer";
inline constexpr std::string_view kManagedByTagKey = "managed-by";
inline constexpr std::string_view kManagedByTagValue = "external-secrets";
// The Description of a created remote secret when the metadata gives none (ESO's).
inline constexpr std::string_view kPushDefaultDescription = "secret 'managed-by:external-secrets'";
// status.conditions[Ready] reasons (ESO's v1alpha1 ReasonSynced / ReasonErrored).
inline constexpr std::string_view kPushReasonSynced = "Synced";
inline constexpr std::string_view kPushReasonErrored = "Errored";
inline constexpr std::string_view kPushSyncedMessage = "PushSecret synced successfully";

enum class PushUpdatePolicy { kReplace, kIfNotExists };
enum class PushDeletionPolicy { kNone, kDelete };

// spec.secretStoreRefs[]: a store by name, or every store of `kind` matching a label selector.
struct PushStoreRef {
  std::string name;
  std::optional<LabelSelector> label_selector;
  StoreKind kind = StoreKind::kSecretStore;
};

// spec.data[].metadata as ESO's AWS provider reads it (kind PushSecretMetadata, spec.*).
struct PushMetadata {
  bool string_format = false;  // spec.secretPushFormat: string (default binary, as ESO)
  std::string description;     // spec.description; empty = kPushDefaultDescription
  std::string kms_key_id;      // spec.kmsKeyID; empty = the backend's default
  StringMap tags;              // spec.tags (managed-by is reserved)
};

// One spec.data[] entry.
struct PushDataItem {
  std::string secret_key;  // empty: the whole Secret as a JSON object
  std::string remote_key;
  std::string property;  // empty: the whole remote value
  PushMetadata metadata;
  nlohmann::json raw;  // the entry as written (kept in status.syncedPushSecrets)
};

// store key ("SecretStore/name", "ClusterSecretStore/name") -> status ref ("remoteKey" or
// "remoteKey/property") -> entry. ESO's SyncedPushSecretsMap.
using SyncedPushSecrets = std::map<std::string, std::map<std::string, nlohmann::json>>;

struct PushSecretStatus {
  std::optional<std::int64_t> refresh_time_ms;
  std::string synced_resource_version;
  SyncedPushSecrets synced;
  std::vector<Condition> conditions;
};

struct PushSecret {
  ObjectMeta metadata;
  std::vector<std::string> finalizers;
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::int64_t refresh_interval_ms = kDefaultRefreshIntervalMs;
  std::vector<PushStoreRef> store_refs;
  PushUpdatePolicy update_policy = PushUpdatePolicy::kReplace;
  PushDeletionPolicy deletion_policy = PushDeletionPolicy::kNone;
  std::string secret_name;  // spec.selector.secret.name
  std::vector<PushDataItem> data;
  PushSecretStatus status;
};

// Parses a PushSecret (v1alpha1). Rejects by name what coffer does not implement
// (selector.secret.selector, selector.generatorRef, dataTo, template, conversionStrategy other
// than None), and enforces what ESO's schema does: at least one store ref, each with a name or a
// labelSelector, a known kind, policies from their enums, data[].match.remoteRef.remoteKey.
Result<PushSecret> ParsePushSecret(const nlohmann::json& object);

// Parses only the status (leniently: an unreadable status is empty).
PushSecretStatus ParsePushSecretStatus(const nlohmann::json& object);

nlohmann::json PushStatusToJson(const PushSecretStatus& status);

// The key of a store in status.syncedPushSecrets.
std::string PushStoreKey(StoreKind kind, std::string_view name);
// The key of an entry in status.syncedPushSecrets[store]: remoteKey, or remoteKey/property.
std::string PushStatusRef(const PushDataItem& item);

// A store's spec.provider.aws.secretsManager: how DeleteSecret deletes.
struct RemoteDeleteOptions {
  bool force_delete_without_recovery = false;
  std::optional<int> recovery_window_in_days;  // 7..30; unset = the backend's default (30)
};
RemoteDeleteOptions ParseRemoteDeleteOptions(const nlohmann::json& store_object);

// One remote secret written by a PushSecret: all entries naming `remote_key` in one store.
struct RemoteWrite {
  std::string store_key;
  std::string remote_key;                  // without the store's prefix
  std::vector<const PushDataItem*> items;  // in spec order; point into the PushSecret
};

// The remote secrets to write, per store key in `store_keys` (the resolved stores), in spec order.
std::vector<RemoteWrite> PlanRemoteWrites(const PushSecret& ps,
                                          const std::vector<std::string>& store_keys);

// What is known of a remote secret before writing it (DescribeSecret, then GetSecretValue).
struct RemoteState {
  bool exists = false;
  bool marked_for_deletion = false;
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> value;  // AWSCURRENT's bytes (string or binary); nullopt: none read
};

bool IsManagedRemote(const RemoteState& state);

enum class PushActionType { kNone, kCreate, kPutValue };

// What to do to one remote secret.
struct PushAction {
  PushActionType type = PushActionType::kNone;
  std::string value;            // the bytes to write (kCreate, kPutValue)
  bool binary = true;           // SecretBinary (ESO's default) or SecretString
  std::string description;      // kCreate
  std::string kms_key_id;       // kCreate
  StringMap tags;               // kCreate: all tags; kPutValue/kNone: tags to add (TagResource)
  bool skipped_exists = false;  // IfNotExists and the secret exists
};

// The decision for one remote secret. `secret_data` is the source Secret's data (decoded).
// Errors: a missing secretKey, "secret not managed by external-secrets", a secret marked for
// deletion, a property merge into a value that is not a JSON object.
Result<PushAction> PlanRemoteWrite(const RemoteWrite& write,
                                   const std::map<std::string, std::string>& secret_data,
                                   const RemoteState& state, PushUpdatePolicy update_policy);

// The synced entries of a store after pushing `write` (ESO's syncedPushSecrets[store]).
void RecordSynced(const RemoteWrite& write, SyncedPushSecrets& synced);

// A remote secret to delete: (store key, remote key).
using RemoteSecretRef = std::pair<std::string, std::string>;

// Remote secrets in `previous` (status.syncedPushSecrets) no longer written by `current`: what
// deletionPolicy Delete deletes. On PushSecret deletion, `current` is empty.
std::vector<RemoteSecretRef> RemovedRemoteSecrets(const SyncedPushSecrets& previous,
                                                  const SyncedPushSecrets& current);

// Whether a remote secret may be deleted: it exists and is tagged managed-by=external-secrets
// (a missing one counts as deleted; an untagged one is left alone).
bool ShouldDeleteRemote(const RemoteState& state);

// The status after a reconcile. `synced` is what this reconcile pushed (and, for deletions that
// failed, still holds); `error` the first failure. Success: Ready True Synced "PushSecret synced
// successfully", refreshTime now, syncedResourceVersion, syncedPushSecrets = synced. Failure:
// Ready False Errored "<error>", syncedPushSecrets = previous merged with synced (as ESO).
struct PushStatusPlan {
  PushSecretStatus status;
  bool status_changed = false;
  std::vector<Event> events;
  std::optional<std::int64_t> requeue_after_ms;
  int consecutive_failures = 0;
  bool ok = true;
};
PushStatusPlan PlanPushStatus(const PushSecret& ps, const SyncedPushSecrets& synced,
                              const Status& error, bool wrote, int consecutive_failures,
                              std::int64_t now_ms);

// For a PushSecret whose spec does not parse: Ready False Errored "invalid PushSecret: <error>".
PushStatusPlan PlanInvalidPushSecret(const nlohmann::json& object, const Status& error,
                                     std::int64_t now_ms);

// Whether the finalizer must be added (deletionPolicy Delete, not deleting, finalizer missing) or
// may be removed (deletionPolicy None but the finalizer is there: nothing to clean up).
bool NeedsPushFinalizer(const PushSecret& ps);
bool HasPushFinalizer(const PushSecret& ps);

// Sets a JSON document's `property` (a gjson/sjson-like path: dots separate levels, "\." is a
// literal dot) to `value`, creating objects on the way. `document` empty = "{}". Errors when the
// document is not a JSON object or a level on the path is not an object.
Result<std::string> SetJsonProperty(std::string_view document, std::string_view property,
                                    const nlohmann::json& value);

}  // namespace coffer::op
