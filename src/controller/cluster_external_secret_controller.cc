#include "controller/cluster_external_secret_controller.h"

#include <algorithm>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "controller/controller.h"
#include "controller/object_util.h"
#include "operator/metrics_names.h"
#include "operator/reconcile.h"

namespace coffer::controller {
namespace {

using internal::MetadataOf;
using internal::StringAt;
using internal::StringMapAt;
using internal::UniformRandom;
using nlohmann::json;

constexpr std::string_view kCesPrefix = "ces:";
constexpr std::string_view kStatusFieldManager = "coffer-operator";
// The field manager of the ExternalSecrets it writes (ESO's controller-runtime client has its own).
constexpr std::string_view kFieldManager = "coffer-operator";
constexpr std::int64_t kListPageSize = 100;

op::StringMap LabelsOf(const json& object) { return StringMapAt(MetadataOf(object), "labels"); }

bool Terminating(const json& object) { return MetadataOf(object).contains("deletionTimestamp"); }

// The name of the ClusterExternalSecret that controls an ExternalSecret object, or "".
std::string CesOwnerOf(const json& object) {
  auto refs = MetadataOf(object).find("ownerReferences");
  if (refs == MetadataOf(object).end() || !refs->is_array()) return "";
  for (const json& r : *refs) {
    if (!r.is_object() || !r.value("controller", false)) continue;
    const std::string api_version = StringAt(r, "apiVersion");
    if (StringAt(r, "kind") == op::kClusterExternalSecretKind &&
        api_version.starts_with(std::string(op::kGroup) + "/")) {
      return StringAt(r, "name");
    }
    return "";
  }
  return "";
}

// Namespaces: what selection needs, nothing else (annotations can be large).
json NamespaceTransform(const json& object) {
  const json& meta = MetadataOf(object);
  json slim = json::object();
  for (const char* key : {"name", "resourceVersion", "labels", "deletionTimestamp"}) {
    if (auto it = meta.find(key); it != meta.end()) slim[key] = *it;
  }
  return json{{"metadata", std::move(slim)}};
}

// ExternalSecrets: in full (without status and managedFields) when a ClusterExternalSecret controls
// them, since the reconcile compares them; otherwise only what shows the name is taken.
json ExternalSecretTransform(const json& object) {
  const json& meta = MetadataOf(object);
  if (!CesOwnerOf(object).empty()) {
    json out = {{"apiVersion", StringAt(object, "apiVersion")},
                {"kind", StringAt(object, "kind")},
                {"metadata", meta}};
    out["metadata"].erase("managedFields");
    if (auto spec = object.find("spec"); spec != object.end()) out["spec"] = *spec;
    return out;
  }
  json slim = json::object();
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "ownerReferences"}) {
    if (auto it = meta.find(key); it != meta.end()) slim[key] = *it;
  }
  return json{{"metadata", std::move(slim)}};
}

// Whether a ClusterExternalSecret update asks for a reconcile: spec (generation), labels or
// annotations (force-sync is mirrored), deletion. Status-only updates (ours) do not.
bool CesChanged(const json& a, const json& b) {
  const json& ma = MetadataOf(a);
  const json& mb = MetadataOf(b);
  return ma.value("generation", 0) != mb.value("generation", 0) ||
         ma.value("labels", json::object()) != mb.value("labels", json::object()) ||
         ma.value("annotations", json::object()) != mb.value("annotations", json::object()) ||
         ma.contains("deletionTimestamp") != mb.contains("deletionTimestamp");
}

// What the reconcile compares of an ExternalSecret the ClusterExternalSecret controls.
bool OwnedEsChanged(const json& a, const json& b) {
  const json& ma = MetadataOf(a);
  const json& mb = MetadataOf(b);
  for (const char* key : {"generation", "labels", "annotations", "ownerReferences"}) {
    if (ma.value(key, json()) != mb.value(key, json())) return true;
  }
  return false;
}

