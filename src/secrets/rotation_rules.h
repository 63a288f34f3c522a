#pragma once

// Validation of RotationRules and the NextRotationDate they imply (reference §1.10).

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"
#include "secrets/types.h"

namespace coffer::secrets {

// AutomaticallyAfterDays 1..1000 and not with ScheduleExpression; Duration "[0-9]+h" (2..3
// chars); ScheduleExpression rate(N hours|days) of at least 4 hours, or cron(<6 fields>).
Status ValidateRotationRules(const RotationRules& rules);
// ExternalSecretRotationMetadata: a JSON array of {"Key": 1..256, "Value": 1..2048} objects.
Status ValidateExternalRotationMetadata(std::string_view json_array);
// When the next rotation is due: now + AutomaticallyAfterDays, or now + the rate() interval.
// nullopt for a cron() schedule (not computed) or no schedule.
std::optional<std::int64_t> NextRotationMs(const RotationRules& rules, std::int64_t now_ms);

}  // namespace coffer::secrets
