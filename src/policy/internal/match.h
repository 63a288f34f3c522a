#pragma once

// Wildcard matching as IAM does it: '*' matches any run of characters (including ':' and '/'),
// '?' exactly one. Actions compare case-insensitively, resources and condition values (StringLike)
// case-sensitively.

#include <string>
#include <string_view>

namespace coffer::policy::internal {

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case);

// ArnLike/ArnEquals: both sides split into their six colon-separated fields
// (arn:partition:service:region:account:resource; the resource keeps any further colons) and
// matched field by field with wildcards, so a '*' in the region cannot swallow the account. A
// pattern with fewer than six fields matches nothing, except "*" which matches every ARN. A text
// that is not an ARN never matches.
bool ArnMatch(std::string_view pattern, std::string_view text);

// The account field of an ARN ("arn:aws:iam::123456789012:user/a" -> "123456789012"), or "" when
// `arn` has fewer than six fields.
std::string_view ArnAccount(std::string_view arn);

// ASCII lower-casing.
std::string ToLower(std::string_view s);

// For messages: `s` in double quotes, non-printable bytes as \xNN, cut to 80 characters.
std::string Quote(std::string_view s);

}  // namespace coffer::policy::internal
