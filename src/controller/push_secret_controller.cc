#include "controller/push_secret_controller.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "controller/object_util.h"
#include "operator/reconcile.h"
#include "operator/store_ref.h"

namespace coffer::controller {
namespace {

using internal::JoinKey;
using internal::MetadataOf;
using internal::SplitKey;
using internal::StringAt;
using internal::UniformRandom;
using internal::WithoutManagedFields;
using nlohmann::json;

constexpr std::string_view kStatusFieldManager = "coffer-operator";
constexpr std::int64_t kListPageSize = 100;

// Source Secrets are cached by name only, to notice changes: the data stays out of memory.
json MetadataOnly(const json& object) {
  json out = json::object();
  const json& meta = MetadataOf(object);
  json m = json::object();
  for (const char* key : {"name", "namespace", "uid", "resourceVersion"}) {
    if (auto it = meta.find(key); it != meta.end()) m[key] = *it;
  }
  out["metadata"] = std::move(m);
  return out;
}

// The source Secret a PushSecret object names ("ns/name"), "" when none.
std::string SourceOf(const json& object) {
  const json& meta = MetadataOf(object);
  auto spec = object.find("spec");
  if (spec == object.end() || !spec->is_object()) return "";
  auto selector = spec->find("selector");
  if (selector == spec->end() || !selector->is_object()) return "";
  auto secret = selector->find("secret");
  if (secret == selector->end() || !secret->is_object()) return "";
  const std::string name = StringAt(*secret, "name");
  return name.empty() ? "" : JoinKey(StringAt(meta, "namespace"), name);
}

bool Changed(const json& a, const json& b) {
  const json& ma = MetadataOf(a);
  const json& mb = MetadataOf(b);
  return ma.value("generation", 0) != mb.value("generation", 0) ||
         ma.value("labels", json::object()) != mb.value("labels", json::object()) ||
         ma.value("annotations", json::object()) != mb.value("annotations", json::object()) ||
         ma.value("finalizers", json::array()) != mb.value("finalizers", json::array()) ||
         ma.contains("deletionTimestamp") != mb.contains("deletionTimestamp");
}

kube::ResourceRef StoresRef(op::StoreKind kind, std::string ns, std::string name) {
  if (kind == op::StoreKind::kClusterSecretStore) {
    return {std::string(op::kGroup), "v1", "clustersecretstores", "", std::move(name), ""};
  }
  return {std::string(op::kGroup), "v1", "secretstores", std::move(ns), std::move(name), ""};
}

}  // namespace

kube::ResourceRef PushSecretsRef(std::string ns, std::string name) {
  return {std::string(op::kGroup), std::string(kPushSecretVersion),
          "pushsecrets",           std::move(ns),
          std::move(name),         ""};
}

PushSecretController::PushSecretController(kube::Client& client,
                                           PushSecretControllerOptions options)
    : client_(client),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      backends_(client, options_.backends, {}),
      recorder_(client,
                kube::EventRecorderOptions{.component = options_.event_component, .clock = clock_}),
      queue_(clock_) {}

PushSecretController::~PushSecretController() { Stop(); }

void PushSecretController::StartInformers() {
  kube::InformerOptions options;
  options.transform = WithoutManagedFields;
  options.page_size = kListPageSize;
  push_secrets_ = std::make_unique<kube::Informer>(
      client_, PushSecretsRef(options_.namespace_), options,
      kube::InformerHandlers{[this](const json& o) { OnPushSecret(nullptr, &o); },
                             [this](const json& old_o, const json& o) { OnPushSecret(&old_o, &o); },
                             [this](const json& o) { OnPushSecret(&o, nullptr); }});
  push_secrets_->Start();
}

bool PushSecretController::Synced() const { return push_secrets_ && push_secrets_->HasSynced(); }

bool PushSecretController::WaitForSync(std::chrono::milliseconds timeout) const {
  return push_secrets_ && push_secrets_->WaitForSync(timeout);
}

void PushSecretController::StartWorkers() {
  if (workers_started_.exchange(true)) return;
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
  spdlog::info("operator: {} PushSecret workers started", n);
}

void PushSecretController::Stop() {
  queue_.ShutDown();
  workers_.clear();
  if (push_secrets_) push_secrets_->Stop();
  std::map<std::string, Source> sources;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    sources.swap(sources_);
  }
  for (auto& [key, source] : sources) source.informer->Stop();
}

