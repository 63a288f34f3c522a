// The ExternalSecret template function library: Sprig v3's string, list, dict, default,
// encoding and JSON helpers and ESO's YAML helpers. The crypto, PEM and PKCS#12 functions are in
// eso_functions_crypto.cc.
//
// Data reaches templates as strings (ESO passes map[string]string), so most functions take and
// return strings. Errors name the function and the problem, never an argument's value.

#include "template/eso_functions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cwctype>
#include <limits>
#include <locale.h>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "template/eso_functions_internal.h"

namespace coffer::tmpl {
namespace eso_internal {

Status FnError(std::string_view fn, std::string_view what) {
  std::string m(fn);
  m += ": ";
  m += what;
  return Status::InvalidArgument(std::move(m));
}

Status CheckArity(std::string_view fn, Args args, std::size_t min, std::size_t max) {
  if (args.size() >= min && args.size() <= max) return Status::Ok();
  std::string want;
  if (min == max) {
    want = std::to_string(min);
  } else if (max == std::numeric_limits<std::size_t>::max()) {
    want = "at least " + std::to_string(min);
  } else {
    want = std::to_string(min) + " to " + std::to_string(max);
  }
  return FnError(fn, "wrong number of args: want " + want + ", got " + std::to_string(args.size()));
}

namespace {
std::string KindMismatch(std::size_t i, std::string_view want, const Value& v) {
  return "argument " + std::to_string(i + 1) + ": expected " + std::string(want) + "; got " +
         KindName(v.kind());
}
}  // namespace

Result<std::string_view> StringArg(std::string_view fn, Args args, std::size_t i) {
  const Value& v = args[i];
  if (v.kind() == Kind::kString) return std::string_view(v.AsString());
  if (v.kind() == Kind::kBytes) return std::string_view(v.AsBytes().data);
  return FnError(fn, KindMismatch(i, "string", v));
}

Result<std::int64_t> IntArg(std::string_view fn, Args args, std::size_t i) {
  const Value& v = args[i];
  if (v.kind() == Kind::kInt) return v.AsInt();
  if (v.kind() == Kind::kDouble) {
    const double d = v.AsDouble();
    if (std::trunc(d) == d && std::abs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return FnError(fn, KindMismatch(i, "int", v));
}

Result<bool> BoolArg(std::string_view fn, Args args, std::size_t i) {
  const Value& v = args[i];
  if (v.kind() == Kind::kBool) return v.AsBool();
  return FnError(fn, KindMismatch(i, "bool", v));
}

std::string GoFormatFloatG(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  // The shortest digits that round-trip, as d.ddddde±XX.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  bool negative = false;
  if (sci[0] == '-') {
    negative = true;
    sci.erase(0, 1);
  }
  const auto e_pos = sci.find('e');
  std::string digits;
  for (std::size_t k = 0; k < e_pos; ++k) {
    if (sci[k] != '.') digits += sci[k];
  }
  const int exp = std::stoi(sci.substr(e_pos + 1));
  const int nd = static_cast<int>(digits.size());
  const int dp = exp + 1;  // position of the decimal point relative to the digits
  int eprec = 6;
  if (eprec > nd && nd >= dp) eprec = nd;
  std::string out = negative ? "-" : "";
  if (exp < -4 || exp >= eprec) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    const int ae = std::abs(exp);
    if (ae < 10) out += '0';
    out += std::to_string(ae);
    return out;
  }
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-dp), '0');
    out += digits;
  } else if (dp >= nd) {
    out += digits;
    out.append(static_cast<std::size_t>(dp - nd), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(dp));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(dp));
  }
  return out;
}

namespace {
void AppendGoString(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Kind::kNil:
      out += "<nil>";
      return;
    case Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      return;
    case Kind::kInt:
      out += std::to_string(v.AsInt());
      return;
    case Kind::kDouble:
      out += GoFormatFloatG(v.AsDouble());
      return;
    case Kind::kString:
      out += v.AsString();
      return;
    case Kind::kBytes:
      out += v.AsBytes().data;
      return;
    case Kind::kList: {
      out += '[';
      bool first = true;
      for (const auto& e : v.AsList()) {
        if (!first) out += ' ';
        first = false;
        AppendGoString(e, out);
      }
      out += ']';
      return;
    }
    case Kind::kMap: {
      out += "map[";
      bool first = true;
      for (const auto& [k, e] : v.AsMap()) {
        if (!first) out += ' ';
        first = false;
        out += k;
        out += ':';
        AppendGoString(e, out);
      }
      out += ']';
      return;
    }
  }
}
}  // namespace

std::string GoString(const Value& v) {
  std::string out;
  AppendGoString(v, out);
  return out;
}

namespace {
constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Decodes a padded base-2^bits encoding (base64: bits 6, quantum 4; base32: bits 5, quantum 8),
// skipping \r and \n as Go does. Go accepts only certain padding lengths; `valid_pad` tells
// whether a quantum with `n` data characters is complete.
bool DecodePadded(std::string_view text, const char* alphabet, int bits, std::size_t quantum,
                  bool (*valid_data_len)(std::size_t), std::string* out,
                  std::size_t* error_offset) {
  int table[256];
  std::fill(std::begin(table), std::end(table), -1);
  for (int k = 0; alphabet[k] != '\0'; ++k) table[static_cast<unsigned char>(alphabet[k])] = k;
  out->clear();
  std::uint64_t acc = 0;
  int acc_bits = 0;
  std::size_t in_quantum = 0;  // characters (data or padding) in the current quantum
  std::size_t data_in_quantum = 0;
  std::size_t quantum_start = 0;  // input offset of the current quantum's first character
  bool padded = false;            // padding seen: only more padding may follow in this quantum
  bool done = false;              // a padded quantum ended: nothing but newlines may follow
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r' || c == '\n') continue;
    if (done) {
      *error_offset = i;
      return false;
    }
    if (in_quantum == 0) quantum_start = i;
    if (c == '=') {
      if (!padded && !valid_data_len(data_in_quantum)) {
        *error_offset = i;
        return false;
      }
      padded = true;
      ++in_quantum;
    } else {
      const int d = table[c];
      if (d < 0 || padded) {
        *error_offset = i;
        return false;
      }
      acc = (acc << bits) | static_cast<std::uint64_t>(d);
      acc_bits += bits;
      if (acc_bits >= 8) {
        acc_bits -= 8;
        out->push_back(static_cast<char>((acc >> acc_bits) & 0xFF));
      }
      ++in_quantum;
      ++data_in_quantum;
    }
    if (in_quantum == quantum) {
      if (padded) done = true;
      in_quantum = 0;
      data_in_quantum = 0;
      acc = 0;
      acc_bits = 0;
    }
  }
  if (in_quantum != 0) {
    *error_offset = quantum_start;
    return false;
  }
  return true;
}

