#include "controller/reloader_controller.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "controller/cluster_external_secret_controller.h"
#include "controller/object_util.h"
#include "core/encoding.h"
#include "crypto/random.h"
#include "reloader/hash.h"
#include "reloader/workload.h"

namespace coffer::controller {
namespace {

using internal::MetadataOf;
using internal::StringAt;
using internal::StringMapAt;
using json = nlohmann::json;

constexpr std::int64_t kListPageSize = 500;
constexpr std::int64_t kStaleRetryMs = 100;
constexpr std::int64_t kMaxBackoffMs = 5 * 60 * 1000;
constexpr std::string_view kHmacDataKey = "key";
constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

const std::vector<std::pair<std::string, std::string>>& WorkloadKinds() {
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"deployments", "Deployment"}, {"statefulsets", "StatefulSet"}, {"daemonsets", "DaemonSet"}};
  return kinds;
}

kube::ResourceRef AppsRef(const std::string& resource, std::string ns = {}, std::string name = {}) {
  return kube::ResourceRef{"apps", "v1", resource, std::move(ns), std::move(name), {}};
}

kube::ResourceRef ConfigMapsRef(std::string ns = {}, std::string name = {}) {
  return kube::ResourceRef{"", "v1", "configmaps", std::move(ns), std::move(name), {}};
}

bool IsReloaderKey(std::string_view key) { return key.find("reloader.") != std::string_view::npos; }

// metadata.{name, namespace, resourceVersion, uid, labels} and the annotations that pass `keep`.
json SlimMetadata(const json& metadata, bool (*keep)(std::string_view)) {
  json out = json::object();
  for (const char* key : {"name", "namespace", "resourceVersion", "uid", "labels"}) {
    if (auto it = metadata.find(key); it != metadata.end()) out[key] = *it;
  }
  if (auto it = metadata.find("annotations"); it != metadata.end() && it->is_object()) {
    json kept = json::object();
    for (const auto& [key, value] : it->items()) {
      if (keep(key)) kept[key] = value;
    }
    if (!kept.empty()) out["annotations"] = std::move(kept);
  }
  return out;
}

// What the cache keeps of a Secret or ConfigMap: its metadata, the reloader annotations and the
// keyed hash of its data (under "hash"); never the data.
json SlimSource(const json& object, const std::string& hmac_key) {
  json out = {{"apiVersion", StringAt(object, "apiVersion")},
              {"kind", StringAt(object, "kind")},
              {"metadata", SlimMetadata(MetadataOf(object), IsReloaderKey)},
              {"hash", reloader::SourceHash(hmac_key, object)}};
  return out;
}

// What the cache keeps of a workload: metadata (without kubectl's last-applied copy), the pod
// template's annotations, and of each container only its name and what references Secrets and
// ConfigMaps; of the volumes only secret, configMap and projected ones.
json SlimWorkload(const json& object) {
  json out = {{"apiVersion", StringAt(object, "apiVersion")},
              {"kind", StringAt(object, "kind")},
              {"metadata", SlimMetadata(MetadataOf(object),
                                        [](std::string_view key) { return key != kLastApplied; })}};
  const json* spec = object.contains("spec") ? &object["spec"] : nullptr;
  const json* tmpl = spec && spec->contains("template") ? &(*spec)["template"] : nullptr;
  if (!tmpl || !tmpl->is_object()) return out;
  json slim_template = json::object();
  if (tmpl->contains("metadata") && (*tmpl)["metadata"].contains("annotations")) {
    slim_template["metadata"]["annotations"] = (*tmpl)["metadata"]["annotations"];
  }
  const json& pod = tmpl->contains("spec") ? (*tmpl)["spec"] : json::object();
  json slim_pod = json::object();
  for (const char* list : {"containers", "initContainers"}) {
    if (!pod.contains(list) || !pod[list].is_array()) continue;
    json containers = json::array();
    for (const json& c : pod[list]) {
      json slim = json::object();
      for (const char* key : {"name", "envFrom", "volumeMounts"}) {
        if (c.contains(key)) slim[key] = c[key];
      }
      if (c.contains("env") && c["env"].is_array()) {
        json env = json::array();
        for (const json& e : c["env"]) {
          const std::string name = e.value("name", "");
          if (e.contains("valueFrom") || name.rfind("STAKATER_", 0) == 0) env.push_back(e);
        }
        slim["env"] = std::move(env);
      }
      containers.push_back(std::move(slim));
    }
    slim_pod[list] = std::move(containers);
  }
  if (pod.contains("volumes") && pod["volumes"].is_array()) {
    json volumes = json::array();
    for (const json& v : pod["volumes"]) {
      if (v.contains("secret") || v.contains("configMap") || v.contains("projected")) {
        volumes.push_back(v);
      }
    }
    slim_pod["volumes"] = std::move(volumes);
  }
  slim_template["spec"] = std::move(slim_pod);
  out["spec"]["template"] = std::move(slim_template);
  return out;
}