std::size_t PushSecretController::watched_sources() const {
  std::lock_guard lock(mu_);
  return sources_.size();
}

void PushSecretController::Work(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::optional<op::WorkItem> item = queue_.Get();
    if (!item) return;
    Process(*item);
    queue_.Done(item->key);
  }
}

void PushSecretController::Process(const op::WorkItem& item) {
  auto [ns, name] = SplitKey(item.key);
  Sync(ns, name);
}

// --- informer handlers ---------------------------------------------------------------------------

void PushSecretController::OnPushSecret(const json* old_object, const json* object) {
  const json& any = object != nullptr ? *object : *old_object;
  const json& meta = MetadataOf(any);
  const std::string key = JoinKey(StringAt(meta, "namespace"), StringAt(meta, "name"));
  SetSource(key, object != nullptr ? SourceOf(*object) : "");
  if (object == nullptr || old_object == nullptr || Changed(*old_object, *object)) {
    queue_.Add(key);
  }
}

void PushSecretController::SetSource(const std::string& ps_key, const std::string& source_key) {
  std::unique_ptr<kube::Informer> retired;
  std::unique_ptr<kube::Informer> started;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    auto it = source_of_.find(ps_key);
    const std::string previous = it != source_of_.end() ? it->second : "";
    if (previous == source_key) return;
    if (!previous.empty()) {
      auto s = sources_.find(previous);
      if (s != sources_.end()) {
        s->second.users.erase(ps_key);
        if (s->second.users.empty()) {
          retired = std::move(s->second.informer);
          sources_.erase(s);
        }
      }
    }
    if (source_key.empty()) {
      source_of_.erase(ps_key);
    } else {
      source_of_[ps_key] = source_key;
      Source& source = sources_[source_key];
      source.users.insert(ps_key);
      if (!source.informer) {
        auto [ns, name] = SplitKey(source_key);
        kube::InformerOptions options;
        options.field_selector = "metadata.name=" + name;
        options.transform = MetadataOnly;
        auto handler = [this, source_key, name](const json& o) {
          // A field selector the server ignored (or a rename) must not trigger anyone else.
          if (StringAt(MetadataOf(o), "name") == name) OnSource(source_key);
        };
        source.informer = std::make_unique<kube::Informer>(
            client_, kube::SecretsRef(ns), options,
            kube::InformerHandlers{handler, [handler](const json&, const json& o) { handler(o); },
                                   handler});
        source.informer->Start();
      }
    }
  }
  if (retired) retired->Stop();
}

void PushSecretController::OnSource(const std::string& source_key) {
  std::vector<std::string> users;
  {
    std::lock_guard lock(mu_);
    auto it = sources_.find(source_key);
    if (it != sources_.end()) users.assign(it->second.users.begin(), it->second.users.end());
  }
  for (const std::string& ps : users) queue_.Add(ps);
}

// --- stores --------------------------------------------------------------------------------------

Result<PushSecretController::ResolvedStore> PushSecretController::ReadStore(
    op::StoreKind kind, const std::string& ns, const std::string& name) {
  Result<json> object = client_.Get(StoresRef(kind, ns, name));
  if (!object.ok()) {
    return object.status().WithContext("could not get " + std::string(op::StoreKindName(kind)) +
                                       " \"" + name + "\"");
  }
  Result<op::SecretStore> store = op::ParseSecretStore(*object);
  if (!store.ok()) {
    return Status::FailedPrecondition(std::string(op::StoreKindName(kind)) + " \"" + name +
                                      "\" is invalid: " + store.status().message());
  }
  return ResolvedStore{op::PushStoreKey(kind, name), std::move(*store), std::move(*object)};
}

