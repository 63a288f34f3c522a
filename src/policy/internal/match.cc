#include "policy/internal/match.h"

#include <array>
#include <cstddef>
#include <cstdio>

namespace coffer::policy::internal {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Splits an ARN into its six fields; false when it has fewer.
bool SplitArn(std::string_view arn, std::array<std::string_view, 6>& fields) {
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    const std::size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    fields[i] = arn.substr(start, colon - start);
    start = colon + 1;
  }
  fields[5] = arn.substr(start);
  return true;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case) {
  // Greedy match that backtracks to the last '*': O(|pattern| * |text|) at worst, no recursion.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || pattern[p] == text[t] ||
                (ignore_case && Lower(pattern[p]) == Lower(text[t])))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ArnMatch(std::string_view pattern, std::string_view text) {
  std::array<std::string_view, 6> want, have;
  if (!SplitArn(text, have)) return false;
  if (!SplitArn(pattern, want)) return pattern == "*";
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!WildcardMatch(want[i], have[i], false)) return false;
  }
  return true;
}

std::string_view ArnAccount(std::string_view arn) {
  std::array<std::string_view, 6> fields;
  if (!SplitArn(arn, fields)) return {};
  return fields[4];
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

}  // namespace coffer::policy::internal
