#pragma once

// WriteLocks: serialises the writers of one secret inside the process.
//
// Every read-modify-write-commit of a secret (CreateSecret by name, Put/Update, stage moves, tags,
// delete/restore, policy, rotation, the purge, LastAccessedDate flushes) runs while holding the
// stripe of its (region, name), so writers in this process queue up instead of failing each
// other's revision checks. The store's revision check and the retry loop stay as the safety net
// against other processes (`coffer keys rotate`, a second server on the same file).
//
// A fixed array of mutex stripes keyed by a hash of region + "\n" + name: memory does not grow
// with the number of secrets, and two secrets sharing a stripe only wait for each other. Never
// hold two stripes at once (there is no lock order between them).

#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>

namespace coffer::secrets {

class WriteLocks {
 public:
  static constexpr std::size_t kStripes = 1024;

  WriteLocks();

  // Blocks until the stripe of secret (region, name) is held; released with the returned lock.
  [[nodiscard]] std::unique_lock<std::mutex> Lock(std::string_view region, std::string_view name);
  // The stripe index of (region, name), in [0, kStripes).
  static std::size_t StripeOf(std::string_view region, std::string_view name);

 private:
  struct alignas(64) Stripe {
    std::mutex mu;
  };
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace coffer::secrets
