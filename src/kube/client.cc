#include "kube/client.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "kube/rate_limiter.h"

namespace coffer::kube {

// ---- ResourceRef ----

std::string ResourceRef::Path() const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) p += "/namespaces/" + ns;
  p += "/" + resource;
  if (!name.empty()) p += "/" + name;
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

ResourceRef ResourceRef::WithName(std::string n) const {
  ResourceRef r = *this;
  r.name = std::move(n);
  return r;
}

ResourceRef ResourceRef::WithNamespace(std::string n) const {
  ResourceRef r = *this;
  r.ns = std::move(n);
  return r;
}

ResourceRef ResourceRef::WithSubresource(std::string s) const {
  ResourceRef r = *this;
  r.subresource = std::move(s);
  return r;
}

ResourceRef SecretsRef(std::string ns, std::string name) {
  return {"", "v1", "secrets", std::move(ns), std::move(name), ""};
}
ResourceRef EventsRef(std::string ns, std::string name) {
  return {"", "v1", "events", std::move(ns), std::move(name), ""};
}
ResourceRef LeasesRef(std::string ns, std::string name) {
  return {"coordination.k8s.io", "v1", "leases", std::move(ns), std::move(name), ""};
}

bool IsGone(const Status& status) { return status.code() == StatusCode::kFailedPrecondition; }
bool IsConflict(const Status& status) { return status.code() == StatusCode::kAborted; }

// ---- helpers ----

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status StatusFromResponse(int http_status, std::string_view body) {
  std::string reason;
  std::string message;
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    reason = parsed.value("reason", "");
    message = parsed.value("message", "");
  }
  if (reason.empty()) reason = "HTTP " + std::to_string(http_status);
  if (message.empty()) message = "the server returned HTTP " + std::to_string(http_status);
  std::string text = reason + ": " + message;
  switch (http_status) {
    case 400: case 415: case 422: return Status::InvalidArgument(std::move(text));
    case 401: return Status::Unauthenticated(std::move(text));
    case 403: return Status::PermissionDenied(std::move(text));
    case 404: return Status::NotFound(std::move(text));
    case 409:
      if (reason == "AlreadyExists") return Status::AlreadyExists(std::move(text));
      return Status::Aborted(std::move(text));
    case 410: return Status::FailedPrecondition(std::move(text));
    case 413: return Status(StatusCode::kPayloadTooLarge, std::move(text));
    case 429: return Status(StatusCode::kThrottled, std::move(text));
    default: break;
  }
  if (http_status >= 500) return Status::Unavailable(std::move(text));
  return Status::Internal(std::move(text));
}

