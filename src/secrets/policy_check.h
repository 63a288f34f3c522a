#pragma once

// Resource-policy checks, kept apart so a full IAM policy evaluator can replace them.
//
//  - Syntax: a JSON object whose "Statement" is a non-empty object or array of objects, each with
//    "Effect" "Allow" or "Deny".
//  - Public: some statement has Effect "Allow" and Principal "*" or {"AWS": "*"} (or "*" in an
//    "AWS" list).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/types.h"

namespace coffer::secrets {

inline constexpr std::string_view kSyntaxCheck = "SYNTAX_CHECK";
inline constexpr std::string_view kPublicPolicyCheck = "PUBLIC_POLICY_CHECK";

// Every check that fails, with a message; empty when the policy passes.
std::vector<ValidationErrorsEntry> CheckPolicy(std::string_view document);

}  // namespace coffer::secrets