// A merge patch that replaces the whole status: fields that are gone are set to null.
json StatusPatch(const op::ClusterExternalSecretStatus& status) {
  json body = op::CesStatusToJson(status);
  for (const char* key :
       {"externalSecretName", "provisionedNamespaces", "failedNamespaces", "conditions"}) {
    if (!body.contains(key)) body[key] = nullptr;
  }
  return json{{"status", std::move(body)}};
}

}  // namespace

kube::ResourceRef ClusterExternalSecretsRef(std::string name) {
  return {std::string(op::kGroup),  std::string(kEsoVersion),
          "clusterexternalsecrets", "",
          std::move(name),          ""};
}

kube::ResourceRef NamespacesRef(std::string name) {
  return {"", "v1", "namespaces", "", std::move(name), ""};
}

ClusterExternalSecretController::ClusterExternalSecretController(kube::Client& client,
                                                                 CesControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      queue_(clock_) {
  if (options_.registry != nullptr) {
    namespace names = op::metrics;
    condition_gauge_ = &options_.registry->AddGaugeFamily(
        std::string(names::kClusterExternalSecretStatusCondition),
        "The status condition of a ClusterExternalSecret (0 or 1).",
        {std::string(names::kLabelName), std::string(names::kLabelNamespace),
         std::string(names::kLabelCondition), std::string(names::kLabelStatus)});
    duration_gauge_ = &options_.registry->AddGaugeFamily(
        std::string(names::kClusterExternalSecretReconcileDuration),
        "The duration of the last ClusterExternalSecret reconcile, in nanoseconds.",
        {std::string(names::kLabelName), std::string(names::kLabelNamespace)});
  }
}

ClusterExternalSecretController::~ClusterExternalSecretController() { Stop(); }

void ClusterExternalSecretController::StartInformers() {
  kube::InformerOptions ces_options;
  ces_options.transform = [](const json& o) {
    json out = o;
    if (auto meta = out.find("metadata"); meta != out.end() && meta->is_object()) {
      meta->erase("managedFields");
    }
    return out;
  };
  cluster_external_secrets_ = std::make_unique<kube::Informer>(
      client_, ClusterExternalSecretsRef(), ces_options,
      kube::InformerHandlers{
          [this](const json& o) { OnClusterExternalSecret(nullptr, &o); },
          [this](const json& old_o, const json& o) { OnClusterExternalSecret(&old_o, &o); },
          [this](const json& o) { OnClusterExternalSecret(&o, nullptr); }});

  kube::InformerOptions ns_options;
  ns_options.transform = NamespaceTransform;
  ns_options.page_size = kListPageSize;
  namespaces_ = std::make_unique<kube::Informer>(
      client_, NamespacesRef(), ns_options,
      kube::InformerHandlers{[this](const json& o) { OnNamespace(nullptr, &o); },
                             [this](const json& old_o, const json& o) { OnNamespace(&old_o, &o); },
                             [this](const json& o) { OnNamespace(&o, nullptr); }});

  kube::InformerOptions es_options;
  es_options.transform = ExternalSecretTransform;
  es_options.page_size = kListPageSize;
  es_options.compact = true;  // one entry per ExternalSecret in the cluster
  external_secrets_ = std::make_unique<kube::Informer>(
      client_, ExternalSecretsRef(), es_options,
      kube::InformerHandlers{
          [this](const json& o) { OnExternalSecret(nullptr, &o); },
          [this](const json& old_o, const json& o) { OnExternalSecret(&old_o, &o); },
          [this](const json& o) { OnExternalSecret(&o, nullptr); }});

  namespaces_->Start();
  external_secrets_->Start();
  cluster_external_secrets_->Start();
}

bool ClusterExternalSecretController::Synced() const {
  return cluster_external_secrets_ && cluster_external_secrets_->HasSynced() &&
         namespaces_->HasSynced() && external_secrets_->HasSynced();
}

bool ClusterExternalSecretController::WaitForSync(std::chrono::milliseconds timeout) const {
  if (!cluster_external_secrets_) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const kube::Informer* informer :
       {namespaces_.get(), external_secrets_.get(), cluster_external_secrets_.get()}) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !informer->WaitForSync(left)) return Synced();
  }
  return true;
}

