#include "operator/reconcile.h"

#include <algorithm>
#include <utility>

#include "core/encoding.h"
#include "operator/eso_hash.h"

namespace coffer::op {
namespace {

using nlohmann::json;

constexpr std::string_view kMsgSynced = "secret synced";
constexpr std::string_view kMsgRetained = "secret retained due to DeletionPolicy=Retain";
constexpr std::string_view kMsgDeleted = "secret deleted due to DeletionPolicy=Delete";
constexpr std::string_view kMsgMissing = "secret will not be created due to CreationPolicy=Merge";
constexpr std::string_view kMsgGetData = "could not get secret data from provider";
constexpr std::string_view kMsgUpdate = "could not update secret";
constexpr std::string_view kMsgImmutable = "could not update secret, target is immutable";
constexpr std::string_view kMsgOwnedByOther = "target is owned by another ExternalSecret";
constexpr std::string_view kMsgTakeOwnership = "failed to take ownership of target secret";
constexpr std::string_view kMsgDelete = "could not delete secret";
constexpr std::string_view kMsgCreated = "secret created";
constexpr std::string_view kMsgUpdated = "secret updated";

// The Secret as this ExternalSecret wants it.
struct Desired {
  SecretData data;
  std::vector<std::string> removed_keys;  // data keys to drop from the observed Secret
  std::string type;
  StringMap labels;       // set on top of the observed labels
  StringMap annotations;  // set on top of the observed annotations
  std::vector<OwnerReference> owner_refs;
  bool immutable = false;
};

OwnerReference OwnerRefFor(const ExternalSecret& es) {
  return OwnerReference{es.api_version,      "ExternalSecret",
                        es.metadata.name,    es.metadata.uid,
                        /*controller=*/true, /*block_owner_deletion=*/true};
}

json OwnerRefToJson(const OwnerReference& r) {
  json out = {{"apiVersion", r.api_version}, {"kind", r.kind}, {"name", r.name}, {"uid", r.uid}};
  if (r.controller) out["controller"] = true;
  if (r.block_owner_deletion) out["blockOwnerDeletion"] = true;
  return out;
}

json StringMapToJson(const StringMap& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// The owner references the target should carry: ours for Owner, none of ours otherwise; others
// are kept as they are.
std::vector<OwnerReference> DesiredOwnerRefs(const ExternalSecret& es,
                                             const std::vector<OwnerReference>& observed) {
  std::vector<OwnerReference> out;
  bool placed = false;
  for (const OwnerReference& r : observed) {
    if (r.uid != es.metadata.uid || es.metadata.uid.empty()) {
      out.push_back(r);
    } else if (es.target.creation_policy == CreationPolicy::kOwner && !placed) {
      // An equivalent reference written under another served version (v1beta1 vs v1) is kept, so
      // reading the ExternalSecret through either version causes no write.
      const OwnerReference want = OwnerRefFor(es);
      const bool equivalent = r.kind == want.kind && r.name == want.name && r.controller &&
                              r.block_owner_deletion &&
                              r.api_version.rfind(std::string(kGroup) + "/", 0) == 0;
      out.push_back(equivalent ? r : want);
      placed = true;
    }
  }
  if (es.target.creation_policy == CreationPolicy::kOwner && !placed)
    out.push_back(OwnerRefFor(es));
  return out;
}

// ESO's ownership check for creationPolicy Owner: another controller owner is a conflict.
Status CheckOwnership(const ExternalSecret& es, const ObservedSecret& target) {
  if (es.target.creation_policy != CreationPolicy::kOwner) return Status::Ok();
  for (const OwnerReference& r : target.owner_references) {
    if (!r.controller || r.uid == es.metadata.uid) continue;
    if (r.kind == "ExternalSecret") {
      return Status::FailedPrecondition(std::string(kMsgOwnedByOther) + " (" + r.name + ")");
    }
    return Status::FailedPrecondition(std::string(kMsgTakeOwnership) + ": it is controlled by " +
                                      r.kind + " " + r.name);
  }
  return Status::Ok();
}

// `rendered` is the applied template (nullptr: no template, or not rendered).
Desired BuildDesired(const ExternalSecret& es, const ObservedSecret* target, const BuiltData& built,
                     const RenderedSecret* rendered = nullptr) {
  Desired d;
  const bool merge = es.target.creation_policy == CreationPolicy::kMerge;
  if (merge && target != nullptr) {
    d.data = target->data;
    for (const std::string& k : built.missing_secret_keys) {
      if (d.data.erase(k) > 0 && es.target.deletion_policy == DeletionPolicy::kMerge) {
        d.removed_keys.push_back(k);
      }
    }
    for (const auto& [k, v] : built.data) d.data[k] = v;
  } else {
    d.data = built.data;
    if (target != nullptr) {
      for (const auto& [k, v] : target->data) {
        if (d.data.count(k) == 0) d.removed_keys.push_back(k);
      }
    }
  }
  d.type = !es.target.template_type.empty() ? es.target.template_type
           : target != nullptr              ? target->type
                                            : "Opaque";
  if (rendered != nullptr) {
    d.labels = rendered->labels;
    d.annotations = rendered->annotations;
  } else {
    d.labels = es.target.has_template ? es.target.template_labels : es.metadata.labels;
    d.annotations =
        es.target.has_template ? es.target.template_annotations : es.metadata.annotations;
  }
  d.annotations.erase(std::string(kAnnotationLastApplied));
  d.labels[std::string(kLabelManaged)] = "true";
  if (es.target.creation_policy == CreationPolicy::kOwner) {
    d.labels[std::string(kLabelCreatedBy)] =
        CreatedByValue(es.metadata.namespace_, es.metadata.name);
  }
  d.annotations[std::string(kAnnotationDataHash)] = DataHash(d.data);
  d.owner_refs = DesiredOwnerRefs(
      es, target != nullptr ? target->owner_references : std::vector<OwnerReference>{});
  d.immutable = es.target.immutable || (target != nullptr && target->immutable);
  return d;
}

json DesiredToObject(const ExternalSecret& es, const Desired& d) {
  json data = json::object();
  for (const auto& [k, v] : d.data) data[k] = Base64Encode(v);
  json meta = {{"name", es.target.name},
               {"namespace", es.metadata.namespace_},
               {"labels", StringMapToJson(d.labels)},
               {"annotations", StringMapToJson(d.annotations)}};
  if (!d.owner_refs.empty()) {
    json refs = json::array();
    for (const OwnerReference& r : d.owner_refs) refs.push_back(OwnerRefToJson(r));
    meta["ownerReferences"] = std::move(refs);
  }
  json out = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", std::move(meta)},
              {"type", d.type},
              {"data", std::move(data)}};
  if (d.immutable) out["immutable"] = true;
  return out;
}

// Adds to `patch[section][k]` every entry of `want` that `have` lacks or holds differently.
void PatchMap(const StringMap& want, const StringMap& have, json& patch_section) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) patch_section[k] = v;
  }
}

