#pragma once

// coffer operator's controller: list+watch caches of ExternalSecrets, (Cluster)SecretStores and
// the Secrets it manages, a work queue, and workers that carry out the pure decisions of
// src/operator (op::ReconcileExternalSecret, op::ComputeStoreStatus) against the apiserver and the
// backends. See src/controller/README.md for the flow.
//
//   Controller c(client, registry, options);
//   c.StartInformers();
//   c.WaitForSync(timeout);       // /readyz
//   c.StartWorkers();              // when leading (leader election) or at once
//   ...
//   c.Stop();

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/backends.h"
#include "controller/metrics.h"
#include "core/clock.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/watch.h"
#include "metrics/registry.h"
#include "operator/reconcile.h"
#include "operator/types.h"
#include "operator/work_queue.h"

namespace coffer::controller {

struct ControllerOptions {
  // Default: "" (all namespaces). Watch ExternalSecrets, SecretStores and Secrets only here.
  std::string namespace_;
  // Default: "default". ESO's controller class: stores whose spec.controller names another
  // class are left to another controller.
  std::string controller_class = "default";
  // Default: 4. Reconcile workers.
  int workers = 4;
  // Default: 5 minutes. Stores without spec.refreshInterval are re-validated this often.
  std::int64_t store_requeue_ms = 300'000;
  // Default: see BackendOptions.
  BackendOptions backends;
  // Default: "coffer-operator". The source component of Events.
  std::string event_component = "coffer-operator";
  // Default: null (the controller's own client). Events are sent from a background queue through
  // this client, so that with a client of their own (own QPS limiter, as client-go's recorder) a
  // sync never waits for an Event.
  kube::Client* event_client = nullptr;
  // Default: SystemClock.
  const Clock* clock = nullptr;
  // Default: "{{" and "}}". Template delimiters for every ExternalSecret (ESO's
  // --template-left-delimiter / --template-right-delimiter).
  op::TemplateOptions templates;
};

// The API version the operator reads and writes ExternalSecrets and stores in (the CRDs' storage
// version; v1beta1 objects are served in it too).
inline constexpr std::string_view kEsoVersion = "v1";

kube::ResourceRef ExternalSecretsRef(std::string ns = {}, std::string name = {});
kube::ResourceRef SecretStoresRef(std::string ns = {}, std::string name = {});
kube::ResourceRef ClusterSecretStoresRef(std::string name = {});

class Controller {
 public:
  Controller(kube::Client& client, metrics::Registry& registry, ControllerOptions options);
  ~Controller();  // Stop()s
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the list+watch caches (their handlers fill the work queue).
  void StartInformers();
  // True once every cache has loaded its first list.
  bool Synced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  // Validates every store once, then starts the workers. Call after WaitForSync. Idempotent.
  void StartWorkers();
  // Stops workers and caches. Idempotent.
  void Stop();

  // Reconciles one queue key now, on the calling thread (the workers' body; tests call it).
  // Keys: "es:<ns>/<name>", "ss:<ns>/<name>", "css:<name>".
  void Process(const op::WorkItem& item);

  // Waits until every Event queued so far has been sent. For tests.
  bool FlushEvents(std::chrono::milliseconds timeout) { return recorder_.Flush(timeout); }

  provider::SharedFetcher::Stats fetch_stats() const { return backends_.fetch_stats(); }
  std::size_t queue_ready() const { return queue_.ReadyCount(); }

 private:
  // What the reconciles of one ExternalSecret remember between runs.
  struct EsMemory {
    int consecutive_failures = 0;
  };
  // A store object parsed once per resourceVersion.
  struct ParsedStore {
    std::string resource_version;
    std::shared_ptr<const op::SecretStore> store;  // null when it did not parse
    Status error;
  };
  // The cached namespace labels (for ClusterSecretStore namespace selectors).
  struct NamespaceLabels {
    op::StringMap labels;
    std::int64_t read_ms = 0;
  };

