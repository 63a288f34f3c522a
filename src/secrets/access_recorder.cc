#include "secrets/access_recorder.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace coffer::secrets {

AccessRecorder::AccessRecorder(storage::SecretStore* store, WriteLocks* locks,
                               AccessRecorderOptions options)
    : store_(store), locks_(locks), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

AccessRecorder::~AccessRecorder() { Stop(/*flush=*/false); }

void AccessRecorder::Record(const storage::SecretRecord& secret, const std::string& version_id,
                            std::int64_t day_ms) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || stopping_) return;
    Key key(secret.arn, version_id);
    if (auto it = in_flight_.find(key); it != in_flight_.end() && it->second.day_ms >= day_ms) {
      return;
    }
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      it->second.day_ms = std::max(it->second.day_ms, day_ms);
      return;
    }
    if (pending_.size() >= options_.max_pending) return;
    pending_.emplace(std::move(key), Pending{secret.region, secret.name, day_ms});
    wake = pending_.size() >= options_.flush_threshold;
  }
  if (wake) cv_.notify_one();
}

void AccessRecorder::Overlay(const std::string& arn,
                             std::vector<storage::VersionRecord>& versions) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty() && in_flight_.empty()) return;
  for (auto& v : versions) {
    const Key key(arn, v.version_id);
    for (const PendingMap* map : {&in_flight_, &pending_}) {
      auto it = map->find(key);
      if (it != map->end() && it->second.day_ms > v.last_accessed_ms.value_or(0)) {
        v.last_accessed_ms = it->second.day_ms;
      }
    }
  }
}

std::size_t AccessRecorder::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

void AccessRecorder::Flush() {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return;
    in_flight_.swap(pending_);
  }
  // Keys are ordered by (arn, version_id): each secret's entries are one run.
  auto begin = in_flight_.cbegin();
  while (begin != in_flight_.cend()) {
    auto end = std::find_if(begin, in_flight_.cend(),
                            [&](const auto& e) { return e.first.first != begin->first.first; });
    FlushSecret(begin, end);
    begin = end;
  }
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.clear();
}

void AccessRecorder::FlushSecret(PendingMap::const_iterator begin,
                                 PendingMap::const_iterator end) {
  const std::string& arn = begin->first.first;
  auto stripe = locks_->Lock(begin->second.region, begin->second.name);
  for (int attempt = 0;; ++attempt) {
    auto secret = store_->GetSecretByArn(arn);
    if (!secret.ok()) {
      spdlog::warn("last-accessed: reading a secret failed: {}", secret.status().ToString());
      return;
    }
    if (!*secret) {
      spdlog::debug("last-accessed: secret {} is gone; dropped", arn);
      return;
    }
    auto versions = store_->ListVersions(arn);
    if (!versions.ok()) {
      spdlog::warn("last-accessed: listing versions failed: {}", versions.status().ToString());
      return;
    }
    storage::Mutation m;
    m.secret = **secret;
    m.expected_revision = (*secret)->revision;
    for (auto it = begin; it != end; ++it) {
      const std::string& version_id = it->first.second;
      auto stored = std::find_if(versions->begin(), versions->end(), [&](const auto& v) {
        return v.version_id == version_id;
      });
      if (stored == versions->end()) {
        spdlog::debug("last-accessed: version {} of {} is gone; dropped", version_id, arn);
        continue;
      }
      if (stored->last_accessed_ms.value_or(0) >= it->second.day_ms) continue;
      storage::VersionUpdate update;
      update.version_id = version_id;
      update.last_accessed_ms = it->second.day_ms;
      m.version_updates.push_back(std::move(update));
    }
    if (m.version_updates.empty()) return;
    Status s = store_->Commit(m);
    if (s.ok()) return;
    // kAborted: another process changed the secret; kNotFound: a version was deleted between the
    // listing and the commit. Both: re-read and try again.
    const bool retry = s.code() == StatusCode::kAborted || s.code() == StatusCode::kNotFound;
    if (!retry || attempt >= options_.commit_retries) {
      spdlog::warn("last-accessed: commit for {} failed: {}", arn, s.ToString());
      return;
    }
  }
}

void AccessRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.flush_interval, [this] {
      return stopping_ || pending_.size() >= options_.flush_threshold;
    });
    if (stopping_) break;  // Stop() flushes, if asked to, on its own thread
    if (pending_.empty()) continue;
    lock.unlock();
    Flush();
    lock.lock();
  }
}

void AccessRecorder::Stop(bool flush) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (flush) Flush();
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
}

}  // namespace coffer::secrets
