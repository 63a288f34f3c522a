#pragma once

// Helpers shared by the sigv4 .cc files. Not part of the component's API.

#include <string>
#include <string_view>

#include "sigv4/sigv4.h"

namespace coffer::sigv4::internal {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

// `a` compared to `lower`, which must already be lowercase.
inline bool EqualsLower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != lower[i]) return false;
  }
  return true;
}

// First header named `lower_name` (compared case-insensitively); nullptr when absent.
inline const std::string* FindHeader(const HeaderList& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (EqualsLower(name, lower_name)) return &value;
  }
  return nullptr;
}

// Text from the request, made safe to put in an error message: bytes outside printable ASCII
// become '?' (so messages are always valid UTF-8 JSON strings), and long input is cut at
// `max_bytes` with "..." appended. `keep_newlines` keeps '\n' (canonical-request hints).
std::string ForMessage(std::string_view text, std::size_t max_bytes = 512,
                       bool keep_newlines = false);

// Lowercase hex of SHA-256(data).
std::string HexSha256(std::string_view data);

}  // namespace coffer::sigv4::internal
