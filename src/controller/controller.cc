#include "controller/controller.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "controller/object_util.h"
#include "operator/eso_hash.h"
#include "operator/metrics_names.h"
#include "operator/store_ref.h"
#include "operator/store_status.h"

namespace coffer::controller {
namespace {

using internal::JoinKey;
using internal::MetadataOf;
using internal::SplitKey;
using internal::StringAt;
using internal::StringMapAt;
using internal::UniformRandom;
using internal::WithoutManagedFields;
using nlohmann::json;

constexpr std::string_view kEsPrefix = "es:";
constexpr std::string_view kStorePrefix = "ss:";
constexpr std::string_view kClusterStorePrefix = "css:";
constexpr std::string_view kSecretOverlay = "secret:";
// The field manager of status writes (Secrets are written under ESO's per-ExternalSecret name).
constexpr std::string_view kStatusFieldManager = "coffer-operator";
// How long a namespace's labels are reused for ClusterSecretStore namespace selectors.
constexpr std::int64_t kNamespaceLabelsTtlMs = 30'000;
// Objects per list page: small pages keep the memory peak of the first list low.
constexpr std::int64_t kListPageSize = 100;
// How often a write is re-planned after the cache proved stale (AlreadyExists, Conflict).
constexpr int kMaxWriteAttempts = 3;

std::string ResourceVersionOf(const json& object) {
  return StringAt(MetadataOf(object), "resourceVersion");
}

// Whether an ExternalSecret update asks for a reconcile: a spec change (generation), a label or
// annotation change (force-sync), or deletion. Status-only updates (ours) do not.
bool ExternalSecretChanged(const json& old_object, const json& object) {
  const json& a = MetadataOf(old_object);
  const json& b = MetadataOf(object);
  return a.value("generation", 0) != b.value("generation", 0) ||
         a.value("labels", json::object()) != b.value("labels", json::object()) ||
         a.value("annotations", json::object()) != b.value("annotations", json::object()) ||
         a.contains("deletionTimestamp") != b.contains("deletionTimestamp");
}

// The target name and store queue key an ExternalSecret object refers to.
std::pair<std::string, std::string> RefsOf(const json& object) {
  const json& meta = MetadataOf(object);
  const std::string ns = StringAt(meta, "namespace");
  std::string target;
  std::string store_name;
  std::string store_kind = "SecretStore";
  if (auto spec = object.find("spec"); spec != object.end() && spec->is_object()) {
    if (auto t = spec->find("target"); t != spec->end() && t->is_object()) {
      target = StringAt(*t, "name");
    }
    if (auto s = spec->find("secretStoreRef"); s != spec->end() && s->is_object()) {
      store_name = StringAt(*s, "name");
      if (std::string kind = StringAt(*s, "kind"); !kind.empty()) store_kind = kind;
    }
  }
  if (target.empty()) target = StringAt(meta, "name");
  std::string store_key = store_kind == "ClusterSecretStore"
                              ? std::string(kClusterStorePrefix) + store_name
                              : std::string(kStorePrefix) + JoinKey(ns, store_name);
  return {JoinKey(ns, target), std::move(store_key)};
}

std::string_view ReadyOf(const std::vector<op::Condition>& conditions) {
  const op::Condition* ready = op::FindCondition(conditions, op::kConditionReady);
  return ready != nullptr ? std::string_view(ready->status) : std::string_view();
}

std::int64_t ElapsedNanos(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              since)
      .count();
}

}  // namespace

kube::ResourceRef ExternalSecretsRef(std::string ns, std::string name) {
  return {std::string(op::kGroup), std::string(kEsoVersion), "externalsecrets",
          std::move(ns),           std::move(name),          ""};
}

kube::ResourceRef SecretStoresRef(std::string ns, std::string name) {
  return {std::string(op::kGroup), std::string(kEsoVersion), "secretstores",
          std::move(ns),           std::move(name),          ""};
}

kube::ResourceRef ClusterSecretStoresRef(std::string name) {
  return {std::string(op::kGroup), std::string(kEsoVersion),
          "clustersecretstores",   "",
          std::move(name),         ""};
}