  // What this process last wrote to an object, until the cache shows it: a write's response is
  // newer than the cache until the watch delivers it, and deciding from the stale copy would
  // repeat the work. `stale_rv` is the resourceVersion the cache shows until then (or
  // `stale_absent`: the cache does not have the object yet); `object` is null after a delete.
  struct Overlay {
    std::string stale_rv;
    bool stale_absent = false;
    nlohmann::json object;
    // A write in flight (ExpectWrite): not an overlay yet.
    bool pending = false;
    // Pending on top of an overlay of ours the cache had not shown yet: that overlay's
    // resourceVersion (its event is the cache catching up with that write, not with this one).
    std::string previous_rv;
  };
  // The object the cache holds (`read_cache`), or the overlay under `key` while the cache still
  // shows what the overlay replaced. The overlay is looked at before the cache is read: the
  // informer updates its cache before its handler drops an overlay, so an overlay already gone
  // means the cache shows the write.
  std::optional<nlohmann::json> Current(
      const std::string& key, const std::function<std::optional<nlohmann::json>()>& read_cache);
  // Called by the informer handlers after the cache took in an event for the object (null: a
  // deletion).
  void ForgetOverlayOnceSeen(const std::string& key, const nlohmann::json* object);
  void Remember(const std::string& key, const std::optional<nlohmann::json>& before,
                nlohmann::json written);
  // The overlay of a write over `before` (what Current() returned). The watch may deliver the
  // write, and even a deletion after it, before the response is back; an overlay installed after
  // that could hide the deletion (when the cache did not have the object before). So
  // ExpectWrite() puts a pending placeholder before the request, which any event for the object
  // drops except old news (`before` itself, replayed by a list or a late watch), and
  // SettleWrite() makes it the overlay of `written` (as Remember does) only if it is still there;
  // it drops it when the write failed (`written` null).
  void ExpectWrite(const std::string& key, const std::optional<nlohmann::json>& before);
  void SettleWrite(const std::string& key, const nlohmann::json* written);

  void SyncExternalSecret(const std::string& ns, const std::string& name, const op::WorkItem& item);
  void SyncStore(op::StoreKind kind, const std::string& ns, const std::string& name);

  // The target Secret from the managed-Secrets cache, or (for targets that may lack our label:
  // Merge and None) read live. NotFound is nullopt.
  Result<std::optional<op::ObservedSecret>> ObserveTarget(const op::ExternalSecret& es);
  // Reads the ConfigMaps and Secrets es.target.template.templateFrom names (live GETs: they are
  // few, and caching every ConfigMap in the cluster would cost more memory than it saves).
  op::TemplateSources ReadTemplateSources(const op::ExternalSecret& es);
  Result<std::optional<op::ObservedSecret>> ReadTarget(const std::string& ns,
                                                       const std::string& name);
  // The store `es` references, parsed (nullptr when missing), and whether it is usable.
  std::shared_ptr<const op::SecretStore> LookupStore(const op::ExternalSecret& es, Status* error);
  Result<op::StringMap> LabelsOfNamespace(const std::string& ns);
  // Carries out plan.action; re-reads and re-plans on a stale cache (AlreadyExists, Conflict).
  op::Plan Execute(const op::ExternalSecret& es, op::ObservedState observed,
                   const op::FetchResult& fetched, op::Plan plan, std::int64_t now_ms);
  Result<nlohmann::json> WriteStatus(const kube::ResourceRef& ref, const nlohmann::json& status);
  void Emit(const nlohmann::json& object, const std::vector<op::Event>& events);

  // Informer handlers (informer threads).
  void OnExternalSecret(const nlohmann::json* old_object, const nlohmann::json* object);
  void OnStore(op::StoreKind kind, const nlohmann::json* old_object, const nlohmann::json* object);
  void OnSecret(const nlohmann::json& object, bool deleted = false);
  void EnqueueUsersOf(const std::string& store_key);

  void Work(std::stop_token stop);

  kube::Client& client_;
  const ControllerOptions options_;
  const Clock* clock_;
  OperatorMetrics metrics_;
  Backends backends_;
  kube::EventRecorder recorder_;
  op::WorkQueue queue_;

  std::unique_ptr<kube::Informer> external_secrets_;
  std::unique_ptr<kube::Informer> stores_;
  std::unique_ptr<kube::Informer> cluster_stores_;
  std::unique_ptr<kube::Informer> secrets_;

  std::mutex mu_;
  // Guarded by mu_: which ExternalSecrets ("ns/name") write a target ("ns/name") and use a store
  // (queue key of the store), from the ExternalSecret cache.
  std::map<std::string, std::set<std::string>> users_of_target_;
  std::map<std::string, std::set<std::string>> users_of_store_;
  std::map<std::string, std::pair<std::string, std::string>> es_refs_;  // es -> (target, store)
  std::map<std::string, EsMemory> memory_;                              // guarded by mu_
  std::map<std::string, ParsedStore> parsed_stores_;                    // guarded by mu_
  std::map<std::string, NamespaceLabels> namespaces_;                   // guarded by mu_
  std::map<std::string, Overlay> overlays_;                             // guarded by mu_

  std::atomic<bool> workers_started_{false};
  std::vector<std::jthread> workers_;
};

}  // namespace coffer::controller
