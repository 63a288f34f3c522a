#pragma once

// The Prometheus metrics coffer operator exposes, under ESO's names and label sets
// (external-secrets runtime/metrics and pkg/controllers/*/metrics; reference doc section 4). ESO
// registers them without a namespace prefix, so the names below are the full names.

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::op::metrics {

// Label names.
inline constexpr std::string_view kLabelName = "name";
inline constexpr std::string_view kLabelNamespace = "namespace";
inline constexpr std::string_view kLabelCondition = "condition";
inline constexpr std::string_view kLabelStatus = "status";
inline constexpr std::string_view kLabelProvider = "provider";
inline constexpr std::string_view kLabelCall = "call";

inline constexpr std::array<std::string_view, 2> kObjectLabels = {kLabelName, kLabelNamespace};
inline constexpr std::array<std::string_view, 4> kConditionLabels = {kLabelName, kLabelNamespace,
                                                                     kLabelCondition, kLabelStatus};
inline constexpr std::array<std::string_view, 3> kProviderCallLabels = {kLabelProvider, kLabelCall,
                                                                        kLabelStatus};

// Counter{name,namespace}: every reconcile of an ExternalSecret, skipped ones included.
inline constexpr std::string_view kSyncCallsTotal = "externalsecret_sync_calls_total";
// Counter{name,namespace}: failed reconciles. ESO's name has no _total suffix.
inline constexpr std::string_view kSyncCallsError = "externalsecret_sync_calls_error";
// Counter{name,namespace}: the same count under the name the seed guide's SecretSyncFailed alert
// uses. ESO never had this name (it is a KES/ESO blend); coffer exposes both so the alert works.
inline constexpr std::string_view kSyncCallsErrorSeedAlias = "external_secrets_sync_calls_error";
// Gauge 0/1 {name,namespace,condition,status}: condition Ready|Deleted, status True|False; both
// status series exist, the one not in effect is 0.
inline constexpr std::string_view kStatusCondition = "externalsecret_status_condition";
// Gauge{name,namespace}: the last reconcile's duration. ESO's value is in NANOSECONDS
// (float64(time.Since(start))); coffer keeps that unit for dashboard compatibility.
inline constexpr std::string_view kReconcileDuration = "externalsecret_reconcile_duration";
// Counter{provider,call,status}: backend API calls, e.g. provider="AWS/SecretsManager",
// call="GetSecretValue", status="success"|"error".
inline constexpr std::string_view kProviderApiCallsCount =
    "externalsecret_provider_api_calls_count";
// Gauge 0/1 {name,namespace,condition,status}: SecretStore conditions.
inline constexpr std::string_view kSecretStoreStatusCondition = "secretstore_status_condition";
// Gauge{name,namespace}: SecretStore reconcile duration (nanoseconds, as ESO).
inline constexpr std::string_view kSecretStoreReconcileDuration = "secretstore_reconcile_duration";
// The ClusterSecretStore twins; `namespace` is empty for these cluster-scoped objects.
inline constexpr std::string_view kClusterSecretStoreStatusCondition =
    "clustersecretstore_status_condition";
inline constexpr std::string_view kClusterSecretStoreReconcileDuration =
    "clustersecretstore_reconcile_duration";
// The ClusterExternalSecret twins (ESO's cesmetrics); `namespace` is empty.
inline constexpr std::string_view kClusterExternalSecretStatusCondition =
    "clusterexternalsecret_status_condition";
inline constexpr std::string_view kClusterExternalSecretReconcileDuration =
    "clusterexternalsecret_reconcile_duration";

// Values of the provider/call/status labels.
inline constexpr std::string_view kProviderAwsSecretsManager = "AWS/SecretsManager";
inline constexpr std::string_view kProviderFake = "Fake";
inline constexpr std::string_view kCallGetSecretValue = "GetSecretValue";
inline constexpr std::string_view kCallDescribeSecret = "DescribeSecret";
inline constexpr std::string_view kCallStatusSuccess = "success";
inline constexpr std::string_view kCallStatusError = "error";

// Values of the condition label.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionDeleted = "Deleted";

// One series of a *_status_condition gauge.
struct ConditionSeries {
  std::string condition;
  std::string status;  // "True" | "False"
  double value = 0;
};

// The series ESO keeps for one condition: both status values, 1 for the one in effect and 0 for
// the other (so a flip never leaves a stale 1 behind).
inline std::vector<ConditionSeries> ConditionGaugeSeries(std::string_view condition,
                                                         std::string_view status) {
  return {ConditionSeries{std::string(condition), "True", status == "True" ? 1.0 : 0.0},
          ConditionSeries{std::string(condition), "False", status == "False" ? 1.0 : 0.0}};
}

}  // namespace coffer::op::metrics
