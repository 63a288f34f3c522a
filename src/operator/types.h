#pragma once

// The operator's domain model: ExternalSecret, SecretStore and ClusterSecretStore (group
// external-secrets.io, versions v1 and v1beta1 — the schema is the same), and the parts of a
// core/v1 Secret the reconciler looks at. Parsing takes the apiserver's JSON (nlohmann::json) and
// returns typed structs, or a Status naming the offending field. Parsing never throws and its
// messages never contain a field's value when that value could be secret (Secret data,
// fake-provider data).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace coffer::op {

inline constexpr std::string_view kGroup = "external-secrets.io";
inline constexpr std::string_view kApiVersionV1 = "external-secrets.io/v1";
inline constexpr std::string_view kApiVersionV1Beta1 = "external-secrets.io/v1beta1";

// One hour: the CRD default of spec.refreshInterval ("1h0m0s").
inline constexpr std::int64_t kDefaultRefreshIntervalMs = 3'600'000;

using StringMap = std::map<std::string, std::string>;

enum class RefreshPolicy { kPeriodic, kCreatedOnce, kOnChange };
enum class CreationPolicy { kOwner, kOrphan, kMerge, kNone };
enum class DeletionPolicy { kRetain, kDelete, kMerge };
enum class DecodingStrategy { kNone, kBase64, kBase64Url, kAuto };
enum class MetadataPolicy { kNone, kFetch };
enum class ConversionStrategy { kDefault, kUnicode };
enum class StoreKind { kSecretStore, kClusterSecretStore };

// The spelling used in manifests ("Owner", "Base64URL", ...).
std::string_view RefreshPolicyName(RefreshPolicy p);
std::string_view CreationPolicyName(CreationPolicy p);
std::string_view DeletionPolicyName(DeletionPolicy p);
std::string_view DecodingStrategyName(DecodingStrategy d);
std::string_view StoreKindName(StoreKind k);

// The metadata fields the operator reads.
struct ObjectMeta {
  std::string name;
  std::string namespace_;  // empty for cluster-scoped objects
  std::string uid;
  std::string resource_version;
  std::int64_t generation = 0;
  StringMap labels;
  StringMap annotations;
};

// One entry of metadata.ownerReferences.
struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;
  bool operator==(const OwnerReference&) const = default;
};

// A status condition (metav1.Condition-like; ESO's has no observedGeneration).
struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition_time;  // RFC 3339, e.g. "2026-01-02T03:04:05Z"
};

// spec.secretStoreRef.
struct StoreRef {
  std::string name;
  StoreKind kind = StoreKind::kSecretStore;
};

// template.mergePolicy: Replace (default) keeps only the rendered keys when template.data or
// templateFrom is given; Merge also keeps the provider's keys (below the rendered ones).
enum class TemplateMergePolicy { kReplace, kMerge };
// templateFrom[].{configMap,secret}.items[].templateAs: render each value (Values) or the whole
// value and read the output as a YAML map of keys to values (KeysAndValues).
enum class TemplateScope { kValues, kKeysAndValues };
// templateFrom[].target: where the rendered keys go in the target Secret.
enum class TemplateTarget { kData, kAnnotations, kLabels };

// One templateFrom[].{configMap,secret}.items[] entry.
struct TemplateFromItem {
  std::string key;
  TemplateScope scope = TemplateScope::kValues;
};

// One spec.target.template.templateFrom[] entry: exactly one source.
struct TemplateFrom {
  enum class Source { kConfigMap, kSecret, kLiteral };
  Source source = Source::kConfigMap;
  std::string name;  // the ConfigMap or Secret, in the ExternalSecret's namespace
  std::vector<TemplateFromItem> items;  // kConfigMap, kSecret
  std::string literal;                  // kLiteral (always KeysAndValues)
  TemplateTarget target = TemplateTarget::kData;
};

// spec.target.
struct Target {
  std::string name;  // defaults to the ExternalSecret's name
  CreationPolicy creation_policy = CreationPolicy::kOwner;
  DeletionPolicy deletion_policy = DeletionPolicy::kRetain;
  bool immutable = false;
  bool has_template = false;                // spec.target.template is present
  std::string template_type;                // template.type; empty = Opaque
  StringMap template_labels;                // template.metadata.labels (values are templates)
  StringMap template_annotations;           // template.metadata.annotations (values are templates)
  StringMap template_data;                  // template.data: key -> template
  std::vector<TemplateFrom> template_from;  // template.templateFrom, in order
  TemplateMergePolicy template_merge_policy = TemplateMergePolicy::kReplace;
};

