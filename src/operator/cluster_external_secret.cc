#include "operator/cluster_external_secret.h"

#include <algorithm>
#include <set>

#include "core/encoding.h"
#include "operator/reconcile.h"

namespace coffer::op {
namespace {

using nlohmann::json;

Status Invalid(std::string_view path, std::string_view what) {
  return Status::InvalidArgument(std::string(path) + " " + std::string(what));
}

const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

Result<StringMap> StringMapAt(const json& object, std::string_view key, std::string_view path) {
  StringMap out;
  const json* m = Member(object, key);
  if (m == nullptr) return out;
  const std::string where = std::string(path) + "." + std::string(key);
  if (!m->is_object()) return Invalid(where, "must be an object");
  for (const auto& [k, v] : m->items()) {
    if (!v.is_string()) return Invalid(where + "." + k, "must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<std::vector<std::string>> StringListAt(const json& object, std::string_view key,
                                              std::string_view path) {
  std::vector<std::string> out;
  const json* list = Member(object, key);
  if (list == nullptr) return out;
  const std::string where = std::string(path) + "." + std::string(key);
  if (!list->is_array()) return Invalid(where, "must be a list");
  for (const json& v : *list) {
    if (!v.is_string()) return Invalid(where, "must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string StringAt(const json& object, std::string_view key) {
  const json* v = Member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// "external-secrets.io/v1" -> "external-secrets.io".
std::string_view GroupOf(std::string_view api_version) {
  const std::size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

json OwnerReferenceTo(const ClusterExternalSecret& ces) {
  return json{
      {"apiVersion", ces.api_version.empty() ? std::string(kApiVersionV1) : ces.api_version},
      {"kind", kClusterExternalSecretKind},
      {"name", ces.metadata.name},
      {"uid", ces.metadata.uid},
      {"controller", true},
      {"blockOwnerDeletion", true}};
}

StringMap DesiredAnnotations(const ClusterExternalSecret& ces) {
  StringMap annotations = ces.external_secret_annotations;
  if (auto it = ces.metadata.annotations.find(std::string(kAnnotationForceSync));
      it != ces.metadata.annotations.end()) {
    annotations[it->first] = it->second;
  } else {
    annotations.erase(std::string(kAnnotationForceSync));
  }
  return annotations;
}

// `existing` with the fields a ClusterExternalSecret manages set as `desired` has them: labels
// and annotations replaced (as ESO's mutate function does), the controller ownerReference
// replaced by ours (other references kept), and the spec.
json Mutated(const json& existing, const json& desired) {
  json after = existing;
  json& meta = after["metadata"];
  const json& want = desired["metadata"];
  for (const char* key : {"labels", "annotations"}) {
    if (want.contains(key)) {
      meta[key] = want[key];
    } else {
      meta.erase(key);
    }
  }
  json refs = json::array();
  if (const json* old_refs = Member(meta, "ownerReferences"); old_refs && old_refs->is_array()) {
    for (const json& r : *old_refs) {
      if (!(r.is_object() && r.value("controller", false))) refs.push_back(r);
    }
  }
  refs.push_back(want["ownerReferences"][0]);
  meta["ownerReferences"] = std::move(refs);
  after["spec"] = desired["spec"];
  return after;
}

}  // namespace

// --- parsing -----------------------------------------------------------------------------------

ClusterExternalSecretStatus ParseClusterExternalSecretStatus(const json& object) {
  ClusterExternalSecretStatus s;
  const json* status = Member(object, "status");
  if (status == nullptr || !status->is_object()) return s;
  s.external_secret_name = StringAt(*status, "externalSecretName");
  if (Result<std::vector<std::string>> p = StringListAt(*status, "provisionedNamespaces", "status");
      p.ok()) {
    s.provisioned_namespaces = std::move(*p);
  }
  if (const json* failed = Member(*status, "failedNamespaces"); failed && failed->is_array()) {
    for (const json& f : *failed) {
      if (f.is_object())
        s.failed_namespaces.push_back({StringAt(f, "namespace"), StringAt(f, "reason")});
    }
  }
  if (const json* conditions = Member(*status, "conditions");
      conditions && conditions->is_array()) {
    for (const json& c : *conditions) {
      if (!c.is_object()) continue;
      s.conditions.push_back({StringAt(c, "type"), StringAt(c, "status"), StringAt(c, "reason"),
                              StringAt(c, "message"), StringAt(c, "lastTransitionTime")});
    }
  }
  return s;
}

Result<ClusterExternalSecret> ParseClusterExternalSecret(const json& object) {
  ClusterExternalSecret ces;
  if (!object.is_object()) return Invalid("object", "must be an object");
  ces.api_version = StringAt(object, "apiVersion");
  if (ces.api_version != kApiVersionV1 && ces.api_version != kApiVersionV1Beta1) {
    return Invalid("apiVersion", "\"" + ces.api_version + "\" is not " +
                                     std::string(kApiVersionV1) + " or " +
                                     std::string(kApiVersionV1Beta1));
  }
  if (StringAt(object, "kind") != kClusterExternalSecretKind) {
    return Invalid("kind", "must be ClusterExternalSecret");
  }
  const json* metadata = Member(object, "metadata");
  COFFER_ASSIGN_OR_RETURN(ces.metadata, ParseObjectMeta(metadata ? *metadata : json()));
  ces.status = ParseClusterExternalSecretStatus(object);

  const json* spec = Member(object, "spec");
  if (spec == nullptr || !spec->is_object()) return Invalid("spec", "is required");
  const json* es_spec = Member(*spec, "externalSecretSpec");
  if (es_spec == nullptr) return Invalid("spec.externalSecretSpec", "is required");
  if (!es_spec->is_object()) return Invalid("spec.externalSecretSpec", "must be an object");
  ces.external_secret_spec = *es_spec;

  if (const json* name = Member(*spec, "externalSecretName"); name != nullptr) {
    if (!name->is_string()) return Invalid("spec.externalSecretName", "must be a string");
    ces.external_secret_name = name->get<std::string>();
  }
  if (ces.external_secret_name.empty()) ces.external_secret_name = ces.metadata.name;

  if (const json* md = Member(*spec, "externalSecretMetadata"); md != nullptr) {
    if (!md->is_object()) return Invalid("spec.externalSecretMetadata", "must be an object");
    COFFER_ASSIGN_OR_RETURN(ces.external_secret_labels,
                            StringMapAt(*md, "labels", "spec.externalSecretMetadata"));
    COFFER_ASSIGN_OR_RETURN(ces.external_secret_annotations,
                            StringMapAt(*md, "annotations", "spec.externalSecretMetadata"));
  }

  if (const json* s = Member(*spec, "namespaceSelector"); s != nullptr) {
    COFFER_ASSIGN_OR_RETURN(LabelSelector selector,
                            ParseLabelSelector(*s, "spec.namespaceSelector"));
    ces.namespace_selectors.push_back(std::move(selector));
  }
  if (const json* list = Member(*spec, "namespaceSelectors"); list != nullptr) {
    if (!list->is_array()) return Invalid("spec.namespaceSelectors", "must be a list");
    for (std::size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      COFFER_ASSIGN_OR_RETURN(
          LabelSelector selector,
          ParseLabelSelector((*list)[i], "spec.namespaceSelectors[" + std::to_string(i) + "]"));
      ces.namespace_selectors.push_back(std::move(selector));
    }
  }
  COFFER_ASSIGN_OR_RETURN(ces.namespaces, StringListAt(*spec, "namespaces", "spec"));

  if (const json* refresh = Member(*spec, "refreshTime"); refresh != nullptr) {
    if (!refresh->is_string()) return Invalid("spec.refreshTime", "must be a duration string");
    Result<std::int64_t> ms = ParseGoDuration(refresh->get<std::string>());
    if (!ms.ok()) return ms.status().WithContext("spec.refreshTime");
    ces.refresh_time_ms = std::max<std::int64_t>(*ms, 0);
  }
  return ces;
}

json CesStatusToJson(const ClusterExternalSecretStatus& status) {
  json out = json::object();
  if (!status.external_secret_name.empty()) {
    out["externalSecretName"] = status.external_secret_name;
  }
  if (!status.provisioned_namespaces.empty()) {
    out["provisionedNamespaces"] = status.provisioned_namespaces;
  }
  if (!status.failed_namespaces.empty()) {
    json failed = json::array();
    for (const NamespaceFailure& f : status.failed_namespaces) {
      json entry = {{"namespace", f.namespace_}};
      if (!f.reason.empty()) entry["reason"] = f.reason;
      failed.push_back(std::move(entry));
    }
    out["failedNamespaces"] = std::move(failed);
  }
  if (!status.conditions.empty()) {
    json conditions = json::array();
    for (const Condition& c : status.conditions) conditions.push_back(ConditionToJson(c));
    out["conditions"] = std::move(conditions);
  }
  return out;
}

// --- selection and the desired object ----------------------------------------------------------

bool CesSelectsNamespace(const ClusterExternalSecret& ces, std::string_view name,
                         const StringMap& labels) {
  for (const LabelSelector& s : ces.namespace_selectors) {
    if (SelectorMatches(s, labels)) return true;
  }
  return std::find(ces.namespaces.begin(), ces.namespaces.end(), name) != ces.namespaces.end();
}

std::vector<std::string> SelectNamespaces(const ClusterExternalSecret& ces,
                                          const std::vector<NamespaceInfo>& namespaces) {
  std::set<std::string> out;
  for (const NamespaceInfo& ns : namespaces) {
    if (!ns.terminating && CesSelectsNamespace(ces, ns.name, ns.labels)) out.insert(ns.name);
  }
  return {out.begin(), out.end()};
}

bool IsControlledByCes(const json& external_secret, std::string_view ces_name) {
  const json* meta = Member(external_secret, "metadata");
  const json* refs = meta != nullptr ? Member(*meta, "ownerReferences") : nullptr;
  if (refs == nullptr || !refs->is_array()) return false;
  for (const json& r : *refs) {
    if (!r.is_object() || !r.value("controller", false)) continue;
    return GroupOf(StringAt(r, "apiVersion")) == kGroup &&
           StringAt(r, "kind") == kClusterExternalSecretKind && StringAt(r, "name") == ces_name;
  }
  return false;
}

json DesiredExternalSecret(const ClusterExternalSecret& ces, const std::string& ns) {
  json meta = {{"name", ces.external_secret_name},
               {"namespace", ns},
               {"ownerReferences", json::array({OwnerReferenceTo(ces)})}};
  if (!ces.external_secret_labels.empty()) meta["labels"] = ces.external_secret_labels;
  if (StringMap annotations = DesiredAnnotations(ces); !annotations.empty()) {
    meta["annotations"] = std::move(annotations);
  }
  return json{{"apiVersion", kApiVersionV1},
              {"kind", "ExternalSecret"},
              {"metadata", std::move(meta)},
              {"spec", ces.external_secret_spec}};
}

// --- reconcile ---------------------------------------------------------------------------------

CesPlan PlanClusterExternalSecret(const ClusterExternalSecret& ces, const CesObserved& observed) {
  CesPlan plan;
  plan.external_secret_name = ces.external_secret_name;
  plan.requeue_after_ms = ces.refresh_time_ms;
  const std::vector<std::string> selected = SelectNamespaces(ces, observed.namespaces);
  const std::set<std::string> selected_set(selected.begin(), selected.end());

  auto observed_es = [&](const std::string& ns, const std::string& name) -> const json* {
    auto it = observed.external_secrets.find({ns, name});
    return it == observed.external_secrets.end() ? nullptr : &it->second;
  };
  std::set<std::pair<std::string, std::string>> deleting;
  auto delete_if_ours = [&](const std::string& ns, const std::string& name) {
    const json* es = observed_es(ns, name);
    if (es == nullptr || !IsControlledByCes(*es, ces.metadata.name)) return;
    if (!deleting.insert({ns, name}).second) return;
    CesAction a;
    a.kind = CesAction::Kind::kDelete;
    a.namespace_ = ns;
    a.name = name;
    a.uid = StringAt(es->value("metadata", json::object()), "uid");
    plan.actions.push_back(std::move(a));
  };

  // Where this ClusterExternalSecret put ExternalSecrets before (and where a delete failed).
  std::set<std::string> before(ces.status.provisioned_namespaces.begin(),
                               ces.status.provisioned_namespaces.end());
  for (const NamespaceFailure& f : ces.status.failed_namespaces) before.insert(f.namespace_);

  // externalSecretName changed: the old ones go.
  const std::string& previous = ces.status.external_secret_name;
  if (!previous.empty() && previous != ces.external_secret_name) {
    for (const std::string& ns : before) delete_if_ours(ns, previous);
  }
  // Namespaces that stopped matching (relabelled, removed from the list, being deleted).
  for (const std::string& ns : before) {
    if (!selected_set.count(ns)) delete_if_ours(ns, ces.external_secret_name);
  }

  for (const std::string& ns : selected) {
    json desired = DesiredExternalSecret(ces, ns);
    const json* existing = observed_es(ns, ces.external_secret_name);
    if (existing == nullptr) {
      plan.actions.push_back(
          {CesAction::Kind::kCreate, ns, ces.external_secret_name, std::move(desired), ""});
      plan.provisioned.push_back(ns);
      continue;
    }
    if (!IsControlledByCes(*existing, ces.metadata.name)) {
      plan.failed[ns] = std::string(kCesAlreadyExists);
      continue;
    }
    const json after = Mutated(*existing, desired);
    if (after != *existing) {
      json patch = json::array();
      patch.push_back(
          {{"op", "test"},
           {"path", "/metadata/resourceVersion"},
           {"value", StringAt(existing->value("metadata", json::object()), "resourceVersion")}});
      for (const json& op : json::diff(*existing, after)) patch.push_back(op);
      plan.actions.push_back(
          {CesAction::Kind::kUpdate, ns, ces.external_secret_name, std::move(patch), ""});
    }
    plan.provisioned.push_back(ns);
  }
  return plan;
}

ClusterExternalSecretStatus CesStatusAfter(const ClusterExternalSecret& ces, const CesPlan& plan,
                                           const std::map<std::string, std::string>& write_failures,
                                           std::int64_t now_ms) {
  ClusterExternalSecretStatus status;
  status.external_secret_name = plan.external_secret_name;
  std::map<std::string, std::string> failed = plan.failed;
  for (const auto& [ns, reason] : write_failures) failed[ns] = reason;
  // An old-named ExternalSecret that could not be deleted keeps the old name in the status, so
  // the next reconcile tries again (as ESO, which stops before recording the new name).
  const std::string& previous = ces.status.external_secret_name;
  for (const CesAction& a : plan.actions) {
    if (a.kind == CesAction::Kind::kDelete && a.name == previous &&
        a.name != plan.external_secret_name && write_failures.count(a.namespace_)) {
      status.external_secret_name = previous;
    }
  }
  for (const std::string& ns : plan.provisioned) {
    if (!write_failures.count(ns)) status.provisioned_namespaces.push_back(ns);
  }
  for (const auto& [ns, reason] : failed) status.failed_namespaces.push_back({ns, reason});
  status.conditions = ces.status.conditions;
  Condition ready;
  ready.type = std::string(kConditionReady);
  if (failed.empty()) {
    ready.status = "True";
  } else {
    ready.status = "False";
    ready.message = std::string(kCesNamespacesFailed);
  }
  SetCondition(status.conditions, std::move(ready), now_ms);
  return status;
}

ClusterExternalSecretStatus CesInvalidStatus(const ClusterExternalSecretStatus& old,
                                             const Status& error, std::int64_t now_ms) {
  ClusterExternalSecretStatus status = old;
  status.failed_namespaces = {{"unknown", error.message()}};
  Condition ready;
  ready.type = std::string(kConditionReady);
  ready.status = "False";
  ready.message = error.message();
  SetCondition(status.conditions, std::move(ready), now_ms);
  return status;
}

}  // namespace coffer::op