Controller::Controller(kube::Client& client, metrics::Registry& registry, ControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      metrics_(registry),
      backends_(client, options_.backends,
                [this](std::string_view call, const Status& status) {
                  metrics_.RecordProviderCall(op::metrics::kProviderAwsSecretsManager, call,
                                              status.ok());
                }),
      recorder_(options_.event_client ? *options_.event_client : client,
                kube::EventRecorderOptions{.component = options_.event_component, .clock = clock_}),
      queue_(clock_) {}

Controller::~Controller() { Stop(); }

void Controller::StartInformers() {
  kube::InformerOptions es_options;
  es_options.transform = WithoutManagedFields;
  es_options.page_size = kListPageSize;
  // Kept serialized: one parse per reconcile costs less than keeping 10,000 parsed objects.
  es_options.compact = true;
  external_secrets_ = std::make_unique<kube::Informer>(
      client_, ExternalSecretsRef(options_.namespace_), es_options,
      kube::InformerHandlers{
          [this](const json& o) { OnExternalSecret(nullptr, &o); },
          [this](const json& old_o, const json& o) { OnExternalSecret(&old_o, &o); },
          [this](const json& o) { OnExternalSecret(&o, nullptr); }});

  kube::InformerOptions store_options;
  store_options.transform = WithoutManagedFields;
  auto store_handlers = [this](op::StoreKind kind) {
    return kube::InformerHandlers{
        [this, kind](const json& o) { OnStore(kind, nullptr, &o); },
        [this, kind](const json& old_o, const json& o) { OnStore(kind, &old_o, &o); },
        [this, kind](const json& o) { OnStore(kind, &o, nullptr); }};
  };
  stores_ =
      std::make_unique<kube::Informer>(client_, SecretStoresRef(options_.namespace_), store_options,
                                       store_handlers(op::StoreKind::kSecretStore));
  cluster_stores_ =
      std::make_unique<kube::Informer>(client_, ClusterSecretStoresRef(), store_options,
                                       store_handlers(op::StoreKind::kClusterSecretStore));

  // Only the Secrets the operator manages (never every Secret in the cluster); their data is kept
  // because the reconcile compares it.
  kube::InformerOptions secret_options;
  secret_options.label_selector = std::string(op::kLabelManaged) + "=true";
  secret_options.transform = WithoutManagedFields;
  secret_options.page_size = kListPageSize;
  secret_options.compact = true;
  secrets_ = std::make_unique<kube::Informer>(
      client_, kube::SecretsRef(options_.namespace_), secret_options,
      kube::InformerHandlers{[this](const json& o) { OnSecret(o); },
                             [this](const json&, const json& o) { OnSecret(o); },
                             [this](const json& o) { OnSecret(o, /*deleted=*/true); }});

  stores_->Start();
  cluster_stores_->Start();
  secrets_->Start();
  external_secrets_->Start();
}

bool Controller::Synced() const {
  return external_secrets_ && external_secrets_->HasSynced() && stores_->HasSynced() &&
         cluster_stores_->HasSynced() && secrets_->HasSynced();
}

bool Controller::WaitForSync(std::chrono::milliseconds timeout) const {
  if (!external_secrets_) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const kube::Informer* informer :
       {stores_.get(), cluster_stores_.get(), secrets_.get(), external_secrets_.get()}) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !informer->WaitForSync(left)) return Synced();
  }
  return true;
}

void Controller::StartWorkers() {
  if (workers_started_.exchange(true)) return;
  // Stores first, so that ExternalSecrets find them validated instead of failing on "not ready"
  // and backing off.
  for (const json& store : stores_->List()) {
    const json& meta = MetadataOf(store);
    SyncStore(op::StoreKind::kSecretStore, StringAt(meta, "namespace"), StringAt(meta, "name"));
  }
  for (const json& store : cluster_stores_->List()) {
    SyncStore(op::StoreKind::kClusterSecretStore, "", StringAt(MetadataOf(store), "name"));
  }
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
  spdlog::info("operator: {} workers started", n);
}

void Controller::Stop() {
  queue_.ShutDown();
  workers_.clear();  // joins
  for (auto* informer : {&external_secrets_, &secrets_, &stores_, &cluster_stores_}) {
    if (*informer) (*informer)->Stop();
  }
  // The Events of the last syncs still go out (bounded: the apiserver may be gone).
  recorder_.Flush(std::chrono::seconds(2));
}