// The merge patch from the observed Secret to the desired one; empty when nothing differs.
json BuildPatch(const Desired& d, const ObservedSecret& target) {
  json patch = json::object();
  json data = json::object();
  for (const auto& [k, v] : d.data) {
    auto it = target.data.find(k);
    if (it == target.data.end() || it->second != v) data[k] = Base64Encode(v);
  }
  for (const std::string& k : d.removed_keys) {
    if (target.data.count(k) > 0) data[k] = nullptr;
  }
  if (!data.empty()) patch["data"] = std::move(data);
  json labels = json::object();
  PatchMap(d.labels, target.metadata.labels, labels);
  json annotations = json::object();
  PatchMap(d.annotations, target.metadata.annotations, annotations);
  json meta = json::object();
  if (!labels.empty()) meta["labels"] = std::move(labels);
  if (!annotations.empty()) meta["annotations"] = std::move(annotations);
  if (d.owner_refs != target.owner_references) {
    json refs = json::array();
    for (const OwnerReference& r : d.owner_refs) refs.push_back(OwnerRefToJson(r));
    meta["ownerReferences"] = std::move(refs);
  }
  if (!meta.empty()) patch["metadata"] = std::move(meta);
  if (d.type != target.type) patch["type"] = d.type;
  if (d.immutable && !target.immutable) patch["immutable"] = true;
  return patch;
}