bool ValidB64DataLen(std::size_t n) { return n == 2 || n == 3; }
bool ValidB32DataLen(std::size_t n) { return n == 2 || n == 4 || n == 5 || n == 7; }

std::string Base32StdEncode(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t n = std::min<std::size_t>(5, bytes.size() - i);
    std::uint64_t block = 0;
    for (std::size_t k = 0; k < 5; ++k) {
      block <<= 8;
      if (k < n) block |= static_cast<unsigned char>(bytes[i + k]);
    }
    static constexpr std::size_t kChars[] = {0, 2, 4, 5, 7, 8};
    for (std::size_t k = 0; k < 8; ++k) {
      if (k < kChars[n]) {
        out += kB32Alphabet[(block >> (35 - 5 * k)) & 0x1F];
      } else {
        out += '=';
      }
    }
    i += n;
  }
  return out;
}
}  // namespace

std::string Base64StdEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kB64Alphabet[(n >> 18) & 63];
    out += kB64Alphabet[(n >> 12) & 63];
    out += kB64Alphabet[(n >> 6) & 63];
    out += kB64Alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kB64Alphabet[(n >> 18) & 63];
    out += kB64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kB64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64StdDecode(std::string_view text, std::string* out, std::size_t* error_offset) {
  return DecodePadded(text, kB64Alphabet, 6, 4, ValidB64DataLen, out, error_offset);
}

}  // namespace eso_internal

namespace {

using eso_internal::Args;
using eso_internal::BoolArg;
using eso_internal::CheckArity;
using eso_internal::FnError;
using eso_internal::GoFormatFloatG;
using eso_internal::GoString;
using eso_internal::IntArg;
using eso_internal::StringArg;

constexpr std::size_t kMany = std::numeric_limits<std::size_t>::max();

// ---------------------------------------------------------------------------------------------
// UTF-8

// Decodes the rune at s[i]; invalid bytes decode as U+FFFD of width 1, as in Go.
std::pair<char32_t, std::size_t> DecodeRune(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto cb = [&](std::size_t k) { return static_cast<char32_t>(s[i + k] & 0x3F); };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) return {((b0 & 0x1Fu) << 6) | cb(1), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    const char32_t r = ((b0 & 0x0Fu) << 12) | (cb(1) << 6) | cb(2);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) return {r, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const char32_t r = ((b0 & 0x07u) << 18) | (cb(1) << 12) | (cb(2) << 6) | cb(3);
    if (r >= 0x10000 && r <= 0x10FFFF) return {r, 4};
  }
  return {0xFFFD, 1};
}

bool ValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    if (r == 0xFFFD && n == 1) return false;
    i += n;
  }
  return true;
}

void AppendUtf8(char32_t r, std::string& out) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// unicode.IsSpace.
bool IsSpaceRune(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// An approximation of strconv.IsPrint: control characters, C1 controls, the soft hyphen,
// the line and paragraph separators, surrogates, the BOM and non-characters are not printable.
bool IsPrintRune(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  if (r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  return r <= 0x10FFFF;
}

// strconv.Quote.
std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    if (r == 0xFFFD && n == 1) {
      const auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      i += n;
      continue;
    }
    i += n;
    if (r == '"' || r == '\\') {
      out += '\\';
      out += static_cast<char>(r);
    } else if (IsPrintRune(r)) {
      AppendUtf8(r, out);
    } else {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default: {
          char buf[16];
          if (r < 0x20 || r == 0x7F) {
            std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(r));
          } else if (r < 0x10000) {
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(r));
          } else {
            std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(r));
          }
          out += buf;
        }
      }
    }
  }
  out += '"';
  return out;
}

// Unicode simple case mapping (what Go's unicode.ToUpper/ToLower do per rune), from glibc's
// C.UTF-8 locale; ASCII only if that locale is missing.
locale_t Utf8Locale() {
  static const locale_t kLocale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return kLocale;
}

char32_t MapCase(char32_t r, bool upper) {
  if (r < 0x80) {
    if (upper && r >= 'a' && r <= 'z') return r - 'a' + 'A';
    if (!upper && r >= 'A' && r <= 'Z') return r - 'A' + 'a';
    return r;
  }
  const locale_t loc = Utf8Locale();
  if (loc == static_cast<locale_t>(0)) return r;
  const wint_t w = static_cast<wint_t>(r);
  const wint_t m = upper ? towupper_l(w, loc) : towlower_l(w, loc);
  return m > 0x10FFFF ? r : static_cast<char32_t>(m);
}

// strings.ToUpper / strings.ToLower. Invalid UTF-8 bytes are kept as they are.
std::string CaseMap(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    if (r == 0xFFFD && n == 1) {
      out += s[i];
    } else {
      AppendUtf8(MapCase(r, upper), out);
    }
    i += n;
  }
  return out;
}

// strings.Title: the first letter of every word upper-cased. Letters, digits, '_' and
// non-ASCII runes other than white space join words; other ASCII characters separate them.
std::string Title(std::string_view s) {
  std::string out;
  bool prev_separator = true;
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    if (r == 0xFFFD && n == 1) {
      out += s[i];
    } else {
      AppendUtf8(prev_separator ? MapCase(r, true) : r, out);
    }
    bool separator;
    if (r < 0x80) {
      const bool alnum = (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
      separator = !(alnum || r == '_');
    } else {
      separator = IsSpaceRune(r);
    }
    prev_separator = separator;
    i += n;
  }
  return out;
}

std::string_view TrimFunc(std::string_view s, bool (*drop)(char32_t, std::string_view),
                          std::string_view ctx) {
  std::size_t start = 0;
  while (start < s.size()) {
    auto [r, n] = DecodeRune(s, start);
    if (!drop(r, ctx)) break;
    start += n;
  }
  std::size_t end = s.size();
  while (end > start) {
    // Step back to the start of the last rune.
    std::size_t k = end - 1;
    while (k > start && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80 && end - k < 4) --k;
    auto [r, n] = DecodeRune(s, k);
    if (k + n != end) {  // not a whole rune: treat the last byte alone
      k = end - 1;
      r = 0xFFFD;
    }
    if (!drop(r, ctx)) break;
    end = k;
  }
  return s.substr(start, end - start);
}

