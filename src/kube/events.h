#pragma once

// Posts core/v1 Events about objects, as `kubectl describe` shows them. A repeat of the same
// event (same object, type, reason and message) within the aggregation window bumps the existing
// Event's count and lastTimestamp instead of creating another one, as client-go's recorder does.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "kube/client.h"

namespace coffer::kube {

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string component = "coffer";  // source.component and reportingController
  std::string host;                  // source.host; optional
  // Default: 10 minutes. Repeats older than this create a new Event.
  std::chrono::milliseconds aggregation_window{10 * 60 * 1000};
  const Clock* clock = SystemClock::Get();
  // Default: 1000. RecordAsync keeps at most this many Events waiting; more are dropped, as
  // client-go's broadcaster drops when its channel is full.
  std::size_t max_queued = 1000;
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options = {});

  // `involved` is the object (or an ObjectReference with apiVersion, kind, namespace, name, uid,
  // resourceVersion). The Event goes into the object's namespace ("default" when cluster-scoped).
  // Returns the Event as stored. The message must not carry secret values.
  Result<Json> Record(const Json& involved, EventType type, const std::string& reason,
                      const std::string& message);

  // Queues the Event for a background thread (started on first use) and returns at once, so that
  // a reconcile never waits for an Event's request or the client's rate limiter. Failures are
  // logged at debug level; Events beyond options.max_queued are dropped and counted.
  void RecordAsync(const Json& involved, EventType type, std::string reason, std::string message);
  // Waits until every queued Event has been sent (or failed), up to `timeout`. For tests.
  bool Flush(std::chrono::milliseconds timeout);
  std::uint64_t dropped() const { return dropped_.load(); }

  ~EventRecorder();  // stops the background thread; Events still queued are dropped

 private:
  struct Queued {
    Json ref;  // ObjectReferenceFor(involved)
    EventType type;
    std::string reason;
    std::string message;
  };
  void SendQueued(std::stop_token stop);

  struct Seen {
    std::string ns;
    std::string name;
    std::int64_t count = 0;
    std::int64_t last_ms = 0;
  };

  Client& client_;
  const EventRecorderOptions options_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // key: uid/ns/name + type + reason + message

  std::mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::deque<Queued> queue_;  // guarded by queue_mu_
  bool sending_ = false;      // guarded by queue_mu_: the thread is sending one
  std::atomic<std::uint64_t> dropped_{0};
  std::jthread sender_;  // last: joined first
};

// The ObjectReference for `object`: apiVersion, kind, namespace, name, uid, resourceVersion.
Json ObjectReferenceFor(const Json& object);

}  // namespace coffer::kube
