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
//  - DescribeSecret first, as the AWS caching client refreshes: a value older than `max_age` (or
//    older than the caller's not_before_ms) but younger than `revalidate_for` is checked with the
//    provider's CurrentVersionId; if the selected version is still the one held, the held value
//    is answered and no value is transferred. A changed version, or a provider that cannot tell,
//    reads the value again. Only the outcome is shared; the check itself is single-flight too.
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
    // Default: 0 (off). How long a value may be kept to answer after a DescribeSecret-first
    // check that shows its version is still current. Values older than this are read again.
    std::chrono::milliseconds revalidate_for{0};
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
    // Of backend_calls: DescribeSecret-first checks that found the held version still current
    // (no value read).
    std::uint64_t revalidated = 0;
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

  // Drops finished entries that can answer nobody any more (older than max_age and
  // revalidate_for). Called with mu_ held, at most once a minute.
  void PruneLocked(std::int64_t now_ms);

  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  Stats stats_;                                            // guarded by mu_
  std::int64_t last_prune_ms_ = 0;                         // guarded by mu_
};

}  // namespace coffer::provider