bool DropSpace(char32_t r, std::string_view) { return IsSpaceRune(r); }
bool DropCutset(char32_t r, std::string_view cutset) {
  for (std::size_t i = 0; i < cutset.size();) {
    auto [c, n] = DecodeRune(cutset, i);
    if (c == r) return true;
    i += n;
  }
  return false;
}

// strings.Replace(s, old, new, -1).
std::string ReplaceAll(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) {
    // Go inserts `to` before every rune and at the end.
    for (std::size_t i = 0; i < s.size();) {
      out += to;
      auto [r, n] = DecodeRune(s, i);
      out += s.substr(i, n);
      i += n;
    }
    out += to;
    return out;
  }
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out += s.substr(pos);
  return out;
}

// strings.Split(s, sep).
std::vector<std::string> GoSplit(std::string_view s, std::string_view sep) {
  std::vector<std::string> parts;
  if (sep.empty()) {
    for (std::size_t i = 0; i < s.size();) {
      auto [r, n] = DecodeRune(s, i);
      parts.emplace_back(s.substr(i, n));
      i += n;
    }
    return parts;
  }
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(sep, pos);
    if (hit == std::string_view::npos) break;
    parts.emplace_back(s.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
  parts.emplace_back(s.substr(pos));
  return parts;
}

// Sprig's strslice: a list's non-nil elements as strings, a string as itself, nil as nothing.
std::vector<std::string> StrSlice(const Value& v) {
  std::vector<std::string> out;
  switch (v.kind()) {
    case Kind::kNil:
      break;
    case Kind::kList:
      for (const auto& e : v.AsList()) {
        if (!e.is_nil()) out.push_back(GoString(e));
      }
      break;
    default:
      out.push_back(GoString(v));
  }
  return out;
}

std::string Indent(std::int64_t spaces, std::string_view s) {
  const std::string pad(static_cast<std::size_t>(spaces), ' ');
  return pad + ReplaceAll(s, "\n", "\n" + pad);
}

// ---------------------------------------------------------------------------------------------
// JSON, encoded as Go's encoding/json does: sorted keys, HTML-safe escaping unless `raw`.

void AppendJsonString(std::string_view s, bool escape_html, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    if (r == 0xFFFD && n == 1) {
      out += "\\ufffd";
      i += n;
      continue;
    }
    if (r < 0x80) {
      const char c = static_cast<char>(r);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\b') {
        out += "\\b";
      } else if (c == '\f') {
        out += "\\f";
      } else if (r < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
        out += "\\u00";
        out += kHex[r >> 4];
        out += kHex[r & 15];
      } else {
        out += c;
      }
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out += s.substr(i, n);
    }
    i += n;
  }
  out += '"';
}

bool AppendJsonFloat(double f, std::string& out) {
  if (!std::isfinite(f)) return false;
  const double a = std::abs(f);
  char buf[64];
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    std::string s(buf, r.ptr);
    // Go writes e-7, not e-07.
    const std::size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    out += s;
  } else {
    auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
    out.append(buf, r.ptr);
  }
  return true;
}

// Returns false for values JSON cannot represent (NaN, infinities).
bool AppendJson(const Value& v, bool escape_html, int indent, int depth, std::string& out) {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (v.kind()) {
    case Kind::kNil:
      out += "null";
      return true;
    case Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      return true;
    case Kind::kInt:
      out += std::to_string(v.AsInt());
      return true;
    case Kind::kDouble:
      return AppendJsonFloat(v.AsDouble(), out);
    case Kind::kString:
      AppendJsonString(v.AsString(), escape_html, out);
      return true;
    case Kind::kBytes:
      AppendJsonString(v.AsBytes().data, escape_html, out);
      return true;
    case Kind::kList: {
      const auto& list = v.AsList();
      if (list.empty()) {
        out += "[]";
        return true;
      }
      out += '[';
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += ',';
        newline(depth + 1);
        if (!AppendJson(list[i], escape_html, indent, depth + 1, out)) return false;
      }
      newline(depth);
      out += ']';
      return true;
    }
    case Kind::kMap: {
      const auto& map = v.AsMap();
      if (map.empty()) {
        out += "{}";
        return true;
      }
      out += '{';
      bool first = true;
      for (const auto& [k, e] : map) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        AppendJsonString(k, escape_html, out);
        out += indent > 0 ? ": " : ":";
        if (!AppendJson(e, escape_html, indent, depth + 1, out)) return false;
      }
      newline(depth);
      out += '}';
      return true;
    }
  }
  return false;
}

std::optional<std::string> GoJson(const Value& v, bool escape_html, int indent) {
  std::string out;
  if (!AppendJson(v, escape_html, indent, 0, out)) return std::nullopt;
  return out;
}

// Parses JSON text; on failure returns the byte offset of the error.
// Go's encoding/json refuses nesting deeper than 10000; so do we, before anything recurses.
constexpr int kMaxJsonDepth = 10000;

bool JsonTooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Result<Value> ParseJson(std::string_view fn, std::string_view text) {
  if (JsonTooDeep(text)) {
    return FnError(fn, "invalid JSON: exceeded max depth of " + std::to_string(kMaxJsonDepth));
  }
  try {
    return Value::FromJson(nlohmann::json::parse(text));
  } catch (const nlohmann::json::parse_error& e) {
    return FnError(fn, "invalid JSON: syntax error at input byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception&) {
    return FnError(fn, "invalid JSON");
  }
}

// ---------------------------------------------------------------------------------------------
// YAML, in the style of sigs.k8s.io/yaml (go-yaml v2 underneath).

// The tag go-yaml v2 resolves a plain scalar to, for strings that would not read back as
// strings: null, bool, int, float or timestamp. nullopt for a plain string.
enum class YamlType : std::uint8_t { kNull, kBool, kInt, kFloat, kTimestamp, kString };

bool IsOldBool(std::string_view s, bool* value) {
  static const char* const kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON"};
  static const char* const kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                       "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue) {
    if (s == t) {
      *value = true;
      return true;
    }
  }
  for (const char* f : kFalse) {
    if (s == f) {
      *value = false;
      return true;
    }
  }
  return false;
}

