#include "operator/push_secret.h"

#include <algorithm>
#include <set>

#include "core/encoding.h"
#include "operator/eso_hash.h"

namespace coffer::op {
namespace {

using nlohmann::json;

Status Invalid(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": " + what);
}

const json* Field(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() && !it->is_null() ? &*it : nullptr;
}

Result<std::string> StringAt(const json& object, std::string_view key, const std::string& path) {
  const json* f = Field(object, key);
  if (f == nullptr) return std::string();
  if (!f->is_string()) return Invalid(path + "." + std::string(key), "must be a string");
  return f->get<std::string>();
}

Result<const json*> ObjectAt(const json& object, std::string_view key, const std::string& path) {
  const json* f = Field(object, key);
  if (f != nullptr && !f->is_object()) {
    return Invalid(path + "." + std::string(key), "must be an object");
  }
  return f;
}

Result<const json*> ArrayAt(const json& object, std::string_view key, const std::string& path) {
  const json* f = Field(object, key);
  if (f != nullptr && !f->is_array()) {
    return Invalid(path + "." + std::string(key), "must be an array");
  }
  return f;
}

Result<StringMap> StringMapAt(const json& object, std::string_view key, const std::string& path) {
  StringMap out;
  COFFER_ASSIGN_OR_RETURN(const json* m, ObjectAt(object, key, path));
  if (m == nullptr) return out;
  for (const auto& [k, v] : m->items()) {
    if (!v.is_string()) return Invalid(path + "." + std::string(key) + "." + k, "must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<PushMetadata> ParseMetadata(const json& metadata, const std::string& path) {
  PushMetadata out;
  if (!metadata.is_object()) return Invalid(path, "must be an object");
  COFFER_ASSIGN_OR_RETURN(const json* spec, ObjectAt(metadata, "spec", path));
  if (spec == nullptr) return out;
  const std::string spath = path + ".spec";
  COFFER_ASSIGN_OR_RETURN(std::string format, StringAt(*spec, "secretPushFormat", spath));
  if (format == "string") {
    out.string_format = true;
  } else if (!format.empty() && format != "binary") {
    return Invalid(spath + ".secretPushFormat", "must be string or binary");
  }
  COFFER_ASSIGN_OR_RETURN(out.description, StringAt(*spec, "description", spath));
  COFFER_ASSIGN_OR_RETURN(out.kms_key_id, StringAt(*spec, "kmsKeyID", spath));
  COFFER_ASSIGN_OR_RETURN(out.tags, StringMapAt(*spec, "tags", spath));
  if (out.tags.contains(std::string(kManagedByTagKey))) {
    return Invalid(spath + ".tags", "the tag managed-by is reserved for the operator");
  }
  return out;
}

Result<std::vector<Condition>> ParseConditionList(const json& status) {
  std::vector<Condition> out;
  COFFER_ASSIGN_OR_RETURN(const json* list, ArrayAt(status, "conditions", "status"));
  if (list == nullptr) return out;
  for (const json& c : *list) {
    if (!c.is_object()) return Invalid("status.conditions", "must be objects");
    Condition cond;
    COFFER_ASSIGN_OR_RETURN(cond.type, StringAt(c, "type", "status.conditions"));
    COFFER_ASSIGN_OR_RETURN(cond.status, StringAt(c, "status", "status.conditions"));
    COFFER_ASSIGN_OR_RETURN(cond.reason, StringAt(c, "reason", "status.conditions"));
    COFFER_ASSIGN_OR_RETURN(cond.message, StringAt(c, "message", "status.conditions"));
    COFFER_ASSIGN_OR_RETURN(cond.last_transition_time,
                            StringAt(c, "lastTransitionTime", "status.conditions"));
    out.push_back(std::move(cond));
  }
  return out;
}

Result<PushSecretStatus> ParseStatus(const json& object) {
  PushSecretStatus out;
  const json* status = Field(object, "status");
  if (status == nullptr) return out;
  if (!status->is_object()) return Invalid("status", "must be an object");
  COFFER_ASSIGN_OR_RETURN(std::string refresh, StringAt(*status, "refreshTime", "status"));
  if (!refresh.empty()) {
    COFFER_ASSIGN_OR_RETURN(std::int64_t ms, ParseRfc3339(refresh));
    out.refresh_time_ms = ms;
  }
  COFFER_ASSIGN_OR_RETURN(out.synced_resource_version,
                          StringAt(*status, "syncedResourceVersion", "status"));
  COFFER_ASSIGN_OR_RETURN(const json* synced, ObjectAt(*status, "syncedPushSecrets", "status"));
  if (synced != nullptr) {
    for (const auto& [store, entries] : synced->items()) {
      if (!entries.is_object()) continue;
      for (const auto& [ref, entry] : entries.items()) out.synced[store][ref] = entry;
    }
  }
  COFFER_ASSIGN_OR_RETURN(out.conditions, ParseConditionList(*status));
  return out;
}

// The remote key an entry of status.syncedPushSecrets names (empty when unreadable).
std::string RemoteKeyOfEntry(const json& entry) {
  const json* match = Field(entry, "match");
  const json* ref = match != nullptr ? Field(*match, "remoteRef") : nullptr;
  const json* key = ref != nullptr ? Field(*ref, "remoteKey") : nullptr;
  return key != nullptr && key->is_string() ? key->get<std::string>() : std::string();
}

// Splits a property path on unescaped dots ("a\.b.c" -> ["a.b", "c"]).
std::vector<std::string> SplitPath(std::string_view property) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < property.size(); ++i) {
    const char c = property[i];
    if (c == '\\' && i + 1 < property.size()) {
      parts.back().push_back(property[++i]);
    } else if (c == '.') {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

bool ValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80             ? 0
                  : (c & 0xE0) == 0xC0 ? 1
                  : (c & 0xF0) == 0xE0 ? 2
                  : (c & 0xF8) == 0xF0 ? 3
                                       : -1;
    if (n < 0 || i + n + 1 > s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// The value one entry pushes: a key of the Secret, or the whole Secret as a JSON object.
Result<std::string> EntryValue(const PushDataItem& item,
                               const std::map<std::string, std::string>& data) {
  if (!item.secret_key.empty()) {
    auto it = data.find(item.secret_key);
    if (it == data.end()) {
      return Status::FailedPrecondition("secret key " + item.secret_key + " does not exist");
    }
    return it->second;
  }
  json whole = json::object();
  for (const auto& [k, v] : data) {
    if (!ValidUtf8(v)) {
      return Status::FailedPrecondition("secret key " + k +
                                        " is not UTF-8 text and cannot be pushed as JSON");
    }
    whole[k] = v;
  }
  return whole.dump();
}

bool HasTag(const std::vector<std::pair<std::string, std::string>>& tags, const std::string& key,
            const std::string& value) {
  return std::any_of(tags.begin(), tags.end(),
                     [&](const auto& t) { return t.first == key && t.second == value; });
}

}  // namespace

Result<PushSecret> ParsePushSecret(const json& object) {
  if (!object.is_object()) return Invalid("PushSecret", "must be an object");
  PushSecret ps;
  COFFER_ASSIGN_OR_RETURN(std::string api_version, StringAt(object, "apiVersion", ""));
  if (!api_version.empty() && api_version != kApiVersionV1Alpha1) {
    return Invalid("apiVersion", "must be " + std::string(kApiVersionV1Alpha1));
  }
  COFFER_ASSIGN_OR_RETURN(std::string kind, StringAt(object, "kind", ""));
  if (!kind.empty() && kind != "PushSecret") return Invalid("kind", "must be PushSecret");
  const json* meta = Field(object, "metadata");
  if (meta == nullptr || !meta->is_object()) return Invalid("metadata", "is required");
  COFFER_ASSIGN_OR_RETURN(ps.metadata, ParseObjectMeta(*meta));
  ps.deleting = Field(*meta, "deletionTimestamp") != nullptr;
  if (const json* f = Field(*meta, "finalizers"); f != nullptr && f->is_array()) {
    for (const json& v : *f) {
      if (v.is_string()) ps.finalizers.push_back(v.get<std::string>());
    }
  }

  COFFER_ASSIGN_OR_RETURN(const json* spec_ptr, ObjectAt(object, "spec", ""));
  if (spec_ptr == nullptr) return Invalid("spec", "is required");
  const json& spec = *spec_ptr;

  COFFER_ASSIGN_OR_RETURN(std::string interval, StringAt(spec, "refreshInterval", "spec"));
  if (!interval.empty()) {
    Result<std::int64_t> ms = ParseGoDuration(interval);
    if (!ms.ok()) return Invalid("spec.refreshInterval", ms.status().message());
    ps.refresh_interval_ms = std::max<std::int64_t>(0, *ms);
  }

  COFFER_ASSIGN_OR_RETURN(std::string update, StringAt(spec, "updatePolicy", "spec"));
  if (update == "IfNotExists") {
    ps.update_policy = PushUpdatePolicy::kIfNotExists;
  } else if (!update.empty() && update != "Replace") {
    return Invalid("spec.updatePolicy", "must be Replace or IfNotExists");
  }
  COFFER_ASSIGN_OR_RETURN(std::string deletion, StringAt(spec, "deletionPolicy", "spec"));
  if (deletion == "Delete") {
    ps.deletion_policy = PushDeletionPolicy::kDelete;
  } else if (!deletion.empty() && deletion != "None") {
    return Invalid("spec.deletionPolicy", "must be None or Delete");
  }

  COFFER_ASSIGN_OR_RETURN(const json* refs, ArrayAt(spec, "secretStoreRefs", "spec"));
  if (refs == nullptr || refs->empty()) return Invalid("spec.secretStoreRefs", "is required");
  for (std::size_t i = 0; i < refs->size(); ++i) {
    const std::string path = "spec.secretStoreRefs[" + std::to_string(i) + "]";
    const json& r = (*refs)[i];
    if (!r.is_object()) return Invalid(path, "must be an object");
    PushStoreRef ref;
    COFFER_ASSIGN_OR_RETURN(ref.name, StringAt(r, "name", path));
    COFFER_ASSIGN_OR_RETURN(std::string store_kind, StringAt(r, "kind", path));
    if (store_kind == "ClusterSecretStore") {
      ref.kind = StoreKind::kClusterSecretStore;
    } else if (!store_kind.empty() && store_kind != "SecretStore") {
      return Invalid(path + ".kind", "must be SecretStore or ClusterSecretStore");
    }
    COFFER_ASSIGN_OR_RETURN(const json* selector, ObjectAt(r, "labelSelector", path));
    if (selector != nullptr) {
      COFFER_ASSIGN_OR_RETURN(LabelSelector s,
                              ParseLabelSelector(*selector, path + ".labelSelector"));
      ref.label_selector = std::move(s);
    }
    if (ref.name.empty() && !ref.label_selector) {
      return Invalid(path, "needs a name or a labelSelector");
    }
    ps.store_refs.push_back(std::move(ref));
  }

  COFFER_ASSIGN_OR_RETURN(const json* selector, ObjectAt(spec, "selector", "spec"));
  if (selector == nullptr) return Invalid("spec.selector", "is required");
  if (Field(*selector, "generatorRef") != nullptr) {
    return Invalid("spec.selector.generatorRef", "generators are not supported by coffer");
  }
  COFFER_ASSIGN_OR_RETURN(const json* secret_sel, ObjectAt(*selector, "secret", "spec.selector"));
  if (secret_sel == nullptr) return Invalid("spec.selector.secret", "is required");
  if (Field(*secret_sel, "selector") != nullptr) {
    return Invalid("spec.selector.secret.selector",
                   "selecting Secrets by label is not supported by coffer; use name");
  }
  COFFER_ASSIGN_OR_RETURN(ps.secret_name, StringAt(*secret_sel, "name", "spec.selector.secret"));
  if (ps.secret_name.empty()) return Invalid("spec.selector.secret.name", "is required");

  if (Field(spec, "dataTo") != nullptr) {
    return Invalid("spec.dataTo", "is not supported by coffer; list the keys in spec.data");
  }
  if (Field(spec, "template") != nullptr) {
    return Invalid("spec.template", "is not supported by coffer for PushSecret");
  }
  COFFER_ASSIGN_OR_RETURN(const json* data, ArrayAt(spec, "data", "spec"));
  if (data != nullptr) {
    for (std::size_t i = 0; i < data->size(); ++i) {
      const std::string path = "spec.data[" + std::to_string(i) + "]";
      const json& d = (*data)[i];
      if (!d.is_object()) return Invalid(path, "must be an object");
      PushDataItem item;
      item.raw = d;
      COFFER_ASSIGN_OR_RETURN(std::string conversion, StringAt(d, "conversionStrategy", path));
      if (!conversion.empty() && conversion != "None") {
        return Invalid(path + ".conversionStrategy", "only None is supported by coffer");
      }
      COFFER_ASSIGN_OR_RETURN(const json* match, ObjectAt(d, "match", path));
      if (match == nullptr) return Invalid(path + ".match", "is required");
      COFFER_ASSIGN_OR_RETURN(item.secret_key, StringAt(*match, "secretKey", path + ".match"));
      COFFER_ASSIGN_OR_RETURN(const json* remote, ObjectAt(*match, "remoteRef", path + ".match"));
      if (remote == nullptr) return Invalid(path + ".match.remoteRef", "is required");
      const std::string rpath = path + ".match.remoteRef";
      COFFER_ASSIGN_OR_RETURN(item.remote_key, StringAt(*remote, "remoteKey", rpath));
      COFFER_ASSIGN_OR_RETURN(item.property, StringAt(*remote, "property", rpath));
      if (item.remote_key.empty()) return Invalid(rpath + ".remoteKey", "is required");
      if (const json* m = Field(d, "metadata"); m != nullptr) {
        COFFER_ASSIGN_OR_RETURN(item.metadata, ParseMetadata(*m, path + ".metadata"));
      }
      ps.data.push_back(std::move(item));
    }
  }
  // A status that does not parse is treated as empty: the next write replaces it.
  Result<PushSecretStatus> status = ParseStatus(object);
  if (status.ok()) ps.status = std::move(*status);
  return ps;
}

PushSecretStatus ParsePushSecretStatus(const json& object) {
  Result<PushSecretStatus> status = ParseStatus(object);
  return status.ok() ? std::move(*status) : PushSecretStatus{};
}

json PushStatusToJson(const PushSecretStatus& status) {
  json out = json::object();
  if (status.refresh_time_ms) out["refreshTime"] = FormatIso8601(*status.refresh_time_ms);
  if (!status.synced_resource_version.empty()) {
    out["syncedResourceVersion"] = status.synced_resource_version;
  }
  json synced = json::object();
  for (const auto& [store, entries] : status.synced) {
    json e = json::object();
    for (const auto& [ref, entry] : entries) e[ref] = entry;
    synced[store] = std::move(e);
  }
  out["syncedPushSecrets"] = std::move(synced);
  json conditions = json::array();
  for (const Condition& c : status.conditions) conditions.push_back(ConditionToJson(c));
  out["conditions"] = std::move(conditions);
  return out;
}

std::string PushStoreKey(StoreKind kind, std::string_view name) {
  return std::string(StoreKindName(kind)) + "/" + std::string(name);
}

std::string PushStatusRef(const PushDataItem& item) {
  return item.property.empty() ? item.remote_key : item.remote_key + "/" + item.property;
}

RemoteDeleteOptions ParseRemoteDeleteOptions(const json& store_object) {
  RemoteDeleteOptions out;
  const json* spec = Field(store_object, "spec");
  const json* provider = spec != nullptr ? Field(*spec, "provider") : nullptr;
  const json* aws = provider != nullptr ? Field(*provider, "aws") : nullptr;
  const json* sm = aws != nullptr ? Field(*aws, "secretsManager") : nullptr;
  if (sm == nullptr || !sm->is_object()) return out;
  if (const json* f = Field(*sm, "forceDeleteWithoutRecovery"); f != nullptr && f->is_boolean()) {
    out.force_delete_without_recovery = f->get<bool>();
  }
  if (const json* r = Field(*sm, "recoveryWindowInDays"); r != nullptr && r->is_number_integer()) {
    const auto days = r->get<std::int64_t>();
    if (days > 0) out.recovery_window_in_days = static_cast<int>(days);
  }
  // AWS refuses both at once; forcing wins, as the stronger request.
  if (out.force_delete_without_recovery) out.recovery_window_in_days.reset();
  return out;
}

std::vector<RemoteWrite> PlanRemoteWrites(const PushSecret& ps,
                                          const std::vector<std::string>& store_keys) {
  std::vector<RemoteWrite> out;
  for (const std::string& store_key : store_keys) {
    std::map<std::string, std::size_t> index;  // remote key -> position in out
    for (const PushDataItem& item : ps.data) {
      auto [it, inserted] = index.emplace(item.remote_key, out.size());
      if (inserted) out.push_back(RemoteWrite{store_key, item.remote_key, {}});
      out[it->second].items.push_back(&item);
    }
  }
  return out;
}

bool IsManagedRemote(const RemoteState& state) {
  return HasTag(state.tags, std::string(kManagedByTagKey), std::string(kManagedByTagValue));
}

Result<std::string> SetJsonProperty(std::string_view document, std::string_view property,
                                    const json& value) {
  json doc = document.empty() ? json::object()
                              : json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::FailedPrecondition(
        "the remote secret's value is not a JSON object, so property " + std::string(property) +
        " cannot be merged into it");
  }
  const std::vector<std::string> parts = SplitPath(property);
  json* at = &doc;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    json& next = (*at)[parts[i]];
    if (next.is_null()) next = json::object();
    if (!next.is_object()) {
      return Status::FailedPrecondition("property " + std::string(property) + ": " + parts[i] +
                                        " is not a JSON object in the remote secret");
    }
    at = &next;
  }
  (*at)[parts.back()] = value;
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<PushAction> PlanRemoteWrite(const RemoteWrite& write,
                                   const std::map<std::string, std::string>& secret_data,
                                   const RemoteState& state, PushUpdatePolicy update_policy) {
  PushAction action;
  if (state.exists && update_policy == PushUpdatePolicy::kIfNotExists) {
    action.skipped_exists = true;
    return action;
  }
  if (state.exists && !IsManagedRemote(state)) {
    return Status::FailedPrecondition("secret not managed by external-secrets");
  }
  if (state.marked_for_deletion) {
    return Status::FailedPrecondition(
        "secret is marked for deletion; restore it or wait until "
        "it is deleted");
  }
  // The metadata of the first entry that has any (entries of one remote secret share it).
  PushMetadata metadata;
  for (const PushDataItem* item : write.items) {
    if (!item->raw.is_object() || !item->raw.contains("metadata")) continue;
    metadata = item->metadata;
    break;
  }
  std::optional<std::string> value = state.exists ? state.value : std::nullopt;
  for (const PushDataItem* item : write.items) {
    COFFER_ASSIGN_OR_RETURN(std::string v, EntryValue(*item, secret_data));
    if (item->property.empty()) {
      value = std::move(v);
      continue;
    }
    if (!ValidUtf8(v)) {
      return Status::FailedPrecondition("secret key " + item->secret_key +
                                        " is not UTF-8 text and cannot be merged into JSON");
    }
    COFFER_ASSIGN_OR_RETURN(std::string merged,
                            SetJsonProperty(value.value_or(""), item->property, json(v)));
    value = std::move(merged);
  }
  action.binary = !metadata.string_format;
  action.value = value.value_or("");
  if (!state.exists) {
    action.type = PushActionType::kCreate;
    action.description =
        metadata.description.empty() ? std::string(kPushDefaultDescription) : metadata.description;
    action.kms_key_id = metadata.kms_key_id;
    action.tags = metadata.tags;
    action.tags[std::string(kManagedByTagKey)] = std::string(kManagedByTagValue);
    return action;
  }
  if (!state.value || *state.value != action.value) action.type = PushActionType::kPutValue;
  for (const auto& [k, v] : metadata.tags) {
    if (!HasTag(state.tags, k, v)) action.tags[k] = v;
  }
  return action;
}

void RecordSynced(const RemoteWrite& write, SyncedPushSecrets& synced) {
  auto& entries = synced[write.store_key];
  for (const PushDataItem* item : write.items) entries[PushStatusRef(*item)] = item->raw;
}

std::vector<RemoteSecretRef> RemovedRemoteSecrets(const SyncedPushSecrets& previous,
                                                  const SyncedPushSecrets& current) {
  std::set<RemoteSecretRef> kept;
  for (const auto& [store, entries] : current) {
    for (const auto& [ref, entry] : entries) kept.emplace(store, RemoteKeyOfEntry(entry));
  }
  std::vector<RemoteSecretRef> out;
  std::set<RemoteSecretRef> seen;
  for (const auto& [store, entries] : previous) {
    for (const auto& [ref, entry] : entries) {
      RemoteSecretRef r{store, RemoteKeyOfEntry(entry)};
      if (r.second.empty() || kept.contains(r) || !seen.insert(r).second) continue;
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool ShouldDeleteRemote(const RemoteState& state) {
  return state.exists && !state.marked_for_deletion && IsManagedRemote(state);
}

PushStatusPlan PlanPushStatus(const PushSecret& ps, const SyncedPushSecrets& synced,
                              const Status& error, bool wrote, int consecutive_failures,
                              std::int64_t now_ms) {
  PushStatusPlan plan;
  plan.status = ps.status;
  const Condition* before = FindCondition(ps.status.conditions, kConditionReady);
  const std::optional<Condition> old =
      before != nullptr ? std::optional<Condition>(*before) : std::nullopt;
  if (error.ok()) {
    plan.status.synced = synced;
    plan.status.refresh_time_ms = now_ms;
    plan.status.synced_resource_version = SyncedResourceVersionOf(ps.metadata);
    SetCondition(plan.status.conditions,
                 Condition{std::string(kConditionReady), "True", std::string(kPushReasonSynced),
                           std::string(kPushSyncedMessage), ""},
                 now_ms);
    const Condition* now = FindCondition(plan.status.conditions, kConditionReady);
    const bool flipped = !old || old->status != now->status || old->reason != now->reason;
    if (wrote || flipped) {
      plan.events.push_back(
          Event{"Normal", std::string(kPushReasonSynced), std::string(kPushSyncedMessage)});
    }
    plan.consecutive_failures = 0;
    if (ps.refresh_interval_ms > 0) plan.requeue_after_ms = ps.refresh_interval_ms;
  } else {
    for (const auto& [store, entries] : synced) {
      for (const auto& [ref, entry] : entries) plan.status.synced[store][ref] = entry;
    }
    SetCondition(plan.status.conditions,
                 Condition{std::string(kConditionReady), "False", std::string(kPushReasonErrored),
                           error.message(), ""},
                 now_ms);
    plan.events.push_back(Event{"Warning", std::string(kPushReasonErrored), error.message()});
    plan.ok = false;
    plan.consecutive_failures = consecutive_failures + 1;
    plan.requeue_after_ms = BackoffDelay(plan.consecutive_failures);
  }
  plan.status_changed = PushStatusToJson(plan.status) != PushStatusToJson(ps.status);
  return plan;
}

PushStatusPlan PlanInvalidPushSecret(const json& object, const Status& error, std::int64_t now_ms) {
  PushStatusPlan plan;
  PushSecretStatus current = ParsePushSecretStatus(object);
  plan.status = current;
  const std::string message = "invalid PushSecret: " + error.message();
  SetCondition(plan.status.conditions,
               Condition{std::string(kConditionReady), "False", std::string(kPushReasonErrored),
                         message, ""},
               now_ms);
  plan.status_changed = PushStatusToJson(plan.status) != PushStatusToJson(current);
  if (plan.status_changed) {
    plan.events.push_back(Event{"Warning", std::string(kPushReasonErrored), message});
  }
  plan.ok = false;
  return plan;
}

bool HasPushFinalizer(const PushSecret& ps) {
  return std::find(ps.finalizers.begin(), ps.finalizers.end(), kPushSecretFinalizer) !=
         ps.finalizers.end();
}

bool NeedsPushFinalizer(const PushSecret& ps) {
  return ps.deletion_policy == PushDeletionPolicy::kDelete && !ps.deleting && !HasPushFinalizer(ps);
}

}  // namespace coffer::op
