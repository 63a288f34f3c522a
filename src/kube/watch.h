#pragma once

// Watches and list+watch caches (an informer, after client-go's): a thread lists a resource, then
// watches from the list's resourceVersion, keeping a thread-safe copy of every object.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"

namespace coffer::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type = WatchEventType::kError;
  Json object;  // the object; for kError a metav1.Status (code 410 means relist)
};

// Parses one line of a watch stream: {"type":"ADDED","object":{...}}.
// Errors: kInvalidArgument for anything else.
Result<WatchEvent> ParseWatchEvent(std::string_view line);

struct WatchOptions {
  std::string resource_version;  // start after this version; empty: "now" (synthetic ADDs first)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;  // the server ends the watch after this; 0: server default
};

// Streams the events of `ref` (a collection; ns empty for all namespaces) to `on_event` until the
// server ends the watch (OK), `on_event` returns false (OK), `stop` is requested (OK), or the
// request fails (an HTTP 410 gives IsGone). ERROR events are delivered, not turned into errors.
Status Watch(Client& client, const ResourceRef& ref, const WatchOptions& options,
             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop = {});

// Keeps what a controller needs of an object and drops the rest: apiVersion, kind and metadata
// (without managedFields). Use as InformerOptions::transform to cache Secrets without their data.
Json KeepMetadataOnly(const Json& object);

struct InformerHandlers {
  std::function<void(const Json& object)> on_add;
  std::function<void(const Json& old_object, const Json& new_object)> on_update;
  std::function<void(const Json& object)> on_delete;
};

struct InformerOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t page_size = 500;                  // Default: 500 items per list page.
  int watch_timeout_seconds = 300;               // Default: 5 minutes per watch request.
  std::chrono::milliseconds min_backoff{200};    // Default: 200 ms after the first failure,
  std::chrono::milliseconds max_backoff{30000};  // doubling up to 30 s.
  std::function<Json(const Json&)> transform;    // Default: none (objects kept whole).
  // Default: false. Keep each cached object serialized (CBOR, several times smaller than a parsed
  // nlohmann::json) and parse a copy on every Get/GetShared/List and for the update handler's old
  // object. For large caches that are read once per reconcile (ExternalSecrets, managed Secrets).
  bool compact = false;
};

// List+watch cache of one resource. Handlers run on the informer's thread, one at a time, after
// the cache has been updated. Relists after a 410 Gone (HTTP or ERROR event); re-watches from the
// last seen resourceVersion (objects and bookmarks) when a watch ends or the connection drops,
// backing off exponentially while requests fail.
class Informer {
 public:
  Informer(Client& client, ResourceRef ref, InformerOptions options, InformerHandlers handlers);
  ~Informer();  // Stop()s
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  // Ends the watch promptly and joins the thread. Idempotent.
  void Stop();

  // True once the first list has been loaded.
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // A copy of the cached object "ns/name" (or "name" when cluster-scoped).
  std::optional<Json> Get(const std::string& ns, const std::string& name) const;
  // The cached object itself, shared and immutable (no copy); nullptr when absent.
  std::shared_ptr<const Json> GetShared(const std::string& ns, const std::string& name) const;
  std::vector<Json> List() const;
  std::string last_resource_version() const;
  int relists() const;  // lists done, the first included

 private:
  void Run(std::stop_token stop);
  Status ListAndReplace();
  // Returns OK when the watch ended normally, IsGone when a relist is needed.
  Status WatchOnce(std::stop_token stop);
  void Apply(const WatchEvent& event);

  Client& client_;
  const ResourceRef ref_;
  const InformerOptions options_;
  const InformerHandlers handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable synced_cv_;
  // One cached object: parsed, immutable and shared with readers (so a list, a handler call or a
  // GetShared() never copies it), or with options.compact its CBOR bytes.
  struct Item {
    std::shared_ptr<const Json> parsed;
    std::shared_ptr<const std::vector<std::uint8_t>> packed;
    std::string resource_version;
  };
  Item MakeItem(std::shared_ptr<const Json> object) const;
  static std::shared_ptr<const Json> Unpack(const Item& item);
  std::map<std::string, Item> items_;  // key: ns/name
  std::string resource_version_;
  bool synced_ = false;
  int relists_ = 0;
  std::jthread thread_;
};

// "ns/name", or "name" for cluster-scoped objects.
std::string ObjectKey(const Json& object);

}  // namespace coffer::kube