// Go's strconv.ParseInt(s, 0, 64) after removing underscores, as go-yaml v2 resolves ints.
std::optional<std::int64_t> ParseYamlInt(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != '_') s += c;
  }
  if (s.empty()) return std::nullopt;
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    i = 1;
  }
  int base = 10;
  if (s.size() - i > 1 && s[i] == '0') {
    const char p = s[i + 1];
    if (p == 'x' || p == 'X') {
      base = 16;
      i += 2;
    } else if (p == 'b' || p == 'B') {
      base = 2;
      i += 2;
    } else if (p == 'o' || p == 'O') {
      base = 8;
      i += 2;
    } else {
      base = 8;
      i += 1;
    }
  }
  if (i >= s.size()) return std::nullopt;
  std::uint64_t u = 0;
  auto r = std::from_chars(s.data() + i, s.data() + s.size(), u, base);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  const std::uint64_t limit =
      negative ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1
               : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (u > limit) return std::nullopt;
  return negative ? static_cast<std::int64_t>(0 - u) : static_cast<std::int64_t>(u);
}

YamlType ResolvePlain(std::string_view s, Value* value) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    *value = Value();
    return YamlType::kNull;
  }
  bool b = false;
  if (IsOldBool(s, &b)) {
    *value = Value(b);
    return YamlType::kBool;
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    *value = Value(std::numeric_limits<double>::infinity());
    return YamlType::kFloat;
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
    *value = Value(-std::numeric_limits<double>::infinity());
    return YamlType::kFloat;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *value = Value(std::numeric_limits<double>::quiet_NaN());
    return YamlType::kFloat;
  }
  const char c = s[0];
  if (c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
    if (auto i = ParseYamlInt(s)) {
      *value = Value(*i);
      return YamlType::kInt;
    }
    std::string plain;
    for (char ch : s) {
      if (ch != '_') plain += ch;
    }
    static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (std::regex_match(plain, kFloat)) {
      *value = Value(std::strtod(plain.c_str(), nullptr));
      return YamlType::kFloat;
    }
    static const std::regex kTimestamp(
        R"(^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$)");
    if (std::regex_match(plain, kTimestamp)) {
      *value = Value(std::string(s));
      return YamlType::kTimestamp;
    }
  }
  *value = Value(std::string(s));
  return YamlType::kString;
}

bool IsBase60Float(std::string_view s) {
  if (s.empty()) return false;
  const char c = s[0];
  if (!(c == '+' || c == '-' || (c >= '0' && c <= '9')) || s.find(':') == std::string_view::npos) {
    return false;
  }
  static const std::regex kBase60(R"(^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$)");
  return std::regex_match(s.begin(), s.end(), kBase60);
}

// What libyaml's emitter analysis allows for a scalar.
struct ScalarAnalysis {
  bool multiline = false;
  bool block_plain_allowed = true;
  bool single_quoted_allowed = true;
  bool block_allowed = true;
};

// libyaml's is_printable as go-yaml v2 has it: runes outside the Basic Multilingual Plane are not
// printable (so strings with emoji are written double-quoted with \U escapes).
bool IsYamlPrintable(char32_t r) {
  return r == 0x0A || (r >= 0x20 && r <= 0x7E) || (r >= 0xA0 && r <= 0xD7FF) ||
         (r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF);
}

ScalarAnalysis AnalyzeScalar(std::string_view s) {
  ScalarAnalysis a;
  if (s.empty()) {
    a.block_plain_allowed = false;
    a.block_allowed = false;
    return a;
  }
  if (s.starts_with("---") || s.starts_with("...")) a.block_plain_allowed = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false,
       break_space = false, space_break = false, special = false, line_breaks = false,
       block_indicators = false;
  bool preceded_by_whitespace = true;
  bool previous_space = false, previous_break = false;
  for (std::size_t i = 0; i < s.size();) {
    auto [r, n] = DecodeRune(s, i);
    const bool first = i == 0;
    const bool last = i + n >= s.size();
    const char next = last ? '\0' : s[i + n];
    const bool followed_by_whitespace =
        last || next == ' ' || next == '\t' || next == '\n' || next == '\r';
    if (first) {
      switch (r) {
        case '#':
        case ',':
        case '[':
        case ']':
        case '{':
        case '}':
        case '&':
        case '*':
        case '!':
        case '|':
        case '>':
        case '\'':
        case '"':
        case '%':
        case '@':
        case '`':
          block_indicators = true;
          break;
        case '?':
        case ':':
        case '-':
          if (followed_by_whitespace) block_indicators = true;
          break;
        default:
          break;
      }
    } else {
      if (r == ':' && followed_by_whitespace) block_indicators = true;
      if (r == '#' && preceded_by_whitespace) block_indicators = true;
    }
    if (!IsYamlPrintable(r) || (r >= 0x80 && !ValidUtf8(s.substr(i, n)))) special = true;
    if (r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029) line_breaks = true;
    if (r == ' ') {
      if (first) leading_space = true;
      if (last) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029) {
      if (first) leading_break = true;
      if (last) trailing_break = true;
      if (previous_space) space_break = true;
      previous_break = true;
      previous_space = false;
    } else {
      previous_space = false;
      previous_break = false;
    }
    preceded_by_whitespace = r == ' ' || r == '\t' || r == '\n' || r == '\r';
    i += n;
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.block_plain_allowed = false;
  }
  if (trailing_space) a.block_allowed = false;
  if (break_space) {
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
  }
  if (space_break || special) {
    a.block_plain_allowed = false;
    a.single_quoted_allowed = false;
    a.block_allowed = false;
  }
  if (line_breaks) a.block_plain_allowed = false;
  if (block_indicators) a.block_plain_allowed = false;
  return a;
}

constexpr int kYamlBestWidth = 80;

bool IsYamlBreak(char32_t r) {
  return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029;
}

// Writes scalars as libyaml's emitter does, tracking the column so that long scalars are folded
// at white space past column 80 (continuation lines at `indent`).
class YamlScalarWriter {
 public:
  YamlScalarWriter(int column, int indent, bool allow_breaks)
      : column_(column), indent_(indent), allow_breaks_(allow_breaks) {}

