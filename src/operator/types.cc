#include "operator/types.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "core/encoding.h"
#include "core/regexp.h"

namespace coffer::op {
namespace {

using nlohmann::json;

Status Invalid(std::string_view path, std::string_view what) {
  return Status::InvalidArgument(std::string(path) + ": " + std::string(what));
}

// The member `key` of `obj`, or nullptr when absent or null.
const json* Member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// A string member; absent = `fallback`. Not a string = error.
Result<std::string> StringField(const json& obj, std::string_view key, std::string_view path,
                                std::string_view fallback = "") {
  const json* v = Member(obj, key);
  if (v == nullptr) return std::string(fallback);
  if (!v->is_string())
    return Invalid(std::string(path) + "." + std::string(key), "must be a string");
  return v->get<std::string>();
}

Result<std::string> RequiredString(const json& obj, std::string_view key, std::string_view path) {
  COFFER_ASSIGN_OR_RETURN(std::string s, StringField(obj, key, path));
  if (s.empty()) return Invalid(std::string(path) + "." + std::string(key), "is required");
  return s;
}

Result<bool> BoolField(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Member(obj, key);
  if (v == nullptr) return false;
  if (!v->is_boolean())
    return Invalid(std::string(path) + "." + std::string(key), "must be a boolean");
  return v->get<bool>();
}

Result<const json*> ObjectField(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Member(obj, key);
  if (v != nullptr && !v->is_object()) {
    return Invalid(std::string(path) + "." + std::string(key), "must be an object");
  }
  return v;
}

Result<const json*> ArrayField(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Member(obj, key);
  if (v != nullptr && !v->is_array()) {
    return Invalid(std::string(path) + "." + std::string(key), "must be a list");
  }
  return v;
}

// A map[string]string (labels, annotations). Values may be secret-free metadata, but we still do
// not echo them.
Result<StringMap> StringMapField(const json& obj, std::string_view key, std::string_view path) {
  StringMap out;
  COFFER_ASSIGN_OR_RETURN(const json* m, ObjectField(obj, key, path));
  if (m == nullptr) return out;
  for (const auto& [k, v] : m->items()) {
    if (!v.is_string()) {
      return Invalid(std::string(path) + "." + std::string(key) + "." + k, "must be a string");
    }
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

// Matches one of `names` (the manifest spelling) and returns its index; empty = `fallback`.
template <typename E, std::size_t N>
Result<E> EnumField(const json& obj, std::string_view key, std::string_view path,
                    const std::pair<std::string_view, E> (&names)[N], E fallback) {
  COFFER_ASSIGN_OR_RETURN(std::string s, StringField(obj, key, path));
  if (s.empty()) return fallback;
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (s == name) return value;
    if (!allowed.empty()) allowed += ", ";
    allowed += name;
  }
  return Invalid(std::string(path) + "." + std::string(key),
                 "unsupported value \"" + s + "\"; supported values: " + allowed);
}

constexpr std::pair<std::string_view, RefreshPolicy> kRefreshPolicies[] = {
    {"Periodic", RefreshPolicy::kPeriodic},
    {"CreatedOnce", RefreshPolicy::kCreatedOnce},
    {"OnChange", RefreshPolicy::kOnChange}};
constexpr std::pair<std::string_view, CreationPolicy> kCreationPolicies[] = {
    {"Owner", CreationPolicy::kOwner},
    {"Orphan", CreationPolicy::kOrphan},
    {"Merge", CreationPolicy::kMerge},
    {"None", CreationPolicy::kNone}};
constexpr std::pair<std::string_view, DeletionPolicy> kDeletionPolicies[] = {
    {"Retain", DeletionPolicy::kRetain},
    {"Delete", DeletionPolicy::kDelete},
    {"Merge", DeletionPolicy::kMerge}};
constexpr std::pair<std::string_view, DecodingStrategy> kDecodingStrategies[] = {
    {"None", DecodingStrategy::kNone},
    {"Base64", DecodingStrategy::kBase64},
    {"Base64URL", DecodingStrategy::kBase64Url},
    {"Auto", DecodingStrategy::kAuto}};
constexpr std::pair<std::string_view, MetadataPolicy> kMetadataPolicies[] = {
    {"None", MetadataPolicy::kNone}, {"Fetch", MetadataPolicy::kFetch}};
constexpr std::pair<std::string_view, ConversionStrategy> kConversionStrategies[] = {
    {"Default", ConversionStrategy::kDefault}, {"Unicode", ConversionStrategy::kUnicode}};
constexpr std::pair<std::string_view, TemplateMergePolicy> kTemplateMergePolicies[] = {
    {"Replace", TemplateMergePolicy::kReplace}, {"Merge", TemplateMergePolicy::kMerge}};
constexpr std::pair<std::string_view, TemplateScope> kTemplateScopes[] = {
    {"Values", TemplateScope::kValues}, {"KeysAndValues", TemplateScope::kKeysAndValues}};
constexpr std::pair<std::string_view, TemplateTarget> kTemplateTargets[] = {
    {"Data", TemplateTarget::kData},
    {"Annotations", TemplateTarget::kAnnotations},
    {"Labels", TemplateTarget::kLabels}};
constexpr std::pair<std::string_view, StoreKind> kStoreKinds[] = {
    {"SecretStore", StoreKind::kSecretStore},
    {"ClusterSecretStore", StoreKind::kClusterSecretStore}};

template <typename E, std::size_t N>
std::string_view NameOf(const std::pair<std::string_view, E> (&names)[N], E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "";
}

bool IsSecretKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

Status CheckApiVersionAndKind(const json& object, std::string_view want_kind,
                              std::string_view want_kind2 = "") {
  if (!object.is_object()) return Status::InvalidArgument("object must be a JSON object");
  COFFER_ASSIGN_OR_RETURN(std::string api_version, StringField(object, "apiVersion", "object"));
  if (api_version != kApiVersionV1 && api_version != kApiVersionV1Beta1) {
    return Invalid("apiVersion",
                   "unsupported \"" + api_version +
                       "\"; supported: external-secrets.io/v1, external-secrets.io/v1beta1");
  }
  COFFER_ASSIGN_OR_RETURN(std::string kind, StringField(object, "kind", "object"));
  if (kind != want_kind && (want_kind2.empty() || kind != want_kind2)) {
    return Invalid("kind", "expected " + std::string(want_kind) + ", got \"" + kind + "\"");
  }
  return Status::Ok();
}

Result<RemoteRef> ParseRemoteRef(const json& obj, const std::string& path) {
  RemoteRef r;
  COFFER_ASSIGN_OR_RETURN(r.key, RequiredString(obj, "key", path));
  COFFER_ASSIGN_OR_RETURN(r.property, StringField(obj, "property", path));
  COFFER_ASSIGN_OR_RETURN(r.version, StringField(obj, "version", path));
  COFFER_ASSIGN_OR_RETURN(
      r.decoding_strategy,
      EnumField(obj, "decodingStrategy", path, kDecodingStrategies, DecodingStrategy::kNone));
  COFFER_ASSIGN_OR_RETURN(r.metadata_policy, EnumField(obj, "metadataPolicy", path,
                                                       kMetadataPolicies, MetadataPolicy::kNone));
  COFFER_ASSIGN_OR_RETURN(r.conversion_strategy,
                          EnumField(obj, "conversionStrategy", path, kConversionStrategies,
                                    ConversionStrategy::kDefault));
  return r;
}

Result<std::vector<TemplateFromItem>> ParseTemplateFromItems(const json& source,
                                                             const std::string& path) {
  std::vector<TemplateFromItem> items;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(source, "items", path));
  if (list == nullptr) return items;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string ipath = path + ".items[" + std::to_string(i) + "]";
    const json& item = (*list)[i];
    if (!item.is_object()) return Invalid(ipath, "must be an object");
    TemplateFromItem it;
    COFFER_ASSIGN_OR_RETURN(it.key, RequiredString(item, "key", ipath));
    COFFER_ASSIGN_OR_RETURN(
        it.scope, EnumField(item, "templateAs", ipath, kTemplateScopes, TemplateScope::kValues));
    items.push_back(std::move(it));
  }
  return items;
}

// spec.target.template.templateFrom: each entry names exactly one of configMap, secret and
// literal.
Result<std::vector<TemplateFrom>> ParseTemplateFrom(const json& tmpl, const std::string& tpath) {
  std::vector<TemplateFrom> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(tmpl, "templateFrom", tpath));
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string path = tpath + ".templateFrom[" + std::to_string(i) + "]";
    const json& entry = (*list)[i];
    if (!entry.is_object()) return Invalid(path, "must be an object");
    TemplateFrom tf;
    COFFER_ASSIGN_OR_RETURN(
        tf.target, EnumField(entry, "target", path, kTemplateTargets, TemplateTarget::kData));
    COFFER_ASSIGN_OR_RETURN(const json* cm, ObjectField(entry, "configMap", path));
    COFFER_ASSIGN_OR_RETURN(const json* sec, ObjectField(entry, "secret", path));
    const json* literal = Member(entry, "literal");
    const int sources = (cm != nullptr) + (sec != nullptr) + (literal != nullptr);
    if (sources != 1) {
      return Invalid(path, "must set exactly one of configMap, secret and literal");
    }
    if (literal != nullptr) {
      COFFER_ASSIGN_OR_RETURN(tf.literal, RequiredString(entry, "literal", path));
      tf.source = TemplateFrom::Source::kLiteral;
    } else {
      const json& src = cm != nullptr ? *cm : *sec;
      const std::string spath = path + (cm != nullptr ? ".configMap" : ".secret");
      tf.source = cm != nullptr ? TemplateFrom::Source::kConfigMap : TemplateFrom::Source::kSecret;
      COFFER_ASSIGN_OR_RETURN(tf.name, RequiredString(src, "name", spath));
      COFFER_ASSIGN_OR_RETURN(tf.items, ParseTemplateFromItems(src, spath));
    }
    out.push_back(std::move(tf));
  }
  return out;
}

