#pragma once

// A small Kubernetes REST client on libcurl: CRUD, patches and streaming reads against one
// apiserver, with a client-side rate limit. Objects are nlohmann::json; request and response
// bodies are never logged (they can hold Secret data).
//
// Error mapping (HTTP status / apiserver Status reason -> StatusCode; the message is
// "<reason>: <apiserver message>"):
//   404 NotFound -> kNotFound          409 AlreadyExists -> kAlreadyExists
//   409 Conflict -> kAborted           410 Gone/Expired  -> kFailedPrecondition (see IsGone)
//   401 -> kUnauthenticated            403 -> kPermissionDenied
//   400/415/422 -> kInvalidArgument    413 -> kPayloadTooLarge    429 -> kThrottled
//   5xx and transport failures -> kUnavailable

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "kube/config.h"

namespace coffer::kube {

using Json = nlohmann::json;

// Addresses a collection (name empty) or one object. Empty `ns` means cluster-scoped, or all
// namespaces for List/Watch. `group` empty is the core API (/api/v1).
struct ResourceRef {
  std::string group;
  std::string version;
  std::string resource;     // plural, lowercase: "secrets", "leases"
  std::string ns;
  std::string name;
  std::string subresource;  // e.g. "status"

  // "/api/v1/namespaces/ns/secrets/name/status", "/apis/coordination.k8s.io/v1/leases", ...
  std::string Path() const;
  ResourceRef WithName(std::string n) const;
  ResourceRef WithNamespace(std::string n) const;
  ResourceRef WithSubresource(std::string s) const;
};

// Resources the operator uses.
ResourceRef SecretsRef(std::string ns = {}, std::string name = {});
ResourceRef EventsRef(std::string ns = {}, std::string name = {});
ResourceRef LeasesRef(std::string ns = {}, std::string name = {});

// kFailedPrecondition from a 410 (resourceVersion too old: relist) and nothing else here.
bool IsGone(const Status& status);
// kAborted: a 409 Conflict on update (stale resourceVersion).
bool IsConflict(const Status& status);

struct ClientOptions {
  // Default: 20 requests/s sustained with bursts of 30, as controller-runtime configures client-go
  // (client-go's own default is 5/10). qps <= 0 disables the limiter. Watches count once, when
  // they start.
  double qps = 20;
  int burst = 30;
  std::chrono::milliseconds connect_timeout{10000};  // Default: 10 s.
  std::chrono::milliseconds request_timeout{30000};  // Default: 30 s per non-streaming request.
  std::string user_agent = "coffer";                 // Default: "coffer".
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t limit = 0;       // page size; 0: no paging
  std::string continue_token;   // from the previous page's metadata.continue
  std::string resource_version;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kJson,            // application/json-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kApply,           // application/apply-patch+yaml (server-side apply)
};

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
};

struct DeleteOptions {
  std::string propagation_policy;              // "Foreground", "Background", "Orphan" or empty
  std::optional<std::string> resource_version;  // precondition
};

// One HTTP exchange, for callers that need the raw form.
struct RawResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Thread-safe: one Client serves all of a process's threads; connections are pooled and reused.
class Client {
 public:
  // Errors: kInvalidArgument when the config has no server.
  static Result<std::unique_ptr<Client>> Create(ClientConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientConfig& config() const;

  Result<Json> Get(const ResourceRef& ref);
  // One page; follow metadata.continue for more (ListAll does).
  Result<Json> List(const ResourceRef& ref, const ListOptions& options = {});
  // All pages merged into one List object whose metadata.resourceVersion is the first page's.
  Result<Json> ListAll(const ResourceRef& ref, ListOptions options = {});
  // POST to the collection (ref.name is ignored; the object names itself). `field_manager`, when
  // set, is recorded in the object's managedFields as the writer.
  Result<Json> Create(const ResourceRef& ref, const Json& object,
                      std::string_view field_manager = {});
  // PUT; carries metadata.resourceVersion, so a stale object fails with kAborted.
  Result<Json> Update(const ResourceRef& ref, const Json& object,
                      std::string_view field_manager = {});
  Status Delete(const ResourceRef& ref, const DeleteOptions& options = {});
  // `patch` is the body: a JSON merge patch, a JSON patch array, or the applied object.
  Result<Json> Patch(const ResourceRef& ref, PatchType type, const Json& patch,
                     const PatchOptions& options = {});
  // Server-side apply of `object` (JSON is YAML) under `field_manager`.
  Result<Json> Apply(const ResourceRef& ref, const Json& object, std::string_view field_manager,
                     bool force = false);

  // Sends a request and returns the response whatever its status (transport errors only fail).
  // `path_and_query` starts with '/'.
  Result<RawResponse> Send(std::string_view method, std::string_view path_and_query,
                           std::string_view content_type = {}, std::string_view body = {});

  // A streaming GET: calls `on_line` for every '\n'-terminated line of the response body as it
  // arrives (and for a final unterminated one). Returns when the server ends the response, when
  // `on_line` returns false, or promptly after `stop` is requested (then OK). Non-2xx responses
  // are returned as mapped errors. No overall timeout: the caller bounds it (timeoutSeconds).
  Status StreamLines(std::string_view path_and_query,
                     const std::function<bool(std::string_view line)>& on_line,
                     std::stop_token stop = {});

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Maps a non-2xx response to a Status, using the apiserver's Status object when the body is one.
Status StatusFromResponse(int http_status, std::string_view body);

// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
std::string QueryEscape(std::string_view value);

// Read-modify-write with optimistic concurrency: calls `attempt` until it succeeds, fails with
// something other than a conflict (kAborted), or `max_attempts` conflicts happened; sleeps
// 10ms, 20ms, 40ms... between attempts.
Result<Json> RetryOnConflict(const std::function<Result<Json>()>& attempt, int max_attempts = 5);

// Gets `ref`, lets `mutate` change the object (returning an error aborts), and Updates it,
// retrying the whole cycle on conflict. Returns the updated object.
Result<Json> UpdateWithRetry(Client& client, const ResourceRef& ref,
                             const std::function<Status(Json& object)>& mutate,
                             int max_attempts = 5);

// RFC 3339 timestamps as Kubernetes writes them: metav1.Time ("2024-01-02T03:04:05Z") and
// metav1.MicroTime ("2024-01-02T03:04:05.123456Z"), from milliseconds since the epoch.
std::string FormatTime(std::int64_t millis);
std::string FormatMicroTime(std::int64_t millis);

}  // namespace coffer::kube
