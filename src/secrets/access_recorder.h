#pragma once

// AccessRecorder: LastAccessedDate without a durable commit on the read path.
//
// GetSecretValue notes "version V of secret S was read on UTC day D" with Record(), which only
// inserts into a deduplicating in-memory set {(arn, version_id) -> day} and never blocks on I/O.
// A background thread flushes the set every `flush_interval` (sooner once `flush_threshold`
// entries are pending): one Commit per secret, carrying a VersionUpdate per version read, taken
// under the secret's WriteLocks stripe and retried on a revision conflict. A secret or version that
// vanished meanwhile is dropped (debug log). Writes are best effort: one that fails is dropped and
// the next read of the day records it again, since the stored day is still old.
//
// Until a flush lands, Overlay() lets DescribeSecret and the listings show the pending day, so a
// read is visible to the next describe at once. Stop() flushes what is pending and ends the
// thread; the store must still exist then. The destructor only ends the thread (it does not write:
// the store may already be gone), so whatever Stop() did not flush is lost (best effort).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "secrets/write_locks.h"
#include "storage/store.h"

namespace coffer::secrets {

struct AccessRecorderOptions {
  // Time between background flushes. Default: 1 s.
  std::chrono::milliseconds flush_interval{1000};
  // Pending entries that start a flush before the interval is over. Default: 1,024.
  std::size_t flush_threshold = 1024;
  // Pending entries kept at most; reads beyond are not recorded until a flush drains the set (the
  // next read of the day records them). Default: 100,000.
  std::size_t max_pending = 100000;
  // Retries of one secret's commit on a revision conflict. Default: 16.
  int commit_retries = 16;
};

class AccessRecorder {
 public:
  // `store` and `locks` must outlive the recorder. Starts the flush thread.
  AccessRecorder(storage::SecretStore* store, WriteLocks* locks, AccessRecorderOptions options);
  ~AccessRecorder();

  AccessRecorder(const AccessRecorder&) = delete;
  AccessRecorder& operator=(const AccessRecorder&) = delete;

  // Notes that `version_id` of `secret` was read on the UTC day starting at `day_ms`. Never waits
  // for I/O. A later day replaces an earlier pending one. Ignored after Stop().
  void Record(const storage::SecretRecord& secret, const std::string& version_id,
              std::int64_t day_ms);
  // Raises the last_accessed_ms of `versions` (of secret `arn`) to their pending day, if later.
  void Overlay(const std::string& arn, std::vector<storage::VersionRecord>& versions) const;
  // Commits everything recorded before the call; returns once those commits are done.
  void Flush();
  // Stops the thread, then flushes what is pending if `flush`. Idempotent; not to be called from
  // two threads at once.
  void Stop(bool flush = true);

  std::size_t pending() const;

 private:
  struct Pending {
    std::string region;
    std::string name;
    std::int64_t day_ms = 0;
  };
  using Key = std::pair<std::string, std::string>;  // (arn, version_id)
  using PendingMap = std::map<Key, Pending>;

  void Run();
  // Writes the entries of one secret, [begin, end) of `batch`, all with the same arn.
  void FlushSecret(PendingMap::const_iterator begin, PendingMap::const_iterator end);

  storage::SecretStore* store_;
  WriteLocks* locks_;
  AccessRecorderOptions options_;

  mutable std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  PendingMap pending_;
  // The batch a flush is writing: still shown by Overlay() until its commits are done. Only the
  // flush holding flush_mu_ changes it; it reads it without mu_ while committing.
  PendingMap in_flight_;
  bool stopping_ = false;
  bool stopped_ = false;

  std::mutex flush_mu_;  // one flush at a time, so Flush() waits for one in progress
  std::thread thread_;
};

}  // namespace coffer::secrets
