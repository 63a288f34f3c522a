#pragma once

// coffer operator's PushSecret controller (external-secrets.io/v1alpha1): carries out the pure
// decisions of operator/push_secret.h against the apiserver and Secrets Manager backends.
//
//   PushSecretController c(client, options);
//   c.StartInformers();
//   c.WaitForSync(timeout);
//   c.StartWorkers();              // when leading
//   ...
//   c.Stop();
//
// Caches: PushSecrets (list+watch), and the source Secrets they name — one watch per distinct
// source Secret with a field selector on its name, its data dropped from the cache (the reconcile
// reads the Secret live), so the operator never caches Secrets it does not push. Stores are read
// live at each reconcile (a name is one GET; a labelSelector one LIST), which is rare: once per
// refreshInterval, on a spec change, and when the source Secret changes.
//
// Reconcile of "ns/name": finalizer (added for deletionPolicy Delete; on deletion the remote
// secrets recorded in status.syncedPushSecrets are deleted first, then it is removed) -> stores ->
// source Secret -> per remote secret: DescribeSecret, GetSecretValue, op::PlanRemoteWrite ->
// CreateSecret / PutSecretValue / TagResource -> deletions of dropped entries -> status
// subresource (JSON patch of /status, only when changed) -> Events -> requeue after
// refreshInterval (or backoff).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/backends.h"
#include "core/clock.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/watch.h"
#include "operator/push_secret.h"
#include "operator/work_queue.h"

namespace coffer::controller {

struct PushSecretControllerOptions {
  // Default: "" (all namespaces). Watch PushSecrets (and their stores and Secrets) only here.
  std::string namespace_;
  // Default: "default". Stores of another controller class are not pushed to.
  std::string controller_class = "default";
  // Default: 2. Reconcile workers.
  int workers = 2;
  // Default: see BackendOptions (endpoint, operator credentials, request timeout).
  BackendOptions backends;
  // Default: "coffer-operator". The source component of Events.
  std::string event_component = "coffer-operator";
  // Default: SystemClock.
  const Clock* clock = nullptr;
};

inline constexpr std::string_view kPushSecretVersion = "v1alpha1";
kube::ResourceRef PushSecretsRef(std::string ns = {}, std::string name = {});

class PushSecretController {
 public:
  PushSecretController(kube::Client& client, PushSecretControllerOptions options);
  ~PushSecretController();  // Stop()s
  PushSecretController(const PushSecretController&) = delete;
  PushSecretController& operator=(const PushSecretController&) = delete;

  void StartInformers();
  bool Synced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  // Starts the workers. Idempotent.
  void StartWorkers();
  void Stop();

  // Reconciles one PushSecret ("ns/name") now, on the calling thread (tests call it).
  void Process(const op::WorkItem& item);

  // Source Secrets watched now (for tests).
  std::size_t watched_sources() const;

 private:
  struct Source {
    std::unique_ptr<kube::Informer> informer;
    std::set<std::string> users;  // PushSecrets ("ns/name")
  };
  // A resolved store: parsed, with its object (for secretsManager delete options).
  struct ResolvedStore {
    std::string key;  // "SecretStore/name"
    op::SecretStore store;
    nlohmann::json object;
  };

  void OnPushSecret(const nlohmann::json* old_object, const nlohmann::json* object);
  void OnSource(const std::string& source_key);
  // Points PushSecret `ps_key` at source Secret `source_key` ("" = none).
  void SetSource(const std::string& ps_key, const std::string& source_key);

  void Sync(const std::string& ns, const std::string& name);
  // Stores named by the spec, usable from `ns`.
  Result<std::vector<ResolvedStore>> ResolveStores(const op::PushSecret& ps);
  // One store by status key ("Kind/name"), without the usability check (deletions).
  Result<ResolvedStore> StoreByKey(const std::string& ns, const std::string& key);
  Result<ResolvedStore> ReadStore(op::StoreKind kind, const std::string& ns,
                                  const std::string& name);
  Status CheckUsable(const std::string& ns, const ResolvedStore& store);
  // Pushes every remote secret; fills `synced`, sets `wrote` when something was written.
  Status Push(const op::PushSecret& ps, const std::vector<ResolvedStore>& stores,
              const std::map<std::string, std::string>& data, op::SyncedPushSecrets& synced,
              bool& wrote);
  // Deletes the remote secrets (deletionPolicy Delete) that are managed by external-secrets.
  Status DeleteRemotes(const op::PushSecret& ps, const std::vector<op::RemoteSecretRef>& refs);
  Result<nlohmann::json> SetFinalizer(const nlohmann::json& object, bool present);
  void WriteStatus(const std::string& ns, const std::string& name, const op::PushStatusPlan& plan);
  void Emit(const nlohmann::json& object, const std::vector<op::Event>& events);
  void Work(std::stop_token stop);

  kube::Client& client_;
  const PushSecretControllerOptions options_;
  const Clock* clock_;
  Backends backends_;
  kube::EventRecorder recorder_;
  op::WorkQueue queue_;
  std::unique_ptr<kube::Informer> push_secrets_;

  mutable std::mutex mu_;
  std::map<std::string, Source> sources_;         // guarded by mu_; "ns/secret" ->
  std::map<std::string, std::string> source_of_;  // guarded by mu_; PushSecret -> source
  std::map<std::string, int> failures_;           // guarded by mu_; PushSecret -> count
  bool stopped_ = false;                          // guarded by mu_

  std::atomic<bool> workers_started_{false};
  std::vector<std::jthread> workers_;
};

}  // namespace coffer::controller