json WithoutResourceVersion(json object) {
  if (object.contains("metadata")) object["metadata"].erase("resourceVersion");
  return object;
}

std::string SourcePrefix(reloader::SourceKind kind) {
  return kind == reloader::SourceKind::kSecret ? "secret/" : "configmap/";
}

}  // namespace

Result<std::string> LoadOrCreateHmacKey(kube::Client& client, const std::string& ns,
                                        const std::string& name) {
  const auto read = [&](const json& secret) -> Result<std::string> {
    const json& data = secret.contains("data") ? secret["data"] : json::object();
    auto it = data.find(kHmacDataKey);
    std::optional<std::string> key;
    if (it != data.end() && it->is_string()) key = Base64Decode(it->get<std::string>());
    if (!key || key->size() < 16) {
      return Status::FailedPrecondition("reloader HMAC key Secret " + ns + "/" + name +
                                        " has no data key \"key\" of at least 16 bytes");
    }
    return *key;
  };
  Result<json> existing = client.Get(kube::SecretsRef(ns, name));
  if (existing.ok()) return read(*existing);
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status().WithContext("reading the reloader HMAC key Secret " + ns + "/" + name);
  }
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", ns},
                   {"labels", {{"app.kubernetes.io/managed-by", "coffer-reloader"}}}}},
                 {"type", "Opaque"},
                 {"data", {{std::string(kHmacDataKey), Base64Encode(crypto::RandomBytes(32))}}}};
  Result<json> created = client.Create(kube::SecretsRef(ns), secret, "coffer-reloader");
  if (created.ok()) {
    spdlog::info("created the reloader HMAC key Secret {}/{}", ns, name);
    return read(*created);
  }
  if (created.status().code() != StatusCode::kAlreadyExists) {
    return created.status().WithContext("creating the reloader HMAC key Secret " + ns + "/" + name);
  }
  COFFER_ASSIGN_OR_RETURN(json raced, client.Get(kube::SecretsRef(ns, name)));
  return read(raced);
}

Result<std::unique_ptr<ReloaderController>> ReloaderController::Create(kube::Client& client,
                                                                       metrics::Registry& registry,
                                                                       ReloaderOptions options) {
  if (options.hmac_key.empty()) return Status::InvalidArgument("reloader: no HMAC key");
  COFFER_ASSIGN_OR_RETURN(kube::LabelSelector ns_selector,
                          kube::ParseLabelSelector(options.namespace_selector));
  COFFER_RETURN_IF_ERROR(kube::ParseLabelSelector(options.resource_label_selector).status());
  return std::unique_ptr<ReloaderController>(
      new ReloaderController(client, registry, std::move(options), std::move(ns_selector)));
}

ReloaderController::ReloaderController(kube::Client& client, metrics::Registry& registry,
                                       ReloaderOptions options,
                                       kube::LabelSelector namespace_selector)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      namespace_selector_(std::move(namespace_selector)),
      recorder_(options_.event_client ? *options_.event_client : client,
                kube::EventRecorderOptions{.component = options_.field_manager, .clock = clock_}),
      queue_(clock_),
      reload_executed_(registry.AddCounterFamily(
          "reloader_reload_executed_total",
          "Workload rollouts the reloader patched (success=true) or failed to patch (false)",
          {"success"})),
      reconcile_total_(registry.AddCounterFamily(
          "reloader_reconcile_total",
          "Workload reconciles by result: rollout, record, noop or error", {"result"})),
      reconcile_duration_(registry.AddHistogramFamily("reloader_reconcile_duration_seconds",
                                                      "Time to reconcile one workload, by result",
                                                      {"result"})) {
  // Both values exist from the start, as Reloader's, so that rate() sees the first one.
  reload_executed_.WithLabels("true");
  reload_executed_.WithLabels("false");
}

ReloaderController::~ReloaderController() { Stop(); }