void Controller::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::optional<op::WorkItem> item = queue_.Get();
    if (!item) return;
    Process(*item);
    queue_.Done(item->key);
  }
}

void Controller::Process(const op::WorkItem& item) {
  std::string_view key = item.key;
  if (key.starts_with(kEsPrefix)) {
    auto [ns, name] = SplitKey(key.substr(kEsPrefix.size()));
    SyncExternalSecret(ns, name, item);
  } else if (key.starts_with(kStorePrefix)) {
    auto [ns, name] = SplitKey(key.substr(kStorePrefix.size()));
    SyncStore(op::StoreKind::kSecretStore, ns, name);
  } else if (key.starts_with(kClusterStorePrefix)) {
    SyncStore(op::StoreKind::kClusterSecretStore, "",
              std::string(key.substr(kClusterStorePrefix.size())));
  }
}

// --- informer handlers ---------------------------------------------------------------------------

void Controller::OnExternalSecret(const json* old_object, const json* object) {
  const json& any = object != nullptr ? *object : *old_object;
  const json& meta = MetadataOf(any);
  const std::string key = JoinKey(StringAt(meta, "namespace"), StringAt(meta, "name"));
  {
    std::lock_guard lock(mu_);
    if (auto it = es_refs_.find(key); it != es_refs_.end()) {
      users_of_target_[it->second.first].erase(key);
      if (users_of_target_[it->second.first].empty()) users_of_target_.erase(it->second.first);
      users_of_store_[it->second.second].erase(key);
      if (users_of_store_[it->second.second].empty()) users_of_store_.erase(it->second.second);
      es_refs_.erase(it);
    }
    if (object != nullptr) {
      auto refs = RefsOf(*object);
      users_of_target_[refs.first].insert(key);
      users_of_store_[refs.second].insert(key);
      es_refs_.emplace(key, std::move(refs));
    }
  }
  ForgetOverlayOnceSeen(std::string(kEsPrefix) + key, object);
  const bool changed =
      object == nullptr || old_object == nullptr || ExternalSecretChanged(*old_object, *object);
  if (changed) queue_.Add(std::string(kEsPrefix) + key);
}

void Controller::OnStore(op::StoreKind kind, const json* old_object, const json* object) {
  const json& any = object != nullptr ? *object : *old_object;
  const json& meta = MetadataOf(any);
  const std::string key = kind == op::StoreKind::kClusterSecretStore
                              ? std::string(kClusterStorePrefix) + StringAt(meta, "name")
                              : std::string(kStorePrefix) +
                                    JoinKey(StringAt(meta, "namespace"), StringAt(meta, "name"));
  ForgetOverlayOnceSeen(key, object);
  const bool changed =
      object == nullptr || old_object == nullptr ||
      MetadataOf(*old_object).value("generation", 0) != MetadataOf(*object).value("generation", 0);
  if (!changed) return;
  queue_.Add(key);
  if (object == nullptr) EnqueueUsersOf(key);
}

void Controller::OnSecret(const json& object, bool deleted) {
  const json& meta = MetadataOf(object);
  const std::string target = JoinKey(StringAt(meta, "namespace"), StringAt(meta, "name"));
  ForgetOverlayOnceSeen(std::string(kSecretOverlay) + target, deleted ? nullptr : &object);
  std::vector<std::string> users;
  {
    std::lock_guard lock(mu_);
    if (auto it = users_of_target_.find(target); it != users_of_target_.end()) {
      users.assign(it->second.begin(), it->second.end());
    }
  }
  for (const std::string& es : users) queue_.Add(std::string(kEsPrefix) + es);
}

void Controller::EnqueueUsersOf(const std::string& store_key) {
  std::vector<std::string> users;
  {
    std::lock_guard lock(mu_);
    if (auto it = users_of_store_.find(store_key); it != users_of_store_.end()) {
      users.assign(it->second.begin(), it->second.end());
    }
  }
  for (const std::string& es : users) queue_.Add(std::string(kEsPrefix) + es);
}

// --- overlays ------------------------------------------------------------------------------------