namespace {

std::string FormatTimeImpl(std::int64_t millis, bool micro) {
  std::time_t secs = static_cast<std::time_t>(millis >= 0 ? millis / 1000 : (millis - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 40> buf{};
  std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf.data(), n);
  if (micro) {
    const std::int64_t frac_ms = millis - static_cast<std::int64_t>(secs) * 1000;
    std::snprintf(buf.data(), buf.size(), ".%03lld000", static_cast<long long>(frac_ms));
    out += buf.data();
  }
  return out + "Z";
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view ContentTypeFor(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

Result<Json> ParseBody(const RawResponse& response) {
  Json parsed = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::Internal("the apiserver returned a body that is not JSON");
  return parsed;
}

// State of one transfer, shared with curl's callbacks.
struct Transfer {
  CURL* easy = nullptr;
  const std::function<bool(std::string_view)>* on_line = nullptr;  // streaming when set
  std::string body;       // non-streaming body, or an error body while streaming
  std::string pending;    // streaming: an incomplete line
  bool stopped_by_callback = false;

  bool Streaming2xx() {
    if (on_line == nullptr) return false;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    return code >= 200 && code < 300;
  }
};

std::size_t OnWrite(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (!t->Streaming2xx()) {
    t->body.append(data, len);
    return len;
  }
  t->pending.append(data, len);
  std::size_t start = 0;
  for (std::size_t nl; (nl = t->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(t->pending.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!(*t->on_line)(line)) {
      t->stopped_by_callback = true;
      return 0;  // aborts the transfer
    }
  }
  t->pending.erase(0, start);
  return len;
}

}  // namespace

std::string FormatTime(std::int64_t millis) { return FormatTimeImpl(millis, false); }
std::string FormatMicroTime(std::int64_t millis) { return FormatTimeImpl(millis, true); }

// ---- Client ----

struct Client::Impl {
  ClientConfig config;
  ClientOptions options;
  RateLimiter limiter;
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;

  std::mutex token_mu;
  std::string token;
  std::chrono::steady_clock::time_point token_read_at;

  Impl(ClientConfig c, ClientOptions o)
      : config(std::move(c)), options(std::move(o)), limiter(options.qps, options.burst),
        token(config.token), token_read_at(std::chrono::steady_clock::now()) {
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, +[](CURL*, curl_lock_data d, curl_lock_access,
                                                      void* u) {
      static_cast<Impl*>(u)->share_locks[d].lock();
    });
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data d, void* u) {
      static_cast<Impl*>(u)->share_locks[d].unlock();
    });
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  ~Impl() { curl_share_cleanup(share); }

  // The bearer token; a token file (rotating service-account tokens) is re-read every minute.
  std::string Token() {
    std::lock_guard<std::mutex> lock(token_mu);
    const auto now = std::chrono::steady_clock::now();
    if (!config.token_file.empty() && now - token_read_at > std::chrono::minutes(1)) {
      std::ifstream in(config.token_file);
      std::ostringstream s;
      s << in.rdbuf();
      std::string fresh = s.str();
      while (!fresh.empty() && (fresh.back() == '\n' || fresh.back() == '\r')) fresh.pop_back();
      if (in && !fresh.empty()) token = fresh;
      token_read_at = now;
    }
    return token;
  }

  Result<RawResponse> Perform(std::string_view method, std::string_view path_and_query,
                              std::string_view content_type, std::string_view body,
                              const std::function<bool(std::string_view)>* on_line,
                              std::stop_token stop);
};

Result<RawResponse> Client::Impl::Perform(std::string_view method,
                                          std::string_view path_and_query,
                                          std::string_view content_type, std::string_view body,
                                          const std::function<bool(std::string_view)>* on_line,
                                          std::stop_token stop) {
  limiter.Wait();
  CURL* easy = curl_easy_init();
  CURLM* multi = curl_multi_init();
  if (easy == nullptr || multi == nullptr) {
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
    return Status::Internal("libcurl initialisation failed");
  }
  Transfer t;
  t.easy = easy;
  t.on_line = on_line;
  const std::string url = config.server + std::string(path_and_query);
  const std::string method_str(method);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_SHARE, share);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  if (on_line == nullptr) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method_str.c_str());
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }

  // TLS.
  if (config.insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_pem.empty()) {
    curl_blob ca{config.ca_pem.data(), config.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!config.client_cert_pem.empty()) {
    curl_blob cert{config.client_cert_pem.data(), config.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_blob key{config.client_key_pem.data(), config.client_key_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
  }

  // Headers.
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");
  if (!content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + std::string(content_type)).c_str());
  }
  const std::string token_now = Token();
  if (!token_now.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token_now).c_str());
  } else if (!config.username.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(easy, CURLOPT_USERNAME, config.username.c_str());
    curl_easy_setopt(easy, CURLOPT_PASSWORD, config.password.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  // Drive it through a multi handle so a stop request interrupts a blocked read at once.
  curl_multi_add_handle(multi, easy);
  std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
  int running = 1;
  bool stopped = false;
  CURLcode result = CURLE_OK;
  while (true) {
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) result = msg->data.result;
      }
      break;
    }
    if (stop.stop_requested()) {
      stopped = true;
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  RawResponse response;
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  const char* ctype = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype) {
    response.content_type = ctype;
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);

  if (stopped || t.stopped_by_callback) {
    response.status = response.status == 0 ? 200 : response.status;
    return response;
  }
  if (result != CURLE_OK) {
    // The URL and curl's reason only: never headers or bodies.
    return Status::Unavailable(method_str + " " + config.server + ": " +
                               curl_easy_strerror(result));
  }
  if (on_line != nullptr && response.status >= 200 && response.status < 300 &&
      !t.pending.empty()) {
    (*on_line)(t.pending);
  }
  response.body = std::move(t.body);
  return response;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(ClientConfig config, ClientOptions options) {
  if (config.server.empty()) return Status::InvalidArgument("kube client: no server");
  GlobalInit();
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(std::move(config), std::move(options))));
}

const ClientConfig& Client::config() const { return impl_->config; }

Result<RawResponse> Client::Send(std::string_view method, std::string_view path_and_query,
                                 std::string_view content_type, std::string_view body) {
  return impl_->Perform(method, path_and_query, content_type, body, nullptr, {});
}

namespace {

// A JSON result from a response: the parsed body on 2xx, the mapped error otherwise.
Result<Json> JsonResult(Result<RawResponse> response) {
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return StatusFromResponse(response->status, response->body);
  }
  return ParseBody(*response);
}