  std::string Plain(std::string_view s) {
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      auto [r, n] = DecodeRune(s, i);
      if (r == ' ') {
        if (allow_breaks_ && !spaces && column_ > kYamlBestWidth && !NextIsSpace(s, i + n)) {
          Indent();
        } else {
          Put(s.substr(i, n));
        }
        spaces = true;
      } else {
        Put(s.substr(i, n));
        spaces = false;
      }
      i += n;
    }
    return std::move(out_);
  }

  std::string SingleQuoted(std::string_view s) {
    Put("'");
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      auto [r, n] = DecodeRune(s, i);
      if (r == ' ') {
        if (allow_breaks_ && !spaces && column_ > kYamlBestWidth && i != 0 && i + n < s.size() &&
            !NextIsSpace(s, i + n)) {
          Indent();
        } else {
          Put(s.substr(i, n));
        }
        spaces = true;
      } else {
        if (r == '\'') Put("'");
        Put(s.substr(i, n));
        spaces = false;
      }
      i += n;
    }
    Put("'");
    return std::move(out_);
  }

  std::string DoubleQuoted(std::string_view s) {
    Put("\"");
    bool spaces = false;
    for (std::size_t i = 0; i < s.size();) {
      auto [r, n] = DecodeRune(s, i);
      const bool invalid = r == 0xFFFD && n == 1;
      if (invalid || !IsYamlPrintable(r) || IsYamlBreak(r) || r == '"' || r == '\\') {
        Put(Escape(invalid ? static_cast<unsigned char>(s[i]) : r, invalid));
        spaces = false;
      } else if (r == ' ') {
        if (allow_breaks_ && !spaces && column_ > kYamlBestWidth && i != 0 && i + n < s.size()) {
          Indent();
          if (NextIsSpace(s, i + n)) Put("\\");
        } else {
          Put(" ");
        }
        spaces = true;
      } else {
        Put(s.substr(i, n));
        spaces = false;
      }
      i += n;
    }
    Put("\"");
    return std::move(out_);
  }

 private:
  static bool NextIsSpace(std::string_view s, std::size_t i) { return i < s.size() && s[i] == ' '; }

  static std::string Escape(char32_t r, bool raw_byte) {
    char buf[16];
    if (raw_byte) {
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(r));
      return buf;
    }
    switch (r) {
      case '\0':
        return "\\0";
      case '\a':
        return "\\a";
      case '\b':
        return "\\b";
      case '\t':
        return "\\t";
      case '\n':
        return "\\n";
      case '\v':
        return "\\v";
      case '\f':
        return "\\f";
      case '\r':
        return "\\r";
      case 0x1B:
        return "\\e";
      case '"':
        return "\\\"";
      case '\\':
        return "\\\\";
      case 0x85:
        return "\\N";
      case 0xA0:
        return "\\_";
      case 0x2028:
        return "\\L";
      case 0x2029:
        return "\\P";
      default:
        break;
    }
    if (r <= 0xFF) {
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(r));
    } else if (r <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(r));
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08X", static_cast<unsigned>(r));
    }
    return buf;
  }

  void Put(std::string_view text) {
    out_ += text;
    for (std::size_t i = 0; i < text.size();) {
      i += DecodeRune(text, i).second;
      ++column_;
    }
  }

  void Indent() {
    out_ += '\n';
    out_.append(static_cast<std::size_t>(indent_), ' ');
    column_ = indent_;
  }

  std::string out_;
  int column_;
  int indent_;
  bool allow_breaks_;
};

int RuneCount(std::string_view s) {
  int n = 0;
  for (std::size_t i = 0; i < s.size(); i += DecodeRune(s, i).second) ++n;
  return n;
}

