#pragma once

// coffer operator's Prometheus metrics under ESO's names and labels (operator/metrics_names.h),
// registered on a metrics::Registry. Per-object series are removed when their object is deleted,
// as ESO does, so a deleted ExternalSecret leaves no stale Ready=False series behind.

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/registry.h"
#include "operator/types.h"

namespace coffer::controller {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(metrics::Registry& registry);
  OperatorMetrics(const OperatorMetrics&) = delete;
  OperatorMetrics& operator=(const OperatorMetrics&) = delete;

  // One reconcile of an ExternalSecret: externalsecret_sync_calls_total, on failure both error
  // counters (created at 0 on the first reconcile, so increase() sees the first error), the
  // duration gauge (nanoseconds, as ESO) and the Ready condition gauges (`ready` "True"/"False";
  // empty when the object has no Ready condition yet).
  void RecordSync(const std::string& ns, const std::string& name, bool ok, std::int64_t duration_ns,
                  std::string_view ready);
  void ForgetExternalSecret(const std::string& ns, const std::string& name);

  // One reconcile of a SecretStore (namespace set) or ClusterSecretStore (namespace empty).
  void RecordStore(op::StoreKind kind, const std::string& ns, const std::string& name,
                   std::string_view ready, std::int64_t duration_ns);
  void ForgetStore(op::StoreKind kind, const std::string& ns, const std::string& name);

  // externalsecret_provider_api_calls_count{provider, call, status="success"|"error"}.
  void RecordProviderCall(std::string_view provider, std::string_view call, bool ok);

 private:
  void SetCondition(metrics::Family<metrics::Gauge>& family, const std::string& ns,
                    const std::string& name, std::string_view ready);

  metrics::Family<metrics::Counter>& sync_calls_;
  metrics::Family<metrics::Counter>& sync_errors_;
  metrics::Family<metrics::Counter>& sync_errors_alias_;
  metrics::Family<metrics::Gauge>& es_condition_;
  metrics::Family<metrics::Gauge>& es_duration_;
  metrics::Family<metrics::Counter>& provider_calls_;
  metrics::Family<metrics::Gauge>& store_condition_;
  metrics::Family<metrics::Gauge>& store_duration_;
  metrics::Family<metrics::Gauge>& cluster_store_condition_;
  metrics::Family<metrics::Gauge>& cluster_store_duration_;
};

}  // namespace coffer::controller