Status PushSecretController::CheckUsable(const std::string& ns, const ResolvedStore& store) {
  op::ExternalSecret as_user;  // CheckStoreUsable's view of who uses the store
  as_user.metadata.namespace_ = ns;
  as_user.store_ref.name = store.store.metadata.name;
  as_user.store_ref.kind = store.store.kind;
  op::StringMap namespace_labels;
  if (store.store.kind == op::StoreKind::kClusterSecretStore &&
      std::any_of(store.store.namespace_conditions.begin(), store.store.namespace_conditions.end(),
                  [](const op::NamespaceCondition& c) { return c.selector.has_value(); })) {
    COFFER_ASSIGN_OR_RETURN(json object,
                            client_.Get(kube::ResourceRef{"", "v1", "namespaces", "", ns, ""}));
    COFFER_ASSIGN_OR_RETURN(op::ObjectMeta meta, op::ParseObjectMeta(MetadataOf(object)));
    namespace_labels = std::move(meta.labels);
  }
  return op::CheckStoreUsable(as_user, &store.store, namespace_labels, options_.controller_class);
}

Result<std::vector<PushSecretController::ResolvedStore>> PushSecretController::ResolveStores(
    const op::PushSecret& ps) {
  const std::string& ns = ps.metadata.namespace_;
  std::vector<ResolvedStore> out;
  std::set<std::string> seen;
  for (const op::PushStoreRef& ref : ps.store_refs) {
    std::vector<ResolvedStore> found;
    if (!ref.label_selector) {
      COFFER_ASSIGN_OR_RETURN(ResolvedStore store, ReadStore(ref.kind, ns, ref.name));
      found.push_back(std::move(store));
    } else {
      COFFER_ASSIGN_OR_RETURN(json list, client_.ListAll(StoresRef(ref.kind, ns, "")));
      for (json item : list.value("items", json::array())) {
        // List items may leave out apiVersion and kind (the list names them).
        if (!item.contains("apiVersion")) item["apiVersion"] = list.value("apiVersion", "");
        if (!item.contains("kind")) item["kind"] = std::string(op::StoreKindName(ref.kind));
        Result<op::ObjectMeta> meta = op::ParseObjectMeta(MetadataOf(item));
        if (!meta.ok() || !op::SelectorMatches(*ref.label_selector, meta->labels)) continue;
        Result<op::SecretStore> store = op::ParseSecretStore(item);
        if (!store.ok()) {
          return Status::FailedPrecondition(std::string(op::StoreKindName(ref.kind)) + " \"" +
                                            meta->name +
                                            "\" is invalid: " + store.status().message());
        }
        found.push_back(
            ResolvedStore{op::PushStoreKey(ref.kind, meta->name), std::move(*store), item});
      }
    }
    for (ResolvedStore& store : found) {
      // A store of another controller class is someone else's: skipped when selected by label.
      if (ref.label_selector && !store.store.controller.empty() &&
          store.store.controller != options_.controller_class) {
        continue;
      }
      if (!seen.insert(store.key).second) continue;
      COFFER_RETURN_IF_ERROR(CheckUsable(ns, store));
      out.push_back(std::move(store));
    }
  }
  return out;
}

Result<PushSecretController::ResolvedStore> PushSecretController::StoreByKey(
    const std::string& ns, const std::string& key) {
  const std::size_t slash = key.find('/');
  if (slash == std::string::npos) {
    return Status::FailedPrecondition("unreadable store key \"" + key + "\" in status");
  }
  const std::string kind_name = key.substr(0, slash);
  const op::StoreKind kind = kind_name == "ClusterSecretStore" ? op::StoreKind::kClusterSecretStore
                                                               : op::StoreKind::kSecretStore;
  return ReadStore(kind, ns, key.substr(slash + 1));
}

// --- pushing and deleting ------------------------------------------------------------------------

namespace {

// What DescribeSecret and GetSecretValue say of a remote secret.
Result<op::RemoteState> Observe(const provider::SecretsManagerClient& client,
                                const std::string& name, bool read_value) {
  op::RemoteState state;
  Result<provider::RemoteSecretDescription> described = client.DescribeSecret(name);
  if (!described.ok()) {
    if (described.status().code() == StatusCode::kNotFound) return state;
    return described.status();
  }
  state.exists = true;
  state.tags = described->tags;
  state.marked_for_deletion = described->deleted_ms.has_value();
  if (read_value && !state.marked_for_deletion && op::IsManagedRemote(state)) {
    Result<provider::RemoteSecretValue> value = client.GetSecretValue(name);
    if (value.ok()) {
      state.value = value->binary ? value->binary : value->string;
    } else if (value.status().code() != StatusCode::kNotFound) {
      return value.status();
    }
  }
  return state;
}

std::vector<std::pair<std::string, std::string>> TagPairs(const op::StringMap& tags) {
  return {tags.begin(), tags.end()};
}

}  // namespace