// A literal block scalar ("|", "|-", "|+") for the value of a key or list item whose content
// lines are indented by `indent` spaces.
std::string YamlLiteral(std::string_view s, int indent) {
  std::string out = "|";
  if (s[0] == ' ' || s[0] == '\n') out += '2';
  if (s.back() != '\n') {
    out += '-';
  } else if (s.size() == 1 || s[s.size() - 2] == '\n') {
    out += '+';
  }
  std::string_view body = s;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::size_t pos = 0;
  while (true) {
    const std::size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl == std::string_view::npos ? body.npos : nl - pos);
    out += '\n';
    if (!line.empty()) {
      out += pad;
      out += line;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

// A string scalar as go-yaml v2 writes it, starting at `column`. `key` is true for mapping keys
// (simple keys: never folded, never block scalars); `indent` is the indentation of continuation
// and block scalar content lines.
std::string YamlString(std::string_view s, bool key, int column, int indent) {
  if (!ValidUtf8(s)) {
    return "!!binary " + eso_internal::Base64StdEncode(s);
  }
  Value ignored;
  const bool can_use_plain = ResolvePlain(s, &ignored) == YamlType::kString && !IsBase60Float(s);
  const ScalarAnalysis a = AnalyzeScalar(s);
  YamlScalarWriter w(column, indent, /*allow_breaks=*/!key);
  if (s.find('\n') != std::string_view::npos) {
    if (!key && a.block_allowed) return YamlLiteral(s, indent);
    return w.DoubleQuoted(s);
  }
  if (!can_use_plain) return w.DoubleQuoted(s);
  if (a.block_plain_allowed) return w.Plain(s);
  if (a.single_quoted_allowed) return w.SingleQuoted(s);
  return w.DoubleQuoted(s);
}

std::string YamlFloat(double f) {
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  // sigs.k8s.io/yaml writes JSON first: an integral float becomes an int there.
  std::string json;
  AppendJsonFloat(f, json);
  if (json.find_first_of(".eE") == std::string::npos) return json;
  return GoFormatFloatG(f);
}

bool IsEmptyCollection(const Value& v) {
  return (v.kind() == Kind::kList && v.AsList().empty()) ||
         (v.kind() == Kind::kMap && v.AsMap().empty());
}

std::string YamlScalar(const Value& v, int column, int indent) {
  switch (v.kind()) {
    case Kind::kNil:
      return "null";
    case Kind::kBool:
      return v.AsBool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(v.AsInt());
    case Kind::kDouble:
      return YamlFloat(v.AsDouble());
    case Kind::kString:
      return YamlString(v.AsString(), false, column, indent);
    case Kind::kBytes:
      return YamlString(v.AsBytes().data, false, column, indent);
    case Kind::kList:
      return "[]";
    case Kind::kMap:
      return "{}";
  }
  return "null";
}

void EmitYaml(const Value& v, int indent, std::string& out);

// Writes a mapping's entries, each line starting at `indent` (the first line's indentation
// has been written by the caller when `first_inline` is true).
void EmitYamlMap(const Map& map, int indent, bool first_inline, std::string& out) {
  bool first = true;
  for (const auto& [k, e] : map) {
    if (!(first && first_inline)) out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    const std::string key = YamlString(k, /*key=*/true, indent, indent + 2);
    out += key;
    out += ':';
    if (e.kind() == Kind::kMap && !e.AsMap().empty()) {
      out += '\n';
      EmitYamlMap(e.AsMap(), indent + 2, false, out);
    } else if (e.kind() == Kind::kList && !e.AsList().empty()) {
      out += '\n';
      EmitYaml(e, indent, out);  // go-yaml v2 does not indent a sequence under its key
    } else {
      out += ' ';
      out += YamlScalar(e, indent + RuneCount(key) + 2, indent + 2);
      out += '\n';
    }
  }
}

void EmitYamlList(const List& list, int indent, bool first_inline, std::string& out) {
  bool first = true;
  for (const auto& e : list) {
    if (!(first && first_inline)) out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    out += "- ";
    if (e.kind() == Kind::kMap && !e.AsMap().empty()) {
      EmitYamlMap(e.AsMap(), indent + 2, true, out);
    } else if (e.kind() == Kind::kList && !e.AsList().empty()) {
      EmitYamlList(e.AsList(), indent + 2, true, out);
    } else {
      out += YamlScalar(e, indent + 2, indent + 2);
      out += '\n';
    }
  }
}

void EmitYaml(const Value& v, int indent, std::string& out) {
  if (v.kind() == Kind::kMap && !IsEmptyCollection(v)) {
    EmitYamlMap(v.AsMap(), indent, false, out);
  } else if (v.kind() == Kind::kList && !IsEmptyCollection(v)) {
    EmitYamlList(v.AsList(), indent, false, out);
  } else {
    out.append(static_cast<std::size_t>(indent), ' ');
    out += YamlScalar(v, indent, indent + 2);
    out += '\n';
  }
}

// ESO's toYaml: sigs.k8s.io/yaml.Marshal without the final newline.
std::string ToYaml(const Value& v) {
  std::string out;
  EmitYaml(v, 0, out);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// YAML node -> Value with go-yaml v2's resolution of plain scalars. Errors carry no data.
// Aliases can make a small document expand enormously ("billion laughs"); like go-yaml's
// excessive-aliasing check, stop at a budget of nodes.
constexpr std::size_t kMaxYamlNodes = 1'000'000;

Result<Value> YamlToValue(const YAML::Node& node, std::size_t& budget) {
  if (budget == 0) {
    return Status::InvalidArgument(
        "error converting YAML to JSON: yaml: document contains excessive aliasing");
  }
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Value();
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      const std::string& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return Value(text);
      Value v;
      ResolvePlain(text, &v);
      return v;
    }
    case YAML::NodeType::Sequence: {
      List list;
      for (const auto& e : node) {
        COFFER_ASSIGN_OR_RETURN(Value v, YamlToValue(e, budget));
        list.push_back(std::move(v));
      }
      return Value(std::move(list));
    }
    case YAML::NodeType::Map: {
      Map map;
      for (const auto& kv : node) {
        COFFER_ASSIGN_OR_RETURN(Value k, YamlToValue(kv.first, budget));
        std::string key;
        switch (k.kind()) {
          case Kind::kString:
            key = k.AsString();
            break;
          case Kind::kNil:
            key = "null";
            break;
          case Kind::kBool:
          case Kind::kInt:
          case Kind::kDouble:
            key = GoString(k);
            break;
          default:
            return Status::InvalidArgument(
                "error converting YAML to JSON: unsupported map key of type " +
                std::string(KindName(k.kind())));
        }
        COFFER_ASSIGN_OR_RETURN(Value v, YamlToValue(kv.second, budget));
        map.insert_or_assign(std::move(key), std::move(v));
      }
      return Value(std::move(map));
    }
  }
  return Value();
}

// ESO's fromYaml: a map; a document that does not parse or is not a map yields a map with the
// error message (no data) under "Error", as ESO does.
Value FromYaml(std::string_view text) {
  Map result;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    std::size_t budget = kMaxYamlNodes;
    auto v = YamlToValue(root, budget);
    if (!v.ok()) {
      result["Error"] = Value(v.status().message());
      return Value(std::move(result));
    }
    switch (v->kind()) {
      case Kind::kNil:
        return Value(std::move(result));
      case Kind::kMap:
        return *v;
      default: {
        const char* what = v->kind() == Kind::kList     ? "array"
                           : v->kind() == Kind::kString ? "string"
                           : v->kind() == Kind::kBool   ? "bool"
                                                        : "number";
        result["Error"] = Value(std::string("error unmarshaling JSON: while decoding JSON: json: "
                                            "cannot unmarshal ") +
                                what + " into Go value of type map[string]interface {}");
        return Value(std::move(result));
      }
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages may end in a quoted piece of the input ("unknown escape character:
    // x"): keep only the text before the first colon.
    std::string msg = e.msg;
    if (auto colon = msg.find(':'); colon != std::string::npos) msg.resize(colon);
    result["Error"] = Value("error converting YAML to JSON: yaml: line " +
                            std::to_string(e.mark.line + 1) + ": " + msg);
    return Value(std::move(result));
  }
}

// ---------------------------------------------------------------------------------------------
// Registration helpers.

void AddString1(FunctionMap& fns, const std::string& name,
                std::function<Value(std::string_view)> f) {
  fns.Add(name, [name, f = std::move(f)](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity(name, args, 1, 1));
    COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg(name, args, 0));
    return f(s);
  });
}

