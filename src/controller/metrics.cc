#include "controller/metrics.h"

#include "operator/metrics_names.h"

namespace coffer::controller {
namespace {

namespace names = op::metrics;

std::vector<std::string> Labels(std::initializer_list<std::string_view> names) {
  return std::vector<std::string>(names.begin(), names.end());
}

const std::vector<std::string>& ObjectLabels() {
  static const auto* labels =
      new std::vector<std::string>(Labels({names::kLabelName, names::kLabelNamespace}));
  return *labels;
}

const std::vector<std::string>& ConditionLabels() {
  static const auto* labels = new std::vector<std::string>(Labels(
      {names::kLabelName, names::kLabelNamespace, names::kLabelCondition, names::kLabelStatus}));
  return *labels;
}

}  // namespace

OperatorMetrics::OperatorMetrics(metrics::Registry& registry)
    : sync_calls_(registry.AddCounterFamily(std::string(names::kSyncCallsTotal),
                                            "Total number of ExternalSecret reconciles.",
                                            ObjectLabels())),
      sync_errors_(registry.AddCounterFamily(std::string(names::kSyncCallsError),
                                             "Total number of failed ExternalSecret reconciles.",
                                             ObjectLabels())),
      sync_errors_alias_(registry.AddCounterFamily(
          std::string(names::kSyncCallsErrorSeedAlias),
          "Failed ExternalSecret reconciles (the name the seed guide's SecretSyncFailed alert "
          "uses; same value as externalsecret_sync_calls_error).",
          ObjectLabels())),
      es_condition_(registry.AddGaugeFamily(std::string(names::kStatusCondition),
                                            "The status condition of an ExternalSecret (0 or 1).",
                                            ConditionLabels())),
      es_duration_(registry.AddGaugeFamily(
          std::string(names::kReconcileDuration),
          "The duration of the last ExternalSecret reconcile, in nanoseconds.", ObjectLabels())),
      provider_calls_(registry.AddCounterFamily(
          std::string(names::kProviderApiCallsCount), "Number of API calls to providers.",
          Labels({names::kLabelProvider, names::kLabelCall, names::kLabelStatus}))),
      store_condition_(registry.AddGaugeFamily(std::string(names::kSecretStoreStatusCondition),
                                               "The status condition of a SecretStore (0 or 1).",
                                               ConditionLabels())),
      store_duration_(registry.AddGaugeFamily(
          std::string(names::kSecretStoreReconcileDuration),
          "The duration of the last SecretStore reconcile, in nanoseconds.", ObjectLabels())),
      cluster_store_condition_(registry.AddGaugeFamily(
          std::string(names::kClusterSecretStoreStatusCondition),
          "The status condition of a ClusterSecretStore (0 or 1).", ConditionLabels())),
      cluster_store_duration_(registry.AddGaugeFamily(
          std::string(names::kClusterSecretStoreReconcileDuration),
          "The duration of the last ClusterSecretStore reconcile, in nanoseconds.",
          ObjectLabels())) {}

void OperatorMetrics::SetCondition(metrics::Family<metrics::Gauge>& family, const std::string& ns,
                                   const std::string& name, std::string_view ready) {
  if (ready.empty()) return;
  for (const names::ConditionSeries& s :
       names::ConditionGaugeSeries(names::kConditionReady, ready)) {
    family.WithLabels(name, ns, s.condition, s.status).Set(s.value);
  }
}

void OperatorMetrics::RecordSync(const std::string& ns, const std::string& name, bool ok,
                                 std::int64_t duration_ns, std::string_view ready) {
  sync_calls_.WithLabels(name, ns).Inc();
  metrics::Counter& errors = sync_errors_.WithLabels(name, ns);
  metrics::Counter& alias = sync_errors_alias_.WithLabels(name, ns);
  if (!ok) {
    errors.Inc();
    alias.Inc();
  }
  es_duration_.WithLabels(name, ns).Set(static_cast<double>(duration_ns));
  SetCondition(es_condition_, ns, name, ready);
}

void OperatorMetrics::ForgetExternalSecret(const std::string& ns, const std::string& name) {
  sync_calls_.Remove({name, ns});
  sync_errors_.Remove({name, ns});
  sync_errors_alias_.Remove({name, ns});
  es_duration_.Remove({name, ns});
  for (std::string_view status : {"True", "False"}) {
    es_condition_.Remove({name, ns, names::kConditionReady, status});
  }
}

void OperatorMetrics::RecordStore(op::StoreKind kind, const std::string& ns,
                                  const std::string& name, std::string_view ready,
                                  std::int64_t duration_ns) {
  const bool cluster = kind == op::StoreKind::kClusterSecretStore;
  (cluster ? cluster_store_duration_ : store_duration_)
      .WithLabels(name, ns)
      .Set(static_cast<double>(duration_ns));
  SetCondition(cluster ? cluster_store_condition_ : store_condition_, ns, name, ready);
}

void OperatorMetrics::ForgetStore(op::StoreKind kind, const std::string& ns,
                                  const std::string& name) {
  const bool cluster = kind == op::StoreKind::kClusterSecretStore;
  (cluster ? cluster_store_duration_ : store_duration_).Remove({name, ns});
  auto& conditions = cluster ? cluster_store_condition_ : store_condition_;
  for (std::string_view status : {"True", "False"}) {
    conditions.Remove({name, ns, names::kConditionReady, status});
  }
}

void OperatorMetrics::RecordProviderCall(std::string_view provider, std::string_view call,
                                         bool ok) {
  provider_calls_
      .WithLabels(provider, call, ok ? names::kCallStatusSuccess : names::kCallStatusError)
      .Inc();
}

}  // namespace coffer::controller
