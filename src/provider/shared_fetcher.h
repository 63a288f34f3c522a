#pragma once

// SharedFetcher: one backend call per (store, key, version, value or metadata) per refresh round,
// shared by every ExternalSecret that reads it. ESO makes one call per ExternalSecret per
// interval; with 1,000 ExternalSecrets reading a handful of keys, this makes a handful of calls.
//
//  - A value fetched less than `max_age` ago is answered from memory.
//  - Concurrent requests for a key that is being fetched wait for that one call (single flight)
//    and share its result, error included.
//  - Errors are not kept: the next request after a failed call tries again (the operator's
//    per-ExternalSecret backoff paces it).
//  - NewRound() forgets every value, so a refresh round sees the backend's current state; a
//    single caller gets the same with Get()'s not_before_ms.
//
// Thread-safe. Values live in memory only as long as the operator needs them (max_age), and are
// never logged.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "provider/provider.h"

namespace coffer::provider {

class SharedFetcher {
 public:
  struct Options {
    // Default: 10 s. How long a fetched value answers later requests of the same round.
    std::chrono::milliseconds max_age{10000};
    // Default: SystemClock.
    const Clock* clock = nullptr;
  };
  struct Stats {
    std::uint64_t backend_calls = 0;  // GetSecret calls made
    std::uint64_t cache_hits = 0;     // answered from a finished fetch
    std::uint64_t shared_waits = 0;   // answered by waiting for a fetch in flight
    // Waited for a fetch in flight that started before the caller's not_before_ms, to call again
    // after it.
    std::uint64_t superseded_waits = 0;
  };

  explicit SharedFetcher(Options options);

  // The value of `key` in the store identified by `store_id` (any string that changes when the
  // store's configuration does, e.g. "namespace/name/generation"), fetched with `provider`.
  // Only a fetch that started at or after `not_before_ms` (Clock epoch ms) is shared: a caller
  // that must see changes made after some moment (a user's force-sync) passes that moment. A
  // fetch in flight that started earlier is waited for first and then replaced, so there is
  // still at most one backend call in flight per key.
  Result<RemoteValue> Get(const std::string& store_id, Provider& provider, const RemoteKey& key,
                          std::int64_t not_before_ms = 0);

  // Forgets every fetched value (fetches in flight finish for their waiters).
  void NewRound();

  Stats stats() const;

 private:
  struct Entry {
    bool done = false;
    std::int64_t started_ms = 0;  // when the backend call began
    std::int64_t fetched_ms = 0;  // when it returned
    Result<RemoteValue> result = Status::Internal("not fetched");
  };

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  Stats stats_;                                            // guarded by mu_
};

}  // namespace coffer::provider