bool DataDiffers(const Desired& d, const ObservedSecret& target) { return d.data != target.data; }

// Fills the status, events and requeue of a successful reconcile.
void MarkDone(const ExternalSecret& es, std::string_view reason, std::string_view message,
              std::int64_t now_ms, Plan& plan) {
  plan.ok = true;
  plan.consecutive_failures = 0;
  plan.status.refresh_time_ms = now_ms;
  plan.status.synced_resource_version = SyncedResourceVersionOf(es.metadata);
  SetCondition(plan.status.conditions,
               Condition{std::string(kConditionReady), "True", std::string(reason),
                         std::string(message), ""},
               now_ms);
  plan.requeue_after_ms.reset();
  if (es.refresh_policy == RefreshPolicy::kPeriodic && es.refresh_interval_ms > 0) {
    plan.requeue_after_ms = es.refresh_interval_ms;
  }
}

// Turns `plan` into a failure: no write, Ready False SecretSyncedError, UpdateFailed, backoff.
void MarkFailed(const ExternalSecret& es, const ObservedState& observed, std::string_view what,
                const Status& cause, std::int64_t now_ms, Plan& plan) {
  std::string message(what);
  if (!cause.message().empty()) message += ": " + cause.message();
  plan.action = SecretAction::kNone;
  plan.secret = json();
  plan.patch = json();
  plan.ok = false;
  plan.status = es.status;
  plan.status.binding_name = es.target.name;
  SetCondition(plan.status.conditions,
               Condition{std::string(kConditionReady), "False",
                         std::string(kReasonSecretSyncedError), message, ""},
               now_ms);
  plan.events = {Event{"Warning", std::string(kEventUpdateFailed), message}};
  plan.consecutive_failures = observed.consecutive_failures + 1;
  plan.requeue_after_ms = BackoffDelay(plan.consecutive_failures);
}

void Finish(const ExternalSecret& es, Plan& plan) {
  plan.status_changed = StatusToJson(plan.status) != StatusToJson(es.status);
}

bool IsManaged(const ObservedSecret& s) {
  auto it = s.metadata.labels.find(std::string(kLabelManaged));
  return it != s.metadata.labels.end() && it->second == "true";
}

// The provider returned no data at all (ESO's `len(dataMap) == 0`). Returns true when it decided.
bool HandleEmptyData(const ExternalSecret& es, const ObservedState& observed, std::int64_t now_ms,
                     Plan& plan) {
  switch (es.target.deletion_policy) {
    case DeletionPolicy::kRetain:
      MarkDone(es, kReasonSecretSynced, kMsgRetained, now_ms, plan);
      return true;
    case DeletionPolicy::kDelete:
      if (es.target.creation_policy != CreationPolicy::kOwner) {
        MarkFailed(
            es, observed, "unable to delete secret",
            Status::FailedPrecondition(
                "creationPolicy=" + std::string(CreationPolicyName(es.target.creation_policy)) +
                " is not Owner"),
            now_ms, plan);
        return true;
      }
      if (observed.target.has_value() && IsManaged(*observed.target)) {
        plan.action = SecretAction::kDelete;
        plan.secret = {
            {"metadata", {{"name", es.target.name}, {"namespace", es.metadata.namespace_}}}};
        plan.events.push_back(
            Event{"Normal", std::string(kEventDeleted), std::string(kMsgDeleted)});
      }
      MarkDone(es, kReasonSecretDeleted, kMsgDeleted, now_ms, plan);
      return true;
    case DeletionPolicy::kMerge:
      return false;  // write what is left (our keys removed)
  }
  return false;
}

}  // namespace

