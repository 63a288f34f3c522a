#include "template/literal.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace coffer::tmpl::internal {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'f'); }
int HexVal(char c) { return IsDigit(c) ? c - '0' : Lower(c) - 'a' + 10; }

// Go's strconv.underscoreOK: underscores only between digits or after a base prefix.
bool UnderscoreOk(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i]) || (hex && IsHex(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseUint(s, 0, 64) on an unsigned text (no sign).
std::optional<std::uint64_t> ParseGoUint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  bool prefixed = false;
  if (s[0] == '0' && s.size() > 1) {
    const char p = Lower(s[1]);
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
      prefixed = true;
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
      prefixed = true;
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
      prefixed = true;
    } else {
      base = 8;
      s.remove_prefix(1);
      prefixed = true;
    }
  }
  std::uint64_t v = 0;
  bool any = false;
  for (char c : s) {
    if (c == '_') continue;
    int d;
    if (IsDigit(c)) {
      d = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'z') {
      d = Lower(c) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(d)) /
                static_cast<std::uint64_t>(base)) {
      return std::nullopt;
    }
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
    any = true;
  }
  if (!any && !(prefixed && base == 8 && s.empty())) return std::nullopt;
  return v;
}

// strconv.ParseFloat(s, 64) for Go float literal syntax (sign allowed); nullopt when malformed or
// out of range.
std::optional<double> ParseGoFloat(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (c != '_') s.push_back(c);
  }
  bool neg = false;
  std::string_view v = s;
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  double d = 0;
  if (v.size() > 1 && v[0] == '0' && Lower(v[1]) == 'x') {
    v.remove_prefix(2);
    // A hex float needs a 'p' exponent and at least one hex digit.
    const size_t p = v.find_first_of("pP");
    if (p == std::string_view::npos) return std::nullopt;
    bool digit = false;
    for (size_t i = 0; i < p; ++i) {
      if (IsHex(v[i])) {
        digit = true;
      } else if (v[i] != '.') {
        return std::nullopt;
      }
    }
    if (!digit) return std::nullopt;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d, std::chars_format::hex);
    if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  } else {
    for (char c : v) {
      if (!IsDigit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
        return std::nullopt;
      }
    }
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d, std::chars_format::general);
    if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  }
  if (std::isinf(d)) return std::nullopt;
  return neg ? -d : d;
}

bool IsHexInt(std::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
         s.find_first_of("pP") == std::string_view::npos;
}

// Reads one (possibly escaped) character of a quoted literal at s[i], as Go's UnquoteChar.
// `quote` is the enclosing quote. Returns false when malformed. `is_byte` is set for \x and octal
// escapes in strings (a raw byte, not a code point).
bool UnquoteChar(std::string_view s, size_t& i, char quote, std::int64_t& r, bool& is_byte) {
  is_byte = false;
  if (i >= s.size()) return false;
  const char c = s[i];
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (c != '\\') {
    size_t size = 0;
    r = DecodeRune(s, i, &size);
    if (static_cast<unsigned char>(c) >= 0x80 && r == 0xFFFD && size == 1) {
      // An invalid byte passes through as itself.
      r = static_cast<unsigned char>(c);
      is_byte = true;
    }
    i += size;
    return true;
  }
  if (++i >= s.size()) return false;
  const char e = s[i++];
  switch (e) {
    case 'a':
      r = '\a';
      return true;
    case 'b':
      r = '\b';
      return true;
    case 'f':
      r = '\f';
      return true;
    case 'n':
      r = '\n';
      return true;
    case 'r':
      r = '\r';
      return true;
    case 't':
      r = '\t';
      return true;
    case 'v':
      r = '\v';
      return true;
    case '\\':
      r = '\\';
      return true;
    case '\'':
    case '"':
      if (e != quote) return false;
      r = e;
      return true;
    case 'x':
    case 'u':
    case 'U': {
      const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (i + n > s.size()) return false;
      std::int64_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        if (!IsHex(s[i + k])) return false;
        v = v * 16 + HexVal(s[i + k]);
      }
      i += n;
      if (e == 'x') {
        r = v;
        is_byte = quote != '\'';
        return true;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return false;
      r = v;
      return true;
    }
    default:
      if (e >= '0' && e <= '7') {
        if (i + 2 > s.size()) return false;
        std::int64_t v = e - '0';
        for (size_t k = 0; k < 2; ++k) {
          if (s[i + k] < '0' || s[i + k] > '7') return false;
          v = v * 8 + (s[i + k] - '0');
        }
        if (v > 255) return false;
        i += 2;
        r = v;
        is_byte = quote != '\'';
        return true;
      }
      return false;
  }
}

void AppendQuotedRune(std::string& out, std::int32_t r, char quote, bool ascii_only) {
  static const char kHex[] = "0123456789abcdef";
  if (r == quote || r == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(r));
    return;
  }
  if (ascii_only ? (r < 0x80 && IsPrintRune(r)) : IsPrintRune(r)) {
    AppendRune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7f) {
    out += "\\x";
    out.push_back(kHex[(r >> 4) & 0xF]);
    out.push_back(kHex[r & 0xF]);
  } else if (r < 0x10000) {
    out += "\\u";
    for (int s = 12; s >= 0; s -= 4) out.push_back(kHex[(r >> s) & 0xF]);
  } else {
    out += "\\U";
    for (int s = 28; s >= 0; s -= 4) out.push_back(kHex[(r >> s) & 0xF]);
  }
}

}  // namespace