std::optional<json> Controller::Current(const std::string& key,
                                        const std::function<std::optional<json>()>& read_cache) {
  std::optional<Overlay> overlay;
  {
    std::lock_guard lock(mu_);
    auto it = overlays_.find(key);
    if (it != overlays_.end() && !it->second.pending) overlay = it->second;
  }
  std::optional<json> cached = read_cache();
  if (!overlay) return cached;
  const bool stale =
      cached ? (!overlay->stale_absent && ResourceVersionOf(*cached) == overlay->stale_rv)
             : overlay->stale_absent;
  if (stale) {
    if (overlay->object.is_null()) return std::nullopt;
    return std::move(overlay->object);
  }
  // The cache has caught up (or moved past our write): drop the overlay unless a newer write
  // replaced it meanwhile.
  std::lock_guard lock(mu_);
  auto it = overlays_.find(key);
  if (it != overlays_.end() && !it->second.pending && it->second.stale_rv == overlay->stale_rv &&
      it->second.stale_absent == overlay->stale_absent &&
      ResourceVersionOf(it->second.object) == ResourceVersionOf(overlay->object)) {
    overlays_.erase(it);
  }
  return cached;
}

void Controller::ForgetOverlayOnceSeen(const std::string& key, const json* object) {
  std::lock_guard lock(mu_);
  auto it = overlays_.find(key);
  if (it == overlays_.end()) return;
  Overlay& overlay = it->second;
  // A delete must never be hidden by an overlay of the object.
  if (object == nullptr) {
    overlays_.erase(it);
    return;
  }
  const std::string rv = ResourceVersionOf(*object);
  if (overlay.pending) {
    // Old news (what the write replaces) changes nothing. The echo of our previous write means
    // the cache now shows that one. Anything else is this write or newer: the cache knows.
    if (!overlay.stale_absent && rv == overlay.stale_rv) return;
    if (!overlay.previous_rv.empty() && rv == overlay.previous_rv) {
      overlay.stale_rv = rv;
      overlay.stale_absent = false;
      overlay.previous_rv.clear();
      return;
    }
    overlays_.erase(it);
    return;
  }
  // The cache now holds our write (or something newer replaced or deleted the object): from here
  // on the cache is the truth.
  if (overlay.object.is_null() || rv == ResourceVersionOf(overlay.object)) overlays_.erase(it);
}

void Controller::ExpectWrite(const std::string& key, const std::optional<json>& before) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = overlays_.try_emplace(key);
  Overlay& overlay = it->second;
  if (!fresh && !overlay.pending) {
    // A write on top of our previous one that the cache has not shown yet (Current() returned
    // it): the cache still shows what that one replaced, and that is what the new overlay stands
    // in for.
    overlay.previous_rv =
        overlay.object.is_null() ? std::string() : ResourceVersionOf(overlay.object);
  } else {
    overlay.stale_rv = before ? ResourceVersionOf(*before) : std::string();
    overlay.stale_absent = !before;
    overlay.previous_rv.clear();
  }
  overlay.pending = true;
  overlay.object = json();
}

void Controller::SettleWrite(const std::string& key, const json* written) {
  std::lock_guard lock(mu_);
  auto it = overlays_.find(key);
  if (it == overlays_.end() || !it->second.pending) return;  // an event came: the cache knows
  if (written == nullptr) {
    overlays_.erase(it);
    return;
  }
  Overlay& overlay = it->second;
  overlay.object = *written;
  overlay.pending = false;
  overlay.previous_rv.clear();
}

void Controller::Remember(const std::string& key, const std::optional<json>& before, json written) {
  std::lock_guard lock(mu_);
  overlays_[key] =
      Overlay{before ? ResourceVersionOf(*before) : std::string(), !before, std::move(written)};
}

// --- ExternalSecrets -----------------------------------------------------------------------------