void ReloaderController::StartInformers() {
  for (const auto kind : {reloader::SourceKind::kSecret, reloader::SourceKind::kConfigMap}) {
    kube::InformerOptions o;
    o.label_selector = options_.resource_label_selector;
    o.page_size = kListPageSize;
    o.compact = true;
    const std::string key = options_.hmac_key;
    o.transform = [key](const json& object) { return SlimSource(object, key); };
    auto handlers = kube::InformerHandlers{
        [this, kind](const json& obj) { OnSource(kind, nullptr, &obj); },
        [this, kind](const json& old_obj, const json& obj) { OnSource(kind, &old_obj, &obj); },
        [this, kind](const json& obj) { OnSource(kind, &obj, nullptr); }};
    auto informer = std::make_unique<kube::Informer>(client_,
                                                     kind == reloader::SourceKind::kSecret
                                                         ? kube::SecretsRef(options_.namespace_)
                                                         : ConfigMapsRef(options_.namespace_),
                                                     o, handlers);
    (kind == reloader::SourceKind::kSecret ? secrets_ : configmaps_) = std::move(informer);
  }
  for (const auto& [resource, kind] : WorkloadKinds()) {
    kube::InformerOptions o;
    o.page_size = kListPageSize;
    o.compact = true;
    o.transform = SlimWorkload;
    const std::string r = resource;
    workloads_[resource] = std::make_unique<kube::Informer>(
        client_, AppsRef(resource, options_.namespace_), o,
        kube::InformerHandlers{
            [this, r](const json& obj) { OnWorkload(r, nullptr, &obj); },
            [this, r](const json& old_obj, const json& obj) { OnWorkload(r, &old_obj, &obj); },
            [this, r](const json& obj) { OnWorkload(r, &obj, nullptr); }});
  }
  if (!options_.namespace_selector.empty()) {
    kube::InformerOptions o;
    o.transform = [](const json& object) {
      return json{
          {"metadata", SlimMetadata(MetadataOf(object), [](std::string_view) { return false; })}};
    };
    namespaces_ = std::make_unique<kube::Informer>(
        client_, NamespacesRef(), o,
        kube::InformerHandlers{[this](const json& obj) { OnNamespace(obj); },
                               [this](const json&, const json& obj) { OnNamespace(obj); },
                               [](const json&) {}});
  }
  secrets_->Start();
  configmaps_->Start();
  for (auto& [resource, informer] : workloads_) informer->Start();
  if (namespaces_) namespaces_->Start();
}

bool ReloaderController::Synced() const {
  if (!secrets_ || !secrets_->HasSynced() || !configmaps_->HasSynced()) return false;
  for (const auto& [resource, informer] : workloads_) {
    if (!informer->HasSynced()) return false;
  }
  return !namespaces_ || namespaces_->HasSynced();
}

bool ReloaderController::WaitForSync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Synced()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void ReloaderController::StartWorkers() {
  if (workers_started_.exchange(true)) return;
  // The catch-up: every workload once, against its record.
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    for (const auto& [ns, set] : workloads_by_ns_) keys.insert(keys.end(), set.begin(), set.end());
  }
  for (const std::string& key : keys) queue_.Add(key);
  spdlog::info("reloader: checking {} workloads against their records", keys.size());
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
}

void ReloaderController::Stop() {
  queue_.ShutDown();
  workers_.clear();
  for (kube::Informer* informer : {secrets_.get(), configmaps_.get(), namespaces_.get()}) {
    if (informer) informer->Stop();
  }
  for (auto& [resource, informer] : workloads_) informer->Stop();
  recorder_.Flush(std::chrono::seconds(2));
}

void ReloaderController::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::optional<op::WorkItem> item = queue_.Get();
    if (!item) return;
    Process(item->key);
    queue_.Done(item->key);
  }
}

bool ReloaderController::NamespaceAllowed(const std::string& ns) const {
  if (!options_.namespaces.empty() && !options_.namespaces.count(ns)) return false;
  if (options_.namespaces_to_ignore.count(ns)) return false;
  if (namespaces_) {
    std::shared_ptr<const json> object = namespaces_->GetShared("", ns);
    if (!object) return false;
    if (!kube::Matches(namespace_selector_, StringMapAt(MetadataOf(*object), "labels"))) {
      return false;
    }
  }
  return true;
}