Result<Target> ParseTarget(const json* target, const std::string& es_name) {
  Target t;
  t.name = es_name;
  if (target == nullptr) return t;
  const std::string path = "spec.target";
  COFFER_ASSIGN_OR_RETURN(std::string name, StringField(*target, "name", path));
  if (!name.empty()) t.name = std::move(name);
  COFFER_ASSIGN_OR_RETURN(t.creation_policy, EnumField(*target, "creationPolicy", path,
                                                       kCreationPolicies, CreationPolicy::kOwner));
  COFFER_ASSIGN_OR_RETURN(t.deletion_policy, EnumField(*target, "deletionPolicy", path,
                                                       kDeletionPolicies, DeletionPolicy::kRetain));
  COFFER_ASSIGN_OR_RETURN(t.immutable, BoolField(*target, "immutable", path));
  COFFER_ASSIGN_OR_RETURN(const json* tmpl, ObjectField(*target, "template", path));
  if (tmpl != nullptr) {
    t.has_template = true;
    const std::string tpath = path + ".template";
    COFFER_ASSIGN_OR_RETURN(std::string engine, StringField(*tmpl, "engineVersion", tpath));
    if (!engine.empty() && engine != "v2") {
      return Invalid(tpath + ".engineVersion",
                     "unsupported value \"" + engine + "\"; supported values: v2");
    }
    COFFER_ASSIGN_OR_RETURN(t.template_type, StringField(*tmpl, "type", tpath));
    COFFER_ASSIGN_OR_RETURN(t.template_merge_policy,
                            EnumField(*tmpl, "mergePolicy", tpath, kTemplateMergePolicies,
                                      TemplateMergePolicy::kReplace));
    COFFER_ASSIGN_OR_RETURN(t.template_data, StringMapField(*tmpl, "data", tpath));
    COFFER_ASSIGN_OR_RETURN(t.template_from, ParseTemplateFrom(*tmpl, tpath));
    COFFER_ASSIGN_OR_RETURN(const json* meta, ObjectField(*tmpl, "metadata", tpath));
    if (meta != nullptr) {
      COFFER_ASSIGN_OR_RETURN(t.template_labels,
                              StringMapField(*meta, "labels", tpath + ".metadata"));
      COFFER_ASSIGN_OR_RETURN(t.template_annotations,
                              StringMapField(*meta, "annotations", tpath + ".metadata"));
    }
  }
  return t;
}