void Controller::SyncExternalSecret(const std::string& ns, const std::string& name,
                                    const op::WorkItem& item) {
  const auto started = std::chrono::steady_clock::now();
  const std::string key = JoinKey(ns, name);
  const std::string queue_key = std::string(kEsPrefix) + key;
  std::optional<json> object = Current(queue_key, [&] { return external_secrets_->Get(ns, name); });
  if (!object) {
    metrics_.ForgetExternalSecret(ns, name);
    queue_.Forget(queue_key);
    std::lock_guard lock(mu_);
    memory_.erase(key);
    overlays_.erase(queue_key);
    return;
  }
  if (MetadataOf(*object).contains("deletionTimestamp")) return;  // the GC handles Owner targets

  const std::int64_t now = clock_->NowMillis();
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    failures = memory_[key].consecutive_failures;
  }
  op::Plan plan;
  Result<op::ExternalSecret> es = op::ParseExternalSecret(*object);
  if (!es.ok()) {
    plan = op::PlanInvalidSpec(*object, es.status(), now);
  } else {
    op::ObservedState observed;
    observed.consecutive_failures = failures;
    op::FetchResult fetched;
    Result<std::optional<op::ObservedSecret>> target = ObserveTarget(*es);
    if (target.ok()) {
      observed.target = std::move(*target);
      if (!op::NeedsRefresh(*es, observed, now)) {
        // Nothing is due: look again when the refresh interval has passed.
        if (std::optional<std::int64_t> next = op::NextRefreshDelay(*es, now)) {
          queue_.AddAfter(queue_key, op::JitteredDelay(*next, UniformRandom()));
        }
        metrics_.RecordSync(ns, name, true, ElapsedNanos(started), ReadyOf(es->status.conditions));
        return;
      }
      Status usable;
      std::shared_ptr<const op::SecretStore> store = LookupStore(*es, &usable);
      if (!usable.ok()) {
        fetched.error = usable;
      } else {
        // An event (new object, spec edit, force-sync) wants values read after it happened; a
        // periodic refresh may share a value other refreshes of the same round read shortly
        // before (a tenth of its interval at most), so a round reads each key once.
        std::int64_t not_before = item.queued_ms;
        if (item.trigger == op::Trigger::kTimer) {
          not_before -= std::min<std::int64_t>(options_.backends.share_window.count(),
                                               es->refresh_interval_ms / 10);
        }
        fetched = backends_.Fetch(*es, *store, not_before);
      }
    } else {
      fetched.error = target.status().WithContext("could not read the target secret");
    }
    if (fetched.error.ok() && es->target.has_template) {
      observed.template_sources = ReadTemplateSources(*es);
    }
    plan = op::ReconcileExternalSecret(*es, observed, fetched, now, options_.templates);
    if (plan.action != op::SecretAction::kNone) {
      plan = Execute(*es, std::move(observed), fetched, std::move(plan), now);
    }
  }

  if (plan.status_changed) {
    // Pending before the request: the watch may deliver the write before the response is back,
    // and an overlay installed after that would outlive its use (until the next event).
    ExpectWrite(queue_key, object);
    Result<json> written = WriteStatus(ExternalSecretsRef(ns, name), op::StatusToJson(plan.status));
    if (written.ok()) {
      const json kept = WithoutManagedFields(*written);
      SettleWrite(queue_key, &kept);
    } else {
      SettleWrite(queue_key, nullptr);
      if (written.status().code() != StatusCode::kNotFound) {
        spdlog::warn("externalsecret {}: status update failed: {}", key,
                     written.status().ToString());
        if (!plan.requeue_after_ms) plan.requeue_after_ms = op::BackoffDelay(1);
      }
    }
  }
  Emit(*object, plan.events);
  {
    std::lock_guard lock(mu_);
    memory_[key].consecutive_failures = plan.consecutive_failures;
  }
  if (plan.requeue_after_ms) {
    queue_.AddAfter(queue_key, plan.ok ? op::JitteredDelay(*plan.requeue_after_ms, UniformRandom())
                                       : *plan.requeue_after_ms);
  }
  if (!plan.ok) {
    const op::Condition* ready = op::FindCondition(plan.status.conditions, op::kConditionReady);
    spdlog::info("externalsecret {}: sync failed: {}", key,
                 ready != nullptr ? ready->message : std::string("(no condition)"));
  }
  metrics_.RecordSync(ns, name, plan.ok, ElapsedNanos(started), ReadyOf(plan.status.conditions));
}

