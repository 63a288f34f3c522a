#pragma once

// The exact error messages Secrets Manager returns (reference §1.3), in one place so tests and
// code agree on the wording. Messages never contain secret values.

#include <string>
#include <string_view>

namespace coffer::secrets::msg {

inline constexpr std::string_view kTooManyChanges =
    "Rate exceeded: the secret is being changed by too many concurrent requests.";
inline constexpr std::string_view kSecretNotFound =
    "Secrets Manager can't find the specified secret.";
inline constexpr std::string_view kInvalidName =
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
    "following: -/_+=.@!";
inline constexpr std::string_view kMarkedForDeletion =
    "You can't perform this operation on the secret because it was marked for deletion.";
inline constexpr std::string_view kScheduledForDeletion =
    "You can't create this secret because a secret with this name is already scheduled for "
    "deletion.";
inline constexpr std::string_view kAlreadyMarkedDeleted =
    "You tried to perform the operation on a secret that's currently marked deleted.";
inline constexpr std::string_view kTokenRequired =
    "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
inline constexpr std::string_view kStageMismatch =
    "You provided a VersionStage that is not associated to the provided VersionId.";
inline constexpr std::string_view kBothValues =
    "You can't specify both a binary secret value and a string secret value in the same secret.";
inline constexpr std::string_view kRecoveryWindowRange =
    "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).";
inline constexpr std::string_view kForceWithWindow =
    "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.";
inline constexpr std::string_view kNoLambda =
    "No Lambda rotation function ARN is associated with this secret.";
inline constexpr std::string_view kRotationInProgress =
    "Previous rotation request is still in progress.";
inline constexpr std::string_view kRotationDaysRange =
    "RotationRules.AutomaticallyAfterDays must be within 1-1000.";
inline constexpr std::string_view kPasswordTooShort =
    "Password length is too short based on the required types.";
inline constexpr std::string_view kBatchIdsXorFilters =
    "Either 'SecretIdList' or 'Filters' must be provided, but not both.";
inline constexpr std::string_view kBatchMaxResultsNeedsFilters =
    "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.";
inline constexpr std::string_view kReplicationUnsupported =
    "Replication is not supported by coffer: secrets live in one region.";
inline constexpr std::string_view kPolicySyntax = "This resource policy contains a syntax error.";
inline constexpr std::string_view kPublicPolicy =
    "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent "
    "broad access to the secret.";
inline constexpr std::string_view kInvalidNextToken = "The NextToken value is invalid.";

inline std::string ValueNotFoundForStage(std::string_view stage) {
  return "Secrets Manager can't find the specified secret value for staging label: " +
         std::string(stage);
}
inline std::string ValueNotFoundForVersion(std::string_view version_id) {
  return "Secrets Manager can't find the specified secret value for VersionId: " +
         std::string(version_id);
}
inline std::string SecretExists(std::string_view name) {
  return "The operation failed because the secret " + std::string(name) + " already exists.";
}
inline std::string TokenInUse(std::string_view token, std::string_view arn) {
  return "You can't use ClientRequestToken " + std::string(token) +
         " because that value is already in use for a version of secret " + std::string(arn) + ".";
}

}  // namespace coffer::secrets::msg