// ESO's admission rules for the creation/deletion policy pair.
Status CheckPolicyPair(const Target& t) {
  if (t.deletion_policy == DeletionPolicy::kDelete &&
      (t.creation_policy == CreationPolicy::kMerge || t.creation_policy == CreationPolicy::kNone)) {
    return Invalid("spec.target", "deletionPolicy=Delete must not be used when creationPolicy=" +
                                      std::string(CreationPolicyName(t.creation_policy)));
  }
  if (t.deletion_policy == DeletionPolicy::kMerge && t.creation_policy == CreationPolicy::kNone) {
    return Invalid("spec.target", "deletionPolicy=Merge must not be used with creationPolicy=None");
  }
  return Status::Ok();
}

Result<std::vector<DataItem>> ParseData(const json& spec) {
  std::vector<DataItem> out;
  COFFER_ASSIGN_OR_RETURN(const json* data, ArrayField(spec, "data", "spec"));
  if (data == nullptr) return out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < data->size(); ++i) {
    const std::string path = "spec.data[" + std::to_string(i) + "]";
    const json& entry = (*data)[i];
    if (!entry.is_object()) return Invalid(path, "must be an object");
    DataItem item;
    COFFER_ASSIGN_OR_RETURN(item.secret_key, RequiredString(entry, "secretKey", path));
    if (item.secret_key.size() > 253) return Invalid(path + ".secretKey", "longer than 253");
    for (char c : item.secret_key) {
      if (!IsSecretKeyChar(c)) {
        return Invalid(path + ".secretKey", "must match ^[-._a-zA-Z0-9]+$");
      }
    }
    if (!seen.insert(item.secret_key).second) {
      return Invalid(path + ".secretKey", "duplicate secretKey \"" + item.secret_key + "\"");
    }
    if (Member(entry, "sourceRef") != nullptr) {
      return Invalid(path + ".sourceRef", "is not supported by coffer operator");
    }
    COFFER_ASSIGN_OR_RETURN(const json* ref, ObjectField(entry, "remoteRef", path));
    if (ref == nullptr) return Invalid(path + ".remoteRef", "is required");
    COFFER_ASSIGN_OR_RETURN(item.remote_ref, ParseRemoteRef(*ref, path + ".remoteRef"));
    out.push_back(std::move(item));
  }
  return out;
}

// A Go regexp field: must compile. The error names the field, never the expression.
Status CheckRegexp(const std::string& pattern, const std::string& path) {
  Result<Regexp> re = Regexp::Compile(pattern);
  if (!re.ok()) return Invalid(path, re.status().message());
  return Status::Ok();
}

// spec.dataFrom[].find: path, name.regexp, tags (at least one of name and tags, as ESO's AWS
// provider requires), conversion and decoding strategies.
Result<FindSpec> ParseFind(const json& find, const std::string& path) {
  FindSpec f;
  COFFER_ASSIGN_OR_RETURN(f.query.path, StringField(find, "path", path));
  COFFER_ASSIGN_OR_RETURN(const json* name, ObjectField(find, "name", path));
  if (name != nullptr) {
    COFFER_ASSIGN_OR_RETURN(f.query.name_regexp, RequiredString(*name, "regexp", path + ".name"));
    COFFER_RETURN_IF_ERROR(CheckRegexp(f.query.name_regexp, path + ".name.regexp"));
  }
  COFFER_ASSIGN_OR_RETURN(f.query.tags, StringMapField(find, "tags", path));
  if (name == nullptr && f.query.tags.empty()) {
    return Invalid(path, "name.regexp or tags is required");
  }
  COFFER_ASSIGN_OR_RETURN(
      f.decoding_strategy,
      EnumField(find, "decodingStrategy", path, kDecodingStrategies, DecodingStrategy::kNone));
  COFFER_ASSIGN_OR_RETURN(f.conversion_strategy,
                          EnumField(find, "conversionStrategy", path, kConversionStrategies,
                                    ConversionStrategy::kDefault));
  return f;
}

