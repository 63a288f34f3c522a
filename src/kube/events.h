#pragma once

// Posts core/v1 Events about objects, as `kubectl describe` shows them. A repeat of the same
// event (same object, type, reason and message) within the aggregation window bumps the existing
// Event's count and lastTimestamp instead of creating another one, as client-go's recorder does.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

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
};

class EventRecorder {
 public:
  EventRecorder(Client& client, EventRecorderOptions options = {});

  // `involved` is the object (or an ObjectReference with apiVersion, kind, namespace, name, uid,
  // resourceVersion). The Event goes into the object's namespace ("default" when cluster-scoped).
  // Returns the Event as stored. The message must not carry secret values.
  Result<Json> Record(const Json& involved, EventType type, const std::string& reason,
                      const std::string& message);

 private:
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
};

// The ObjectReference for `object`: apiVersion, kind, namespace, name, uid, resourceVersion.
Json ObjectReferenceFor(const Json& object);

}  // namespace coffer::kube