Result<std::optional<op::ObservedSecret>> Controller::ReadTarget(const std::string& ns,
                                                                 const std::string& name) {
  Result<json> object = client_.Get(kube::SecretsRef(ns, name));
  if (!object.ok()) {
    if (object.status().code() == StatusCode::kNotFound) return std::optional<op::ObservedSecret>();
    return object.status();
  }
  COFFER_ASSIGN_OR_RETURN(op::ObservedSecret secret,
                          op::ParseSecret(WithoutManagedFields(*object)));
  return std::optional<op::ObservedSecret>(std::move(secret));
}

Result<std::optional<op::ObservedSecret>> Controller::ObserveTarget(const op::ExternalSecret& es) {
  const std::string& ns = es.metadata.namespace_;
  const std::string& name = es.target.name;
  std::optional<json> cached = Current(std::string(kSecretOverlay) + JoinKey(ns, name),
                                       [&] { return secrets_->Get(ns, name); });
  if (cached) {
    COFFER_ASSIGN_OR_RETURN(op::ObservedSecret secret, op::ParseSecret(*cached));
    return std::optional<op::ObservedSecret>(std::move(secret));
  }
  // The cache holds only Secrets with our managed label. Merge targets belong to someone else
  // and never get it; for None nothing is written, but the status reports on the Secret.
  if (es.target.creation_policy == op::CreationPolicy::kMerge ||
      es.target.creation_policy == op::CreationPolicy::kNone) {
    return ReadTarget(ns, name);
  }
  // Owner/Orphan: a Secret without our label may still exist; Create then answers AlreadyExists
  // and Execute reads it.
  return std::optional<op::ObservedSecret>();
}

Result<op::StringMap> Controller::LabelsOfNamespace(const std::string& ns) {
  const std::int64_t now = clock_->NowMillis();
  {
    std::lock_guard lock(mu_);
    auto it = namespaces_.find(ns);
    if (it != namespaces_.end() && now - it->second.read_ms < kNamespaceLabelsTtlMs) {
      return it->second.labels;
    }
  }
  COFFER_ASSIGN_OR_RETURN(json object,
                          client_.Get(kube::ResourceRef{"", "v1", "namespaces", "", ns, ""}));
  COFFER_ASSIGN_OR_RETURN(op::ObjectMeta meta, op::ParseObjectMeta(MetadataOf(object)));
  std::lock_guard lock(mu_);
  namespaces_[ns] = NamespaceLabels{meta.labels, now};
  return meta.labels;
}

std::shared_ptr<const op::SecretStore> Controller::LookupStore(const op::ExternalSecret& es,
                                                               Status* error) {
  const bool cluster = es.store_ref.kind == op::StoreKind::kClusterSecretStore;
  const std::string key =
      cluster ? std::string(kClusterStorePrefix) + es.store_ref.name
              : std::string(kStorePrefix) + JoinKey(es.metadata.namespace_, es.store_ref.name);
  std::optional<json> object = Current(key, [&] {
    return cluster ? cluster_stores_->Get("", es.store_ref.name)
                   : stores_->Get(es.metadata.namespace_, es.store_ref.name);
  });
  if (!object) {
    *error = op::CheckStoreUsable(es, nullptr, {}, options_.controller_class);
    return nullptr;
  }
  std::shared_ptr<const op::SecretStore> store;
  {
    const std::string rv = ResourceVersionOf(*object);
    std::lock_guard lock(mu_);
    ParsedStore& parsed = parsed_stores_[key];
    if (parsed.resource_version != rv || (!parsed.store && parsed.error.ok())) {
      Result<op::SecretStore> result = op::ParseSecretStore(*object);
      parsed.resource_version = rv;
      parsed.store =
          result.ok() ? std::make_shared<const op::SecretStore>(std::move(*result)) : nullptr;
      parsed.error = result.ok() ? Status::Ok() : result.status();
    }
    if (!parsed.store) {
      *error = Status::FailedPrecondition(std::string(op::StoreKindName(es.store_ref.kind)) +
                                          " \"" + es.store_ref.name +
                                          "\" is invalid: " + parsed.error.message());
      return nullptr;
    }
    store = parsed.store;
  }
  op::StringMap namespace_labels;
  if (cluster &&
      std::any_of(store->namespace_conditions.begin(), store->namespace_conditions.end(),
                  [](const op::NamespaceCondition& c) { return c.selector.has_value(); })) {
    Result<op::StringMap> labels = LabelsOfNamespace(es.metadata.namespace_);
    if (!labels.ok()) {
      *error = labels.status().WithContext("could not read namespace " + es.metadata.namespace_);
      return nullptr;
    }
    namespace_labels = std::move(*labels);
  }
  *error = op::CheckStoreUsable(es, store.get(), namespace_labels, options_.controller_class);
  return store;
}

