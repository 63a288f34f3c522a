#include "storage/caching_store.h"

#include <algorithm>
#include <functional>

namespace coffer::storage {
namespace {

// What an entry costs beyond its strings: hash node, bookkeeping.
constexpr std::size_t kEntryOverhead = 96;

}  // namespace

CachingStore::CachingStore(std::unique_ptr<SecretStore> backend, CachingOptions options)
    : backend_(std::move(backend)),
      options_(options),
      max_entries_per_shard_(
          std::max<std::size_t>(1, options.max_entries / std::max<std::size_t>(1, options.shards))),
      max_bytes_per_shard_(
          std::max<std::size_t>(1, options.max_bytes / std::max<std::size_t>(1, options.shards))),
      shards_(std::max<std::size_t>(1, options.shards)) {}

std::string CachingStore::NameKey(const std::string& region, const std::string& name) {
  // '\n' never occurs in a region, so (region, name) pairs map to distinct keys.
  std::string key;
  key.reserve(region.size() + 1 + name.size());
  key.append(region).push_back('\n');
  key.append(name);
  return key;
}

std::size_t CachingStore::Bytes(const SecretRecord& s) {
  return sizeof(SecretRecord) + s.arn.size() + s.region.size() + s.name.size() +
         s.meta_json.size();
}

std::size_t CachingStore::Bytes(const VersionRecord& v) {
  std::size_t n = sizeof(VersionRecord) + v.version_id.size() + v.ciphertext.size();
  for (const std::string& stage : v.stages) n += sizeof(std::string) + stage.size();
  return n;
}

std::size_t CachingStore::Bytes(const StageEntry& e) {
  return sizeof(StageEntry) + e.stage.size() + (e.version ? Bytes(*e.version) : 0);
}

std::size_t CachingStore::NameBytes(const std::string& key, const NameEntry& e) {
  return kEntryOverhead + key.size() + (e.arn ? e.arn->size() : 0);
}

CachingStore::Shard& CachingStore::ShardFor(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::uint64_t CachingStore::Generation(const Shard& shard) const {
  std::lock_guard<std::mutex> lock(shard.mu);
  return shard.generation;
}

void CachingStore::TrimLocked(Shard& shard) {
  if (shard.by_arn.size() + shard.by_name.size() <= max_entries_per_shard_ &&
      shard.bytes <= max_bytes_per_shard_) {
    return;
  }
  // Arbitrary eviction: drop the whole shard. Removing entries is always safe.
  shard.by_arn.clear();
  shard.by_name.clear();
  shard.bytes = 0;
}

// --- fills ---

void CachingStore::InsertSecret(const std::string& arn, std::uint64_t generation, bool global,
                                const std::optional<SecretRecord>& secret) {
  Shard& shard = ShardFor(arn);
  std::lock_guard<std::mutex> lock(shard.mu);
  // Invalidation bumps both counters under this lock, so an unchanged value here means no commit
  // of this ARN finished its invalidation since the caller's backend read began.
  const std::uint64_t now =
      global ? global_generation_.load(std::memory_order_acquire) : shard.generation;
  if (now != generation) {
    dropped_inserts_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto [it, inserted] = shard.by_arn.try_emplace(arn);
  ArnEntry& entry = it->second;
  shard.bytes -= entry.bytes;  // 0 for a new entry
  if (inserted) entry.bytes = kEntryOverhead + arn.size();
  if (entry.secret_known && entry.secret) entry.bytes -= Bytes(*entry.secret);
  entry.secret_known = true;
  entry.secret = secret;
  if (secret) entry.bytes += Bytes(*secret);
  shard.bytes += entry.bytes;
  TrimLocked(shard);
}

void CachingStore::InsertName(const std::string& key, std::uint64_t generation,
                              const std::optional<std::string>& arn) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.generation != generation) {
    dropped_inserts_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto [it, inserted] = shard.by_name.try_emplace(key);
  if (!inserted) shard.bytes -= NameBytes(key, it->second);
  it->second.arn = arn;
  shard.bytes += NameBytes(key, it->second);
  TrimLocked(shard);
}

void CachingStore::InsertStage(const std::string& arn, std::uint64_t generation,
                               const std::string& stage,
                               const std::optional<VersionRecord>& version) {
  Shard& shard = ShardFor(arn);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.generation != generation) {
    dropped_inserts_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto [it, inserted] = shard.by_arn.try_emplace(arn);
  ArnEntry& entry = it->second;
  shard.bytes -= entry.bytes;
  if (inserted) entry.bytes = kEntryOverhead + arn.size();
  auto known = std::find_if(entry.stages.begin(), entry.stages.end(),
                            [&](const StageEntry& e) { return e.stage == stage; });
  if (known != entry.stages.end()) {
    entry.bytes -= Bytes(*known);
    entry.stages.erase(known);
  }
  if (entry.stages.size() >= kMaxStagesPerSecret) {
    for (const StageEntry& e : entry.stages) entry.bytes -= Bytes(e);
    entry.stages.clear();
  }
  entry.stages.push_back(StageEntry{stage, version});
  entry.bytes += Bytes(entry.stages.back());
  shard.bytes += entry.bytes;
  TrimLocked(shard);
}

// --- invalidation ---

void CachingStore::InvalidateArn(const std::string& arn) {
  Shard& shard = ShardFor(arn);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.by_arn.find(arn);
  if (it != shard.by_arn.end()) {
    shard.bytes -= it->second.bytes;
    shard.by_arn.erase(it);
  }
  ++shard.generation;
  global_generation_.fetch_add(1, std::memory_order_acq_rel);
  invalidations_.fetch_add(1, std::memory_order_relaxed);
}

void CachingStore::InvalidateName(const std::string& key) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.by_name.find(key);
  if (it != shard.by_name.end()) {
    shard.bytes -= NameBytes(key, it->second);
    shard.by_name.erase(it);
  }
  ++shard.generation;
  global_generation_.fetch_add(1, std::memory_order_acq_rel);
  invalidations_.fetch_add(1, std::memory_order_relaxed);
}

// --- cached reads ---

Result<std::optional<SecretRecord>> CachingStore::GetSecretByArn(const std::string& arn) {
  Shard& shard = ShardFor(arn);
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.by_arn.find(arn);
    if (it != shard.by_arn.end() && it->second.secret_known) return it->second.secret;
    generation = shard.generation;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  Result<std::optional<SecretRecord>> found = backend_->GetSecretByArn(arn);
  if (found.ok()) InsertSecret(arn, generation, /*global=*/false, *found);
  return found;
}

Result<std::optional<SecretRecord>> CachingStore::GetSecretByName(const std::string& region,
                                                                  const std::string& name) {
  const std::string key = NameKey(region, name);
  Shard& name_shard = ShardFor(key);
  std::uint64_t name_generation;
  std::optional<std::string> arn;
  {
    std::lock_guard<std::mutex> lock(name_shard.mu);
    auto it = name_shard.by_name.find(key);
    if (it != name_shard.by_name.end()) {
      if (!it->second.arn) return std::optional<SecretRecord>();  // cached "not found"
      arn = it->second.arn;
    }
    name_generation = name_shard.generation;
  }
  if (arn) {
    // The name points at an ARN; it hits only if that ARN's entry is cached and still is a
    // secret of this region and name (a purge or rename invalidated the ARN entry).
    Shard& arn_shard = ShardFor(*arn);
    std::lock_guard<std::mutex> lock(arn_shard.mu);
    auto it = arn_shard.by_arn.find(*arn);
    if (it != arn_shard.by_arn.end() && it->second.secret_known && it->second.secret &&
        it->second.secret->region == region && it->second.secret->name == name) {
      return it->second.secret;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t global_generation = global_generation_.load(std::memory_order_acquire);
  Result<std::optional<SecretRecord>> found = backend_->GetSecretByName(region, name);
  if (!found.ok()) return found;
  InsertName(key, name_generation,
             *found ? std::optional<std::string>((*found)->arn) : std::optional<std::string>());
  if (*found) InsertSecret((*found)->arn, global_generation, /*global=*/true, *found);
  return found;
}

Result<std::optional<VersionRecord>> CachingStore::GetVersionByStage(const std::string& arn,
                                                                     const std::string& stage) {
  Shard& shard = ShardFor(arn);
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.by_arn.find(arn);
    if (it != shard.by_arn.end()) {
      for (const StageEntry& e : it->second.stages) {
        if (e.stage == stage) return e.version;
      }
    }
    generation = shard.generation;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  Result<std::optional<VersionRecord>> found = backend_->GetVersionByStage(arn, stage);
  if (found.ok()) InsertStage(arn, generation, stage, *found);
  return found;
}

// --- writes that invalidate ---

Status CachingStore::Commit(const Mutation& mutation) {
  Status status = backend_->Commit(mutation);
  // Whatever the outcome (a failed commit changes nothing, but dropping entries is always safe,
  // and a kAborted caller re-reads): after this, readers see the backend's rows again.
  InvalidateArn(mutation.secret.arn);
  InvalidateName(NameKey(mutation.secret.region, mutation.secret.name));
  return status;
}

Result<bool> CachingStore::ReplaceWrapped(const WrappedRef& ref, const std::string& new_ciphertext,
                                          std::uint32_t new_key_version) {
  Result<bool> replaced = backend_->ReplaceWrapped(ref, new_ciphertext, new_key_version);
  if (ref.kind == WrappedRef::Kind::kSecretVersion) InvalidateArn(ref.arn);
  return replaced;
}

CachingStore::Stats CachingStore::stats() const {
  Stats s;
  s.misses = misses_.load(std::memory_order_relaxed);
  s.invalidations = invalidations_.load(std::memory_order_relaxed);
  s.dropped_inserts = dropped_inserts_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    s.entries += shard.by_arn.size() + shard.by_name.size();
    s.bytes += shard.bytes;
  }
  return s;
}

// --- pass-through ---

Result<std::vector<SecretRecord>> CachingStore::ListSecrets(const std::string& region) {
  return backend_->ListSecrets(region);
}

Result<std::vector<SecretRecord>> CachingStore::ListDueForPurge(std::int64_t now_ms) {
  return backend_->ListDueForPurge(now_ms);
}

Result<std::int64_t> CachingStore::CountSecrets() { return backend_->CountSecrets(); }

Result<std::vector<VersionRecord>> CachingStore::ListVersions(const std::string& arn) {
  return backend_->ListVersions(arn);
}

Result<std::optional<VersionRecord>> CachingStore::GetVersion(const std::string& arn,
                                                              const std::string& version_id) {
  return backend_->GetVersion(arn, version_id);
}

Result<std::vector<SecretRecord>> CachingStore::ListAllSecrets() {
  return backend_->ListAllSecrets();
}

Result<std::optional<IamEntityRecord>> CachingStore::GetIamEntity(const std::string& kind,
                                                                  const std::string& key) {
  return backend_->GetIamEntity(kind, key);
}

Result<std::vector<IamEntityRecord>> CachingStore::ListIamEntities(const std::string& kind) {
  return backend_->ListIamEntities(kind);
}

Status CachingStore::PutIamEntity(const IamEntityRecord& record, std::int64_t expected_revision) {
  return backend_->PutIamEntity(record, expected_revision);
}

Status CachingStore::DeleteIamEntity(const std::string& kind, const std::string& key,
                                     std::int64_t expected_revision) {
  return backend_->DeleteIamEntity(kind, key, expected_revision);
}

Status CachingStore::PutAccessKey(const AccessKeyRecord& key) {
  return backend_->PutAccessKey(key);
}

Result<std::optional<AccessKeyRecord>> CachingStore::GetAccessKey(
    const std::string& access_key_id) {
  return backend_->GetAccessKey(access_key_id);
}

Result<std::vector<AccessKeyRecord>> CachingStore::ListAccessKeys() {
  return backend_->ListAccessKeys();
}

Status CachingStore::DeleteAccessKey(const std::string& access_key_id) {
  return backend_->DeleteAccessKey(access_key_id);
}

Result<std::vector<WrappedRef>> CachingStore::ListStaleWrapped(std::uint32_t current_key_version,
                                                               std::size_t limit) {
  return backend_->ListStaleWrapped(current_key_version, limit);
}

Result<std::optional<std::string>> CachingStore::GetSetting(const std::string& key) {
  return backend_->GetSetting(key);
}

Status CachingStore::PutSetting(const std::string& key, const std::string& value) {
  return backend_->PutSetting(key, value);
}

}  // namespace coffer::storage