// data[].remoteRef, and dataFrom[].extract (same Go type in ESO).
struct RemoteRef {
  std::string key;
  std::string property;
  std::string version;
  DecodingStrategy decoding_strategy = DecodingStrategy::kNone;
  MetadataPolicy metadata_policy = MetadataPolicy::kNone;
  ConversionStrategy conversion_strategy = ConversionStrategy::kDefault;
};

// The backend query of a dataFrom[].find: which remote secrets it selects. Equal queries are one
// backend listing.
struct FindQuery {
  std::string path;         // find.path: a name prefix; empty = none
  std::string name_regexp;  // find.name.regexp (Go RE2 syntax, unanchored); empty = none
  StringMap tags;           // find.tags: exact key=value pairs, all required
  auto operator<=>(const FindQuery&) const = default;
};

// spec.dataFrom[].find.
struct FindSpec {
  FindQuery query;
  ConversionStrategy conversion_strategy = ConversionStrategy::kDefault;
  DecodingStrategy decoding_strategy = DecodingStrategy::kNone;
};

// One spec.dataFrom[].rewrite[] entry: a regexp replacement or a template over each key.
struct Rewrite {
  enum class Kind { kRegexp, kTransform };
  Kind kind = Kind::kRegexp;
  std::string source;         // kRegexp: Go regexp
  std::string target;         // kRegexp: replacement with $1 / ${name}
  std::string template_text;  // kTransform: Go template, `.value` is the key
};

// One spec.dataFrom[] entry: `extract` or `find`, then `rewrite`. Converts from a RemoteRef (an
// extract entry without rewrites).
struct DataFromEntry {
  enum class Kind { kExtract, kFind };
  DataFromEntry() = default;
  DataFromEntry(RemoteRef ref) : extract(std::move(ref)) {}  // NOLINT(google-explicit-constructor)
  Kind kind = Kind::kExtract;
  RemoteRef extract;  // kExtract
  FindSpec find;      // kFind
  std::vector<Rewrite> rewrite;
};

// One spec.data[] entry.
struct DataItem {
  std::string secret_key;
  RemoteRef remote_ref;
};

// spec.status.
struct ExternalSecretStatus {
  std::optional<std::int64_t> refresh_time_ms;  // unset = never synced
  std::string synced_resource_version;
  std::vector<Condition> conditions;
  std::string binding_name;
};

// A parsed ExternalSecret.
struct ExternalSecret {
  std::string api_version;
  ObjectMeta metadata;
  std::int64_t refresh_interval_ms = kDefaultRefreshIntervalMs;
  RefreshPolicy refresh_policy = RefreshPolicy::kPeriodic;
  StoreRef store_ref;
  Target target;
  std::vector<DataItem> data;
  std::vector<DataFromEntry> data_from;  // dataFrom[], in order
  ExternalSecretStatus status;
};

// Where a credential lives: a key of a Kubernetes Secret.
struct SecretKeySelector {
  std::string name;
  std::string key;
  std::string namespace_;  // only meaningful in a ClusterSecretStore; empty = unset
};

// spec.provider.aws. `endpoint` is coffer's field (not in ESO's schema): the Secrets Manager
// endpoint URL, e.g. "http://coffer.coffer-system:8080". It overrides AWS_SECRETSMANAGER_ENDPOINT,
// which overrides the regional AWS endpoint.
struct AwsProvider {
  std::string service;  // "SecretsManager" (the only one supported)
  std::string region;
  std::string endpoint;
  std::optional<SecretKeySelector> access_key_id_ref;
  std::optional<SecretKeySelector> secret_access_key_ref;
  std::optional<SecretKeySelector> session_token_ref;
  std::string role;  // parsed, ignored: coffer has no STS
  std::string prefix;
};

// One spec.provider.fake.data[] entry.
struct FakeProviderEntry {
  std::string key;
  std::string value;
  std::string version;
  StringMap value_map;  // deprecated in ESO v1; still accepted
};

// spec.provider.fake.
struct FakeProvider {
  std::vector<FakeProviderEntry> data;
};

enum class ProviderType { kAws, kFake };

// A metav1.LabelSelector: matchLabels and matchExpressions are ANDed; an empty selector matches
// every label set (as Kubernetes' LabelSelectorAsSelector).
struct LabelSelectorRequirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;
};
struct LabelSelector {
  StringMap match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
};