void ReloaderController::OnSource(reloader::SourceKind kind, const json* old_object,
                                  const json* object) {
  const json& any = object ? *object : *old_object;
  const std::string ns = StringAt(MetadataOf(any), "namespace");
  const reloader::SourceRef ref{kind, StringAt(MetadataOf(any), "name")};
  {
    std::lock_guard lock(mu_);
    if (object) {
      sources_by_ns_[ns].insert(ref);
    } else if (auto it = sources_by_ns_.find(ns); it != sources_by_ns_.end()) {
      it->second.erase(ref);
      if (it->second.empty()) sources_by_ns_.erase(it);
    }
  }
  if (!object || !workers_started_.load()) return;  // the catch-up covers what came before
  if (old_object && StringAt(*old_object, "hash") == StringAt(*object, "hash")) return;
  // New content: the workloads of the namespace that use it roll once the window has passed.
  ScheduleNamespace(ns, options_.debounce_ms);
}

void ReloaderController::OnWorkload(const std::string& resource, const json* old_object,
                                    const json* object) {
  const json& any = object ? *object : *old_object;
  const std::string ns = StringAt(MetadataOf(any), "namespace");
  const std::string key = resource + "/" + ns + "/" + StringAt(MetadataOf(any), "name");
  {
    std::lock_guard lock(mu_);
    if (object) {
      workloads_by_ns_[ns].insert(key);
      auto it = patched_from_rv_.find(key);
      if (it != patched_from_rv_.end() &&
          it->second != StringAt(MetadataOf(*object), "resourceVersion")) {
        patched_from_rv_.erase(it);
      }
    } else {
      if (auto it = workloads_by_ns_.find(ns); it != workloads_by_ns_.end()) {
        it->second.erase(key);
        if (it->second.empty()) workloads_by_ns_.erase(it);
      }
      patched_from_rv_.erase(key);
      failures_.erase(key);
      hold_until_ms_.erase(key);
    }
  }
  if (!workers_started_.load()) return;
  if (!object) {
    queue_.Forget(key);
    return;
  }
  // New, or its annotations or references changed (status updates change neither).
  if (!old_object || WithoutResourceVersion(*old_object) != WithoutResourceVersion(*object)) {
    queue_.Add(key);
  }
}

void ReloaderController::OnNamespace(const json& object) {
  if (!workers_started_.load()) return;
  ScheduleNamespace(StringAt(MetadataOf(object), "name"), 0);
}

void ReloaderController::ScheduleNamespace(const std::string& ns, std::int64_t delay_ms) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mu_);
    auto it = workloads_by_ns_.find(ns);
    if (it == workloads_by_ns_.end()) return;
    keys.assign(it->second.begin(), it->second.end());
  }
  if (delay_ms > 0) {
    const std::int64_t now = clock_->NowMillis();
    std::lock_guard lock(mu_);
    for (const std::string& key : keys) {
      std::int64_t& until = hold_until_ms_[key];
      if (until <= now) until = now + delay_ms;  // a window already open keeps its end
    }
  }
  for (const std::string& key : keys) {
    if (delay_ms > 0) {
      queue_.AddAfter(key, delay_ms);  // the earliest pending timer wins: the window
    } else {
      queue_.Add(key);
    }
  }
}

std::vector<reloader::SourceInfo> ReloaderController::SourcesOf(
    const std::string& ns, const reloader::Candidates& candidates,
    std::map<reloader::SourceRef, std::string>* hashes) {
  std::set<reloader::SourceRef> refs = candidates.refs;
  if (candidates.all_secrets || candidates.all_configmaps) {
    std::lock_guard lock(mu_);
    if (auto it = sources_by_ns_.find(ns); it != sources_by_ns_.end()) {
      for (const reloader::SourceRef& ref : it->second) {
        if (ref.kind == reloader::SourceKind::kSecret ? candidates.all_secrets
                                                      : candidates.all_configmaps) {
          refs.insert(ref);
        }
      }
    }
  }
  std::vector<reloader::SourceInfo> out;
  out.reserve(refs.size());
  for (const reloader::SourceRef& ref : refs) {
    kube::Informer& informer = ref.kind == reloader::SourceKind::kSecret ? *secrets_ : *configmaps_;
    std::shared_ptr<const json> object = informer.GetShared(ns, ref.name);
    if (!object) continue;
    reloader::SourceInfo info;
    info.ref = ref;
    info.annotations = StringMapAt(MetadataOf(*object), "annotations");
    info.labels = StringMapAt(MetadataOf(*object), "labels");
    (*hashes)[ref] = StringAt(*object, "hash");
    out.push_back(std::move(info));
  }
  return out;
}

void ReloaderController::Retry(const std::string& key) {
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    failures = ++failures_[key];
  }
  const std::int64_t delay =
      std::min<std::int64_t>(kMaxBackoffMs, 500LL << std::min(failures - 1, 20));
  queue_.AddAfter(key, delay);
}

