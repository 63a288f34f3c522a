#pragma once

// The reloader's controller: list+watch caches of Secrets and ConfigMaps (kept as their
// reloader annotations, labels and a keyed HMAC of their data, never the data itself), of
// Deployments, StatefulSets and DaemonSets (kept as the parts of the pod spec that reference
// them), and of namespaces when a namespace selector is set; a work queue of workloads; and
// workers that carry out the pure decisions of src/reloader (which workloads a change concerns,
// and the patch that rolls them) against the apiserver. See src/reloader/README.md.
//
//   ReloaderController r(client, registry, options);
//   r.StartInformers();
//   r.WaitForSync(timeout);   // /readyz
//   r.StartWorkers();          // when leading: checks every workload once (catch-up), then
//   ...                        // follows changes
//   r.Stop();
//
// Correctness Reloader lacks:
//  - Catch-up: each workload records, in a metadata annotation, the HMAC of every Secret and
//    ConfigMap it was last rolled for (or first seen with). After a restart a workload rolls only
//    when a source's HMAC differs from its record, so changes made while the reloader was down
//    are applied once, and a restart rolls nothing.
//  - Debounce: a change schedules the workloads of its namespace `debounce_ms` later; further
//    changes within that window join the same reconcile, so one rollout covers them all.
//  - Retries: a failed patch is retried with exponential backoff (up to 5 minutes), forever.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/label_selector.h"
#include "kube/watch.h"
#include "metrics/registry.h"
#include "operator/work_queue.h"
#include "reloader/plan.h"
#include "reloader/rules.h"

namespace coffer::controller {

struct ReloaderOptions {
  // Default: "" (all namespaces). Watch only this namespace (the operator's --namespace).
  std::string namespace_;
  // Default: empty (every namespace). Act only in these namespaces.
  std::set<std::string> namespaces;
  // Default: empty. Never act in these namespaces.
  std::set<std::string> namespaces_to_ignore;
  // Default: "" (every namespace). Act only in namespaces whose labels match.
  std::string namespace_selector;
  // Default: "" (every Secret and ConfigMap). Only matching sources trigger rollouts.
  std::string resource_label_selector;
  // Default: env-vars.
  reloader::Strategy strategy = reloader::Strategy::kEnvVars;
  // Default: 5000. See the file comment.
  std::int64_t debounce_ms = 5000;
  // Default: Reloader's annotation keys, auto_reload_all off.
  reloader::RuleOptions rules;
  // Required: the HMAC key (raw bytes; see LoadOrCreateHmacKey).
  std::string hmac_key;
  // Default: 4. Workers.
  int workers = 4;
  // Default: "coffer-reloader". Field manager of the patches and source of Events.
  std::string field_manager = "coffer-reloader";
  // Default: null (the controller's own client). Events go through this client.
  kube::Client* event_client = nullptr;
  // Default: SystemClock.
  const Clock* clock = nullptr;
};

// The HMAC key in Secret ns/name (data key "key"): read it, or create the Secret with 32 random
// bytes when it does not exist (a concurrent creator wins; its key is read back).
Result<std::string> LoadOrCreateHmacKey(kube::Client& client, const std::string& ns,
                                        const std::string& name);

class ReloaderController {
 public:
  // Fails (kInvalidArgument) on a bad label selector or an empty key.
  static Result<std::unique_ptr<ReloaderController>> Create(kube::Client& client,
                                                            metrics::Registry& registry,
                                                            ReloaderOptions options);
  ~ReloaderController();  // Stop()s
  ReloaderController(const ReloaderController&) = delete;
  ReloaderController& operator=(const ReloaderController&) = delete;

  void StartInformers();
  bool Synced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  // Queues every cached workload once (the catch-up), then starts the workers. Idempotent.
  void StartWorkers();
  void Stop();

  // Reconciles one workload key ("deployments/ns/name", "statefulsets/...", "daemonsets/...")
  // on the calling thread (the workers' body; tests call it).
  void Process(const std::string& key);

  std::size_t queue_ready() const { return queue_.ReadyCount(); }

 private:
  ReloaderController(kube::Client& client, metrics::Registry& registry, ReloaderOptions options,
                     kube::LabelSelector namespace_selector);

  struct WorkloadKind {
    std::string resource;  // "deployments"
    std::string kind;      // "Deployment"
  };
  void OnSource(reloader::SourceKind kind, const nlohmann::json* old_object,
                const nlohmann::json* object);
  void OnWorkload(const std::string& resource, const nlohmann::json* old_object,
                  const nlohmann::json* object);
  void OnNamespace(const nlohmann::json& object);
  // Schedules every workload of `ns` after `delay_ms` (0: now, in the event lane).
  void ScheduleNamespace(const std::string& ns, std::int64_t delay_ms);
  bool NamespaceAllowed(const std::string& ns) const;
  // The `candidates` of `ns` that exist, from the caches, for the rules; their content hashes
  // into `hashes`.
  std::vector<reloader::SourceInfo> SourcesOf(const std::string& ns,
                                              const reloader::Candidates& candidates,
                                              std::map<reloader::SourceRef, std::string>* hashes);
  void Work(std::stop_token stop);
  void Retry(const std::string& key);

  kube::Client& client_;
  const ReloaderOptions options_;
  const Clock* clock_;
  const kube::LabelSelector namespace_selector_;
  kube::EventRecorder recorder_;
  op::WorkQueue queue_;

  metrics::Family<metrics::Counter>& reload_executed_;
  metrics::Family<metrics::Counter>& reconcile_total_;
  metrics::Family<metrics::Histogram>& reconcile_duration_;

  std::unique_ptr<kube::Informer> secrets_;
  std::unique_ptr<kube::Informer> configmaps_;
  std::map<std::string, std::unique_ptr<kube::Informer>> workloads_;  // by resource
  std::unique_ptr<kube::Informer> namespaces_;

  mutable std::mutex mu_;
  // Guarded by mu_: workload keys and source names per namespace, from the caches (the source
  // names serve workloads whose reload annotations name sources by regular expression).
  std::map<std::string, std::set<std::string>> workloads_by_ns_;
  std::map<std::string, std::set<reloader::SourceRef>> sources_by_ns_;
  // Guarded by mu_: the resourceVersion a workload had when we patched it, until the cache shows
  // a newer one (a reconcile in between would decide from the stale copy).
  std::map<std::string, std::string> patched_from_rv_;
  std::map<std::string, int> failures_;  // guarded by mu_: consecutive patch failures
  // Guarded by mu_: the end (clock ms) of each workload's debounce window, set by the first
  // source change after the last one ended. No rollout happens before it, whatever triggers the
  // reconcile (a status update of the workload, another source's change).
  std::map<std::string, std::int64_t> hold_until_ms_;

  std::atomic<bool> workers_started_{false};
  std::vector<std::jthread> workers_;
};

}  // namespace coffer::controller
