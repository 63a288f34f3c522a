#include "storage/testing/memory_store.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

namespace coffer::storage {
namespace {

VersionRecord WithoutCiphertext(VersionRecord v) {
  v.ciphertext.clear();
  return v;
}

bool HasStage(const VersionRecord& v, const std::string& stage) {
  return std::find(v.stages.begin(), v.stages.end(), stage) != v.stages.end();
}

// ListVersions order: created_ms, ties in insertion order.
std::vector<VersionRecord> OrderedVersions(const std::vector<VersionRecord>& versions) {
  std::vector<VersionRecord> out = versions;
  std::stable_sort(out.begin(), out.end(), [](const VersionRecord& a, const VersionRecord& b) {
    return a.created_ms < b.created_ms;
  });
  return out;
}

}  // namespace

Result<std::optional<SecretRecord>> MemorySecretStore::GetSecretByArn(const std::string& arn) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(arn);
  if (it == entries_.end()) return std::optional<SecretRecord>();
  return std::optional<SecretRecord>(it->second.secret);
}

const MemorySecretStore::Entry* MemorySecretStore::FindByNameLocked(const std::string& region,
                                                                    const std::string& name) const {
  for (const auto& [arn, entry] : entries_) {
    if (entry.secret.region == region && entry.secret.name == name) return &entry;
  }
  return nullptr;
}

Result<std::optional<SecretRecord>> MemorySecretStore::GetSecretByName(const std::string& region,
                                                                       const std::string& name) {
  std::lock_guard lock(mu_);
  const Entry* entry = FindByNameLocked(region, name);
  if (entry == nullptr) return std::optional<SecretRecord>();
  return std::optional<SecretRecord>(entry->secret);
}

Result<std::vector<SecretRecord>> MemorySecretStore::ListSecrets(const std::string& region) {
  std::lock_guard lock(mu_);
  std::vector<SecretRecord> out;
  for (const auto& [arn, entry] : entries_) {
    if (entry.secret.region == region) out.push_back(entry.secret);
  }
  std::sort(out.begin(), out.end(), [](const SecretRecord& a, const SecretRecord& b) {
    return std::tie(a.created_ms, a.arn) < std::tie(b.created_ms, b.arn);
  });
  return out;
}

Result<std::vector<SecretRecord>> MemorySecretStore::ListDueForPurge(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<SecretRecord> out;
  for (const auto& [arn, entry] : entries_) {
    const auto& d = entry.secret.deletion_date_ms;
    if (d.has_value() && *d <= now_ms) out.push_back(entry.secret);
  }
  std::sort(out.begin(), out.end(), [](const SecretRecord& a, const SecretRecord& b) {
    return std::tie(*a.deletion_date_ms, a.arn) < std::tie(*b.deletion_date_ms, b.arn);
  });
  return out;
}

Result<std::int64_t> MemorySecretStore::CountSecrets() {
  std::lock_guard lock(mu_);
  return static_cast<std::int64_t>(entries_.size());
}

Result<std::vector<SecretRecord>> MemorySecretStore::ListAllSecrets() {
  std::lock_guard lock(mu_);
  std::vector<SecretRecord> out;
  for (const auto& [arn, entry] : entries_) out.push_back(entry.secret);
  std::sort(out.begin(), out.end(), [](const SecretRecord& a, const SecretRecord& b) {
    return std::tie(a.created_ms, a.arn) < std::tie(b.created_ms, b.arn);
  });
  return out;
}

Result<std::vector<VersionRecord>> MemorySecretStore::ListVersions(const std::string& arn) {
  std::lock_guard lock(mu_);
  std::vector<VersionRecord> out;
  auto it = entries_.find(arn);
  if (it == entries_.end()) return out;
  for (auto& v : OrderedVersions(it->second.versions)) out.push_back(WithoutCiphertext(v));
  return out;
}

Result<std::optional<VersionRecord>> MemorySecretStore::GetVersion(const std::string& arn,
                                                                   const std::string& version_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(arn);
  if (it != entries_.end()) {
    for (const auto& v : it->second.versions) {
      if (v.version_id == version_id) return std::optional<VersionRecord>(v);
    }
  }
  return std::optional<VersionRecord>();
}

Result<std::optional<VersionRecord>> MemorySecretStore::GetVersionByStage(
    const std::string& arn, const std::string& stage) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(arn);
  if (it != entries_.end()) {
    for (const auto& v : it->second.versions) {
      if (HasStage(v, stage)) return std::optional<VersionRecord>(v);
    }
  }
  return std::optional<VersionRecord>();
}

