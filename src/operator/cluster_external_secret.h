#pragma once

// ClusterExternalSecret (external-secrets.io/v1, cluster-scoped): one ExternalSecret stamped into
// every namespace a set of label selectors (or a list of names) picks. Pure: parsing, namespace
// selection, the desired ExternalSecret, and the reconcile of one ClusterExternalSecret against
// the namespaces and the ExternalSecrets observed (-> creates, updates, deletes and the new
// status), as ESO's clusterexternalsecret controller decides them:
//
//  - the namespaces are those any of `namespaceSelectors` (ORed; the deprecated
//    `namespaceSelector` is one more) matches, plus the existing ones `namespaces` names;
//    namespaces being deleted are skipped;
//  - in each, an ExternalSecret `externalSecretName` (default: the ClusterExternalSecret's name)
//    with `externalSecretSpec` as its spec, `externalSecretMetadata` as its labels and
//    annotations (plus the ClusterExternalSecret's `external-secrets.io/force-sync` annotation)
//    and a controller ownerReference to the ClusterExternalSecret;
//  - an ExternalSecret of that name that this ClusterExternalSecret does not control is left
//    alone and the namespace fails with "external secret already exists in namespace";
//  - in a namespace provisioned before that no longer matches, the ExternalSecret it controls is
//    deleted; when externalSecretName changes, the old ones are deleted;
//  - status: externalSecretName, provisionedNamespaces (sorted), failedNamespaces
//    [{namespace, reason}] (sorted), and condition Ready True, or False with "one or more
//    namespaces failed"; the reconcile is repeated every `refreshTime` (default 1h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "operator/types.h"

namespace coffer::op {

inline constexpr std::string_view kClusterExternalSecretKind = "ClusterExternalSecret";
// One hour: ESO's default namespace re-check period (spec.refreshTime unset).
inline constexpr std::int64_t kDefaultCesRefreshMs = 3'600'000;
// The annotation ESO mirrors from a ClusterExternalSecret onto the ExternalSecrets it manages.
inline constexpr std::string_view kAnnotationForceSync = "external-secrets.io/force-sync";
// ESO's failure reasons and condition message.
inline constexpr std::string_view kCesAlreadyExists = "external secret already exists in namespace";
inline constexpr std::string_view kCesNamespacesFailed = "one or more namespaces failed";

struct NamespaceFailure {
  std::string namespace_;
  std::string reason;
  bool operator==(const NamespaceFailure&) const = default;
};

struct ClusterExternalSecretStatus {
  std::string external_secret_name;
  std::vector<std::string> provisioned_namespaces;
  std::vector<NamespaceFailure> failed_namespaces;
  std::vector<Condition> conditions;
};

struct ClusterExternalSecret {
  std::string api_version;
  ObjectMeta metadata;
  nlohmann::json external_secret_spec;  // copied as is into every ExternalSecret
  std::string external_secret_name;     // defaulted to metadata.name
  StringMap external_secret_labels;
  StringMap external_secret_annotations;
  std::vector<LabelSelector> namespace_selectors;  // the deprecated namespaceSelector first
  std::vector<std::string> namespaces;             // deprecated spec.namespaces
  std::int64_t refresh_time_ms = kDefaultCesRefreshMs;
  ClusterExternalSecretStatus status;
};

// Parses a ClusterExternalSecret (external-secrets.io v1 or v1beta1). spec.externalSecretSpec is
// required and must be an object (the ExternalSecret controller validates it in each namespace).
Result<ClusterExternalSecret> ParseClusterExternalSecret(const nlohmann::json& object);
// Reads only the status, leniently (for objects whose spec does not parse).
ClusterExternalSecretStatus ParseClusterExternalSecretStatus(const nlohmann::json& object);
nlohmann::json CesStatusToJson(const ClusterExternalSecretStatus& status);

// A Namespace as the reconcile sees it.
struct NamespaceInfo {
  std::string name;
  StringMap labels;
  bool terminating = false;  // metadata.deletionTimestamp is set
};

// Whether `ces` selects a namespace with this name and labels (before the terminating check).
bool CesSelectsNamespace(const ClusterExternalSecret& ces, std::string_view name,
                         const StringMap& labels);
// The namespaces `ces` provisions, sorted (terminating ones left out).
std::vector<std::string> SelectNamespaces(const ClusterExternalSecret& ces,
                                          const std::vector<NamespaceInfo>& namespaces);

// Whether the ExternalSecret object's controller ownerReference is the ClusterExternalSecret
// named `ces_name` (group external-secrets.io, kind ClusterExternalSecret; ESO compares names).
bool IsControlledByCes(const nlohmann::json& external_secret, std::string_view ces_name);
// The ExternalSecret `ces` wants in `ns` (apiVersion, kind, metadata with ownerReferences, spec).
nlohmann::json DesiredExternalSecret(const ClusterExternalSecret& ces, const std::string& ns);

struct CesAction {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  std::string namespace_;
  std::string name;
  // kCreate: the object to POST. kUpdate: a JSON patch (RFC 6902) that first tests the observed
  // metadata.resourceVersion. kDelete: null.
  nlohmann::json body;
  // kDelete: the uid the observed object had (a delete precondition would be the next step).
  std::string uid;
};

struct CesPlan {
  std::string external_secret_name;
  std::vector<CesAction> actions;
  // Namespaces that are provisioned once every create/update of theirs succeeds (those already up
  // to date included), sorted.
  std::vector<std::string> provisioned;
  // Failures known before any write, by namespace.
  std::map<std::string, std::string> failed;
  std::int64_t requeue_after_ms = kDefaultCesRefreshMs;
};

// What the reconcile reads: the cluster's namespaces and the ExternalSecrets it may own, keyed by
// (namespace, name); an absent key is an ExternalSecret that does not exist.
struct CesObserved {
  std::vector<NamespaceInfo> namespaces;
  std::map<std::pair<std::string, std::string>, nlohmann::json> external_secrets;
};

// The writes that bring the cluster to what `ces` wants.
CesPlan PlanClusterExternalSecret(const ClusterExternalSecret& ces, const CesObserved& observed);
// The status after the plan was carried out; `write_failures` are the actions that failed, by
// namespace (a failed delete included). Ready keeps its lastTransitionTime while its status holds.
ClusterExternalSecretStatus CesStatusAfter(const ClusterExternalSecret& ces, const CesPlan& plan,
                                           const std::map<std::string, std::string>& write_failures,
                                           std::int64_t now_ms);
// The status of a ClusterExternalSecret whose spec does not parse: failedNamespaces
// [{namespace: "unknown", reason}] (as ESO reports a selector error) and Ready False with the
// error.
ClusterExternalSecretStatus CesInvalidStatus(const ClusterExternalSecretStatus& old,
                                             const Status& error, std::int64_t now_ms);

}  // namespace coffer::op
