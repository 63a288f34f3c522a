#pragma once

// The ExternalSecret reconciler's decisions, as pure functions. "Reconcile functions are pure: they
// take the desired state and the observed state and return the actions to take." The caller (the
// controller loop) reads the ExternalSecret and its target Secret, asks NeedsRefresh, fetches the
// RequiredFetches (values.h) when it says yes, calls ReconcileExternalSecret, then carries out the
// Plan: one Secret write, the status patch, the events and the requeue. If the write fails it calls
// PlanWriteFailure for the status, event and backoff. Time is passed in as epoch milliseconds.
//
// Behaviour follows ESO (pkg/controllers/externalsecret): conditions, reasons, messages, events,
// the managed label, the data-hash annotation and syncedResourceVersion are ESO's (see
// eso_hash.h), so ESO's tooling and coffer's read each other's objects.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "operator/template_apply.h"
#include "operator/types.h"
#include "operator/values.h"

namespace coffer::op {

inline constexpr std::string_view kLabelManaged = "reconcile.external-secrets.io/managed";
inline constexpr std::string_view kLabelCreatedBy = "reconcile.external-secrets.io/created-by";
inline constexpr std::string_view kAnnotationDataHash = "reconcile.external-secrets.io/data-hash";
// Never copied from the ExternalSecret onto its Secret.
inline constexpr std::string_view kAnnotationLastApplied =
    "kubectl.kubernetes.io/last-applied-configuration";

inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kReasonSecretSynced = "SecretSynced";
inline constexpr std::string_view kReasonSecretSyncedError = "SecretSyncedError";
inline constexpr std::string_view kReasonSecretDeleted = "SecretDeleted";
inline constexpr std::string_view kReasonSecretMissing = "SecretMissing";

inline constexpr std::string_view kEventCreated = "Created";
inline constexpr std::string_view kEventUpdated = "Updated";
inline constexpr std::string_view kEventUpdateFailed = "UpdateFailed";
inline constexpr std::string_view kEventDeleted = "Deleted";

// Error backoff: 5 s after the first failure, doubling, capped at 5 minutes.
inline constexpr std::int64_t kBackoffBaseMs = 5'000;
inline constexpr std::int64_t kBackoffMaxMs = 300'000;

// What the controller sees besides the ExternalSecret itself.
struct ObservedState {
  std::optional<ObservedSecret> target;  // the target Secret, if it exists
  int consecutive_failures = 0;          // failed reconciles since the last success
  // The ConfigMaps and Secrets named by spec.target.template.templateFrom (TemplateSourcesOf).
  TemplateSources template_sources;
};

enum class SecretAction { kNone, kCreate, kUpdate, kDelete };

// A Kubernetes Event on the ExternalSecret. `type` is "Normal" or "Warning".
struct Event {
  std::string type;
  std::string reason;
  std::string message;
};

// What to do.
struct Plan {
  SecretAction action = SecretAction::kNone;
  // kCreate: the Secret to create. kUpdate: the full desired object (the observed object with
  // `patch` applied, including metadata.resourceVersion). kDelete: {metadata: {name, namespace}}.
  nlohmann::json secret;
  // kUpdate: an RFC 7386 JSON merge patch from the observed Secret to the desired one. It carries
  // metadata.resourceVersion, so a concurrent change makes the apiserver answer 409 Conflict.
  nlohmann::json patch;
  ExternalSecretStatus status;  // the new status
  bool status_changed = false;  // whether `status` differs from the ExternalSecret's current one
  std::vector<Event> events;
  std::optional<std::int64_t> requeue_after_ms;  // nullopt: only an event re-triggers
  int consecutive_failures = 0;                  // to keep for the next reconcile
  bool ok = true;  // false when the reconcile failed (counts in externalsecret_sync_calls_error)
};

// ESO's shouldRefresh: whether the refresh policy asks for a fetch now, ignoring the target.
// Periodic: never synced, syncedResourceVersion differs from SyncedResourceVersionOf(metadata)
// (spec, label or annotation change — how `kubectl annotate es x force-sync=$(date +%s)` works),
// refreshTime in the future, or refreshTime + refreshInterval reached; with refreshInterval 0 and a
// previous sync, never. CreatedOnce: only if never synced. OnChange: only on a resource version
// change.
bool ShouldRefresh(const ExternalSecret& es, std::int64_t now_ms);

// ESO's isSecretValid: the target exists, carries managed=true and its data-hash annotation equals
// the hash of its data (not edited). An Orphan target is always valid (ESO does not repair it
// before the next due refresh); so is a None target (nothing is ever written).
bool IsTargetValid(const ExternalSecret& es, const ObservedState& observed);

// True when a fetch + reconcile is needed now: ShouldRefresh or the target is not valid.
bool NeedsRefresh(const ExternalSecret& es, const ObservedState& observed, std::int64_t now_ms);

// When to look again if NeedsRefresh said no: the rest of the refresh interval for Periodic with a
// positive interval, else nullopt.
std::optional<std::int64_t> NextRefreshDelay(const ExternalSecret& es, std::int64_t now_ms);

// The backoff before retry number `failures` (1-based): 5 s, 10 s, 20 s, ... capped at 5 min.
std::int64_t BackoffDelay(int failures);

// The full decision for one reconcile, given the fetched values. spec.target.template, when
// present, is applied to the fetched data (template_apply.h). Failures (a fetch error, a template
// error, a foreign owner, an immutable target) leave the Secret untouched: action kNone, Ready
// False SecretSyncedError with the cause, an UpdateFailed warning, and a backoff requeue.
Plan ReconcileExternalSecret(const ExternalSecret& es, const ObservedState& observed,
                             const FetchResult& fetched, std::int64_t now_ms,
                             const TemplateOptions& template_options = {});

// The plan after carrying out `attempted` failed with `error` (the Secret write or delete): Ready
// False SecretSyncedError "could not update secret" / "could not delete secret" with the cause, an
// UpdateFailed warning, and backoff. refreshTime and syncedResourceVersion keep their old values,
// so the next reconcile refreshes again.
Plan PlanWriteFailure(const ExternalSecret& es, const ObservedState& observed,
                      const Plan& attempted, const Status& error, std::int64_t now_ms);

// The plan for an ExternalSecret whose spec does not parse (no admission webhook caught it):
// Ready False SecretSyncedError "invalid ExternalSecret: <error>", a Warning UpdateFailed event, no
// Secret write and no timed requeue (only a spec change helps). `object` is the raw object; its
// current status is read leniently (an unreadable status counts as empty).
Plan PlanInvalidSpec(const nlohmann::json& object, const Status& error, std::int64_t now_ms);

// Sets `condition` in `conditions` the way ESO does: an identical condition is left alone; when
// only reason/message change, lastTransitionTime is kept; when status changes it is set to now.
void SetCondition(std::vector<Condition>& conditions, Condition condition, std::int64_t now_ms);

// The desired Secret object for a create (exposed for tests and the runner's dry runs).
nlohmann::json BuildSecretObject(const ExternalSecret& es, const SecretData& data);

}  // namespace coffer::op