// spec.dataFrom[].rewrite: each entry exactly one of regexp and transform (merge is rejected).
Result<std::vector<Rewrite>> ParseRewrites(const json& entry, const std::string& epath) {
  std::vector<Rewrite> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(entry, "rewrite", epath));
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string path = epath + ".rewrite[" + std::to_string(i) + "]";
    const json& r = (*list)[i];
    if (!r.is_object()) return Invalid(path, "must be an object");
    if (Member(r, "merge") != nullptr) {
      return Invalid(path + ".merge", "is not supported by coffer operator");
    }
    COFFER_ASSIGN_OR_RETURN(const json* re, ObjectField(r, "regexp", path));
    COFFER_ASSIGN_OR_RETURN(const json* tr, ObjectField(r, "transform", path));
    if ((re != nullptr) == (tr != nullptr)) {
      return Invalid(path, "must set exactly one of regexp and transform");
    }
    Rewrite rw;
    if (re != nullptr) {
      rw.kind = Rewrite::Kind::kRegexp;
      COFFER_ASSIGN_OR_RETURN(rw.source, RequiredString(*re, "source", path + ".regexp"));
      COFFER_RETURN_IF_ERROR(CheckRegexp(rw.source, path + ".regexp.source"));
      // An empty target is allowed: it deletes the matched part.
      const json* target = Member(*re, "target");
      if (target == nullptr) return Invalid(path + ".regexp.target", "is required");
      if (!target->is_string()) return Invalid(path + ".regexp.target", "must be a string");
      rw.target = target->get<std::string>();
    } else {
      rw.kind = Rewrite::Kind::kTransform;
      COFFER_ASSIGN_OR_RETURN(rw.template_text,
                              RequiredString(*tr, "template", path + ".transform"));
    }
    out.push_back(std::move(rw));
  }
  return out;
}

Result<std::vector<DataFromEntry>> ParseDataFrom(const json& spec) {
  std::vector<DataFromEntry> out;
  COFFER_ASSIGN_OR_RETURN(const json* data_from, ArrayField(spec, "dataFrom", "spec"));
  if (data_from == nullptr) return out;
  for (std::size_t i = 0; i < data_from->size(); ++i) {
    const std::string path = "spec.dataFrom[" + std::to_string(i) + "]";
    const json& entry = (*data_from)[i];
    if (!entry.is_object()) return Invalid(path, "must be an object");
    if (Member(entry, "sourceRef") != nullptr) {
      return Invalid(path + ".sourceRef", "is not supported by coffer operator");
    }
    COFFER_ASSIGN_OR_RETURN(const json* extract, ObjectField(entry, "extract", path));
    COFFER_ASSIGN_OR_RETURN(const json* find, ObjectField(entry, "find", path));
    if (extract != nullptr && find != nullptr) {
      return Invalid(path, "must set exactly one of extract and find");
    }
    if (extract == nullptr && find == nullptr) return Invalid(path, "extract or find is required");
    DataFromEntry e;
    if (extract != nullptr) {
      e.kind = DataFromEntry::Kind::kExtract;
      COFFER_ASSIGN_OR_RETURN(e.extract, ParseRemoteRef(*extract, path + ".extract"));
    } else {
      e.kind = DataFromEntry::Kind::kFind;
      COFFER_ASSIGN_OR_RETURN(e.find, ParseFind(*find, path + ".find"));
    }
    COFFER_ASSIGN_OR_RETURN(e.rewrite, ParseRewrites(entry, path));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Condition> ParseCondition(const json& c, const std::string& path) {
  Condition out;
  COFFER_ASSIGN_OR_RETURN(out.type, StringField(c, "type", path));
  COFFER_ASSIGN_OR_RETURN(out.status, StringField(c, "status", path));
  COFFER_ASSIGN_OR_RETURN(out.reason, StringField(c, "reason", path));
  COFFER_ASSIGN_OR_RETURN(out.message, StringField(c, "message", path));
  COFFER_ASSIGN_OR_RETURN(out.last_transition_time, StringField(c, "lastTransitionTime", path));
  return out;
}

Result<std::vector<Condition>> ParseConditions(const json& status, const std::string& path) {
  std::vector<Condition> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(status, "conditions", path));
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string cpath = path + ".conditions[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) return Invalid(cpath, "must be an object");
    COFFER_ASSIGN_OR_RETURN(Condition c, ParseCondition((*list)[i], cpath));
    out.push_back(std::move(c));
  }
  return out;
}