void ClusterExternalSecretController::StartWorkers() {
  if (workers_started_.exchange(true)) return;
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
  spdlog::info("operator: ClusterExternalSecret controller started ({} workers)", n);
}

void ClusterExternalSecretController::Stop() {
  queue_.ShutDown();
  workers_.clear();  // joins
  for (auto* informer : {&cluster_external_secrets_, &namespaces_, &external_secrets_}) {
    if (*informer) (*informer)->Stop();
  }
}

void ClusterExternalSecretController::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::optional<op::WorkItem> item = queue_.Get();
    if (!item) return;
    Process(*item);
    queue_.Done(item->key);
  }
}

void ClusterExternalSecretController::Process(const op::WorkItem& item) {
  if (item.key.starts_with(kCesPrefix)) Sync(item.key.substr(kCesPrefix.size()));
}

// --- informer handlers ---------------------------------------------------------------------------

void ClusterExternalSecretController::OnClusterExternalSecret(const json* old_object,
                                                              const json* object) {
  const json& any = object != nullptr ? *object : *old_object;
  const std::string key = std::string(kCesPrefix) + StringAt(MetadataOf(any), "name");
  if (object == nullptr) {
    // Its ExternalSecrets carry its ownerReference: the garbage collector removes them.
    queue_.Forget(key);
    ForgetMetrics(StringAt(MetadataOf(any), "name"));
    std::lock_guard lock(mu_);
    consecutive_failures_.erase(key);
    return;
  }
  if (old_object == nullptr || CesChanged(*old_object, *object)) queue_.Add(key);
}

void ClusterExternalSecretController::OnNamespace(const json* old_object, const json* object) {
  const std::string name = StringAt(MetadataOf(object != nullptr ? *object : *old_object), "name");
  for (const json& ces_object : cluster_external_secrets_->List()) {
    Result<op::ClusterExternalSecret> ces = op::ParseClusterExternalSecret(ces_object);
    if (!ces.ok()) continue;
    auto selected = [&](const json* ns) {
      return ns != nullptr && !Terminating(*ns) &&
             op::CesSelectsNamespace(*ces, name, LabelsOf(*ns));
    };
    const auto& provisioned = ces->status.provisioned_namespaces;
    const bool listed =
        std::find(provisioned.begin(), provisioned.end(), name) != provisioned.end() ||
        std::any_of(ces->status.failed_namespaces.begin(), ces->status.failed_namespaces.end(),
                    [&](const op::NamespaceFailure& f) { return f.namespace_ == name; });
    if (selected(old_object) != selected(object) || (object == nullptr && listed)) {
      queue_.Add(std::string(kCesPrefix) + ces->metadata.name);
    }
  }
}

void ClusterExternalSecretController::OnExternalSecret(const json* old_object, const json* object) {
  std::set<std::string> owners;
  if (object == nullptr) {
    // Deleted: its owner puts it back; a ClusterExternalSecret that failed in this namespace
    // because the name was taken tries again.
    if (std::string owner = CesOwnerOf(*old_object); !owner.empty()) owners.insert(owner);
    const std::string ns = StringAt(MetadataOf(*old_object), "namespace");
    const std::string name = StringAt(MetadataOf(*old_object), "name");
    for (const json& ces_object : cluster_external_secrets_->List()) {
      op::ClusterExternalSecretStatus status = op::ParseClusterExternalSecretStatus(ces_object);
      if (status.external_secret_name != name) continue;
      for (const op::NamespaceFailure& f : status.failed_namespaces) {
        if (f.namespace_ == ns) owners.insert(StringAt(MetadataOf(ces_object), "name"));
      }
    }
  } else if (old_object != nullptr && OwnedEsChanged(*old_object, *object)) {
    if (std::string owner = CesOwnerOf(*old_object); !owner.empty()) owners.insert(owner);
    if (std::string owner = CesOwnerOf(*object); !owner.empty()) owners.insert(owner);
  }
  for (const std::string& owner : owners) queue_.Add(std::string(kCesPrefix) + owner);
}

// --- reconcile -----------------------------------------------------------------------------------

