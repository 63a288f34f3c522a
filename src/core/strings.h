#pragma once

// Small ASCII string helpers shared by the protocol layers (HTTP headers, SigV4, config).

#include <string_view>
#include <vector>

namespace coffer {

// ASCII case-insensitive equality (HTTP header names, media types, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Strips spaces and tabs at both ends.
std::string_view TrimSpaces(std::string_view s);

// The items of a `separator`-separated list, each trimmed of spaces and tabs; empty items are
// kept ("a,,b" has three). An empty (or all-blank) list has none.
std::vector<std::string_view> SplitAndTrim(std::string_view list, char separator = ',');

// An AWS region name: <2+ letters>(-<letters>)+-<1..2 digits>, e.g. us-east-1, us-gov-west-1.
bool IsValidRegion(std::string_view region);

}  // namespace coffer
