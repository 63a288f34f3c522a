#include "secrets/write_locks.h"

#include <functional>
#include <string>

namespace coffer::secrets {

WriteLocks::WriteLocks() : stripes_(std::make_unique<Stripe[]>(kStripes)) {}

std::size_t WriteLocks::StripeOf(std::string_view region, std::string_view name) {
  std::string key;
  key.reserve(region.size() + 1 + name.size());
  key.append(region).append("\n").append(name);
  return std::hash<std::string>{}(key) % kStripes;
}

std::unique_lock<std::mutex> WriteLocks::Lock(std::string_view region, std::string_view name) {
  return std::unique_lock<std::mutex>(stripes_[StripeOf(region, name)].mu);
}

}  // namespace coffer::secrets