Status MemorySecretStore::CheckStagesUnique(const Entry& entry) {
  std::set<std::string> seen;
  for (const auto& v : entry.versions) {
    for (const auto& s : v.stages) {
      if (!seen.insert(s).second) {
        return Status::InvalidArgument("stage " + s + " would name more than one version");
      }
    }
  }
  return Status::Ok();
}

Status MemorySecretStore::Apply(const Mutation& m, std::map<std::string, Entry>& entries) {
  const std::string& arn = m.secret.arn;
  auto it = entries.find(arn);
  const std::int64_t stored_revision = it == entries.end() ? 0 : it->second.secret.revision;
  if (m.purge) {
    if (stored_revision != m.expected_revision) return Status::Aborted("revision mismatch");
    if (it != entries.end()) entries.erase(it);
    return Status::Ok();
  }
  if (stored_revision != m.expected_revision) return Status::Aborted("revision mismatch");
  for (const auto& [other_arn, other] : entries) {
    if (other_arn != arn && other.secret.region == m.secret.region &&
        other.secret.name == m.secret.name) {
      return Status::AlreadyExists("a secret with this name already exists in the region");
    }
  }

  Entry entry = it == entries.end() ? Entry{} : it->second;
  entry.secret = m.secret;
  entry.secret.revision = stored_revision + 1;
  for (const auto& id : m.deleted_versions) {
    auto vit = std::find_if(entry.versions.begin(), entry.versions.end(),
                            [&](const VersionRecord& v) { return v.version_id == id; });
    if (vit == entry.versions.end()) return Status::NotFound("no version " + id);
    entry.versions.erase(vit);
  }
  for (const auto& nv : m.new_versions) {
    for (const auto& v : entry.versions) {
      if (v.version_id == nv.version_id) return Status::AlreadyExists("version exists");
    }
    entry.versions.push_back(nv);
  }
  for (const auto& u : m.version_updates) {
    auto vit = std::find_if(entry.versions.begin(), entry.versions.end(),
                            [&](const VersionRecord& v) { return v.version_id == u.version_id; });
    if (vit == entry.versions.end()) return Status::NotFound("no version " + u.version_id);
    if (u.stages) vit->stages = *u.stages;
    if (u.last_accessed_ms) vit->last_accessed_ms = u.last_accessed_ms;
  }
  COFFER_RETURN_IF_ERROR(CheckStagesUnique(entry));
  entries[arn] = std::move(entry);
  return Status::Ok();
}

Status MemorySecretStore::Commit(const Mutation& mutation) {
  std::lock_guard lock(mu_);
  if (next_commit_failure_) {
    Status s = *next_commit_failure_;
    next_commit_failure_.reset();
    return s;
  }
  COFFER_RETURN_IF_ERROR(Apply(mutation, entries_));
  ++commit_count_;
  return Status::Ok();
}

Status MemorySecretStore::PutAccessKey(const AccessKeyRecord& key) {
  std::lock_guard lock(mu_);
  access_keys_[key.access_key_id] = key;
  return Status::Ok();
}

Result<std::optional<AccessKeyRecord>> MemorySecretStore::GetAccessKey(
    const std::string& access_key_id) {
  std::lock_guard lock(mu_);
  auto it = access_keys_.find(access_key_id);
  if (it == access_keys_.end()) return std::optional<AccessKeyRecord>();
  return std::optional<AccessKeyRecord>(it->second);
}

Result<std::vector<AccessKeyRecord>> MemorySecretStore::ListAccessKeys() {
  std::lock_guard lock(mu_);
  std::vector<AccessKeyRecord> out;
  for (const auto& [id, key] : access_keys_) out.push_back(key);
  std::sort(out.begin(), out.end(), [](const AccessKeyRecord& a, const AccessKeyRecord& b) {
    return std::tie(a.created_ms, a.access_key_id) < std::tie(b.created_ms, b.access_key_id);
  });
  return out;
}

Status MemorySecretStore::DeleteAccessKey(const std::string& access_key_id) {
  std::lock_guard lock(mu_);
  if (access_keys_.erase(access_key_id) == 0) {
    return Status::NotFound("no access key " + access_key_id);
  }
  return Status::Ok();
}

