#pragma once

// MetaCache: the parsed SecretMeta of recently read secrets, so that authorizing GetSecretValue
// (which needs the tags and the resource policy) does not parse the metadata JSON on every read.
// An entry is keyed by ARN and used only while the stored meta_json is byte-for-byte the text it
// was parsed from, so it can never be stale: any change to the metadata (tags, policy, even
// LastChangedDate) changes the text. Bounded; thread-safe.

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "secrets/meta.h"
#include "storage/store.h"

namespace coffer::secrets::internal {

class MetaCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;

  explicit MetaCache(std::size_t capacity = kDefaultCapacity);

  // The metadata of `record`, from the cache or parsed now (kDataLoss if it does not parse).
  Result<std::shared_ptr<const SecretMeta>> Get(const storage::SecretRecord& record) const;

  std::size_t size() const;

 private:
  struct Entry {
    std::string meta_json;
    std::shared_ptr<const SecretMeta> meta;
  };

  std::size_t capacity_;
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<std::string, Entry> entries_;  // by ARN
};

}  // namespace coffer::secrets::internal