Status PushSecretController::Push(const op::PushSecret& ps,
                                  const std::vector<ResolvedStore>& stores,
                                  const std::map<std::string, std::string>& data,
                                  op::SyncedPushSecrets& synced, bool& wrote) {
  std::map<std::string, const ResolvedStore*> by_key;
  std::vector<std::string> keys;
  for (const ResolvedStore& s : stores) {
    by_key[s.key] = &s;
    keys.push_back(s.key);
    synced[s.key];  // a store with nothing pushed yet still shows up, as in ESO
  }
  std::map<std::string, std::shared_ptr<const provider::SecretsManagerClient>> clients;
  for (const op::RemoteWrite& write : op::PlanRemoteWrites(ps, keys)) {
    const ResolvedStore& store = *by_key.at(write.store_key);
    const std::string where = "set secret failed: could not write remote ref " + write.remote_key +
                              " to target secretstore " + store.store.metadata.name + ": ";
    auto& client = clients[write.store_key];
    if (!client) {
      Result<std::shared_ptr<const provider::SecretsManagerClient>> built =
          backends_.WriteClient(store.store, ps.metadata.namespace_);
      if (!built.ok()) return built.status().WithContext("could not start secrets client");
      client = std::move(*built);
    }
    const std::string name = store.store.aws.prefix + write.remote_key;
    Result<op::RemoteState> state =
        Observe(*client, name, ps.update_policy == op::PushUpdatePolicy::kReplace);
    if (!state.ok()) return Status(state.status().code(), where + state.status().message());
    Result<op::PushAction> action = op::PlanRemoteWrite(write, data, *state, ps.update_policy);
    if (!action.ok()) return Status(action.status().code(), where + action.status().message());
    std::optional<std::string> as_string;
    std::optional<std::string> as_binary;
    (action->binary ? as_binary : as_string) = action->value;
    Status done;
    switch (action->type) {
      case op::PushActionType::kCreate:
        done = client
                   ->CreateSecret(name, as_string, as_binary, action->description,
                                  action->kms_key_id, TagPairs(action->tags))
                   .status();
        break;
      case op::PushActionType::kPutValue:
        done = client->PutSecretValue(name, as_string, as_binary).status();
        break;
      case op::PushActionType::kNone:
        break;
    }
    if (done.ok() && action->type != op::PushActionType::kCreate && !action->tags.empty()) {
      done = client->TagResource(name, TagPairs(action->tags));
    }
    if (!done.ok()) return Status(done.code(), where + done.message());
    wrote = wrote || action->type != op::PushActionType::kNone;
    if (action->type != op::PushActionType::kNone) {
      spdlog::info("pushsecret {}/{}: {} {} in {}", ps.metadata.namespace_, ps.metadata.name,
                   action->type == op::PushActionType::kCreate ? "created" : "updated", name,
                   write.store_key);
    }
    op::RecordSynced(write, synced);
  }
  return Status::Ok();
}

