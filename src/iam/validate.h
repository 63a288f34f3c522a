#pragma once

// Input rules of the IAM API (botocore's iam service-2.json shapes), as kValidation /
// kInvalidArgument statuses with AWS's message shapes.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "iam/entities.h"

namespace coffer::iam {

// userNameType: [\w+=,.@-]{1,64} (ASCII word characters). `member` names the field in messages.
Status ValidateUserName(std::string_view name, std::string_view member = "userName");
// existingUserNameType: [\w+=,.@-]{1,128} (names that may name a user created elsewhere).
Status ValidateExistingUserName(std::string_view name, std::string_view member = "userName");
// policyNameType: [\w+=,.@-]{1,128}.
Status ValidatePolicyName(std::string_view name, std::string_view member = "policyName");
// pathType: "/" or "/" + [\x21-\x7F]+ + "/", at most 512.
Status ValidatePath(std::string_view path);
// policyPathType: ((/[A-Za-z0-9.,+@=_-]+)*)/, at most 512.
Status ValidatePolicyPath(std::string_view path);
// pathPrefixType: "/" + [\x21-\x7F]*, at most 512.
Status ValidatePathPrefix(std::string_view prefix);
// policyDocumentType: 1..131072 characters of tab, LF, CR, U+0020..U+00FF.
Status ValidatePolicyDocumentText(std::string_view document);
// policyDescriptionType: at most 1000 characters.
Status ValidateDescription(std::string_view description);
// A well-formed IAM policy ARN (arn:aws:iam::<12 digits or "aws">:policy/...); kInvalidArgument.
Status ValidatePolicyArn(std::string_view arn);
// policyVersionIdType: v[1-9][0-9]*.
Status ValidateVersionId(std::string_view version_id);
// accessKeyIdType: [\w]{16,128}.
Status ValidateAccessKeyId(std::string_view id);
// Tags: keys 1..128 and values 0..256 characters of [\p{L}\p{Z}\p{N}_.:/=+\-@], keys distinct,
// at most kMaxTags.
Status ValidateTags(const std::vector<Tag>& tags);
Status ValidateTagKeys(const std::vector<std::string>& keys);

// Characters of a policy document that count against the size quotas (not whitespace).
std::size_t PolicyChars(std::string_view document);

// Whether two IAM names are equal ignoring ASCII case.
bool SameName(std::string_view a, std::string_view b);

}  // namespace coffer::iam
