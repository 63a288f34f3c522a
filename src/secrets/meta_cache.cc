#include "secrets/meta_cache.h"

#include <mutex>

namespace coffer::secrets::internal {

MetaCache::MetaCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

Result<std::shared_ptr<const SecretMeta>> MetaCache::Get(
    const storage::SecretRecord& record) const {
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(record.arn);
    if (it != entries_.end() && it->second.meta_json == record.meta_json) return it->second.meta;
  }
  COFFER_ASSIGN_OR_RETURN(SecretMeta parsed, ParseMeta(record.meta_json));
  auto meta = std::make_shared<const SecretMeta>(std::move(parsed));
  std::unique_lock lock(mu_);
  auto it = entries_.find(record.arn);
  if (it != entries_.end()) {
    it->second = Entry{record.meta_json, meta};
  } else {
    if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
    entries_.emplace(record.arn, Entry{record.meta_json, meta});
  }
  return meta;
}

std::size_t MetaCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace coffer::secrets::internal