Result<ExternalSecretStatus> ParseEsStatus(const json* status) {
  ExternalSecretStatus out;
  if (status == nullptr) return out;
  COFFER_ASSIGN_OR_RETURN(std::string refresh_time, StringField(*status, "refreshTime", "status"));
  if (!refresh_time.empty()) {
    COFFER_ASSIGN_OR_RETURN(std::int64_t ms, ParseRfc3339(refresh_time));
    out.refresh_time_ms = ms;
  }
  COFFER_ASSIGN_OR_RETURN(out.synced_resource_version,
                          StringField(*status, "syncedResourceVersion", "status"));
  COFFER_ASSIGN_OR_RETURN(out.conditions, ParseConditions(*status, "status"));
  COFFER_ASSIGN_OR_RETURN(const json* binding, ObjectField(*status, "binding", "status"));
  if (binding != nullptr) {
    COFFER_ASSIGN_OR_RETURN(out.binding_name, StringField(*binding, "name", "status.binding"));
  }
  return out;
}

Result<SecretKeySelector> ParseKeySelector(const json& obj, const std::string& path,
                                           StoreKind kind) {
  SecretKeySelector s;
  COFFER_ASSIGN_OR_RETURN(s.name, RequiredString(obj, "name", path));
  COFFER_ASSIGN_OR_RETURN(s.key, RequiredString(obj, "key", path));
  COFFER_ASSIGN_OR_RETURN(s.namespace_, StringField(obj, "namespace", path));
  if (!s.namespace_.empty() && kind == StoreKind::kSecretStore) {
    return Invalid(path + ".namespace", "is only allowed in a ClusterSecretStore");
  }
  return s;
}

Result<std::optional<SecretKeySelector>> OptionalKeySelector(const json& obj, std::string_view key,
                                                             const std::string& path,
                                                             StoreKind kind) {
  COFFER_ASSIGN_OR_RETURN(const json* sel, ObjectField(obj, key, path));
  if (sel == nullptr) return std::optional<SecretKeySelector>();
  COFFER_ASSIGN_OR_RETURN(SecretKeySelector s,
                          ParseKeySelector(*sel, path + "." + std::string(key), kind));
  return std::optional<SecretKeySelector>(std::move(s));
}

Result<AwsProvider> ParseAws(const json& aws, StoreKind kind) {
  const std::string path = "spec.provider.aws";
  AwsProvider p;
  COFFER_ASSIGN_OR_RETURN(p.service, RequiredString(aws, "service", path));
  if (p.service != "SecretsManager") {
    return Invalid(path + ".service",
                   "unsupported service \"" + p.service + "\"; coffer supports SecretsManager");
  }
  COFFER_ASSIGN_OR_RETURN(p.region, RequiredString(aws, "region", path));
  COFFER_ASSIGN_OR_RETURN(p.endpoint, StringField(aws, "endpoint", path));
  if (!p.endpoint.empty() && p.endpoint.rfind("http://", 0) != 0 &&
      p.endpoint.rfind("https://", 0) != 0) {
    return Invalid(path + ".endpoint", "must be an http:// or https:// URL");
  }
  COFFER_ASSIGN_OR_RETURN(p.role, StringField(aws, "role", path));
  COFFER_ASSIGN_OR_RETURN(p.prefix, StringField(aws, "prefix", path));
  COFFER_ASSIGN_OR_RETURN(const json* auth, ObjectField(aws, "auth", path));
  if (auth == nullptr) return p;
  if (Member(*auth, "jwt") != nullptr) {
    return Invalid(path + ".auth.jwt", "is not supported by coffer operator; use auth.secretRef");
  }
  COFFER_ASSIGN_OR_RETURN(const json* ref, ObjectField(*auth, "secretRef", path + ".auth"));
  if (ref == nullptr) return p;
  const std::string rpath = path + ".auth.secretRef";
  COFFER_ASSIGN_OR_RETURN(p.access_key_id_ref,
                          OptionalKeySelector(*ref, "accessKeyIDSecretRef", rpath, kind));
  COFFER_ASSIGN_OR_RETURN(p.secret_access_key_ref,
                          OptionalKeySelector(*ref, "secretAccessKeySecretRef", rpath, kind));
  COFFER_ASSIGN_OR_RETURN(p.session_token_ref,
                          OptionalKeySelector(*ref, "sessionTokenSecretRef", rpath, kind));
  if (p.access_key_id_ref.has_value() != p.secret_access_key_ref.has_value()) {
    return Invalid(rpath, "accessKeyIDSecretRef and secretAccessKeySecretRef must both be set");
  }
  return p;
}

Result<FakeProvider> ParseFake(const json& fake) {
  const std::string path = "spec.provider.fake";
  FakeProvider p;
  COFFER_ASSIGN_OR_RETURN(const json* data, ArrayField(fake, "data", path));
  if (data == nullptr) return p;
  for (std::size_t i = 0; i < data->size(); ++i) {
    const std::string epath = path + ".data[" + std::to_string(i) + "]";
    const json& e = (*data)[i];
    if (!e.is_object()) return Invalid(epath, "must be an object");
    FakeProviderEntry entry;
    COFFER_ASSIGN_OR_RETURN(entry.key, RequiredString(e, "key", epath));
    COFFER_ASSIGN_OR_RETURN(entry.value, StringField(e, "value", epath));
    COFFER_ASSIGN_OR_RETURN(entry.version, StringField(e, "version", epath));
    COFFER_ASSIGN_OR_RETURN(entry.value_map, StringMapField(e, "valueMap", epath));
    p.data.push_back(std::move(entry));
  }
  return p;
}