bool ShouldRefresh(const ExternalSecret& es, std::int64_t now_ms) {
  const ExternalSecretStatus& st = es.status;
  const bool never_synced = st.synced_resource_version.empty() || !st.refresh_time_ms.has_value();
  const bool changed = st.synced_resource_version != SyncedResourceVersionOf(es.metadata);
  switch (es.refresh_policy) {
    case RefreshPolicy::kCreatedOnce:
      return never_synced;
    case RefreshPolicy::kOnChange:
      return changed;
    case RefreshPolicy::kPeriodic:
      break;
  }
  if (es.refresh_interval_ms <= 0 && !st.synced_resource_version.empty()) return false;
  if (changed || !st.refresh_time_ms.has_value()) return true;
  if (*st.refresh_time_ms > now_ms) return true;
  return *st.refresh_time_ms + es.refresh_interval_ms < now_ms;
}

bool IsTargetValid(const ExternalSecret& es, const ObservedState& observed) {
  if (es.target.creation_policy == CreationPolicy::kOrphan ||
      es.target.creation_policy == CreationPolicy::kNone) {
    return true;
  }
  if (!observed.target.has_value()) return false;
  const ObservedSecret& s = *observed.target;
  if (!IsManaged(s)) return false;
  auto hash = s.metadata.annotations.find(std::string(kAnnotationDataHash));
  return hash != s.metadata.annotations.end() && hash->second == DataHash(s.data);
}

bool NeedsRefresh(const ExternalSecret& es, const ObservedState& observed, std::int64_t now_ms) {
  return ShouldRefresh(es, now_ms) || !IsTargetValid(es, observed);
}

std::optional<std::int64_t> NextRefreshDelay(const ExternalSecret& es, std::int64_t now_ms) {
  if (es.refresh_policy != RefreshPolicy::kPeriodic || es.refresh_interval_ms <= 0) {
    return std::nullopt;
  }
  if (!es.status.refresh_time_ms) return 0;
  return std::max<std::int64_t>(0, *es.status.refresh_time_ms + es.refresh_interval_ms - now_ms);
}

std::int64_t BackoffDelay(int failures) {
  std::int64_t delay = kBackoffBaseMs;
  for (int i = 1; i < failures && delay < kBackoffMaxMs; ++i) delay *= 2;
  return std::min(delay, kBackoffMaxMs);
}

void SetCondition(std::vector<Condition>& conditions, Condition condition, std::int64_t now_ms) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == condition.type; });
  if (it == conditions.end()) {
    condition.last_transition_time = FormatIso8601(now_ms);
    conditions.push_back(std::move(condition));
    return;
  }
  if (it->status == condition.status && it->reason == condition.reason &&
      it->message == condition.message) {
    return;
  }
  condition.last_transition_time =
      it->status == condition.status && !it->last_transition_time.empty() ? it->last_transition_time
                                                                          : FormatIso8601(now_ms);
  *it = std::move(condition);
}

json BuildSecretObject(const ExternalSecret& es, const SecretData& data) {
  BuiltData built;
  built.data = data;
  return DesiredToObject(es, BuildDesired(es, nullptr, built));
}