void AddString2(FunctionMap& fns, const std::string& name,
                std::function<Value(std::string_view, std::string_view)> f) {
  fns.Add(name, [name, f = std::move(f)](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity(name, args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(std::string_view a, StringArg(name, args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view b, StringArg(name, args, 1));
    return f(a, b);
  });
}

Result<const Map*> MapArg(std::string_view fn, Args args, std::size_t i) {
  if (args[i].kind() != Kind::kMap) {
    return FnError(fn, "argument " + std::to_string(i + 1) + ": expected map; got " +
                           KindName(args[i].kind()));
  }
  return &args[i].AsMap();
}

void AddStringFunctions(FunctionMap& fns) {
  fns.Add("toString", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("toString", args, 1, 1));
    return Value(GoString(args[0]));
  });
  AddString1(fns, "upper", [](std::string_view s) { return Value(CaseMap(s, true)); });
  AddString1(fns, "lower", [](std::string_view s) { return Value(CaseMap(s, false)); });
  AddString1(fns, "title", [](std::string_view s) { return Value(Title(s)); });
  AddString1(fns, "trim",
             [](std::string_view s) { return Value(std::string(TrimFunc(s, DropSpace, ""))); });
  AddString2(fns, "trimAll", [](std::string_view cutset, std::string_view s) {
    return Value(std::string(TrimFunc(s, DropCutset, cutset)));
  });
  AddString2(fns, "trimall", [](std::string_view cutset, std::string_view s) {
    return Value(std::string(TrimFunc(s, DropCutset, cutset)));
  });
  AddString2(fns, "trimPrefix", [](std::string_view prefix, std::string_view s) {
    if (s.starts_with(prefix)) s.remove_prefix(prefix.size());
    return Value(std::string(s));
  });
  AddString2(fns, "trimSuffix", [](std::string_view suffix, std::string_view s) {
    if (s.ends_with(suffix)) s.remove_suffix(suffix.size());
    return Value(std::string(s));
  });
  fns.Add("replace", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("replace", args, 3, 3));
    COFFER_ASSIGN_OR_RETURN(std::string_view from, StringArg("replace", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view to, StringArg("replace", args, 1));
    COFFER_ASSIGN_OR_RETURN(std::string_view src, StringArg("replace", args, 2));
    return Value(ReplaceAll(src, from, to));
  });
  fns.Add("quote", [](Args args) -> Result<Value> {
    std::string out;
    bool first = true;
    for (const auto& a : args) {
      if (a.is_nil()) continue;
      if (!first) out += ' ';
      first = false;
      out += GoQuote(GoString(a));
    }
    return Value(std::move(out));
  });
  fns.Add("squote", [](Args args) -> Result<Value> {
    std::string out;
    bool first = true;
    for (const auto& a : args) {
      if (a.is_nil()) continue;
      if (!first) out += ' ';
      first = false;
      out += '\'' + GoString(a) + '\'';
    }
    return Value(std::move(out));
  });
  AddString2(fns, "contains", [](std::string_view sub, std::string_view s) {
    return Value(s.find(sub) != std::string_view::npos);
  });
  AddString2(fns, "hasPrefix",
             [](std::string_view p, std::string_view s) { return Value(s.starts_with(p)); });
  AddString2(fns, "hasSuffix",
             [](std::string_view p, std::string_view s) { return Value(s.ends_with(p)); });
  AddString2(fns, "split", [](std::string_view sep, std::string_view s) {
    Map out;
    const auto parts = GoSplit(s, sep);
    for (std::size_t i = 0; i < parts.size(); ++i) out["_" + std::to_string(i)] = Value(parts[i]);
    return Value(std::move(out));
  });
  AddString2(fns, "splitList", [](std::string_view sep, std::string_view s) {
    List out;
    for (auto& p : GoSplit(s, sep)) out.emplace_back(std::move(p));
    return Value(std::move(out));
  });
  fns.Add("join", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("join", args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(std::string_view sep, StringArg("join", args, 0));
    std::string out;
    bool first = true;
    for (const auto& s : StrSlice(args[1])) {
      if (!first) out += sep;
      first = false;
      out += s;
    }
    return Value(std::move(out));
  });
  fns.Add("toStrings", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("toStrings", args, 1, 1));
    List out;
    for (auto& s : StrSlice(args[0])) out.emplace_back(std::move(s));
    return Value(std::move(out));
  });
  for (const bool leading_newline : {false, true}) {
    const std::string name = leading_newline ? "nindent" : "indent";
    fns.Add(name, [name, leading_newline](Args args) -> Result<Value> {
      COFFER_RETURN_IF_ERROR(CheckArity(name, args, 2, 2));
      COFFER_ASSIGN_OR_RETURN(std::int64_t n, IntArg(name, args, 0));
      COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg(name, args, 1));
      if (n < 0 || n > 1024) return FnError(name, "the indentation is out of range 0..1024");
      return Value((leading_newline ? "\n" : "") + Indent(n, s));
    });
  }
  fns.Add("repeat", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("repeat", args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(std::int64_t n, IntArg("repeat", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg("repeat", args, 1));
    if (n < 0) return FnError("repeat", "negative repeat count");
    if (static_cast<std::uint64_t>(n) * s.size() > (64u << 20)) {
      return FnError("repeat", "the result would be larger than 64 MiB");
    }
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += s;
    return Value(std::move(out));
  });
}

