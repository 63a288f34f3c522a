#pragma once

// A small in-memory apiserver for the kube client's tests, on coffer::http over loopback. It
// stores objects of any resource, versions them with a global resourceVersion, keeps a watch
// history, and answers like kube-apiserver does for the parts the client uses: CRUD, merge/JSON
// patches and apply (a merge patch carrying a stale metadata.resourceVersion is a 409 Conflict; a
// patch of the status subresource changes only status), 404/409 Status bodies, list paging with
// limit/continue, and watches that replay the history after a resourceVersion (410 once
// compacted) and end with a BOOKMARK. Label selectors are honoured only when asked
// (SetHonourLabelSelectors). Query parameters such as fieldManager are recorded and ignored.
// Every request is recorded. An override hook lets a test answer a request itself (canned 409s,
// 500s...). Header-only, for tests.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/server.h"
#include "kube/config.h"

namespace coffer::kube::testing {

using Json = nlohmann::json;

inline http::Response StatusResponse(int code, const std::string& reason,
                                     const std::string& message) {
  Json body = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
               {"message", message}, {"reason", reason},   {"code", code}};
  return {code, {{"Content-Type", "application/json"}}, body.dump()};
}

inline http::Response JsonResponse(int code, const Json& body) {
  return {code, {{"Content-Type", "application/json"}}, body.dump()};
}

class FakeApiserver {
 public:
  struct Recorded {
    std::string method;
    std::string path;
    std::map<std::string, std::string> query;
    std::string content_type;
    std::string authorization;
    std::string body;
  };
  using Override = std::function<std::optional<http::Response>(const Recorded&)>;