Result<std::vector<std::string>> StringListField(const json& obj, std::string_view key,
                                                 const std::string& path) {
  std::vector<std::string> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(obj, key, path));
  if (list == nullptr) return out;
  for (const json& v : *list) {
    if (!v.is_string()) return Invalid(path + "." + std::string(key), "must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::vector<NamespaceCondition>> ParseNamespaceConditions(const json& spec) {
  std::vector<NamespaceCondition> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayField(spec, "conditions", "spec"));
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string path = "spec.conditions[" + std::to_string(i) + "]";
    const json& c = (*list)[i];
    if (!c.is_object()) return Invalid(path, "must be an object");
    NamespaceCondition nc;
    COFFER_ASSIGN_OR_RETURN(nc.namespaces, StringListField(c, "namespaces", path));
    COFFER_ASSIGN_OR_RETURN(nc.namespace_regexes, StringListField(c, "namespaceRegexes", path));
    COFFER_ASSIGN_OR_RETURN(const json* selector, ObjectField(c, "namespaceSelector", path));
    if (selector != nullptr) {
      COFFER_ASSIGN_OR_RETURN(nc.selector,
                              ParseLabelSelector(*selector, path + ".namespaceSelector"));
    }
    out.push_back(std::move(nc));
  }
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

// --- label selectors ---------------------------------------------------------------------------

Result<LabelSelector> ParseLabelSelector(const json& selector, std::string_view path) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) return Invalid(path, "must be an object");
  COFFER_ASSIGN_OR_RETURN(out.match_labels, StringMapField(selector, "matchLabels", path));
  const json* expressions = Member(selector, "matchExpressions");
  if (expressions == nullptr) return out;
  const std::string list_path = std::string(path) + ".matchExpressions";
  if (!expressions->is_array()) return Invalid(list_path, "must be a list");
  for (std::size_t i = 0; i < expressions->size(); ++i) {
    const json& e = (*expressions)[i];
    const std::string where = list_path + "[" + std::to_string(i) + "]";
    if (!e.is_object()) return Invalid(where, "must be an object");
    LabelSelectorRequirement r;
    COFFER_ASSIGN_OR_RETURN(r.key, RequiredString(e, "key", where));
    COFFER_ASSIGN_OR_RETURN(const std::string op, StringField(e, "operator", where));
    COFFER_ASSIGN_OR_RETURN(r.values, StringListField(e, "values", where));
    if (op == "In" || op == "NotIn") {
      r.op = op == "In" ? LabelSelectorRequirement::Operator::kIn
                        : LabelSelectorRequirement::Operator::kNotIn;
      if (r.values.empty()) {
        return Invalid(where + ".values", "must be non-empty for operator " + op);
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      r.op = op == "Exists" ? LabelSelectorRequirement::Operator::kExists
                            : LabelSelectorRequirement::Operator::kDoesNotExist;
      if (!r.values.empty()) {
        return Invalid(where + ".values", "must be empty for operator " + op);
      }
    } else {
      return Invalid(where + ".operator",
                     "\"" + op +
                         "\" is not a valid label selector operator (In, NotIn, Exists, "
                         "DoesNotExist)");
    }
    out.match_expressions.push_back(std::move(r));
  }
  return out;
}