void ClusterExternalSecretController::Sync(const std::string& name) {
  const std::string key = std::string(kCesPrefix) + name;
  if (!Synced()) {
    // Deciding from half-loaded caches could delete what a namespace not yet listed needs.
    queue_.AddAfter(key, 1000);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  auto elapsed_ns = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                started)
        .count();
  };
  std::shared_ptr<const json> object = cluster_external_secrets_->GetShared("", name);
  if (!object) {
    ForgetMetrics(name);
    queue_.Forget(key);
    std::lock_guard lock(mu_);
    consecutive_failures_.erase(key);
    return;
  }
  const std::int64_t now = clock_->NowMillis();
  Result<op::ClusterExternalSecret> ces = op::ParseClusterExternalSecret(*object);
  if (!ces.ok()) {
    // A spec edit fixes it (and requeues): no timed retry.
    const op::ClusterExternalSecretStatus old = op::ParseClusterExternalSecretStatus(*object);
    const op::ClusterExternalSecretStatus status = op::CesInvalidStatus(old, ces.status(), now);
    if (op::CesStatusToJson(status) != op::CesStatusToJson(old)) WriteStatus(name, status);
    RecordMetrics(name, "False", elapsed_ns());
    spdlog::warn("ClusterExternalSecret {}: {}", name, ces.status().message());
    return;
  }
  if (Terminating(*object)) return;  // the garbage collector removes what it owns

  op::CesObserved observed;
  for (const json& ns : namespaces_->List()) {
    observed.namespaces.push_back(
        {StringAt(MetadataOf(ns), "name"), LabelsOf(ns), Terminating(ns)});
  }
  // The ExternalSecrets it may own: its name (and the previous one) in every namespace.
  std::set<std::string> names = {ces->external_secret_name};
  if (!ces->status.external_secret_name.empty()) names.insert(ces->status.external_secret_name);
  std::set<std::string> where;
  for (const op::NamespaceInfo& ns : observed.namespaces) where.insert(ns.name);
  for (const std::string& ns : ces->status.provisioned_namespaces) where.insert(ns);
  for (const op::NamespaceFailure& f : ces->status.failed_namespaces) where.insert(f.namespace_);
  for (const std::string& ns : where) {
    for (const std::string& es_name : names) {
      if (std::shared_ptr<const json> es = external_secrets_->GetShared(ns, es_name)) {
        observed.external_secrets[{ns, es_name}] = *es;
      }
    }
  }

  const op::CesPlan plan = op::PlanClusterExternalSecret(*ces, observed);
  std::map<std::string, std::string> write_failures;
  for (const op::CesAction& action : plan.actions) {
    Status s = Execute(action);
    const bool stale =
        (action.kind == op::CesAction::Kind::kCreate && s.code() == StatusCode::kAlreadyExists) ||
        (action.kind == op::CesAction::Kind::kUpdate &&
         (s.code() == StatusCode::kAborted || s.code() == StatusCode::kInvalidArgument ||
          s.code() == StatusCode::kNotFound));
    if (stale) {
      auto ns =
          std::find_if(observed.namespaces.begin(), observed.namespaces.end(),
                       [&](const op::NamespaceInfo& n) { return n.name == action.namespace_; });
      if (ns != observed.namespaces.end()) s = Replan(*ces, *ns, action);
    }
    if (!s.ok()) {
      write_failures[action.namespace_] = s.message();
      spdlog::warn("ClusterExternalSecret {}: ExternalSecret {}/{}: {}", name, action.namespace_,
                   action.name, s.ToString());
    }
  }
  const op::ClusterExternalSecretStatus status =
      op::CesStatusAfter(*ces, plan, write_failures, now);
  if (op::CesStatusToJson(status) != op::CesStatusToJson(ces->status)) WriteStatus(name, status);
  const op::Condition* ready = op::FindCondition(status.conditions, op::kConditionReady);
  RecordMetrics(name, ready != nullptr ? std::string_view(ready->status) : std::string_view(),
                elapsed_ns());

  int failures = 0;
  {
    std::lock_guard lock(mu_);
    if (write_failures.empty()) {
      consecutive_failures_.erase(key);
    } else {
      failures = ++consecutive_failures_[key];
    }
  }
  if (failures > 0) {
    queue_.AddAfter(key, op::BackoffDelay(failures));
  } else if (plan.requeue_after_ms > 0) {
    queue_.AddAfter(key, op::JitteredDelay(plan.requeue_after_ms, UniformRandom()));
  }
}

