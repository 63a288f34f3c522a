#pragma once

// Staging labels (reference §1.5): the pure rules for how AWSCURRENT, AWSPREVIOUS, AWSPENDING and
// custom labels move between the versions of one secret. No I/O: a StageMap is built from the
// stored versions, changed in memory, and turned into the VersionUpdates of one Commit.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/store.h"

namespace coffer::secrets {

inline constexpr std::string_view kAwsCurrent = "AWSCURRENT";
inline constexpr std::string_view kAwsPrevious = "AWSPREVIOUS";
inline constexpr std::string_view kAwsPending = "AWSPENDING";

class StageMap {
 public:
  // `versions` in store order (oldest first); ciphertext is not needed.
  explicit StageMap(const std::vector<storage::VersionRecord>& versions);

  // Adds a version with no labels (the one a Put is creating).
  void AddVersion(const std::string& version_id, std::int64_t created_ms);
  bool HasVersion(std::string_view version_id) const;
  // The labels of `version_id` (empty if unknown).
  const std::vector<std::string>& StagesOf(std::string_view version_id) const;
  bool Has(std::string_view label, std::string_view version_id) const;
  // The version holding `label`, if any.
  std::optional<std::string> Holder(std::string_view label) const;

  // Puts `label` on `version_id`, taking it off whichever other version held it.
  void Attach(std::string_view label, std::string_view version_id);
  void Detach(std::string_view label, std::string_view version_id);

  // Distinct labels attached across all versions.
  std::size_t LabelCount() const;
  // Updates for versions that existed before and whose labels changed, skipping `excluded`.
  std::vector<storage::VersionUpdate> Changes(const std::vector<std::string>& excluded = {}) const;
  // Unlabeled versions created at or before `cutoff_ms`, oldest first.
  std::vector<std::string> UnlabeledOlderThan(std::int64_t cutoff_ms) const;
  std::size_t size() const { return items_.size(); }

 private:
  struct Item {
    std::string version_id;
    std::int64_t created_ms = 0;
    std::vector<std::string> stages;
    std::vector<std::string> original;
    bool is_new = false;
  };
  Item* Find(std::string_view version_id);
  const Item* Find(std::string_view version_id) const;

  std::vector<Item> items_;
};

// Rules 1-3: the labels of a version created by CreateSecret/PutSecretValue/UpdateSecret.
// `stages` absent means [AWSCURRENT]. When the new version takes AWSCURRENT, the old current
// version gets AWSPREVIOUS (taken off its previous holder).
void ApplyNewVersionStages(StageMap& map, const std::string& new_version_id,
                           const std::optional<std::vector<std::string>>& stages);

// Rule 4, UpdateSecretVersionStage: moves `label` from `remove_from` to `move_to`. When
// AWSCURRENT moves, AWSPREVIOUS goes to the version it left. kInvalidArgument (moto's wording)
// for unknown versions or a label held by a version `remove_from` does not name.
Status ApplyStageUpdate(StageMap& map, const std::string& label,
                        const std::optional<std::string>& remove_from,
                        const std::optional<std::string>& move_to);

// Rule 5: kResourceExhausted when more than `max_labels` labels are attached.
Status CheckLabelQuota(const StageMap& map, int max_labels);

// Rule 6: the versions to delete so at most `max_versions` remain: unlabeled ones created more
// than 24 h before `now_ms`, oldest first. kResourceExhausted when that is not enough.
Result<std::vector<std::string>> VersionsToPrune(const StageMap& map, int max_versions,
                                                 std::int64_t now_ms);

}  // namespace coffer::secrets