Result<std::optional<IamEntityRecord>> MemorySecretStore::GetIamEntity(const std::string& kind,
                                                                       const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = iam_entities_.find({kind, key});
  if (it == iam_entities_.end()) return std::optional<IamEntityRecord>();
  return std::optional<IamEntityRecord>(it->second);
}

Result<std::vector<IamEntityRecord>> MemorySecretStore::ListIamEntities(const std::string& kind) {
  std::lock_guard lock(mu_);
  std::vector<IamEntityRecord> out;
  // The map is ordered by (kind, key), so one kind's rows are contiguous and sorted by key.
  for (auto it = iam_entities_.lower_bound({kind, std::string()});
       it != iam_entities_.end() && it->first.first == kind; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status MemorySecretStore::PutIamEntity(const IamEntityRecord& record,
                                       std::int64_t expected_revision) {
  if (record.kind.empty() || record.key.empty()) {
    return Status::InvalidArgument("IAM entity kind and key must not be empty");
  }
  std::lock_guard lock(mu_);
  auto it = iam_entities_.find({record.kind, record.key});
  const std::int64_t stored = it == iam_entities_.end() ? 0 : it->second.revision;
  if (stored != expected_revision) return Status::Aborted("IAM entity revision mismatch");
  IamEntityRecord stored_record = record;
  stored_record.revision = expected_revision + 1;
  iam_entities_[{record.kind, record.key}] = std::move(stored_record);
  return Status::Ok();
}

Status MemorySecretStore::DeleteIamEntity(const std::string& kind, const std::string& key,
                                          std::int64_t expected_revision) {
  if (kind.empty() || key.empty()) {
    return Status::InvalidArgument("IAM entity kind and key must not be empty");
  }
  std::lock_guard lock(mu_);
  auto it = iam_entities_.find({kind, key});
  if (it == iam_entities_.end()) return Status::NotFound("IAM entity not found");
  if (it->second.revision != expected_revision) {
    return Status::Aborted("IAM entity revision mismatch");
  }
  iam_entities_.erase(it);
  return Status::Ok();
}

Result<std::vector<WrappedRef>> MemorySecretStore::ListStaleWrapped(
    std::uint32_t current_key_version, std::size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<WrappedRef> out;
  for (const auto& [arn, entry] : entries_) {
    for (const auto& v : entry.versions) {
      if (out.size() >= limit) return out;
      if (v.key_version == current_key_version) continue;
      WrappedRef ref;
      ref.kind = WrappedRef::Kind::kSecretVersion;
      ref.arn = arn;
      ref.version_id = v.version_id;
      ref.ciphertext = v.ciphertext;
      ref.key_version = v.key_version;
      out.push_back(std::move(ref));
    }
  }
  for (const auto& [id, key] : access_keys_) {
    if (out.size() >= limit) return out;
    if (key.key_version == current_key_version) continue;
    WrappedRef ref;
    ref.kind = WrappedRef::Kind::kAccessKey;
    ref.access_key_id = id;
    ref.ciphertext = key.secret_ciphertext;
    ref.key_version = key.key_version;
    out.push_back(std::move(ref));
  }
  return out;
}

Result<bool> MemorySecretStore::ReplaceWrapped(const WrappedRef& ref,
                                               const std::string& new_ciphertext,
                                               std::uint32_t new_key_version) {
  std::lock_guard lock(mu_);
  if (ref.kind == WrappedRef::Kind::kAccessKey) {
    auto it = access_keys_.find(ref.access_key_id);
    if (it == access_keys_.end() || it->second.secret_ciphertext != ref.ciphertext) return false;
    it->second.secret_ciphertext = new_ciphertext;
    it->second.key_version = new_key_version;
    return true;
  }
  auto it = entries_.find(ref.arn);
  if (it == entries_.end()) return false;
  for (auto& v : it->second.versions) {
    if (v.version_id != ref.version_id) continue;
    if (v.ciphertext != ref.ciphertext) return false;
    v.ciphertext = new_ciphertext;
    v.key_version = new_key_version;
    return true;
  }
  return false;
}

Result<std::optional<std::string>> MemorySecretStore::GetSetting(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = settings_.find(key);
  if (it == settings_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemorySecretStore::PutSetting(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  settings_[key] = value;
  return Status::Ok();
}

std::int64_t MemorySecretStore::commit_count() const {
  std::lock_guard lock(mu_);
  return commit_count_;
}

void MemorySecretStore::FailNextCommit(Status status) {
  std::lock_guard lock(mu_);
  next_commit_failure_ = std::move(status);
}

}  // namespace coffer::storage
