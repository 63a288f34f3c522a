#include "kube/watch.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace coffer::kube {
namespace {

std::optional<WatchEventType> ParseType(std::string_view type) {
  if (type == "ADDED") return WatchEventType::kAdded;
  if (type == "MODIFIED") return WatchEventType::kModified;
  if (type == "DELETED") return WatchEventType::kDeleted;
  if (type == "BOOKMARK") return WatchEventType::kBookmark;
  if (type == "ERROR") return WatchEventType::kError;
  return std::nullopt;
}

std::string ResourceVersionOf(const Json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return "";
  }
  return object["metadata"].value("resourceVersion", "");
}

// Sleeps for `d` unless `stop` is requested first; returns false when stopped.
bool SleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

}  // namespace

Result<WatchEvent> ParseWatchEvent(std::string_view line) {
  Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string() ||
      !parsed.contains("object") || !parsed["object"].is_object()) {
    return Status::InvalidArgument("malformed watch event");
  }
  std::optional<WatchEventType> type = ParseType(parsed["type"].get<std::string>());
  if (!type) return Status::InvalidArgument("unknown watch event type");
  return WatchEvent{*type, std::move(parsed["object"])};
}

Status Watch(Client& client, const ResourceRef& ref, const WatchOptions& options,
             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  std::string q = "?watch=true";
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    q += '&';
    q += key;
    q += '=';
    q += QueryEscape(value);
  };
  add("resourceVersion", options.resource_version);
  add("labelSelector", options.label_selector);
  add("fieldSelector", options.field_selector);
  if (options.allow_bookmarks) q += "&allowWatchBookmarks=true";
  if (options.timeout_seconds > 0)
    q += "&timeoutSeconds=" + std::to_string(options.timeout_seconds);
  Status parse_error;
  Status st = client.StreamLines(
      ref.WithName("").Path() + q,
      [&](std::string_view line) {
        Result<WatchEvent> event = ParseWatchEvent(line);
        if (!event.ok()) {
          parse_error = event.status();
          return false;
        }
        return on_event(*event);
      },
      stop);
  COFFER_RETURN_IF_ERROR(st);
  return parse_error;
}

Json KeepMetadataOnly(const Json& object) {
  Json out = Json::object();
  for (const char* key : {"apiVersion", "kind", "metadata"}) {
    if (object.contains(key)) out[key] = object[key];
  }
  if (out.contains("metadata") && out["metadata"].is_object())
    out["metadata"].erase("managedFields");
  return out;
}

std::string ObjectKey(const Json& object) {
  const Json& md = object.contains("metadata") ? object["metadata"] : Json::object();
  const std::string ns = md.is_object() ? md.value("namespace", "") : "";
  const std::string name = md.is_object() ? md.value("name", "") : "";
  return ns.empty() ? name : ns + "/" + name;
}

// ---- Informer ----

Informer::Informer(Client& client, ResourceRef ref, InformerOptions options,
                   InformerHandlers handlers)
    : client_(client),
      ref_(std::move(ref)),
      options_(std::move(options)),
      handlers_(std::move(handlers)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void Informer::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

Informer::Item Informer::MakeItem(std::shared_ptr<const Json> object) const {
  Item item;
  item.resource_version = ResourceVersionOf(*object);
  if (options_.compact) {
    auto packed = std::make_shared<std::vector<std::uint8_t>>(Json::to_cbor(*object));
    packed->shrink_to_fit();
    item.packed = std::move(packed);
  } else {
    item.parsed = std::move(object);
  }
  return item;
}

std::shared_ptr<const Json> Informer::Unpack(const Item& item) {
  if (item.parsed) return item.parsed;
  // The bytes are our own serialization of a valid object, so parsing cannot fail.
  return std::make_shared<const Json>(Json::from_cbor(*item.packed));
}

std::optional<Json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::shared_ptr<const Json> object = GetShared(ns, name);
  if (!object) return std::nullopt;
  return *object;
}

std::shared_ptr<const Json> Informer::GetShared(const std::string& ns,
                                                const std::string& name) const {
  Item item;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(ns.empty() ? name : ns + "/" + name);
    if (it == items_.end()) return nullptr;
    item = it->second;  // pointers only; parsing happens outside the lock
  }
  return Unpack(item);
}

std::vector<Json> Informer::List() const {
  std::vector<Item> items;
  {
    std::lock_guard<std::mutex> lock(mu_);
    items.reserve(items_.size());
    for (const auto& [key, item] : items_) items.push_back(item);
  }
  std::vector<Json> out;
  out.reserve(items.size());
  for (const Item& item : items) out.push_back(*Unpack(item));
  return out;
}

std::string Informer::last_resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

int Informer::relists() const {
  std::lock_guard<std::mutex> lock(mu_);
  return relists_;
}

