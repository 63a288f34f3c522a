#include "secrets/labels.h"

#include <algorithm>
#include <set>

namespace coffer::secrets {
namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Status InvalidVersion(std::string_view version_id) {
  return Status::InvalidArgument("Not a valid version: " + std::string(version_id));
}

}  // namespace

StageMap::StageMap(const std::vector<storage::VersionRecord>& versions) {
  items_.reserve(versions.size() + 1);
  for (const auto& v : versions) {
    items_.push_back(Item{v.version_id, v.created_ms, v.stages, v.stages, false});
  }
}

void StageMap::AddVersion(const std::string& version_id, std::int64_t created_ms) {
  items_.push_back(Item{version_id, created_ms, {}, {}, true});
}

StageMap::Item* StageMap::Find(std::string_view version_id) {
  for (Item& item : items_) {
    if (item.version_id == version_id) return &item;
  }
  return nullptr;
}

const StageMap::Item* StageMap::Find(std::string_view version_id) const {
  return const_cast<StageMap*>(this)->Find(version_id);
}

bool StageMap::HasVersion(std::string_view version_id) const { return Find(version_id) != nullptr; }

const std::vector<std::string>& StageMap::StagesOf(std::string_view version_id) const {
  static const std::vector<std::string> kNone;
  const Item* item = Find(version_id);
  return item ? item->stages : kNone;
}

bool StageMap::Has(std::string_view label, std::string_view version_id) const {
  return Contains(StagesOf(version_id), label);
}

std::optional<std::string> StageMap::Holder(std::string_view label) const {
  for (const Item& item : items_) {
    if (Contains(item.stages, label)) return item.version_id;
  }
  return std::nullopt;
}

void StageMap::Attach(std::string_view label, std::string_view version_id) {
  for (Item& item : items_) {
    if (item.version_id != version_id) std::erase(item.stages, label);
  }
  Item* target = Find(version_id);
  if (target != nullptr && !Contains(target->stages, label)) target->stages.emplace_back(label);
}

void StageMap::Detach(std::string_view label, std::string_view version_id) {
  if (Item* item = Find(version_id)) std::erase(item->stages, label);
}

std::size_t StageMap::LabelCount() const {
  std::set<std::string_view> labels;
  for (const Item& item : items_) labels.insert(item.stages.begin(), item.stages.end());
  return labels.size();
}

std::vector<storage::VersionUpdate> StageMap::Changes(
    const std::vector<std::string>& excluded) const {
  std::vector<storage::VersionUpdate> out;
  for (const Item& item : items_) {
    if (item.is_new || item.stages == item.original || Contains(excluded, item.version_id)) {
      continue;
    }
    storage::VersionUpdate update;
    update.version_id = item.version_id;
    update.stages = item.stages;
    out.push_back(std::move(update));
  }
  return out;
}

std::vector<std::string> StageMap::UnlabeledOlderThan(std::int64_t cutoff_ms) const {
  std::vector<const Item*> old;
  for (const Item& item : items_) {
    if (item.stages.empty() && item.created_ms <= cutoff_ms) old.push_back(&item);
  }
  std::stable_sort(old.begin(), old.end(),
                   [](const Item* a, const Item* b) { return a->created_ms < b->created_ms; });
  std::vector<std::string> out;
  for (const Item* item : old) out.push_back(item->version_id);
  return out;
}

void ApplyNewVersionStages(StageMap& map, const std::string& new_version_id,
                           const std::optional<std::vector<std::string>>& stages) {
  const std::vector<std::string> labels =
      stages.value_or(std::vector<std::string>{std::string(kAwsCurrent)});
  if (Contains(labels, kAwsCurrent)) {
    auto old_current = map.Holder(kAwsCurrent);
    if (old_current && *old_current != new_version_id) {
      map.Attach(kAwsPrevious, *old_current);
      map.Detach(kAwsCurrent, *old_current);
    }
  }
  for (const auto& label : labels) map.Attach(label, new_version_id);
}

Status ApplyStageUpdate(StageMap& map, const std::string& label,
                        const std::optional<std::string>& remove_from,
                        const std::optional<std::string>& move_to) {
  if (remove_from) {
    if (!map.HasVersion(*remove_from)) return InvalidVersion(*remove_from);
    if (!map.Has(label, *remove_from)) {
      return Status::InvalidArgument("Version stage " + label + " not found in version " +
                                     *remove_from);
    }
  } else if (auto holder = map.Holder(label); holder && holder != move_to) {
    return Status::InvalidArgument(
        "The parameter RemoveFromVersionId can't be empty. Staging label " + label +
        " is currently attached to version " + *holder +
        ", so you must explicitly reference that version in RemoveFromVersionId.");
  }
  if (move_to && !map.HasVersion(*move_to)) return InvalidVersion(*move_to);
  if (remove_from && remove_from == move_to) return Status::Ok();  // nothing moves

  if (remove_from) map.Detach(label, *remove_from);
  if (!move_to) return Status::Ok();
  map.Attach(label, *move_to);
  if (label == kAwsCurrent) {
    map.Detach(kAwsPrevious, *move_to);
    if (remove_from) map.Attach(kAwsPrevious, *remove_from);
  }
  return Status::Ok();
}

Status CheckLabelQuota(const StageMap& map, int max_labels) {
  if (map.LabelCount() > static_cast<std::size_t>(max_labels)) {
    return Status::ResourceExhausted("You can't attach more than " + std::to_string(max_labels) +
                                     " staging labels to the versions of a secret.");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> VersionsToPrune(const StageMap& map, int max_versions,
                                                 std::int64_t now_ms) {
  const auto limit = static_cast<std::size_t>(max_versions);
  if (map.size() <= limit) return std::vector<std::string>();
  std::vector<std::string> candidates = map.UnlabeledOlderThan(now_ms - kDayMs);
  const std::size_t excess = map.size() - limit;
  if (candidates.size() < excess) {
    return Status::ResourceExhausted(
        "The secret would exceed the quota of " + std::to_string(max_versions) +
        " versions; versions created in the last 24 hours and labeled versions are kept.");
  }
  candidates.resize(excess);
  return candidates;
}

}  // namespace coffer::secrets
