#include "kube/events.h"

#include <spdlog/spdlog.h>

#include "core/encoding.h"
#include "crypto/random.h"

namespace coffer::kube {

Json ObjectReferenceFor(const Json& object) {
  Json ref = Json::object();
  for (const char* key : {"apiVersion", "kind"}) {
    if (object.contains(key)) ref[key] = object[key];
  }
  const Json& md = object.contains("metadata") ? object["metadata"] : object;
  for (const char* key : {"namespace", "name", "uid", "resourceVersion"}) {
    if (md.is_object() && md.contains(key)) ref[key] = md[key];
  }
  return ref;
}

EventRecorder::EventRecorder(Client& client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)) {}

EventRecorder::~EventRecorder() {
  if (sender_.joinable()) {
    sender_.request_stop();
    queue_cv_.notify_all();
    sender_.join();
  }
}

void EventRecorder::RecordAsync(const Json& involved, EventType type, std::string reason,
                                std::string message) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (queue_.size() >= options_.max_queued) {
      dropped_.fetch_add(1);
      return;
    }
    queue_.push_back(
        Queued{ObjectReferenceFor(involved), type, std::move(reason), std::move(message)});
    if (!sender_.joinable()) {
      sender_ = std::jthread([this](std::stop_token stop) { SendQueued(stop); });
    }
  }
  queue_cv_.notify_all();
}

void EventRecorder::SendQueued(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  while (true) {
    if (!queue_cv_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    sending_ = true;
    lock.unlock();
    Result<Json> recorded = Record(next.ref, next.type, next.reason, next.message);
    if (!recorded.ok()) {
      spdlog::debug("event {} on {}/{}: {}", next.reason, next.ref.value("namespace", ""),
                    next.ref.value("name", ""), recorded.status().ToString());
    }
    lock.lock();
    sending_ = false;
    queue_cv_.notify_all();
  }
}

bool EventRecorder::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  return queue_cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !sending_; });
}

Result<Json> EventRecorder::Record(const Json& involved, EventType type, const std::string& reason,
                                   const std::string& message) {
  const Json ref = ObjectReferenceFor(involved);
  const std::string name = ref.value("name", "");
  if (name.empty()) return Status::InvalidArgument("event: the involved object has no name");
  std::string ns = ref.value("namespace", "");
  if (ns.empty()) ns = "default";
  const std::string type_name = type == EventType::kNormal ? "Normal" : "Warning";
  const std::int64_t now = options_.clock->NowMillis();
  const std::string key = ref.value("uid", "") + "/" + ns + "/" + name + "\n" + type_name + "\n" +
                          reason + "\n" + message;

  std::unique_lock<std::mutex> lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end() && now - it->second.last_ms < options_.aggregation_window.count()) {
    Seen& s = it->second;
    Json patch = {{"count", s.count + 1}, {"lastTimestamp", FormatTime(now)}};
    Result<Json> patched = client_.Patch(EventsRef(s.ns, s.name), PatchType::kMerge, patch);
    if (patched.ok()) {
      s.count += 1;
      s.last_ms = now;
      return patched;
    }
    if (patched.status().code() != StatusCode::kNotFound) return patched.status();
    seen_.erase(it);  // the Event expired on the server: create a fresh one
  }
  lock.unlock();

  // Named like client-go's: <object>.<unique hex>.
  const std::string event_name = name + "." + HexEncode(crypto::RandomBytes(8));
  Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", event_name}, {"namespace", ns}}},
      {"involvedObject", ref},
      {"reason", reason},
      {"message", message},
      {"type", type_name},
      {"source", {{"component", options_.component}}},
      {"reportingComponent", options_.component},
      {"count", 1},
      {"firstTimestamp", FormatTime(now)},
      {"lastTimestamp", FormatTime(now)},
  };
  if (!options_.host.empty()) event["source"]["host"] = options_.host;
  COFFER_ASSIGN_OR_RETURN(Json created, client_.Create(EventsRef(ns), event));
  lock.lock();
  if (seen_.size() >= 4096) {  // bound the memory: forget repeats that can no longer aggregate
    std::erase_if(seen_, [&](const auto& kv) {
      return now - kv.second.last_ms >= options_.aggregation_window.count();
    });
  }
  seen_[key] = Seen{ns, event_name, 1, now};
  return created;
}

}  // namespace coffer::kube