// Parses a metav1.LabelSelector at `path` (for messages). In/NotIn need values, Exists and
// DoesNotExist must have none; other operators are errors.
Result<LabelSelector> ParseLabelSelector(const nlohmann::json& selector, std::string_view path);
bool SelectorMatches(const LabelSelector& selector, const StringMap& labels);

// One spec.conditions[] entry of a ClusterSecretStore: which namespaces may use it. A namespace is
// allowed when any entry matches it by name, by regular expression (unanchored, as Go's
// MatchString) or by namespaceSelector (matchLabels and matchExpressions).
struct NamespaceCondition {
  std::vector<std::string> namespaces;
  std::vector<std::string> namespace_regexes;
  std::optional<LabelSelector> selector;
};

// A parsed SecretStore or ClusterSecretStore.
struct SecretStore {
  std::string api_version;
  StoreKind kind = StoreKind::kSecretStore;
  ObjectMeta metadata;
  std::string controller;                // spec.controller (controller class); empty = any
  std::int64_t refresh_interval_ms = 0;  // spec.refreshInterval; 0 = the operator's default
  ProviderType provider_type = ProviderType::kAws;
  AwsProvider aws;                                       // valid when provider_type == kAws
  FakeProvider fake;                                     // valid when provider_type == kFake
  std::vector<NamespaceCondition> namespace_conditions;  // spec.conditions (ClusterSecretStore)
  std::vector<Condition> conditions;                     // status.conditions
};

// The parts of a core/v1 Secret the reconciler compares. `data` holds decoded bytes.
struct ObservedSecret {
  ObjectMeta metadata;
  std::string type = "Opaque";
  std::map<std::string, std::string> data;
  bool immutable = false;
  std::vector<OwnerReference> owner_references;
  nlohmann::json raw;  // the object as read (set by ParseSecret), for full-object updates
};

// Parses a Go duration ("15m", "1h30m", "1.5h", "300ms", "0") into milliseconds (sub-millisecond
// parts are truncated). Units: ns, us, µs, ms, s, m, h. A bare "0" is allowed, other numbers need a
// unit (as in Go). Negative values parse (Go allows them) and act like 0.
Result<std::int64_t> ParseGoDuration(std::string_view text);

// Formats milliseconds as Go's time.Duration.String() does: "1h0m0s", "15m0s", "1.5s", "0s".
std::string FormatGoDuration(std::int64_t ms);

// RFC 3339 "2006-01-02T15:04:05Z" (fractional seconds and numeric offsets accepted) -> epoch ms.
Result<std::int64_t> ParseRfc3339(std::string_view text);

// Parses metadata (name, namespace, uid, resourceVersion, generation, labels, annotations).
Result<ObjectMeta> ParseObjectMeta(const nlohmann::json& metadata);

// Parses an ExternalSecret object. Checks apiVersion (v1 or v1beta1) and kind, applies ESO's
// defaults, and enforces the admission rules ESO's webhook would: data or dataFrom is required,
// secretKey is unique and matches ^[-._a-zA-Z0-9]+$, deletionPolicy Delete is not allowed with
// creationPolicy Merge or None, deletionPolicy Merge not with None, and each dataFrom entry has
// exactly one of `extract` and `find` (generators / sourceRef and rewrite `merge` are not
// supported by coffer and are rejected by name); find needs name.regexp or tags; regexps must
// compile (Go RE2 syntax).
Result<ExternalSecret> ParseExternalSecret(const nlohmann::json& object);

// Parses only the `status` of an ExternalSecret object (empty status when absent). Used when the
// spec does not parse but the status must still be updated.
Result<ExternalSecretStatus> ParseExternalSecretStatus(const nlohmann::json& object);

// Parses a SecretStore or ClusterSecretStore (by `kind`). Exactly one provider must be set and it
// must be `aws` (service SecretsManager, region required, secretRef auth with both keys or no auth)
// or `fake`. A namespace on a credential reference is only allowed in a ClusterSecretStore.
// Errors say which field is wrong; they are InvalidArgument (store status InvalidProviderConfig).
Result<SecretStore> ParseSecretStore(const nlohmann::json& object);

// Parses a core/v1 Secret; `data` values are base64-decoded, `stringData` is ignored (the apiserver
// never returns it). Error messages name the key, never the value.
Result<ObservedSecret> ParseSecret(const nlohmann::json& object);

// Serialises a condition / an ExternalSecret status the way the apiserver stores them.
nlohmann::json ConditionToJson(const Condition& c);
nlohmann::json StatusToJson(const ExternalSecretStatus& status);

// The condition of `type`, or nullptr.
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);

}  // namespace coffer::op