  FakeApiserver() {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.worker_threads = 16;
    options.drain_timeout = std::chrono::milliseconds(2000);
    auto server = http::StartServer(options, [this](const http::Request& r) { return Handle(r); });
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (server.ok()) server_ = std::move(server).value();
  }
  ~FakeApiserver() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutting_down_ = true;
    }
    cv_.notify_all();
    if (server_) server_->Shutdown();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  ClientConfig Config() const {
    ClientConfig c;
    c.server = url();
    c.token = "test-token";
    return c;
  }

  void SetOverride(Override o) {
    std::lock_guard<std::mutex> lock(mu_);
    override_ = std::move(o);
  }
  // How long a watch with nothing to report waits for news before ending. Default 300 ms.
  void SetWatchWait(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    watch_wait_ = d;
  }
  // Watches report an expired resourceVersion as an ERROR event (true) or as HTTP 410 (false).
  void SetGoneAsEvent(bool v) {
    std::lock_guard<std::mutex> lock(mu_);
    gone_as_event_ = v;
  }
  // Lists and watches filter by labelSelector (equality terms "k=v", "k==v", "k!=v", "k", "!k";
  // other terms match everything), and a watch reports an object that starts matching as ADDED and
  // one that stops matching as DELETED, as kube-apiserver does. Default off: older tests send
  // selectors their objects do not carry.
  void SetHonourLabelSelectors(bool v) {
    std::lock_guard<std::mutex> lock(mu_);
    honour_selectors_ = v;
  }
  // Forgets the history: watches from any older resourceVersion get 410.
  void Compact() {
    std::lock_guard<std::mutex> lock(mu_);
    history_.clear();
    compacted_rv_ = rv_;
  }

  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int CountRequests(const std::string& method, const std::string& path_prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const Recorded& r : requests_) {
      if (r.method == method && r.path.rfind(path_prefix, 0) == 0) ++n;
    }
    return n;
  }
  std::int64_t resource_version() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rv_;
  }
  std::optional<Json> Stored(const std::string& resource, const std::string& ns,
                             const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find({resource, ns, name});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Every stored object of `resource` (in `ns`; every namespace when empty), in key order.
  std::vector<Json> Objects(const std::string& resource, const std::string& ns = "") const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Json> out;
    for (const auto& [key, object] : objects_) {
      if (std::get<0>(key) == resource && (ns.empty() || std::get<1>(key) == ns)) {
        out.push_back(object);
      }
    }
    return out;
  }
  // Stores `object` as if created through the API (records an ADDED event).
  Json Seed(const std::string& resource, Json object) {
    std::lock_guard<std::mutex> lock(mu_);
    return Store(resource, std::move(object), "ADDED");
  }
  // Bumps the global resourceVersion without touching any object (other resources changing).
  void BumpResourceVersion() {
    std::lock_guard<std::mutex> lock(mu_);
    ++rv_;
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, ns, name
  struct Event {
    std::int64_t rv;
    std::string resource;
    std::string ns;
    std::string type;
    Json object;
    Json old_object;  // MODIFIED: the object before the change (for selector transitions)
  };
  struct Target {
    std::string resource, ns, name, subresource;
  };

  static std::string Unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  static std::optional<Target> ParsePath(const std::string& path) {
    std::vector<std::string> seg;
    std::size_t start = 1;
    while (start <= path.size()) {
      std::size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      seg.push_back(path.substr(start, slash - start));
      start = slash + 1;
    }
    std::size_t i;
    if (seg.size() >= 3 && seg[0] == "api") {
      i = 2;
    } else if (seg.size() >= 4 && seg[0] == "apis") {
      i = 3;
    } else {
      return std::nullopt;
    }
    Target t;
    if (seg.size() > i + 2 && seg[i] == "namespaces") {
      t.ns = seg[i + 1];
      i += 2;
    }
    t.resource = seg[i];
    if (seg.size() > i + 1) t.name = seg[i + 1];
    if (seg.size() > i + 2) t.subresource = seg[i + 2];
    return t;
  }

  // Under mu_.
  Json Store(const std::string& resource, Json object, const std::string& event_type) {
    Json& md = object["metadata"];
    md["resourceVersion"] = std::to_string(++rv_);
    if (!md.contains("uid")) md["uid"] = "uid-" + std::to_string(rv_);
    const std::string ns = md.value("namespace", "");
    const std::string name = md.value("name", "");
    Json old_object;
    if (auto it = objects_.find({resource, ns, name}); it != objects_.end())
      old_object = it->second;
    objects_[{resource, ns, name}] = object;
    history_.push_back({rv_, resource, ns, event_type, object, std::move(old_object)});
    cv_.notify_all();
    return object;
  }

  // Whether `object`'s labels satisfy `selector` (see SetHonourLabelSelectors).
  static bool MatchesSelector(const Json& object, const std::string& selector) {
    auto trim = [](std::string s) {
      const std::size_t b = s.find_first_not_of(' ');
      const std::size_t e = s.find_last_not_of(' ');
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    Json labels = Json::object();
    if (object.contains("metadata") && object["metadata"].contains("labels") &&
        object["metadata"]["labels"].is_object()) {
      labels = object["metadata"]["labels"];
    }
    auto label = [&](const std::string& k) -> std::optional<std::string> {
      auto it = labels.find(k);
      if (it == labels.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    std::size_t start = 0;
    while (start <= selector.size()) {
      std::size_t comma = selector.find(',', start);
      if (comma == std::string::npos) comma = selector.size();
      const std::string term = trim(selector.substr(start, comma - start));
      start = comma + 1;
      if (term.empty() || term.find(' ') != std::string::npos) continue;  // set-based: ignored
      if (std::size_t ne = term.find("!="); ne != std::string::npos) {
        if (label(term.substr(0, ne)) == term.substr(ne + 2)) return false;
      } else if (std::size_t eq = term.find('='); eq != std::string::npos) {
        const std::size_t value_at = term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
        if (label(term.substr(0, eq)) != term.substr(value_at)) return false;
      } else if (term[0] == '!') {
        if (label(term.substr(1))) return false;
      } else if (!label(term)) {
        return false;
      }
    }
    return true;
  }

  http::Response Handle(const http::Request& request) {
    Recorded rec;
    rec.method = request.method;
    const std::size_t q = request.target.find('?');
    rec.path = request.target.substr(0, q);
    if (q != std::string::npos) {
      std::string query = request.target.substr(q + 1);
      std::size_t start = 0;
      while (start < query.size()) {
        std::size_t amp = query.find('&', start);
        if (amp == std::string::npos) amp = query.size();
        std::string kv = query.substr(start, amp - start);
        std::size_t eq = kv.find('=');
        rec.query[Unescape(kv.substr(0, eq))] =
            eq == std::string::npos ? "" : Unescape(kv.substr(eq + 1));
        start = amp + 1;
      }
    }
    if (const std::string* ct = request.FindHeader("Content-Type")) rec.content_type = *ct;
    if (const std::string* auth = request.FindHeader("Authorization")) rec.authorization = *auth;
    rec.body = request.body;
    Override o;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      o = override_;
    }
    if (o) {
      if (std::optional<http::Response> r = o(rec)) return *r;
    }
    std::optional<Target> t = ParsePath(rec.path);
    if (!t)
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
    if (rec.method == "GET" && t->name.empty()) {
      return rec.query.count("watch") ? WatchResponse(*t, rec) : ListResponse(*t, rec);
    }
    std::unique_lock<std::mutex> lock(mu_);
    const Key key{t->resource, t->ns, t->name};
    auto it = objects_.find(key);
    auto not_found = [&] {
      return StatusResponse(404, "NotFound", t->resource + " \"" + t->name + "\" not found");
    };
    if (rec.method == "GET") {
      return it == objects_.end() ? not_found() : JsonResponse(200, it->second);
    }
    Json body = Json::parse(rec.body, nullptr, false);
    if (rec.method == "POST") {
      if (!body.is_object()) return StatusResponse(400, "BadRequest", "body is not an object");
      if (!t->ns.empty()) body["metadata"]["namespace"] = t->ns;
      const std::string name = body["metadata"].value("name", "");
      if (objects_.count({t->resource, t->ns, name})) {
        return StatusResponse(409, "AlreadyExists",
                              t->resource + " \"" + name + "\" already exists");
      }
      body["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
      return JsonResponse(201, Store(t->resource, body, "ADDED"));
    }
    if (rec.method == "DELETE") {
      if (it == objects_.end()) return not_found();
      Json gone = it->second;
      objects_.erase(it);
      gone["metadata"]["resourceVersion"] = std::to_string(++rv_);
      history_.push_back({rv_, t->resource, t->ns, "DELETED", gone, Json()});
      cv_.notify_all();
      return JsonResponse(200, {{"kind", "Status"}, {"status", "Success"}});
    }
    if (rec.method == "PUT") {
      if (it == objects_.end()) return not_found();
      if (!body.is_object()) return StatusResponse(400, "BadRequest", "body is not an object");
      const std::string sent_rv = body["metadata"].value("resourceVersion", "");
      if (!sent_rv.empty() && sent_rv != it->second["metadata"].value("resourceVersion", "")) {
        return StatusResponse(409, "Conflict",
                              "Operation cannot be fulfilled on " + t->resource + " \"" + t->name +
                                  "\": the object has been modified; please apply your changes "
                                  "to the latest version and try again");
      }
      Json updated = it->second;
      if (t->subresource == "status") {
        updated["status"] = body["status"];
      } else {
        Json status = updated.value("status", Json());
        updated = body;
        updated["metadata"]["namespace"] = t->ns;
        if (!status.is_null()) updated["status"] = status;
      }
      return JsonResponse(200, Store(t->resource, updated, "MODIFIED"));
    }
    if (rec.method == "PATCH") {
      const bool apply = rec.content_type == "application/apply-patch+yaml";
      if (it == objects_.end() && !apply) return not_found();
      Json current = it == objects_.end()
                         ? Json{{"metadata", {{"name", t->name}, {"namespace", t->ns}}}}
                         : it->second;
      const bool json_patch = rec.content_type == "application/json-patch+json";
      if (!json_patch && !apply && it != objects_.end() && body.is_object() &&
          body.contains("metadata") && body["metadata"].is_object() &&
          body["metadata"].contains("resourceVersion") &&
          body["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"]) {
        return StatusResponse(409, "Conflict",
                              "Operation cannot be fulfilled on " + t->resource + " \"" + t->name +
                                  "\": the object has been modified; please apply your changes "
                                  "to the latest version and try again");
      }
      const Json before = current;
      try {
        if (json_patch) {
          current = current.patch(body);
        } else {
          current.merge_patch(body);
        }
      } catch (const std::exception& e) {
        return StatusResponse(422, "Invalid", e.what());
      }
      if (t->subresource == "status" && it != objects_.end()) {
        Json only_status = before;
        if (current.contains("status")) {
          only_status["status"] = current["status"];
        } else {
          only_status.erase("status");
        }
        current = std::move(only_status);
      }
      const bool created = it == objects_.end();
      return JsonResponse(created ? 201 : 200,
                          Store(t->resource, current, created ? "ADDED" : "MODIFIED"));
    }
    return StatusResponse(405, "MethodNotAllowed", "method not allowed");
  }

  http::Response ListResponse(const Target& t, const Recorded& rec) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Json> all;
    for (const auto& [key, object] : objects_) {
      if (std::get<0>(key) != t.resource) continue;
      if (!t.ns.empty() && std::get<1>(key) != t.ns) continue;
      if (honour_selectors_ && rec.query.count("labelSelector") &&
          !MatchesSelector(object, rec.query.at("labelSelector"))) {
        continue;
      }
      all.push_back(object);
    }
    std::size_t offset = rec.query.count("continue") ? std::stoul(rec.query.at("continue")) : 0;
    std::size_t limit = rec.query.count("limit") ? std::stoul(rec.query.at("limit")) : all.size();
    // "SecretList" as the apiserver names it, from the stored objects' kind.
    const std::string kind = all.empty() ? "" : all[0].value("kind", "");
    Json list = {{"kind", kind + "List"},
                 {"apiVersion", all.empty() ? "v1" : all[0].value("apiVersion", "v1")},
                 {"items", Json::array()}};
    list["metadata"]["resourceVersion"] = std::to_string(rv_);
    for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i) {
      Json item = all[i];
      item.erase("kind");
      item.erase("apiVersion");
      list["items"].push_back(item);
    }
    if (offset + limit < all.size()) list["metadata"]["continue"] = std::to_string(offset + limit);
    return JsonResponse(200, list);
  }

  http::Response WatchResponse(const Target& t, const Recorded& rec) {
    std::unique_lock<std::mutex> lock(mu_);
    const std::string from_text =
        rec.query.count("resourceVersion") ? rec.query.at("resourceVersion") : "";
    const std::int64_t from = from_text.empty() ? rv_ : std::stoll(from_text);
    if (from < compacted_rv_) {
      const std::string message = "too old resource version: " + std::to_string(from) + " (" +
                                  std::to_string(compacted_rv_) + ")";
      if (!gone_as_event_) return StatusResponse(410, "Expired", message);
      Json status = {{"kind", "Status"},   {"apiVersion", "v1"},  {"status", "Failure"},
                     {"message", message}, {"reason", "Expired"}, {"code", 410}};
      return {200,
              {{"Content-Type", "application/json"}},
              Json{{"type", "ERROR"}, {"object", status}}.dump() + "\n"};
    }
    const std::string selector =
        honour_selectors_ && rec.query.count("labelSelector") ? rec.query.at("labelSelector") : "";
    // The events the watcher sees, with their types as a selector makes them.
    auto matching = [&] {
      std::vector<std::pair<std::string, const Event*>> out;
      for (const Event& e : history_) {
        if (e.rv <= from || e.resource != t.resource || (!t.ns.empty() && e.ns != t.ns)) continue;
        if (selector.empty()) {
          out.emplace_back(e.type, &e);
          continue;
        }
        const bool now = MatchesSelector(e.object, selector);
        const bool before = e.type == "MODIFIED" && MatchesSelector(e.old_object, selector);
        if (e.type != "MODIFIED") {
          if (now) out.emplace_back(e.type, &e);
        } else if (now) {
          out.emplace_back(before ? "MODIFIED" : "ADDED", &e);
        } else if (before) {
          out.emplace_back("DELETED", &e);
        }
      }
      return out;
    };
    cv_.wait_for(lock, watch_wait_, [&] { return shutting_down_ || !matching().empty(); });
    std::string body;
    for (const auto& [type, e] : matching()) {
      body += Json{{"type", type}, {"object", e->object}}.dump() + "\n";
    }
    if (rec.query.count("allowWatchBookmarks")) {
      Json bookmark = {{"kind", "Secret"},
                       {"apiVersion", "v1"},
                       {"metadata", {{"resourceVersion", std::to_string(rv_)}}}};
      body += Json{{"type", "BOOKMARK"}, {"object", bookmark}}.dump() + "\n";
    }
    return {200, {{"Content-Type", "application/json"}}, body};
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Json> objects_;
  std::vector<Event> history_;
  std::vector<Recorded> requests_;
  std::int64_t rv_ = 100;
  std::int64_t compacted_rv_ = 0;
  std::chrono::milliseconds watch_wait_{300};
  bool gone_as_event_ = false;
  bool honour_selectors_ = false;
  bool shutting_down_ = false;
  Override override_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace coffer::kube::testing