op::Plan Controller::Execute(const op::ExternalSecret& es, op::ObservedState observed,
                             const op::FetchResult& fetched, op::Plan plan, std::int64_t now_ms) {
  const std::string& ns = es.metadata.namespace_;
  const std::string& name = es.target.name;
  const std::string overlay_key = std::string(kSecretOverlay) + JoinKey(ns, name);
  const std::string field_manager = op::FieldManagerName(es.metadata.name);
  // The target as the cache shows it, for the overlay of an update. Not the object re-read after
  // AlreadyExists: that one is missing from the cache (it lacks our label), and an overlay keyed
  // to its resourceVersion would be dropped at once, so the next reconcile would try to create
  // the Secret again.
  const std::optional<json> cached_target =
      observed.target ? std::optional<json>(observed.target->raw) : std::nullopt;
  for (int attempt = 1;; ++attempt) {
    Status failed;
    bool reread = false;
    switch (plan.action) {
      case op::SecretAction::kNone:
        return plan;
      case op::SecretAction::kCreate: {
        ExpectWrite(overlay_key, std::nullopt);
        Result<json> created = client_.Create(kube::SecretsRef(ns), plan.secret, field_manager);
        if (created.ok()) {
          const json written = WithoutManagedFields(*created);
          SettleWrite(overlay_key, &written);
          return plan;
        }
        SettleWrite(overlay_key, nullptr);
        reread = created.status().code() == StatusCode::kAlreadyExists;
        failed = created.status();
        break;
      }
      case op::SecretAction::kUpdate: {
        ExpectWrite(overlay_key, cached_target);
        Result<json> updated = client_.Patch(kube::SecretsRef(ns, name), kube::PatchType::kMerge,
                                             plan.patch, {.field_manager = field_manager});
        if (updated.ok()) {
          const json written = WithoutManagedFields(*updated);
          SettleWrite(overlay_key, &written);
          return plan;
        }
        SettleWrite(overlay_key, nullptr);
        reread =
            kube::IsConflict(updated.status()) || updated.status().code() == StatusCode::kNotFound;
        failed = updated.status();
        break;
      }
      case op::SecretAction::kDelete: {
        Status deleted = client_.Delete(kube::SecretsRef(ns, name));
        if (deleted.ok() || deleted.code() == StatusCode::kNotFound) {
          if (observed.target) Remember(overlay_key, observed.target->raw, json());
          return plan;
        }
        failed = deleted;
        break;
      }
    }
    if (!reread || attempt >= kMaxWriteAttempts) {
      return op::PlanWriteFailure(es, observed, plan, failed, now_ms);
    }
    // The cache was stale: read the Secret as it is and decide again.
    Result<std::optional<op::ObservedSecret>> fresh = ReadTarget(ns, name);
    if (!fresh.ok()) return op::PlanWriteFailure(es, observed, plan, fresh.status(), now_ms);
    observed.target = std::move(*fresh);
    plan = op::ReconcileExternalSecret(es, observed, fetched, now_ms, options_.templates);
  }
}

op::TemplateSources Controller::ReadTemplateSources(const op::ExternalSecret& es) {
  op::TemplateSources sources;
  const std::string& ns = es.metadata.namespace_;
  const op::TemplateSourceNames names = op::TemplateSourcesOf(es);
  for (const std::string& name : names.config_maps) {
    op::TemplateSource& source = sources.config_maps[name];
    Result<json> object = client_.Get(kube::ResourceRef{"", "v1", "configmaps", ns, name, ""});
    if (!object.ok()) {
      source.status = object.status();
      continue;
    }
    source.data = StringMapAt(*object, "data");
  }
  for (const std::string& name : names.secrets) {
    op::TemplateSource& source = sources.secrets[name];
    Result<json> object = client_.Get(kube::SecretsRef(ns, name));
    if (!object.ok()) {
      source.status = object.status();
      continue;
    }
    Result<op::ObservedSecret> secret = op::ParseSecret(*object);
    if (!secret.ok()) {
      source.status = secret.status();
      continue;
    }
    source.data = std::move(secret->data);
  }
  return sources;
}