Plan ReconcileExternalSecret(const ExternalSecret& es, const ObservedState& observed,
                             const FetchResult& fetched, std::int64_t now_ms,
                             const TemplateOptions& template_options) {
  Plan plan;
  plan.status = es.status;
  plan.status.binding_name = es.target.name;
  plan.consecutive_failures = observed.consecutive_failures;

  Result<BuiltData> built = BuildSecretData(es, fetched);
  if (!built.ok()) {
    MarkFailed(es, observed, kMsgGetData, built.status(), now_ms, plan);
    Finish(es, plan);
    return plan;
  }
  if (built->data.empty() && HandleEmptyData(es, observed, now_ms, plan)) {
    Finish(es, plan);
    return plan;
  }

  std::optional<RenderedSecret> rendered;
  if (es.target.has_template) {
    Result<RenderedSecret> r =
        ApplyTemplate(es, built->data, observed.template_sources, template_options);
    if (!r.ok()) {
      MarkFailed(es, observed, kMsgUpdate,
                 Status(r.status().code(), "could not apply template: " + r.status().message()),
                 now_ms, plan);
      Finish(es, plan);
      return plan;
    }
    rendered = std::move(*r);
    built->data = rendered->data;
  }
  const RenderedSecret* rendered_ptr = rendered ? &*rendered : nullptr;

  const ObservedSecret* target = observed.target ? &*observed.target : nullptr;
  const CreationPolicy policy = es.target.creation_policy;
  if (policy == CreationPolicy::kNone) {
    MarkDone(es, kReasonSecretSynced, kMsgSynced, now_ms, plan);
  } else if (policy == CreationPolicy::kMerge && target == nullptr) {
    MarkDone(es, kReasonSecretMissing, kMsgMissing, now_ms, plan);
  } else if (target == nullptr) {
    plan.action = SecretAction::kCreate;
    plan.secret = DesiredToObject(es, BuildDesired(es, nullptr, *built, rendered_ptr));
    plan.events.push_back(Event{"Normal", std::string(kEventCreated), std::string(kMsgCreated)});
    MarkDone(es, kReasonSecretSynced, kMsgSynced, now_ms, plan);
  } else {
    if (Status owner = CheckOwnership(es, *target); !owner.ok()) {
      MarkFailed(es, observed, kMsgUpdate, owner, now_ms, plan);
      Finish(es, plan);
      return plan;
    }
    const Desired desired = BuildDesired(es, target, *built, rendered_ptr);
    if (target->immutable && DataDiffers(desired, *target)) {
      MarkFailed(es, observed, kMsgImmutable, Status::Ok(), now_ms, plan);
      Finish(es, plan);
      return plan;
    }
    json patch = BuildPatch(desired, *target);
    if (!patch.empty()) {
      if (!target->metadata.resource_version.empty()) {
        patch["metadata"]["resourceVersion"] = target->metadata.resource_version;
      }
      plan.action = SecretAction::kUpdate;
      plan.secret = target->raw.is_object() ? target->raw : DesiredToObject(es, desired);
      plan.secret.merge_patch(patch);
      plan.patch = std::move(patch);
      plan.events.push_back(Event{"Normal", std::string(kEventUpdated), std::string(kMsgUpdated)});
    }
    MarkDone(es, kReasonSecretSynced, kMsgSynced, now_ms, plan);
  }
  Finish(es, plan);
  return plan;
}

Plan PlanWriteFailure(const ExternalSecret& es, const ObservedState& observed,
                      const Plan& attempted, const Status& error, std::int64_t now_ms) {
  Plan plan;
  const std::string_view what = attempted.action == SecretAction::kDelete ? kMsgDelete : kMsgUpdate;
  MarkFailed(es, observed, what, error, now_ms, plan);
  Finish(es, plan);
  return plan;
}

Plan PlanInvalidSpec(const json& object, const Status& error, std::int64_t now_ms) {
  Result<ExternalSecretStatus> current = ParseExternalSecretStatus(object);
  const ExternalSecretStatus old = current.ok() ? *current : ExternalSecretStatus{};
  Plan plan;
  plan.ok = false;
  plan.status = old;
  const std::string message = "invalid ExternalSecret: " + error.message();
  SetCondition(plan.status.conditions,
               Condition{std::string(kConditionReady), "False",
                         std::string(kReasonSecretSyncedError), message, ""},
               now_ms);
  plan.events = {Event{"Warning", std::string(kEventUpdateFailed), message}};
  plan.status_changed = StatusToJson(plan.status) != StatusToJson(old);
  return plan;
}

}  // namespace coffer::op
