#include "secrets/list_filters.h"

#include <algorithm>
#include <cctype>

namespace coffer::secrets {
namespace {

enum class CharKind { kLower, kUpper, kDigit, kOther };

CharKind KindOf(char c) {
  if (c >= 'a' && c <= 'z') return CharKind::kLower;
  if (c >= 'A' && c <= 'Z') return CharKind::kUpper;
  if (c >= '0' && c <= '9') return CharKind::kDigit;
  return CharKind::kOther;
}

bool IsWordBoundary(CharKind prev, CharKind next) {
  if (prev == CharKind::kLower && next == CharKind::kUpper) return true;
  return (prev == CharKind::kDigit) != (next == CharKind::kDigit);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix, bool case_sensitive) {
  if (case_sensitive) return text.starts_with(prefix);
  return Lower(text).starts_with(Lower(prefix));
}

// Every word of `pattern` is a case-insensitive prefix of some word of `text`.
bool WordsMatch(std::string_view pattern, std::string_view text) {
  auto pattern_words = SplitWords(pattern);
  if (pattern_words.empty()) return false;
  for (auto& p : pattern_words) p = Lower(p);
  const auto text_words = SplitWords(text);
  return std::all_of(pattern_words.begin(), pattern_words.end(), [&](const std::string& p) {
    return std::any_of(text_words.begin(), text_words.end(),
                       [&](const std::string& w) { return Lower(w).starts_with(p); });
  });
}

// The attributes a filter key looks at.
std::vector<std::string_view> Attributes(std::string_view key, std::string_view name,
                                         std::string_view region, const SecretMeta& meta) {
  std::vector<std::string_view> out;
  const bool all = key == "all";
  if (key == "name" || all) out.push_back(name);
  if ((key == "description" || all) && meta.description) out.push_back(*meta.description);
  if (key == "tag-key" || all) {
    for (const Tag& t : meta.tags) out.push_back(t.key);
  }
  if (key == "tag-value" || all) {
    for (const Tag& t : meta.tags) out.push_back(t.value);
  }
  if (key == "primary-region") out.push_back(region);
  return out;
}

bool MatchesValue(std::string_view key, std::string_view value, std::string_view attribute) {
  if (key == "all") return WordsMatch(value, attribute);
  if (key == "description") {
    return StartsWith(attribute, value, false) || WordsMatch(value, attribute);
  }
  return StartsWith(attribute, value, true);
}

bool MatchesFilter(const Filter& f, std::string_view name, std::string_view region,
                   const SecretMeta& meta) {
  const auto attributes = Attributes(f.key, name, region, meta);
  return std::any_of(f.values.begin(), f.values.end(), [&](std::string_view value) {
    const bool negated = value.starts_with('!');
    if (negated) value.remove_prefix(1);
    const bool hit = std::any_of(attributes.begin(), attributes.end(),
                                 [&](std::string_view a) { return MatchesValue(f.key, value, a); });
    return hit != negated;
  });
}

}  // namespace

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  CharKind prev = CharKind::kOther;
  for (char c : text) {
    const CharKind kind = KindOf(c);
    if (kind == CharKind::kOther || (!current.empty() && IsWordBoundary(prev, kind))) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    }
    if (kind != CharKind::kOther) current.push_back(c);
    prev = kind;
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

bool MatchesFilters(std::string_view name, std::string_view region, const SecretMeta& meta,
                    const std::vector<Filter>& filters) {
  return std::all_of(filters.begin(), filters.end(),
                     [&](const Filter& f) { return MatchesFilter(f, name, region, meta); });
}

}  // namespace coffer::secrets