Result<json> Controller::WriteStatus(const kube::ResourceRef& ref, const json& status) {
  return client_.Patch(ref.WithSubresource("status"), kube::PatchType::kMerge,
                       json{{"status", status}},
                       {.field_manager = std::string(kStatusFieldManager)});
}

void Controller::Emit(const json& object, const std::vector<op::Event>& events) {
  for (const op::Event& event : events) {
    recorder_.RecordAsync(
        object, event.type == "Warning" ? kube::EventType::kWarning : kube::EventType::kNormal,
        event.reason, event.message);
  }
}

// --- stores --------------------------------------------------------------------------------------

void Controller::SyncStore(op::StoreKind kind, const std::string& ns, const std::string& name) {
  const auto started = std::chrono::steady_clock::now();
  const bool cluster = kind == op::StoreKind::kClusterSecretStore;
  const std::string key = cluster ? std::string(kClusterStorePrefix) + name
                                  : std::string(kStorePrefix) + JoinKey(ns, name);
  std::optional<json> object = Current(
      key, [&] { return cluster ? cluster_stores_->Get("", name) : stores_->Get(ns, name); });
  if (!object) {
    metrics_.ForgetStore(kind, ns, name);
    queue_.Forget(key);
    std::lock_guard lock(mu_);
    if (auto it = parsed_stores_.find(key); it != parsed_stores_.end()) {
      if (it->second.store) backends_.Forget(it->second.store->metadata.uid);
      parsed_stores_.erase(it);
    }
    overlays_.erase(key);
    return;
  }
  const std::int64_t now = clock_->NowMillis();
  Result<op::SecretStore> store = op::ParseSecretStore(*object);
  if (store.ok() && !store->controller.empty() && store->controller != options_.controller_class) {
    return;  // another controller class's store
  }
  // The conditions already in the object (read leniently when the spec does not parse).
  std::vector<op::Condition> current;
  if (store.ok()) {
    current = store->conditions;
  } else if (Result<op::ExternalSecretStatus> status = op::ParseExternalSecretStatus(*object);
             status.ok()) {
    current = status->conditions;
  }
  const bool was_ready = op::StoreIsReady(current);
  op::StoreValidationResult result =
      store.ok() ? backends_.Validate(*store)
                 : op::StoreValidationResult{op::StoreValidation::kClientError, store.status()};
  if (store.ok() && result.outcome != op::StoreValidation::kValid) {
    backends_.Forget(store->metadata.uid);
  }
  op::StoreStatusPlan plan =
      op::ComputeStoreStatus(store.ok() ? &*store : nullptr, current, result, now);
  if (plan.status_changed) {
    const kube::ResourceRef ref =
        cluster ? ClusterSecretStoresRef(name) : SecretStoresRef(ns, name);
    ExpectWrite(key, object);
    Result<json> written = WriteStatus(ref, plan.status);
    if (written.ok()) {
      const json kept = WithoutManagedFields(*written);
      SettleWrite(key, &kept);
    } else {
      SettleWrite(key, nullptr);
      if (written.status().code() != StatusCode::kNotFound) {
        spdlog::warn("{} {}: status update failed: {}", op::StoreKindName(kind), JoinKey(ns, name),
                     written.status().ToString());
      }
    }
  }
  Emit(*object, plan.events);
  if (!plan.ready) {
    spdlog::info("{} {}: not ready: {}", op::StoreKindName(kind), JoinKey(ns, name),
                 result.cause.ToString());
  }
  const std::int64_t requeue = store.ok() && store->refresh_interval_ms > 0
                                   ? plan.requeue_after_ms
                                   : options_.store_requeue_ms;
  queue_.AddAfter(key, requeue);
  metrics_.RecordStore(kind, ns, name, plan.ready ? "True" : "False", ElapsedNanos(started));
  if (plan.ready != was_ready) EnqueueUsersOf(key);
}

}  // namespace coffer::controller