std::string ListQuery(const ListOptions& o) {
  std::string q;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    q += q.empty() ? '?' : '&';
    q += key;
    q += '=';
    q += QueryEscape(value);
  };
  add("labelSelector", o.label_selector);
  add("fieldSelector", o.field_selector);
  add("limit", o.limit > 0 ? std::to_string(o.limit) : std::string());
  add("continue", o.continue_token);
  add("resourceVersion", o.resource_version);
  return q;
}

}  // namespace

Result<Json> Client::Get(const ResourceRef& ref) { return JsonResult(Send("GET", ref.Path())); }

Result<Json> Client::List(const ResourceRef& ref, const ListOptions& options) {
  return JsonResult(Send("GET", ref.WithName("").Path() + ListQuery(options)));
}

Result<Json> Client::ListAll(const ResourceRef& ref, ListOptions options) {
  COFFER_ASSIGN_OR_RETURN(Json all, List(ref, options));
  if (!all.contains("items") || !all["items"].is_array()) all["items"] = Json::array();
  std::string next = all["metadata"].value("continue", "");
  while (!next.empty()) {
    options.continue_token = next;
    options.resource_version.clear();  // the continue token pins the snapshot
    COFFER_ASSIGN_OR_RETURN(Json page, List(ref, options));
    if (page.contains("items") && page["items"].is_array()) {
      for (Json& item : page["items"]) all["items"].push_back(std::move(item));
    }
    next = page.contains("metadata") ? page["metadata"].value("continue", "") : "";
  }
  all["metadata"].erase("continue");
  return all;
}

namespace {

std::string FieldManagerQuery(std::string_view field_manager) {
  return field_manager.empty() ? "" : "?fieldManager=" + QueryEscape(field_manager);
}

}  // namespace

Result<Json> Client::Create(const ResourceRef& ref, const Json& object,
                            std::string_view field_manager) {
  return JsonResult(Send("POST", ref.WithName("").Path() + FieldManagerQuery(field_manager),
                         "application/json", object.dump()));
}

Result<Json> Client::Update(const ResourceRef& ref, const Json& object,
                            std::string_view field_manager) {
  return JsonResult(Send("PUT", ref.Path() + FieldManagerQuery(field_manager), "application/json",
                         object.dump()));
}

Status Client::Delete(const ResourceRef& ref, const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.resource_version) {
    body["preconditions"] = {{"resourceVersion", *options.resource_version}};
  }
  Result<Json> r = JsonResult(Send("DELETE", ref.Path(), "application/json", body.dump()));
  return r.status();
}

Result<Json> Client::Patch(const ResourceRef& ref, PatchType type, const Json& patch,
                           const PatchOptions& options) {
  std::string q = FieldManagerQuery(options.field_manager);
  if (type == PatchType::kApply && options.force) q += q.empty() ? "?force=true" : "&force=true";
  return JsonResult(Send("PATCH", ref.Path() + q, ContentTypeFor(type), patch.dump()));
}

Result<Json> Client::Apply(const ResourceRef& ref, const Json& object,
                           std::string_view field_manager, bool force) {
  if (field_manager.empty()) return Status::InvalidArgument("server-side apply needs a fieldManager");
  return Patch(ref, PatchType::kApply, object, {std::string(field_manager), force});
}

Status Client::StreamLines(std::string_view path_and_query,
                           const std::function<bool(std::string_view line)>& on_line,
                           std::stop_token stop) {
  COFFER_ASSIGN_OR_RETURN(RawResponse r,
                          impl_->Perform("GET", path_and_query, {}, {}, &on_line, stop));
  if (r.status < 200 || r.status >= 300) return StatusFromResponse(r.status, r.body);
  return Status::Ok();
}

// ---- retries ----

Result<Json> RetryOnConflict(const std::function<Result<Json>()>& attempt, int max_attempts) {
  std::chrono::milliseconds delay(10);
  for (int i = 1;; ++i) {
    Result<Json> r = attempt();
    if (r.ok() || !IsConflict(r.status()) || i >= max_attempts) return r;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

Result<Json> UpdateWithRetry(Client& client, const ResourceRef& ref,
                             const std::function<Status(Json& object)>& mutate,
                             int max_attempts) {
  return RetryOnConflict(
      [&]() -> Result<Json> {
        COFFER_ASSIGN_OR_RETURN(Json object, client.Get(ref));
        COFFER_RETURN_IF_ERROR(mutate(object));
        return client.Update(ref, object);
      },
      max_attempts);
}

}  // namespace coffer::kube
