#pragma once

// The reloader's pure reconcile of one workload: from the HMACs its watched sources have now and
// the record on the workload, what to patch.
//
// The record is the workload's metadata annotation reloader.coffer.dev/hashes: a JSON object
// {"secret/<name>": "<hmac>", "configmap/<name>": "<hmac>"} of the hash each source had when the
// workload was last rolled for it, or first seen with it. Metadata annotations do not roll pods,
// so recording is free; a rollout changes the pod template as Reloader's strategies do.
//   - A source without a record entry (first sight, a newly used source): record it, no rollout.
//     (Reloader's --sync-after-restart rolls here, its issue #272.)
//   - A source whose hash differs from the record: roll, and record the new hash. Every changed
//     source goes into one patch, so several Secrets changed together give one rollout.
//   - Equal hashes: nothing (so a restarted reloader rolls nothing). A source that disappeared:
//     nothing (its entry stays, so it rolls only if it comes back different).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reloader/workload.h"

namespace coffer::reloader {

inline constexpr std::string_view kRecordAnnotation = "reloader.coffer.dev/hashes";
inline constexpr std::string_view kLastReloadedFrom = "reloader.stakater.com/last-reloaded-from";
// annotations strategy: the record, also on the pod template, so that the template changes
// exactly when a hash does.
inline constexpr std::string_view kTemplateHashes = "reloader.coffer.dev/last-reloaded-hashes";

enum class Strategy {
  kEnvVars,      // a STAKATER_<NAME>_SECRET / _CONFIGMAP variable on the container using it
  kAnnotations,  // pod template annotations
};

struct PlanOptions {
  Strategy strategy = Strategy::kEnvVars;  // Default: env-vars, as Reloader.
  std::int64_t now_unix = 0;               // observedAt of the annotations strategy
};

struct Plan {
  enum Action { kNone, kRecordOnly, kRollout };
  Action action = kNone;
  std::vector<SourceRef> changed;  // kRollout: the sources rolled for, in name order
  nlohmann::json patch;            // a strategic-merge patch of the workload (not kNone)
};

// `hashes`: the current hash of every source the workload watches (rules.h) that exists.
Plan PlanReload(const Workload& workload, const std::map<SourceRef, std::string>& hashes,
                const PlanOptions& options);

// Reloader's variable name: STAKATER_ + the name upper-cased with every run of characters other
// than letters and digits turned into one '_' + _SECRET or _CONFIGMAP.
std::string EnvVarName(const SourceRef& ref);

}  // namespace coffer::reloader