void ReloaderController::Process(const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&](const char* result) {
    reconcile_total_.WithLabels(result).Inc();
    reconcile_duration_.WithLabels(result).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  const std::size_t first = key.find('/');
  const std::size_t second = key.find('/', first + 1);
  if (first == std::string::npos || second == std::string::npos) return;
  const std::string resource = key.substr(0, first);
  const std::string ns = key.substr(first + 1, second - first - 1);
  const std::string name = key.substr(second + 1);
  auto informer = workloads_.find(resource);
  if (informer == workloads_.end()) return;
  std::shared_ptr<const json> object = informer->second->GetShared(ns, name);
  if (!object) return;
  if (!NamespaceAllowed(ns)) return;
  const std::string rv = StringAt(MetadataOf(*object), "resourceVersion");
  {
    std::lock_guard lock(mu_);
    auto it = patched_from_rv_.find(key);
    if (it != patched_from_rv_.end() && it->second == rv) {
      queue_.AddAfter(key, kStaleRetryMs);  // our patch is not in the cache yet
      return;
    }
  }
  Result<reloader::Workload> workload = reloader::ParseWorkload(*object);
  if (!workload.ok()) {
    spdlog::debug("reloader: {}: {}", key, workload.status().ToString());
    finish("error");
    return;
  }
  std::map<reloader::SourceRef, std::string> all_hashes;
  const std::vector<reloader::SourceInfo> sources =
      SourcesOf(ns, reloader::CandidateSources(*workload, options_.rules), &all_hashes);
  std::map<reloader::SourceRef, std::string> hashes;
  for (const reloader::SourceRef& ref :
       reloader::WatchedSources(*workload, sources, options_.rules)) {
    if (auto it = all_hashes.find(ref); it != all_hashes.end()) hashes[ref] = it->second;
  }
  reloader::PlanOptions plan_options;
  plan_options.strategy = options_.strategy;
  plan_options.now_unix = clock_->NowMillis() / 1000;
  const reloader::Plan plan = reloader::PlanReload(*workload, hashes, plan_options);
  if (plan.action == reloader::Plan::kNone) {
    finish("noop");
    return;
  }
  const bool rollout = plan.action == reloader::Plan::kRollout;
  if (rollout) {
    // Inside a debounce window: the rollout waits for its end, so that every change made in the
    // window goes into it.
    const std::int64_t now = clock_->NowMillis();
    std::lock_guard lock(mu_);
    auto hold = hold_until_ms_.find(key);
    if (hold != hold_until_ms_.end()) {
      if (now < hold->second) {
        queue_.AddAfter(key, hold->second - now);
        return;
      }
      hold_until_ms_.erase(hold);
    }
  }
  kube::PatchOptions patch_options;
  patch_options.field_manager = options_.field_manager;
  Result<json> patched = client_.Patch(AppsRef(resource, ns, name),
                                       kube::PatchType::kStrategicMerge, plan.patch, patch_options);
  std::string changed;
  for (const reloader::SourceRef& ref : plan.changed) {
    if (!changed.empty()) changed += ", ";
    changed += SourcePrefix(ref.kind) + ref.name;
  }
  if (!patched.ok()) {
    if (patched.status().code() == StatusCode::kNotFound) return;  // deleted meanwhile
    spdlog::warn("reloader: patching {} failed (will retry): {}", key, patched.status().ToString());
    if (rollout) {
      reload_executed_.WithLabels("false").Inc();
      recorder_.RecordAsync(*object, kube::EventType::kWarning, "ReloadFail",
                            "Could not roll for " + changed + ": " + patched.status().message());
    }
    finish("error");
    Retry(key);
    return;
  }
  {
    std::lock_guard lock(mu_);
    // Until the cache shows the patched object, a reconcile would decide from the old one. (A
    // patch that changed nothing keeps the resourceVersion: then there is nothing to wait for.)
    if (StringAt(MetadataOf(*patched), "resourceVersion") != rv) patched_from_rv_[key] = rv;
    failures_.erase(key);
  }
  if (rollout) {
    reload_executed_.WithLabels("true").Inc();
    spdlog::info("reloader: rolled {} for {}", key, changed);
    recorder_.RecordAsync(*object, kube::EventType::kNormal, "Reloaded",
                          "Changes to " + changed + " rolled this " + StringAt(*object, "kind"));
    finish("rollout");
  } else {
    finish("record");
  }
}

}  // namespace coffer::controller
