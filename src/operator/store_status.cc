#include "operator/store_status.h"

#include <utility>

namespace coffer::op {
namespace {

constexpr std::string_view kMsgStoreValidated = "store validated";
constexpr std::string_view kMsgUnableCreateClient = "unable to create client";
constexpr std::string_view kMsgUnableValidate = "unable to validate store: ";

nlohmann::json ToJson(const std::vector<Condition>& conditions, std::string_view capabilities) {
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json list = nlohmann::json::array();
  for (const Condition& c : conditions) list.push_back(ConditionToJson(c));
  out["conditions"] = std::move(list);
  if (!capabilities.empty()) out["capabilities"] = std::string(capabilities);
  return out;
}

std::string CauseText(const Status& cause) {
  return cause.message().empty() ? std::string(StatusCodeName(cause.code())) : cause.message();
}

}  // namespace

std::string_view ProviderCapabilities(ProviderType provider) {
  switch (provider) {
    case ProviderType::kAws:
    case ProviderType::kFake:
      return kCapabilityReadWrite;
  }
  return kCapabilityReadOnly;
}

StoreStatusPlan ComputeStoreStatus(const SecretStore* store, const std::vector<Condition>& current,
                                   const StoreValidationResult& result, std::int64_t now_ms) {
  StoreStatusPlan plan;
  plan.conditions = current;
  if (store != nullptr && store->refresh_interval_ms > 0) {
    plan.requeue_after_ms = store->refresh_interval_ms;
  }
  Condition ready{std::string(kConditionReady), "False", "", "", ""};
  switch (result.outcome) {
    case StoreValidation::kValid:
    case StoreValidation::kUnknown:
      ready.status = "True";
      ready.reason = kReasonStoreValid;
      ready.message = kMsgStoreValidated;
      plan.ready = true;
      plan.events.push_back(
          Event{"Normal", std::string(kReasonStoreValid), std::string(kMsgStoreValidated)});
      if (store != nullptr) plan.capabilities = ProviderCapabilities(store->provider_type);
      break;
    case StoreValidation::kClientError:
      ready.reason = kReasonInvalidProviderConfig;
      ready.message = kMsgUnableCreateClient;
      plan.events.push_back(
          Event{"Warning", std::string(kReasonInvalidProviderConfig), CauseText(result.cause)});
      break;
    case StoreValidation::kConfigError:
    case StoreValidation::kFailed: {
      const std::string_view reason = result.outcome == StoreValidation::kConfigError
                                          ? kReasonInvalidProviderConfig
                                          : kReasonValidationFailed;
      ready.reason = reason;
      ready.message = std::string(kMsgUnableValidate) + CauseText(result.cause);
      plan.events.push_back(Event{"Warning", std::string(reason), CauseText(result.cause)});
      break;
    }
  }
  SetCondition(plan.conditions, std::move(ready), now_ms);
  plan.status = ToJson(plan.conditions, plan.capabilities);
  // Capabilities only change together with Ready's status, so the conditions decide.
  plan.status_changed = ToJson(plan.conditions, "") != ToJson(current, "");
  return plan;
}

bool StoreIsReady(const std::vector<Condition>& conditions) {
  const Condition* c = FindCondition(conditions, kConditionReady);
  return c != nullptr && c->status == "True";
}

}  // namespace coffer::op
