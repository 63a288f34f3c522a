#include "provider/shared_fetcher.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace coffer::provider {
namespace {

std::string CacheKey(const std::string& store_id, const RemoteKey& key) {
  std::string out;
  out.reserve(store_id.size() + key.key.size() + key.version_id.size() + key.version_stage.size() +
              5);
  out.append(store_id).push_back('\0');
  out.append(key.key).push_back('\0');
  out.append(key.version_id).push_back('\0');
  out.append(key.version_stage).push_back('\0');
  out.push_back(key.metadata ? 'm' : 'v');
  return out;
}

}  // namespace

SharedFetcher::SharedFetcher(Options options) : options_(options) {
  if (options_.clock == nullptr) options_.clock = SystemClock::Get();
}

Result<RemoteValue> SharedFetcher::Get(const std::string& store_id, Provider& provider,
                                       const RemoteKey& key, std::int64_t not_before_ms) {
  const std::string cache_key = CacheKey(store_id, key);
  std::shared_ptr<Entry> entry;
  std::optional<RemoteValue> held;  // a value to check with DescribeSecret first
  {
    std::unique_lock<std::mutex> lock(mu_);
    PruneLocked(options_.clock->NowMillis());
    while (true) {
      auto it = entries_.find(cache_key);
      if (it == entries_.end()) break;
      std::shared_ptr<Entry> found = it->second;
      const bool fresh_enough = found->started_ms >= not_before_ms;
      if (!found->done) {
        if (fresh_enough) {
          ++stats_.shared_waits;
          cv_.wait(lock, [&] { return found->done; });
          return found->result;
        }
        // Started too early for this caller: let it finish (one call in flight per key), then
        // look again; another caller may have started a new enough one meanwhile.
        ++stats_.superseded_waits;
        cv_.wait(lock, [&] { return found->done; });
        continue;
      }
      const std::int64_t age = options_.clock->NowMillis() - found->fetched_ms;
      if (found->result.ok() && age <= options_.max_age.count() && fresh_enough) {
        ++stats_.cache_hits;
        return found->result;
      }
      if (found->result.ok() && !key.metadata && !found->result->version_id.empty() &&
          age <= options_.revalidate_for.count()) {
        held = *found->result;
      }
      entries_.erase(it);  // stale or too old for this caller, or a failure already handed out
      break;
    }
    entry = std::make_shared<Entry>();
    entry->started_ms = options_.clock->NowMillis();
    entries_.emplace(cache_key, entry);
    ++stats_.backend_calls;
  }

  // The call runs without the lock; later requests for this key wait on `entry`.
  std::optional<Result<RemoteValue>> answer;
  bool revalidated = false;
  if (held) {
    Result<std::string> current = provider.CurrentVersionId(key);
    if (current.ok() && *current == held->version_id) {
      answer = std::move(*held);
      revalidated = true;
    } else if (!current.ok() && current.status().code() != StatusCode::kFailedPrecondition) {
      answer = Result<RemoteValue>(current.status());  // gone, or the backend failed: as GetSecret
    }
  }
  Result<RemoteValue> result = answer ? std::move(*answer) : provider.GetSecret(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (revalidated) ++stats_.revalidated;
    entry->result = std::move(result);
    entry->fetched_ms = options_.clock->NowMillis();
    entry->done = true;
    if (!entry->result.ok()) {
      auto it = entries_.find(cache_key);
      if (it != entries_.end() && it->second == entry) entries_.erase(it);
    }
  }
  cv_.notify_all();
  return entry->result;
}

void SharedFetcher::PruneLocked(std::int64_t now_ms) {
  if (now_ms - last_prune_ms_ < 60'000) return;
  last_prune_ms_ = now_ms;
  const std::int64_t keep = std::max(options_.max_age.count(), options_.revalidate_for.count());
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second->done && now_ms - it->second->fetched_ms > keep) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void SharedFetcher::NewRound() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    // Fetches in flight stay so their waiters find them; they are replaced once done.
    if (it->second->done) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

SharedFetcher::Stats SharedFetcher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace coffer::provider