Status PushSecretController::DeleteRemotes(const op::PushSecret& ps,
                                           const std::vector<op::RemoteSecretRef>& refs) {
  std::map<std::string,
           std::pair<ResolvedStore, std::shared_ptr<const provider::SecretsManagerClient>>>
      stores;
  for (const auto& [store_key, remote_key] : refs) {
    auto it = stores.find(store_key);
    if (it == stores.end()) {
      Result<ResolvedStore> store = StoreByKey(ps.metadata.namespace_, store_key);
      if (!store.ok() && store.status().code() == StatusCode::kNotFound) {
        // The store is gone, and with it the way to reach its secrets: waiting would keep the
        // PushSecret (and its finalizer) forever. The remote secrets stay; say so.
        spdlog::warn("pushsecret {}/{}: {} no longer exists: remote secret {} not deleted",
                     ps.metadata.namespace_, ps.metadata.name, store_key, remote_key);
        continue;
      }
      if (!store.ok()) {
        return store.status().WithContext("could not delete remote secrets of " + store_key);
      }
      Result<std::shared_ptr<const provider::SecretsManagerClient>> client =
          backends_.WriteClient(store->store, ps.metadata.namespace_);
      if (!client.ok()) return client.status().WithContext("could not start secrets client");
      it = stores.emplace(store_key, std::make_pair(std::move(*store), std::move(*client))).first;
    }
    const auto& [store, client] = it->second;
    const std::string name = store.store.aws.prefix + remote_key;
    Result<op::RemoteState> state = Observe(*client, name, /*read_value=*/false);
    if (!state.ok()) return state.status().WithContext("could not delete " + name);
    if (!op::ShouldDeleteRemote(*state)) {
      if (state->exists && !op::IsManagedRemote(*state)) {
        spdlog::info("pushsecret {}/{}: {} is not managed by external-secrets: not deleted",
                     ps.metadata.namespace_, ps.metadata.name, name);
      }
      continue;
    }
    const op::RemoteDeleteOptions options = op::ParseRemoteDeleteOptions(store.object);
    Status deleted = client->DeleteSecret(name, options.force_delete_without_recovery,
                                          options.recovery_window_in_days);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
      return deleted.WithContext("could not delete " + name);
    }
    spdlog::info("pushsecret {}/{}: deleted {} from {}", ps.metadata.namespace_, ps.metadata.name,
                 name, store_key);
  }
  return Status::Ok();
}

// --- the reconcile -------------------------------------------------------------------------------

Result<json> PushSecretController::SetFinalizer(const json& object, bool present) {
  json updated = object;
  json& meta = updated["metadata"];
  json finalizers = json::array();
  for (const json& f : meta.value("finalizers", json::array())) {
    if (f != op::kPushSecretFinalizer) finalizers.push_back(f);
  }
  if (present) finalizers.push_back(std::string(op::kPushSecretFinalizer));
  meta["finalizers"] = std::move(finalizers);
  const json& m = MetadataOf(object);
  // A PUT with the cached resourceVersion: a Conflict means the cache was stale; the watch
  // brings the newer object and requeues.
  return client_.Update(PushSecretsRef(StringAt(m, "namespace"), StringAt(m, "name")), updated);
}

void PushSecretController::WriteStatus(const std::string& ns, const std::string& name,
                                       const op::PushStatusPlan& plan) {
  if (!plan.status_changed) return;
  // /status is replaced as a whole: a merge patch would keep entries removed from
  // syncedPushSecrets.
  json patch = json::array(
      {{{"op", "add"}, {"path", "/status"}, {"value", op::PushStatusToJson(plan.status)}}});
  Result<json> written =
      client_.Patch(PushSecretsRef(ns, name).WithSubresource("status"), kube::PatchType::kJson,
                    patch, {.field_manager = std::string(kStatusFieldManager)});
  if (!written.ok() && written.status().code() != StatusCode::kNotFound) {
    spdlog::warn("pushsecret {}/{}: status update failed: {}", ns, name,
                 written.status().ToString());
  }
}

void PushSecretController::Emit(const json& object, const std::vector<op::Event>& events) {
  for (const op::Event& event : events) {
    Result<json> recorded = recorder_.Record(
        object, event.type == "Warning" ? kube::EventType::kWarning : kube::EventType::kNormal,
        event.reason, event.message);
    if (!recorded.ok()) {
      spdlog::debug("event {} on {}: {}", event.reason, kube::ObjectKey(object),
                    recorded.status().ToString());
    }
  }
}

