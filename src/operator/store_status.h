#pragma once

// SecretStore / ClusterSecretStore status, computed purely from a validation outcome, the way ESO's
// pkg/controllers/secretstore/common.go does: a Ready condition with reason Valid ("store
// validated"), InvalidProviderConfig ("unable to create client") or ValidationFailed ("unable to
// validate store: <cause>"), status.capabilities, one event, and the requeue interval.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "operator/reconcile.h"
#include "operator/types.h"

namespace coffer::op {

inline constexpr std::string_view kReasonStoreValid = "Valid";
inline constexpr std::string_view kReasonInvalidStoreConfiguration = "InvalidStoreConfiguration";
inline constexpr std::string_view kReasonInvalidProviderConfig = "InvalidProviderConfig";
inline constexpr std::string_view kReasonValidationFailed = "ValidationFailed";
inline constexpr std::string_view kReasonValidationUnknown = "ValidationUnknown";

inline constexpr std::string_view kCapabilityReadOnly = "ReadOnly";
inline constexpr std::string_view kCapabilityWriteOnly = "WriteOnly";
inline constexpr std::string_view kCapabilityReadWrite = "ReadWrite";

// ESO's --store-requeue-interval default: stores are re-validated every 5 minutes.
inline constexpr std::int64_t kDefaultStoreRequeueMs = 300'000;

// What validating a store found.
enum class StoreValidation {
  kValid,        // the backend accepted the credentials
  kClientError,  // no client could be built: bad spec, credentials Secret missing/unreadable
  kConfigError,  // the backend said the configuration is wrong (ESO's ValidationResultError)
  kFailed,       // the backend rejected the credentials or could not be reached
  kUnknown,      // validation not possible (e.g. referent auth); treated as valid, as ESO does
};

struct StoreValidationResult {
  StoreValidation outcome = StoreValidation::kValid;
  Status cause;  // why, for anything but kValid/kUnknown; never holds a credential
};

// The computed store status.
struct StoreStatusPlan {
  std::vector<Condition> conditions;
  std::string capabilities;  // empty when the store is not usable
  bool ready = false;
  bool status_changed = false;  // the conditions differ from `current`
  std::vector<Event> events;
  std::int64_t requeue_after_ms = kDefaultStoreRequeueMs;
  nlohmann::json status;  // {conditions, capabilities} as stored in the object
};

// The capabilities ESO reports for a provider: aws (SecretsManager) and fake are ReadWrite.
std::string_view ProviderCapabilities(ProviderType provider);

// The store status after a validation. `store` is nullptr when the object did not parse (then the
// outcome should be kClientError with the parse error as cause); `current` are the conditions
// already in the object (lastTransitionTime is kept when Ready's status does not change).
// The requeue is spec.refreshInterval when set, else 5 minutes.
StoreStatusPlan ComputeStoreStatus(const SecretStore* store, const std::vector<Condition>& current,
                                   const StoreValidationResult& result, std::int64_t now_ms);

// True when the store can be used by ExternalSecrets (ESO's flood gate): Ready is True.
bool StoreIsReady(const std::vector<Condition>& conditions);

}  // namespace coffer::op
