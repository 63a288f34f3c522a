#pragma once

// Helpers shared by the operation files: loading a secret for a read-modify-write, building the
// Mutation that writes it back, and retrying on revision conflicts.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "core/status.h"
#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/types.h"
#include "storage/store.h"

namespace coffer::secrets::internal {

inline constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

// A secret as read at one revision, with its metadata parsed.
struct Loaded {
  storage::SecretRecord record;
  SecretMeta meta;

  bool deleted() const { return record.deletion_date_ms.has_value(); }
};

// Resolves `secret_id` (kNotFound when absent) and parses its metadata.
Result<Loaded> LoadSecret(storage::SecretStore& store, const CallContext& ctx,
                          std::string_view secret_id);
Result<Loaded> LoadRecord(storage::SecretRecord record);
// kFailedPrecondition "...marked for deletion." for a secret scheduled for deletion.
Status CheckNotDeleted(const storage::SecretRecord& record);

// A Mutation that writes `loaded` back (metadata re-serialized) if its revision is unchanged.
storage::Mutation UpdateOf(const Loaded& loaded);

inline bool IsAborted(const Status& s) { return s.code() == StatusCode::kAborted; }
template <typename T>
bool IsAborted(const Result<T>& r) {
  return r.status().code() == StatusCode::kAborted;
}

// Runs `attempt` (which re-reads, decides and commits) until it ends with something other than a
// revision conflict, at most 1 + `retries` times, with a short growing pause between tries. Still
// conflicting after that: kThrottled (ThrottlingException, retryable with back-off). Callers hold
// the secret's WriteLocks stripe, so conflicts come only from other processes.
template <typename F>
auto RetryOnConflict(int retries, F&& attempt) -> decltype(attempt()) {
  for (int i = 0;; ++i) {
    auto result = attempt();
    if (!IsAborted(result)) return result;
    if (i >= retries) return Status(StatusCode::kThrottled, std::string(msg::kTooManyChanges));
    if (i > 0) std::this_thread::sleep_for(std::chrono::microseconds(50 * i));
    std::this_thread::yield();
  }
}

}  // namespace coffer::secrets::internal