Result<Number> ParseNumber(std::string_view text) {
  auto illegal = [&] { return Status::InvalidArgument("illegal number syntax: " + GoQuote(text)); };
  if (text.empty()) return illegal();
  if (!UnderscoreOk(text)) return illegal();
  std::string_view unsigned_text = text;
  bool neg = false;
  if (text[0] == '+' || text[0] == '-') {
    neg = text[0] == '-';
    unsigned_text.remove_prefix(1);
  }
  const bool floaty =
      !IsHexInt(unsigned_text) && text.find_first_of(".eEpP") != std::string_view::npos;
  if (auto u = ParseGoUint(unsigned_text); u && !floaty) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (neg) {
      if (*u <= kMax + 1) {
        return Number{Value(*u == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                           : -static_cast<std::int64_t>(*u)),
                      false};
      }
    } else if (*u <= kMax) {
      return Number{Value(static_cast<std::int64_t>(*u)), false};
    } else {
      return Number{Value(static_cast<double>(*u)), true};
    }
  }
  auto f = ParseGoFloat(text);
  if (!f) return illegal();
  if (!floaty) return Status::InvalidArgument("integer overflow: " + GoQuote(text));
  return Number{Value(*f), false};
}

Result<Number> ParseCharConstant(std::string_view text) {
  if (text.size() < 3 || text.front() != '\'' || text.back() != '\'') {
    return Status::InvalidArgument("malformed character constant: " + std::string(text));
  }
  size_t i = 1;
  std::int64_t r = 0;
  bool is_byte = false;
  if (!UnquoteChar(text, i, '\'', r, is_byte)) return Status::InvalidArgument("invalid syntax");
  if (i != text.size() - 1) {
    return Status::InvalidArgument("malformed character constant: " + std::string(text));
  }
  return Number{Value(r), false};
}

std::optional<std::string> UnquoteString(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  if (text.front() == '`') {
    if (text.back() != '`') return std::nullopt;
    std::string out;
    for (char c : text.substr(1, text.size() - 2)) {
      if (c == '`') return std::nullopt;
      if (c != '\r') out.push_back(c);
    }
    return out;
  }
  if (text.front() != '"' || text.back() != '"') return std::nullopt;
  std::string_view body = text.substr(1, text.size() - 2);
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    if (body[i] == '\n') return std::nullopt;
    std::int64_t r = 0;
    bool is_byte = false;
    if (!UnquoteChar(body, i, '"', r, is_byte)) return std::nullopt;
    if (is_byte) {
      out.push_back(static_cast<char>(r));
    } else {
      AppendRune(out, r);
    }
  }
  return out;
}

std::string GoQuote(std::string_view s, bool ascii_only) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    size_t size = 0;
    const std::int32_t r = DecodeRune(s, i, &size);
    if (r == 0xFFFD && size == 1) {
      static const char kHex[] = "0123456789abcdef";
      const auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    } else {
      AppendQuotedRune(out, r, '"', ascii_only);
    }
    i += size;
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteRune(std::int64_t r, bool ascii_only) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) r = 0xFFFD;
  std::string out = "'";
  AppendQuotedRune(out, static_cast<std::int32_t>(r), '\'', ascii_only);
  out.push_back('\'');
  return out;
}

bool CanBackquote(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t size = 0;
    const std::int32_t r = DecodeRune(s, i, &size);
    if (r == 0xFFFD && size == 1) return false;
    if (size == 1 && ((r < ' ' && r != '\t') || r == '`' || r == 0x7f)) return false;
    if (r == 0xFEFF) return false;
    i += size;
  }
  return true;
}

std::int32_t DecodeRune(std::string_view s, size_t i, size_t* size) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  *size = 1;
  if (b0 < 0x80) return b0;
  int n;
  std::int32_t r;
  std::int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    r = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    r = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    r = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0xFFFD;
  }
  if (i + static_cast<size_t>(n) > s.size()) return 0xFFFD;
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) return 0xFFFD;
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) return 0xFFFD;
  *size = static_cast<size_t>(n);
  return r;
}

void AppendRune(std::string& out, std::int64_t r) {
  if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) r = 0xFFFD;
  const auto c = static_cast<std::uint32_t>(r);
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool IsPrintRune(std::int32_t r) {
  if (r < 0x20 || r == 0x7f) return false;
  if (r < 0x7f) return true;
  if (r < 0xA1) return false;   // C1 controls and no-break space
  if (r == 0xAD) return false;  // soft hyphen
  if ((r >= 0x200B && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
      (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || r == 0xFFFD + 1 || r == 0xFFFE ||
      r == 0xFFFF) {
    return false;
  }
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if (r >= 0xD800 && r < 0xE000) return false;
  return r <= 0x10FFFF;
}

}  // namespace coffer::tmpl::internal