void AddDefaultAndCollectionFunctions(FunctionMap& fns) {
  fns.Add("default", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("default", args, 1, kMany));
    if (args.size() == 1 || !args[1].Truthy()) return args[0];
    return args[1];
  });
  fns.Add("empty", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("empty", args, 1, 1));
    return Value(!args[0].Truthy());
  });
  fns.Add("coalesce", [](Args args) -> Result<Value> {
    for (const auto& a : args) {
      if (a.Truthy()) return a;
    }
    return Value();
  });
  fns.Add("ternary", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("ternary", args, 3, 3));
    COFFER_ASSIGN_OR_RETURN(bool cond, BoolArg("ternary", args, 2));
    return cond ? args[0] : args[1];
  });
  fns.Add("list", [](Args args) -> Result<Value> { return Value(List(args.begin(), args.end())); });
  fns.Add("tuple",
          [](Args args) -> Result<Value> { return Value(List(args.begin(), args.end())); });
  fns.Add("dict", [](Args args) -> Result<Value> {
    Map out;
    for (std::size_t i = 0; i < args.size(); i += 2) {
      out.insert_or_assign(GoString(args[i]), i + 1 < args.size() ? args[i + 1] : Value(""));
    }
    return Value(std::move(out));
  });
  fns.Add("get", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("get", args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("get", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view key, StringArg("get", args, 1));
    auto it = m->find(key);
    return it == m->end() ? Value("") : it->second;
  });
  fns.Add("set", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("set", args, 3, 3));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("set", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view key, StringArg("set", args, 1));
    Map out = *m;
    out.insert_or_assign(std::string(key), args[2]);
    return Value(std::move(out));
  });
  fns.Add("unset", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("unset", args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("unset", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view key, StringArg("unset", args, 1));
    Map out = *m;
    if (auto it = out.find(key); it != out.end()) out.erase(it);
    return Value(std::move(out));
  });
  fns.Add("hasKey", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("hasKey", args, 2, 2));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("hasKey", args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view key, StringArg("hasKey", args, 1));
    return Value(m->find(key) != m->end());
  });
  fns.Add("keys", [](Args args) -> Result<Value> {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < args.size(); ++i) {
      COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("keys", args, i));
      for (const auto& [k, v] : *m) keys.push_back(k);
    }
    std::sort(keys.begin(), keys.end());
    List out;
    for (auto& k : keys) out.emplace_back(std::move(k));
    return Value(std::move(out));
  });
  fns.Add("values", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("values", args, 1, 1));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("values", args, 0));
    List out;
    for (const auto& [k, v] : *m) out.push_back(v);
    return Value(std::move(out));
  });
  // dig "a" "b" DEFAULT DICT: the value at a.b, or DEFAULT when a key is missing.
  fns.Add("dig", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("dig", args, 3, kMany));
    COFFER_ASSIGN_OR_RETURN(const Map* m, MapArg("dig", args, args.size() - 1));
    const Value& fallback = args[args.size() - 2];
    const Value* cur = nullptr;
    for (std::size_t i = 0; i + 2 < args.size(); ++i) {
      COFFER_ASSIGN_OR_RETURN(std::string_view key, StringArg("dig", args, i));
      if (cur != nullptr) {
        if (cur->kind() != Kind::kMap) {
          return FnError("dig", "the value at key " + std::to_string(i) + " is not a map");
        }
        m = &cur->AsMap();
      }
      auto it = m->find(key);
      if (it == m->end()) return fallback;
      cur = &it->second;
    }
    return *cur;
  });
  fns.Add("first", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("first", args, 1, 1));
    if (args[0].kind() != Kind::kList) {
      return FnError("first",
                     std::string("argument 1: expected slice; got ") + KindName(args[0].kind()));
    }
    return args[0].AsList().empty() ? Value() : args[0].AsList().front();
  });
  fns.Add("last", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("last", args, 1, 1));
    if (args[0].kind() != Kind::kList) {
      return FnError("last",
                     std::string("argument 1: expected slice; got ") + KindName(args[0].kind()));
    }
    return args[0].AsList().empty() ? Value() : args[0].AsList().back();
  });
  fns.Add("sortAlpha", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("sortAlpha", args, 1, 1));
    auto strs = StrSlice(args[0]);
    std::sort(strs.begin(), strs.end());
    List out;
    for (auto& s : strs) out.emplace_back(std::move(s));
    return Value(std::move(out));
  });
}

void AddEncodingFunctions(FunctionMap& fns) {
  AddString1(fns, "b64enc",
             [](std::string_view s) { return Value(eso_internal::Base64StdEncode(s)); });
  // b64dec and b32dec: one argument, decoded, or Go's "illegal <what> data at input byte N".
  using Decoder = bool (*)(std::string_view, std::string*, std::size_t*);
  const auto add_decoder = [&fns](std::string name, std::string what, Decoder decode) {
    fns.Add(name, [name, what, decode](Args args) -> Result<Value> {
      COFFER_RETURN_IF_ERROR(CheckArity(name, args, 1, 1));
      COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg(name, args, 0));
      std::string out;
      std::size_t offset = 0;
      if (!decode(s, &out, &offset)) {
        return FnError(name, "illegal " + what + " data at input byte " + std::to_string(offset));
      }
      return Value(std::move(out));
    });
  };
  add_decoder("b64dec", "base64", eso_internal::Base64StdDecode);
  AddString1(fns, "b32enc",
             [](std::string_view s) { return Value(eso_internal::Base32StdEncode(s)); });
  add_decoder("b32dec", "base32", [](std::string_view s, std::string* out, std::size_t* offset) {
    return eso_internal::DecodePadded(s, eso_internal::kB32Alphabet, 5, 8,
                                      eso_internal::ValidB32DataLen, out, offset);
  });
}

void AddJsonYamlFunctions(FunctionMap& fns) {
  fns.Add("fromJson", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("fromJson", args, 1, 1));
    COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg("fromJson", args, 0));
    auto v = ParseJson("fromJson", s);
    return v.ok() ? *v : Value();  // Sprig's fromJson ignores errors
  });
  fns.Add("mustFromJson", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("mustFromJson", args, 1, 1));
    COFFER_ASSIGN_OR_RETURN(std::string_view s, StringArg("mustFromJson", args, 0));
    return ParseJson("mustFromJson", s);
  });
  struct JsonVariant {
    const char* name;
    const char* must_name;
    bool escape_html;
    int indent;
  };
  for (const JsonVariant& jv : {JsonVariant{"toJson", "mustToJson", true, 0},
                                JsonVariant{"toRawJson", "mustToRawJson", false, 0},
                                JsonVariant{"toPrettyJson", "mustToPrettyJson", true, 2}}) {
    const std::string name = jv.name;
    const std::string must = jv.must_name;
    fns.Add(name, [name, jv](Args args) -> Result<Value> {
      COFFER_RETURN_IF_ERROR(CheckArity(name, args, 1, 1));
      auto out = GoJson(args[0], jv.escape_html, jv.indent);
      return Value(out ? std::move(*out) : std::string());  // Sprig swallows the error
    });
    fns.Add(must, [must, jv](Args args) -> Result<Value> {
      COFFER_RETURN_IF_ERROR(CheckArity(must, args, 1, 1));
      auto out = GoJson(args[0], jv.escape_html, jv.indent);
      if (!out) return FnError(must, "json: unsupported value: NaN or infinite number");
      return Value(std::move(*out));
    });
  }
  fns.Add("toYaml", [](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity("toYaml", args, 1, 1));
    return Value(ToYaml(args[0]));
  });
  AddString1(fns, "fromYaml", [](std::string_view s) { return FromYaml(s); });
}

}  // namespace

void AddEsoFunctions(FunctionMap& fns) {
  AddStringFunctions(fns);
  AddDefaultAndCollectionFunctions(fns);
  AddEncodingFunctions(fns);
  AddJsonYamlFunctions(fns);
  eso_internal::AddCryptoFunctions(fns);
}

const FunctionMap& EsoFunctions() {
  static const FunctionMap* const kFunctions = [] {
    auto* fns = new FunctionMap();
    AddEsoFunctions(*fns);
    return fns;
  }();
  return *kFunctions;
}

}  // namespace coffer::tmpl
