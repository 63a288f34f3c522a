#pragma once

// coffer operator's ClusterExternalSecret controller: stamps an ExternalSecret into every namespace
// a ClusterExternalSecret selects, removes it where the namespace stops matching, and reports
// provisioned and failed namespaces in the status (op::PlanClusterExternalSecret decides; this
// carries it out). The ExternalSecrets it creates are then synced by the ExternalSecret
// Controller like any other.
//
//   ClusterExternalSecretController c(client, options);
//   c.StartInformers();
//   c.WaitForSync(timeout);
//   c.StartWorkers();              // when leading, with the ExternalSecret Controller
//   ...
//   c.Stop();
//
// Caches (list+watch), all small:
//   clusterexternalsecrets   whole objects (few)                  -> "ces:<name>"
//   namespaces               name, labels, deletionTimestamp     -> the ClusterExternalSecrets
//   whose
//                                                                    selection of it changed
//   externalsecrets          for those a ClusterExternalSecret controls: metadata and spec; for
//                            the others only name and owner (to see a name is taken)
//                                                                 -> its owner, on a spec/metadata
//                                                                    change or deletion
// A reconcile reads only these caches and writes: POST, a JSON patch that tests the cached
// resourceVersion, DELETE, and a merge patch of the status subresource when it changed. It runs
// again after spec.refreshTime (default 1h), and after 5 s doubling to 5 min while writes fail.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "kube/client.h"
#include "kube/watch.h"
#include "metrics/registry.h"
#include "operator/cluster_external_secret.h"
#include "operator/work_queue.h"

namespace coffer::controller {

struct CesControllerOptions {
  // Default: 1. Reconcile workers (each ClusterExternalSecret is handled by one at a time).
  int workers = 1;
  // Default: SystemClock.
  const Clock* clock = nullptr;
  // Default: none. Where clusterexternalsecret_status_condition{name,namespace,condition,status}
  // and clusterexternalsecret_reconcile_duration{name,namespace} (ns, as ESO) are registered;
  // namespace is empty (cluster-scoped), the series go with their object.
  metrics::Registry* registry = nullptr;
};

kube::ResourceRef ClusterExternalSecretsRef(std::string name = {});
kube::ResourceRef NamespacesRef(std::string name = {});

class ClusterExternalSecretController {
 public:
  ClusterExternalSecretController(kube::Client& client, CesControllerOptions options = {});
  ~ClusterExternalSecretController();  // Stop()s
  ClusterExternalSecretController(const ClusterExternalSecretController&) = delete;
  ClusterExternalSecretController& operator=(const ClusterExternalSecretController&) = delete;

  void StartInformers();
  bool Synced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  // Starts the workers. A reconcile waits (requeued) until every cache has synced, so this may be
  // called before WaitForSync. Idempotent.
  void StartWorkers();
  // Stops workers and caches. Idempotent.
  void Stop();

  // Reconciles one queue key ("ces:<name>") now, on the calling thread (the workers' body).
  void Process(const op::WorkItem& item);

  std::size_t queue_ready() const { return queue_.ReadyCount(); }

 private:
  void Sync(const std::string& name);
  // Carries out one action; an error message (never a value) on failure.
  Status Execute(const op::CesAction& action);
  // After a create found the name taken or an update found the object changed (the cache was
  // stale): reads the ExternalSecret live and plans that namespace again, once.
  Status Replan(const op::ClusterExternalSecret& ces, const op::NamespaceInfo& ns,
                const op::CesAction& failed);
  void WriteStatus(const std::string& name, const op::ClusterExternalSecretStatus& status);
  void RecordMetrics(const std::string& name, std::string_view ready, std::int64_t duration_ns);
  void ForgetMetrics(const std::string& name);

  // Informer handlers (informer threads).
  void OnClusterExternalSecret(const nlohmann::json* old_object, const nlohmann::json* object);
  void OnNamespace(const nlohmann::json* old_object, const nlohmann::json* object);
  void OnExternalSecret(const nlohmann::json* old_object, const nlohmann::json* object);

  void Work(std::stop_token stop);

  kube::Client& client_;
  const CesControllerOptions options_;
  const Clock* clock_;
  op::WorkQueue queue_;
  metrics::Family<metrics::Gauge>* condition_gauge_ = nullptr;  // null without a registry
  metrics::Family<metrics::Gauge>* duration_gauge_ = nullptr;

  std::unique_ptr<kube::Informer> cluster_external_secrets_;
  std::unique_ptr<kube::Informer> namespaces_;
  std::unique_ptr<kube::Informer> external_secrets_;

  std::mutex mu_;
  std::map<std::string, int> consecutive_failures_;  // guarded by mu_

  std::atomic<bool> workers_started_{false};
  std::vector<std::jthread> workers_;
};

}  // namespace coffer::controller