bool SelectorMatches(const LabelSelector& selector, const StringMap& labels) {
  for (const auto& [k, v] : selector.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const LabelSelectorRequirement& r : selector.match_expressions) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in =
        has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelSelectorRequirement::Operator::kIn:
        if (!in) return false;
        break;
      case LabelSelectorRequirement::Operator::kNotIn:
        if (in) return false;  // a missing label is "not in", as in Kubernetes
        break;
      case LabelSelectorRequirement::Operator::kExists:
        if (!has) return false;
        break;
      case LabelSelectorRequirement::Operator::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

std::string_view RefreshPolicyName(RefreshPolicy p) { return NameOf(kRefreshPolicies, p); }
std::string_view CreationPolicyName(CreationPolicy p) { return NameOf(kCreationPolicies, p); }
std::string_view DeletionPolicyName(DeletionPolicy p) { return NameOf(kDeletionPolicies, p); }
std::string_view DecodingStrategyName(DecodingStrategy d) { return NameOf(kDecodingStrategies, d); }
std::string_view StoreKindName(StoreKind k) { return NameOf(kStoreKinds, k); }

Result<std::int64_t> ParseGoDuration(std::string_view text) {
  const std::string original(text);
  auto bad = [&] { return Status::InvalidArgument("invalid duration \"" + original + "\""); };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::int64_t{0};
  if (text.empty()) return bad();
  long double total_ns = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      value = value * 10 + (text[i++] - '0');
      digits = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
        value += (text[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return bad();
    std::size_t u = i;
    while (u < text.size() && text[u] != '.' &&
           std::isdigit(static_cast<unsigned char>(text[u])) == 0) {
      ++u;
    }
    const std::string_view unit = text.substr(i, u - i);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return bad();
    total_ns += value * mult;
    if (total_ns > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) return bad();
    text.remove_prefix(u);
  }
  const auto ms = static_cast<std::int64_t>(total_ns / 1e6L);
  return negative ? -ms : ms;
}

std::string FormatGoDuration(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  std::uint64_t u =
      ms < 0 ? static_cast<std::uint64_t>(-(ms + 1)) + 1 : static_cast<std::uint64_t>(ms);
  if (u < 1000) return out + std::to_string(u) + "ms";
  const std::uint64_t hours = u / 3'600'000;
  const std::uint64_t minutes = (u / 60'000) % 60;
  const std::uint64_t secs = (u / 1000) % 60;
  const std::uint64_t frac = u % 1000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(secs);
  if (frac != 0) {
    std::string f = std::to_string(frac + 1000).substr(1);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "s";
}

Result<std::int64_t> ParseRfc3339(std::string_view s) {
  const std::string original(s);
  auto bad = [&] { return Status::InvalidArgument("invalid RFC 3339 time \"" + original + "\""); };
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !ReadDigits(s, 0, 4, &year) || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) != 0) {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  std::int64_t offset_min = 0;
  const std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    // UTC
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh, om;
    if (!ReadDigits(zone, 1, 2, &oh) || !ReadDigits(zone, 4, 2, &om)) return bad();
    offset_min = (oh * 60 + om) * (zone[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + millis;
}

Result<ObjectMeta> ParseObjectMeta(const json& metadata) {
  ObjectMeta m;
  if (!metadata.is_object()) return Invalid("metadata", "is required");
  COFFER_ASSIGN_OR_RETURN(m.name, RequiredString(metadata, "name", "metadata"));
  COFFER_ASSIGN_OR_RETURN(m.namespace_, StringField(metadata, "namespace", "metadata"));
  COFFER_ASSIGN_OR_RETURN(m.uid, StringField(metadata, "uid", "metadata"));
  COFFER_ASSIGN_OR_RETURN(m.resource_version, StringField(metadata, "resourceVersion", "metadata"));
  if (const json* g = Member(metadata, "generation"); g != nullptr) {
    if (!g->is_number_integer()) return Invalid("metadata.generation", "must be an integer");
    m.generation = g->get<std::int64_t>();
  }
  COFFER_ASSIGN_OR_RETURN(m.labels, StringMapField(metadata, "labels", "metadata"));
  COFFER_ASSIGN_OR_RETURN(m.annotations, StringMapField(metadata, "annotations", "metadata"));
  return m;
}

Result<ExternalSecret> ParseExternalSecret(const json& object) {
  COFFER_RETURN_IF_ERROR(CheckApiVersionAndKind(object, "ExternalSecret"));
  ExternalSecret es;
  es.api_version = object["apiVersion"].get<std::string>();
  COFFER_ASSIGN_OR_RETURN(es.metadata, ParseObjectMeta(object.value("metadata", json())));
  COFFER_ASSIGN_OR_RETURN(const json* spec, ObjectField(object, "spec", "object"));
  if (spec == nullptr) return Invalid("spec", "is required");

  COFFER_ASSIGN_OR_RETURN(std::string interval, StringField(*spec, "refreshInterval", "spec"));
  if (!interval.empty()) {
    auto parsed = ParseGoDuration(interval);
    if (!parsed.ok()) return parsed.status().WithContext("spec.refreshInterval");
    es.refresh_interval_ms = *parsed;
  }
  COFFER_ASSIGN_OR_RETURN(es.refresh_policy, EnumField(*spec, "refreshPolicy", "spec",
                                                       kRefreshPolicies, RefreshPolicy::kPeriodic));

  COFFER_ASSIGN_OR_RETURN(const json* store_ref, ObjectField(*spec, "secretStoreRef", "spec"));
  if (store_ref == nullptr) return Invalid("spec.secretStoreRef", "is required");
  COFFER_ASSIGN_OR_RETURN(es.store_ref.name,
                          RequiredString(*store_ref, "name", "spec.secretStoreRef"));
  COFFER_ASSIGN_OR_RETURN(es.store_ref.kind, EnumField(*store_ref, "kind", "spec.secretStoreRef",
                                                       kStoreKinds, StoreKind::kSecretStore));

  COFFER_ASSIGN_OR_RETURN(const json* target, ObjectField(*spec, "target", "spec"));
  COFFER_ASSIGN_OR_RETURN(es.target, ParseTarget(target, es.metadata.name));
  COFFER_RETURN_IF_ERROR(CheckPolicyPair(es.target));

  COFFER_ASSIGN_OR_RETURN(es.data, ParseData(*spec));
  COFFER_ASSIGN_OR_RETURN(es.data_from, ParseDataFrom(*spec));
  if (es.data.empty() && es.data_from.empty()) {
    return Invalid("spec", "either data or dataFrom must be set");
  }
  COFFER_ASSIGN_OR_RETURN(const json* status, ObjectField(object, "status", "object"));
  COFFER_ASSIGN_OR_RETURN(es.status, ParseEsStatus(status));
  return es;
}

Result<ExternalSecretStatus> ParseExternalSecretStatus(const json& object) {
  COFFER_ASSIGN_OR_RETURN(const json* status, ObjectField(object, "status", "object"));
  return ParseEsStatus(status);
}

Result<SecretStore> ParseSecretStore(const json& object) {
  COFFER_RETURN_IF_ERROR(CheckApiVersionAndKind(object, "SecretStore", "ClusterSecretStore"));
  SecretStore store;
  store.api_version = object["apiVersion"].get<std::string>();
  store.kind = object["kind"].get<std::string>() == "ClusterSecretStore"
                   ? StoreKind::kClusterSecretStore
                   : StoreKind::kSecretStore;
  COFFER_ASSIGN_OR_RETURN(store.metadata, ParseObjectMeta(object.value("metadata", json())));
  COFFER_ASSIGN_OR_RETURN(const json* status, ObjectField(object, "status", "object"));
  if (status != nullptr) {
    COFFER_ASSIGN_OR_RETURN(store.conditions, ParseConditions(*status, "status"));
  }
  COFFER_ASSIGN_OR_RETURN(const json* spec, ObjectField(object, "spec", "object"));
  if (spec == nullptr) return Invalid("spec", "is required");
  COFFER_ASSIGN_OR_RETURN(store.controller, StringField(*spec, "controller", "spec"));
  COFFER_ASSIGN_OR_RETURN(store.namespace_conditions, ParseNamespaceConditions(*spec));
  if (const json* ri = Member(*spec, "refreshInterval"); ri != nullptr) {
    // IntOrString: seconds as an integer (legacy) or a Go duration.
    if (ri->is_number_integer()) {
      store.refresh_interval_ms = ri->get<std::int64_t>() * 1000;
    } else if (ri->is_string()) {
      auto parsed = ParseGoDuration(ri->get<std::string>());
      if (!parsed.ok()) return parsed.status().WithContext("spec.refreshInterval");
      store.refresh_interval_ms = *parsed;
    } else {
      return Invalid("spec.refreshInterval", "must be an integer or a duration string");
    }
  }
  COFFER_ASSIGN_OR_RETURN(const json* provider, ObjectField(*spec, "provider", "spec"));
  if (provider == nullptr || provider->empty()) return Invalid("spec.provider", "is required");
  if (provider->size() != 1) return Invalid("spec.provider", "exactly one provider must be set");
  const std::string name = provider->begin().key();
  const json& config = provider->begin().value();
  if (!config.is_object()) return Invalid("spec.provider." + name, "must be an object");
  if (name == "aws") {
    store.provider_type = ProviderType::kAws;
    COFFER_ASSIGN_OR_RETURN(store.aws, ParseAws(config, store.kind));
  } else if (name == "fake") {
    store.provider_type = ProviderType::kFake;
    COFFER_ASSIGN_OR_RETURN(store.fake, ParseFake(config));
  } else {
    return Invalid("spec.provider",
                   "provider \"" + name + "\" is not supported by coffer operator (aws, fake)");
  }
  return store;
}

Result<ObservedSecret> ParseSecret(const json& object) {
  if (!object.is_object()) return Status::InvalidArgument("Secret must be a JSON object");
  ObservedSecret s;
  COFFER_ASSIGN_OR_RETURN(s.metadata, ParseObjectMeta(object.value("metadata", json())));
  COFFER_ASSIGN_OR_RETURN(std::string type, StringField(object, "type", "Secret", "Opaque"));
  s.type = type.empty() ? "Opaque" : type;
  COFFER_ASSIGN_OR_RETURN(s.immutable, BoolField(object, "immutable", "Secret"));
  COFFER_ASSIGN_OR_RETURN(const json* data, ObjectField(object, "data", "Secret"));
  if (data != nullptr) {
    for (const auto& [k, v] : data->items()) {
      if (!v.is_string()) return Invalid("Secret.data." + k, "must be a base64 string");
      std::optional<std::string> bytes = Base64Decode(v.get_ref<const std::string&>());
      if (!bytes) return Invalid("Secret.data." + k, "is not valid base64");
      s.data.emplace(k, std::move(*bytes));
    }
  }
  const json& meta = object["metadata"];
  COFFER_ASSIGN_OR_RETURN(const json* refs, ArrayField(meta, "ownerReferences", "metadata"));
  if (refs != nullptr) {
    for (std::size_t i = 0; i < refs->size(); ++i) {
      const std::string path = "metadata.ownerReferences[" + std::to_string(i) + "]";
      const json& r = (*refs)[i];
      OwnerReference ref;
      COFFER_ASSIGN_OR_RETURN(ref.api_version, StringField(r, "apiVersion", path));
      COFFER_ASSIGN_OR_RETURN(ref.kind, StringField(r, "kind", path));
      COFFER_ASSIGN_OR_RETURN(ref.name, StringField(r, "name", path));
      COFFER_ASSIGN_OR_RETURN(ref.uid, StringField(r, "uid", path));
      COFFER_ASSIGN_OR_RETURN(ref.controller, BoolField(r, "controller", path));
      COFFER_ASSIGN_OR_RETURN(ref.block_owner_deletion, BoolField(r, "blockOwnerDeletion", path));
      s.owner_references.push_back(std::move(ref));
    }
  }
  s.raw = object;
  return s;
}

json ConditionToJson(const Condition& c) {
  json out = {{"type", c.type}, {"status", c.status}};
  if (!c.reason.empty()) out["reason"] = c.reason;
  if (!c.message.empty()) out["message"] = c.message;
  if (!c.last_transition_time.empty()) out["lastTransitionTime"] = c.last_transition_time;
  return out;
}

json StatusToJson(const ExternalSecretStatus& status) {
  json out = json::object();
  if (status.refresh_time_ms) out["refreshTime"] = FormatIso8601(*status.refresh_time_ms);
  if (!status.synced_resource_version.empty()) {
    out["syncedResourceVersion"] = status.synced_resource_version;
  }
  json conditions = json::array();
  for (const Condition& c : status.conditions) conditions.push_back(ConditionToJson(c));
  if (!conditions.empty()) out["conditions"] = std::move(conditions);
  if (!status.binding_name.empty()) out["binding"] = {{"name", status.binding_name}};
  return out;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace coffer::op
