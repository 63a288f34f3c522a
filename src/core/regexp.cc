#include "core/regexp.h"

#include <cctype>
#include <map>
#include <re2/re2.h>
#include <vector>

namespace coffer {
namespace {

// RE2's error codes in words (RE2's own message quotes the pattern, which we do not echo).
std::string_view Describe(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "bad escape sequence";
    case RE2::ErrorBadCharClass:
      return "bad character class";
    case RE2::ErrorBadCharRange:
      return "bad character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing \\";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture group";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "cannot compile";
  }
}

bool IsNameByte(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }

// Go's regexp.extract: the group reference after a '$' at template[0..]. Returns false when
// malformed. `num` is the group number, or -1 for a name.
bool ExtractRef(std::string_view t, std::string* name, int* num, std::size_t* consumed) {
  if (t.size() < 2 || t[0] != '$') return false;
  bool brace = false;
  std::size_t i = 1;
  if (t[1] == '{') {
    brace = true;
    i = 2;
  }
  const std::size_t start = i;
  while (i < t.size() && IsNameByte(static_cast<unsigned char>(t[i]))) ++i;
  if (i == start) return false;  // empty name
  *name = std::string(t.substr(start, i - start));
  if (brace) {
    if (i >= t.size() || t[i] != '}') return false;
    ++i;
  }
  *consumed = i;
  *num = 0;
  for (char c : *name) {
    if (c < '0' || c > '9' || *num >= 100000000) {
      *num = -1;
      break;
    }
    *num = *num * 10 + (c - '0');
  }
  if ((*name)[0] == '0' && name->size() > 1) *num = -1;  // no leading zeros
  return true;
}

}  // namespace

Result<Regexp> Regexp::Compile(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return Status::InvalidArgument("invalid regular expression: " +
                                   std::string(Describe(re->error_code())));
  }
  return Regexp(std::move(re));
}

bool Regexp::PartialMatch(std::string_view text) const {
  return re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                    nullptr, 0);
}

int Regexp::NumGroups() const { return re_->NumberOfCapturingGroups(); }

std::string Regexp::ReplaceAll(std::string_view src, std::string_view replacement) const {
  const int groups = re_->NumberOfCapturingGroups();
  const std::map<std::string, int>& named = re_->NamedCapturingGroups();
  std::vector<re2::StringPiece> m(static_cast<std::size_t>(groups) + 1);
  const re2::StringPiece text(src.data(), src.size());

  auto expand = [&](std::string& out) {
    for (std::size_t i = 0; i < replacement.size();) {
      if (replacement[i] != '$') {
        out += replacement[i++];
        continue;
      }
      if (i + 1 < replacement.size() && replacement[i + 1] == '$') {
        out += '$';
        i += 2;
        continue;
      }
      std::string name;
      int num = 0;
      std::size_t consumed = 0;
      if (!ExtractRef(replacement.substr(i), &name, &num, &consumed)) {
        out += '$';  // malformed: the '$' is literal text
        ++i;
        continue;
      }
      i += consumed;
      int index = num;
      if (num < 0) {
        auto it = named.find(name);
        index = it == named.end() ? -1 : it->second;
      }
      if (index >= 0 && index <= groups && m[index].data() != nullptr) {
        out.append(m[index].data(), m[index].size());
      }
    }
  };

  std::string out;
  std::size_t last_end = 0;
  std::size_t pos = 0;
  while (pos <= src.size()) {
    if (!re_->Match(text, pos, src.size(), RE2::UNANCHORED, m.data(), groups + 1)) break;
    const std::size_t a0 = static_cast<std::size_t>(m[0].data() - src.data());
    const std::size_t a1 = a0 + m[0].size();
    out.append(src.substr(last_end, a0 - last_end));
    // No replacement for an empty match right after the previous match (Go's rule).
    if (a1 > last_end || a0 == 0) expand(out);
    last_end = a1;
    // Advance past this match, at least one UTF-8 character.
    std::size_t width = 1;
    if (pos < src.size()) {
      const auto c = static_cast<unsigned char>(src[pos]);
      width = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (pos + width > src.size()) width = 1;
    }
    if (pos + width > a1) {
      pos += width;
    } else if (pos + 1 > a1) {
      ++pos;
    } else {
      pos = a1;
    }
  }
  if (last_end < src.size()) out.append(src.substr(last_end));
  return out;
}

}  // namespace coffer