void PushSecretController::Sync(const std::string& ns, const std::string& name) {
  const std::string key = JoinKey(ns, name);
  std::optional<json> object = push_secrets_ ? push_secrets_->Get(ns, name) : std::nullopt;
  if (!object) {
    // Tests without informers read the object live.
    if (!push_secrets_) {
      Result<json> live = client_.Get(PushSecretsRef(ns, name));
      if (live.ok()) object = WithoutManagedFields(*live);
    }
    if (!object) {
      queue_.Forget(key);
      std::lock_guard lock(mu_);
      failures_.erase(key);
      return;
    }
  }
  const std::int64_t now = clock_->NowMillis();
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    failures = failures_[key];
  }
  auto finish = [&](const op::PushStatusPlan& plan) {
    WriteStatus(ns, name, plan);
    Emit(*object, plan.events);
    {
      std::lock_guard lock(mu_);
      failures_[key] = plan.consecutive_failures;
    }
    if (plan.requeue_after_ms) {
      queue_.AddAfter(key, plan.ok ? op::JitteredDelay(*plan.requeue_after_ms, UniformRandom())
                                   : *plan.requeue_after_ms);
    }
    if (!plan.ok) {
      const op::Condition* ready = op::FindCondition(plan.status.conditions, op::kConditionReady);
      spdlog::info("pushsecret {}: sync failed: {}", key,
                   ready != nullptr ? ready->message : std::string("(no condition)"));
    }
  };

  Result<op::PushSecret> parsed = op::ParsePushSecret(*object);
  if (!parsed.ok()) {
    if (MetadataOf(*object).contains("deletionTimestamp")) {
      // Nothing can be cleaned up from a spec that does not parse: let the deletion finish.
      Result<json> done = SetFinalizer(*object, false);
      if (!done.ok()) queue_.AddAfter(key, op::BackoffDelay(1));
      return;
    }
    finish(op::PlanInvalidPushSecret(*object, parsed.status(), now));
    return;
  }
  op::PushSecret& ps = *parsed;

  if (ps.deleting) {
    if (!op::HasPushFinalizer(ps)) return;
    if (ps.deletion_policy == op::PushDeletionPolicy::kDelete) {
      Status deleted = DeleteRemotes(ps, op::RemovedRemoteSecrets(ps.status.synced, {}));
      if (!deleted.ok()) {
        op::PushStatusPlan plan = op::PlanPushStatus(
            ps, {}, deleted.WithContext("Failed to Delete Secrets from Provider"), false, failures,
            now);
        finish(plan);
        return;
      }
    }
    Result<json> done = SetFinalizer(*object, false);
    if (!done.ok() && done.status().code() != StatusCode::kNotFound) {
      spdlog::info("pushsecret {}: could not remove the finalizer: {}", key,
                   done.status().ToString());
      queue_.AddAfter(key, op::BackoffDelay(failures + 1));
      std::lock_guard lock(mu_);
      failures_[key] = failures + 1;
    }
    return;
  }

  // The finalizer is there exactly while deletionPolicy is Delete.
  if (op::NeedsPushFinalizer(ps) ||
      (ps.deletion_policy == op::PushDeletionPolicy::kNone && op::HasPushFinalizer(ps))) {
    Result<json> updated = SetFinalizer(*object, op::NeedsPushFinalizer(ps));
    if (!updated.ok()) {
      if (updated.status().code() != StatusCode::kNotFound) {
        spdlog::info("pushsecret {}: could not update the finalizers: {}", key,
                     updated.status().ToString());
        queue_.AddAfter(key, op::BackoffDelay(failures + 1));
      }
      return;
    }
    object = WithoutManagedFields(*updated);
  }

  op::SyncedPushSecrets synced;
  bool wrote = false;
  Status error;
  Result<std::vector<ResolvedStore>> stores = ResolveStores(ps);
  if (!stores.ok()) {
    error = stores.status();
  } else {
    Result<json> secret = client_.Get(kube::SecretsRef(ns, ps.secret_name));
    Result<op::ObservedSecret> source =
        secret.ok() ? op::ParseSecret(*secret) : Result<op::ObservedSecret>(secret.status());
    if (!source.ok()) {
      error = source.status().WithContext("could not get source secret");
    } else {
      error = Push(ps, *stores, source->data, synced, wrote);
      if (error.ok() && ps.deletion_policy == op::PushDeletionPolicy::kDelete) {
        error = DeleteRemotes(ps, op::RemovedRemoteSecrets(ps.status.synced, synced));
        if (!error.ok()) error = error.WithContext("Failed to Delete Secrets from Provider");
      }
    }
  }
  op::PushStatusPlan plan = op::PlanPushStatus(ps, synced, error, wrote, failures, now);
  finish(plan);
}

}  // namespace coffer::controller
