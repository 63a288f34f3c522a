#include "core/strings.h"

#include <cstddef>
#include <vector>

namespace coffer {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool AllOf(std::string_view s, char lo, char hi) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < lo || c > hi) return false;
  }
  return true;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> SplitAndTrim(std::string_view list, char separator) {
  std::vector<std::string_view> out;
  if (TrimSpaces(list).empty()) return out;
  while (true) {
    const std::size_t at = list.find(separator);
    out.push_back(TrimSpaces(list.substr(0, at)));
    if (at == std::string_view::npos) return out;
    list.remove_prefix(at + 1);
  }
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsValidRegion(std::string_view region) {
  if (region.size() < 4 || region.size() > 32) return false;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dash = region.find('-', start);
    parts.push_back(region.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.front().size() < 2) return false;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!AllOf(parts[i], 'a', 'z')) return false;
  }
  return AllOf(parts.back(), '0', '9') && parts.back().size() <= 2;
}

}  // namespace coffer