void Informer::Run(std::stop_token stop) {
  std::chrono::milliseconds backoff = options_.min_backoff;
  auto fail = [&](const Status& st, const char* what) {
    spdlog::warn("kube informer {}: {} failed: {}", ref_.resource, what, st.ToString());
    const bool keep_going = SleepFor(backoff, stop);
    backoff = std::min(backoff * 2, options_.max_backoff);
    return keep_going;
  };
  bool need_list = true;
  bool listed_now = false;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status st = ListAndReplace();
      if (!st.ok()) {
        if (!fail(st, "list")) return;
        continue;
      }
      need_list = false;
      listed_now = true;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string rv_before = last_resource_version();
    Status st = WatchOnce(stop);
    if (stop.stop_requested()) return;
    if (IsGone(st)) {
      spdlog::info("kube informer {}: resourceVersion expired, relisting", ref_.resource);
      // Gone again straight after a fresh list: back off rather than spin on list+watch.
      if (listed_now) {
        if (!SleepFor(backoff, stop)) return;
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
      need_list = true;
      continue;
    }
    listed_now = false;
    if (!st.ok()) {
      if (!fail(st, "watch")) return;
      continue;
    }
    // A watch that ended at once without news is treated like a failure, so that a server which
    // keeps closing the stream is not hammered.
    if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1) &&
        last_resource_version() == rv_before) {
      if (!SleepFor(backoff, stop)) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
    } else {
      backoff = options_.min_backoff;
    }
  }
}

Status Informer::ListAndReplace() {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  // Page by page, so that only one page of raw objects is in memory next to the cache.
  std::map<std::string, Item> fresh;
  std::string list_resource_version;
  std::string kind;
  std::string api_version;
  bool first = true;
  do {
    COFFER_ASSIGN_OR_RETURN(Json page, client_.List(ref_, lo));
    if (first) {
      // List items carry no apiVersion/kind; restore them from the list's own.
      kind = page.value("kind", "");
      if (kind.size() > 4 && kind.ends_with("List")) {
        kind.resize(kind.size() - 4);
      } else {
        kind.clear();  // a generic "List": the items' kind is unknown
      }
      api_version = page.value("apiVersion", "");
      list_resource_version = ResourceVersionOf(page);
      first = false;
    }
    if (auto items = page.find("items"); items != page.end() && items->is_array()) {
      for (Json& item : *items) {
        if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
        if (!item.contains("apiVersion") && !api_version.empty()) item["apiVersion"] = api_version;
        auto kept = std::make_shared<const Json>(options_.transform ? options_.transform(item)
                                                                    : std::move(item));
        std::string key = ObjectKey(*kept);
        fresh.emplace(std::move(key), MakeItem(std::move(kept)));
      }
    }
    lo.continue_token = page.contains("metadata") ? page["metadata"].value("continue", "") : "";
    lo.resource_version.clear();  // the continue token pins the snapshot
  } while (!lo.continue_token.empty());

  std::map<std::string, Item> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(items_);
    items_ = fresh;  // copies pointers, not objects
    resource_version_ = list_resource_version;
    ++relists_;
    synced_ = true;
  }
  synced_cv_.notify_all();
  for (const auto& [key, item] : old) {
    if (!fresh.count(key) && handlers_.on_delete) handlers_.on_delete(*Unpack(item));
  }
  for (const auto& [key, item] : fresh) {
    auto it = old.find(key);
    if (it == old.end()) {
      if (handlers_.on_add) handlers_.on_add(*Unpack(item));
    } else if (it->second.resource_version != item.resource_version && handlers_.on_update) {
      handlers_.on_update(*Unpack(it->second), *Unpack(item));
    }
  }
  return Status::Ok();
}

Status Informer::WatchOnce(std::stop_token stop) {
  WatchOptions wo;
  wo.resource_version = last_resource_version();
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  wo.allow_bookmarks = true;
  wo.timeout_seconds = options_.watch_timeout_seconds;
  Status event_error;
  Status st = Watch(
      client_, ref_, wo,
      [&](const WatchEvent& event) {
        if (event.type == WatchEventType::kError) {
          const int code = event.object.value("code", 0);
          const std::string message = event.object.value("message", "watch error");
          event_error = code == 410 ? Status::FailedPrecondition("Expired: " + message)
                                    : Status::Unavailable("watch ERROR event: " + message);
          return false;
        }
        Apply(event);
        return true;
      },
      stop);
  COFFER_RETURN_IF_ERROR(st);
  return event_error;
}

void Informer::Apply(const WatchEvent& event) {
  const std::string rv = ResourceVersionOf(event.object);
  if (event.type == WatchEventType::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    return;
  }
  auto object = std::make_shared<const Json>(options_.transform ? options_.transform(event.object)
                                                                : event.object);
  const std::string key = ObjectKey(*object);
  Item item;
  if (event.type != WatchEventType::kDeleted) item = MakeItem(object);
  std::optional<Item> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    auto it = items_.find(key);
    if (it != items_.end()) old = std::move(it->second);
    if (event.type == WatchEventType::kDeleted) {
      if (it != items_.end()) items_.erase(it);
    } else {
      items_[key] = std::move(item);
    }
  }
  if (event.type == WatchEventType::kDeleted) {
    if (handlers_.on_delete) handlers_.on_delete(*object);
  } else if (old) {
    if (handlers_.on_update) handlers_.on_update(*Unpack(*old), *object);
  } else if (handlers_.on_add) {
    handlers_.on_add(*object);
  }
}

}  // namespace coffer::kube