Status ClusterExternalSecretController::Execute(const op::CesAction& action) {
  const kube::ResourceRef ref = ExternalSecretsRef(action.namespace_, action.name);
  switch (action.kind) {
    case op::CesAction::Kind::kCreate:
      return client_.Create(ExternalSecretsRef(action.namespace_), action.body, kFieldManager)
          .status()
          .WithContext("could not create ExternalSecret");
    case op::CesAction::Kind::kUpdate:
      return client_
          .Patch(ref, kube::PatchType::kJson, action.body,
                 {.field_manager = std::string(kFieldManager)})
          .status()
          .WithContext("could not update ExternalSecret");
    case op::CesAction::Kind::kDelete: {
      Status s = client_.Delete(ref);
      if (s.code() == StatusCode::kNotFound) return Status::Ok();
      return s.WithContext("external secret in non matching namespace could not be deleted");
    }
  }
  return Status::Ok();
}

Status ClusterExternalSecretController::Replan(const op::ClusterExternalSecret& ces,
                                               const op::NamespaceInfo& ns,
                                               const op::CesAction& failed) {
  op::CesObserved observed;
  observed.namespaces = {ns};
  Result<json> live = client_.Get(ExternalSecretsRef(failed.namespace_, failed.name));
  if (live.ok()) {
    observed.external_secrets[{failed.namespace_, failed.name}] = std::move(*live);
  } else if (live.status().code() != StatusCode::kNotFound) {
    return live.status().WithContext("could not get existing ExternalSecret");
  }
  // Only this namespace: the status' other namespaces have no observed objects, so nothing else
  // is deleted.
  op::ClusterExternalSecret one = ces;
  one.status.provisioned_namespaces.clear();
  one.status.failed_namespaces.clear();
  one.status.external_secret_name.clear();
  const op::CesPlan plan = op::PlanClusterExternalSecret(one, observed);
  if (auto it = plan.failed.find(failed.namespace_); it != plan.failed.end()) {
    return Status::FailedPrecondition(it->second);
  }
  for (const op::CesAction& action : plan.actions) {
    COFFER_RETURN_IF_ERROR(Execute(action));
  }
  return Status::Ok();
}

void ClusterExternalSecretController::RecordMetrics(const std::string& name, std::string_view ready,
                                                    std::int64_t duration_ns) {
  if (duration_gauge_ == nullptr) return;
  duration_gauge_->WithLabels(name, "").Set(static_cast<double>(duration_ns));
  if (ready.empty()) return;
  for (const op::metrics::ConditionSeries& s :
       op::metrics::ConditionGaugeSeries(op::metrics::kConditionReady, ready)) {
    condition_gauge_->WithLabels(name, "", s.condition, s.status).Set(s.value);
  }
}

void ClusterExternalSecretController::ForgetMetrics(const std::string& name) {
  if (duration_gauge_ == nullptr) return;
  duration_gauge_->Remove({name, ""});
  for (std::string_view status : {"True", "False"}) {
    condition_gauge_->Remove({name, "", op::metrics::kConditionReady, status});
  }
}

void ClusterExternalSecretController::WriteStatus(const std::string& name,
                                                  const op::ClusterExternalSecretStatus& status) {
  Result<json> written = client_.Patch(ClusterExternalSecretsRef(name).WithSubresource("status"),
                                       kube::PatchType::kMerge, StatusPatch(status),
                                       {.field_manager = std::string(kStatusFieldManager)});
  if (!written.ok()) {
    spdlog::warn("ClusterExternalSecret {}: status: {}", name, written.status().ToString());
  }
}

}  // namespace coffer::controller
