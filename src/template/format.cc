#include "template/format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "template/literal.h"

namespace coffer::tmpl::internal {
namespace {

struct Spec {
  bool minus = false;
  bool plus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  bool plus_v = false;
  bool sharp_v = false;
  bool wid_present = false;
  bool prec_present = false;
  int wid = 0;
  int prec = 0;
};

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t size = 0;
    DecodeRune(s, i, &size);
    i += size;
    ++n;
  }
  return n;
}

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  Spec f;

  void WritePadding(size_t n) {
    if (n == 0) return;
    out_.append(n, f.zero ? '0' : ' ');
  }
  // Appends s padded to the width (counting runes), on the left unless '-'.
  void Pad(std::string_view s) {
    if (!f.wid_present || f.wid == 0) {
      out_ += s;
      return;
    }
    const size_t width = RuneCount(s);
    const size_t want = static_cast<size_t>(f.wid);
    if (width >= want) {
      out_ += s;
      return;
    }
    if (!f.minus) {
      WritePadding(want - width);
      out_ += s;
    } else {
      out_ += s;
      const bool z = f.zero;
      f.zero = false;
      WritePadding(want - width);
      f.zero = z;
    }
  }

  // Truncates s to the precision (in runes).
  std::string_view Truncate(std::string_view s) const {
    if (!f.prec_present) return s;
    size_t i = 0;
    int n = 0;
    while (i < s.size()) {
      if (n == f.prec) return s.substr(0, i);
      size_t size = 0;
      DecodeRune(s, i, &size);
      i += size;
      ++n;
    }
    return s;
  }

  void FmtS(std::string_view s) { Pad(Truncate(s)); }

  void FmtBool(bool b) { Pad(b ? "true" : "false"); }

  void FmtInteger(std::uint64_t u, int base, bool is_signed, char verb, bool upper) {
    const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
    const bool negative = is_signed && static_cast<std::int64_t>(u) < 0;
    if (negative) u = ~u + 1;
    int prec = 0;
    if (f.prec_present) {
      prec = f.prec;
      if (prec == 0 && u == 0) {
        const bool z = f.zero;
        f.zero = false;
        WritePadding(f.wid_present ? static_cast<size_t>(f.wid) : 0);
        f.zero = z;
        return;
      }
    } else if (f.zero && f.wid_present) {
      prec = f.wid;
      if (negative || f.plus || f.space) --prec;
    }
    std::string buf;
    const auto b = static_cast<std::uint64_t>(base);
    do {
      buf.push_back(digits[u % b]);
      u /= b;
    } while (u != 0);
    while (static_cast<int>(buf.size()) < prec) buf.push_back('0');
    if (f.sharp) {
      switch (base) {
        case 2:
          buf += "b0";
          break;
        case 8:
          if (buf.back() != '0') buf.push_back('0');
          break;
        case 16:
          buf.push_back(digits[16]);
          buf.push_back('0');
          break;
        default:
          break;
      }
    }
    if (verb == 'O') buf += "o0";
    if (negative) {
      buf.push_back('-');
    } else if (f.plus) {
      buf.push_back('+');
    } else if (f.space) {
      buf.push_back(' ');
    }
    std::string s(buf.rbegin(), buf.rend());
    const bool z = f.zero;
    f.zero = false;
    Pad(s);
    f.zero = z;
  }

  void FmtUnicode(std::int64_t r) {
    char buf[32];
    const int prec = f.prec_present && f.prec > 4 ? std::min(f.prec, 20) : 4;
    std::snprintf(buf, sizeof buf, "U+%0*llX", prec, static_cast<unsigned long long>(r));
    std::string s = buf;
    if (f.sharp && r >= 0 && r <= 0x10FFFF && IsPrintRune(static_cast<std::int32_t>(r))) {
      s += " '";
      AppendRune(s, r);
      s += "'";
    }
    const bool z = f.zero;
    f.zero = false;
    Pad(s);
    f.zero = z;
  }

  // Go's fmtFloat: verb is one of e E f F g G; prec -1 means shortest.
  void FmtFloat(double v, char verb, int prec) {
    if (f.prec_present) prec = f.prec;
    std::string num = FormatFloat(v, verb, prec);
    if (num[0] != '-' && num[0] != '+') num.insert(num.begin(), '+');
    if (f.space && num[0] == '+' && !f.plus) num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      const bool z = f.zero;
      f.zero = false;
      if (num[1] == 'N' && !f.space && !f.plus) num.erase(0, 1);
      Pad(num);
      f.zero = z;
      return;
    }
    if (f.sharp) {
      // '#': always a decimal point, and for %g the trailing zeros up to the precision.
      int digits = 0;
      if (verb == 'g' || verb == 'G') digits = prec < 0 ? 6 : prec;
      std::string tail;
      bool has_point = false;
      bool saw_nonzero = false;
      for (size_t i = 1; i < num.size(); ++i) {
        const char c = num[i];
        if (c == '.') {
          has_point = true;
        } else if (c == 'e' || c == 'E') {
          tail = num.substr(i);
          num.resize(i);
          break;
        } else {
          if (c != '0') saw_nonzero = true;
          if (saw_nonzero) --digits;
        }
      }
      if (!has_point) {
        if (num.size() == 2 && num[1] == '0') --digits;
        num.push_back('.');
      }
      for (; digits > 0; --digits) num.push_back('0');
      num += tail;
    }
    if (f.plus || num[0] != '+') {
      if (f.zero && f.wid_present && f.wid > static_cast<int>(num.size())) {
        out_.push_back(num[0]);
        WritePadding(static_cast<size_t>(f.wid) - num.size());
        out_.append(num, 1);
        return;
      }
      Pad(num);
      return;
    }
    Pad(std::string_view(num).substr(1));
  }

  // strconv.FormatFloat(v, verb, prec, 64) for e E f F g G.
  static std::string FormatFloat(double v, char verb, int prec) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::string out = std::signbit(v) ? "-" : "";
    const double a = std::fabs(v);
    char buf[1024];
    const char lower = static_cast<char>(verb | 0x20);
    if (lower == 'e' || lower == 'f') {
      if (prec < 0) prec = 6;
      // Up to 309 integer digits, the point, `prec` decimals and an exponent.
      std::string s(static_cast<size_t>(prec) + 330, '\0');
      auto r = std::to_chars(
          s.data(), s.data() + s.size(), a,
          lower == 'e' ? std::chars_format::scientific : std::chars_format::fixed, prec);
      s.resize(static_cast<size_t>(r.ptr - s.data()));
      if (verb == 'E') {
        for (char& c : s) {
          if (c == 'e') c = 'E';
        }
      }
      return out + s;
    }
    // 'g' / 'G': decimal digits d (no trailing zeros) and point position dp: a = 0.d x 10^dp.
    std::string d;
    int dp = 0;
    if (a != 0) {
      std::to_chars_result r;
      if (prec < 0) {
        r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific);
      } else {
        // A double has at most 767 significant decimal digits; %g drops trailing zeros.
        const int p = std::min(prec == 0 ? 1 : prec, 800);
        r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific, p - 1);
      }
      std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
      const size_t e = s.find('e');
      for (char c : s.substr(0, e)) {
        if (c != '.') d.push_back(c);
      }
      int exp = 0;
      std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp);
      dp = exp + 1;
      while (d.size() > 1 && d.back() == '0') d.pop_back();
    }
    const int nd = static_cast<int>(d.size());
    int eprec = prec;
    if (prec < 0) {
      eprec = 6;
    } else {
      if (eprec == 0) eprec = 1;
      if (eprec > nd && nd >= dp) eprec = nd;
    }
    const int exp = dp - 1;
    auto digit = [&](int i) { return i >= 0 && i < nd ? d[static_cast<size_t>(i)] : '0'; };
    if (a != 0 && (exp < -4 || exp >= eprec)) {
      out.push_back(digit(0));
      if (nd > 1) {
        out.push_back('.');
        out.append(d, 1);
      }
      out.push_back(verb == 'G' ? 'E' : 'e');
      out.push_back(exp < 0 ? '-' : '+');
      const int ae = std::abs(exp);
      if (ae < 10) out.push_back('0');
      out += std::to_string(ae);
      return out;
    }
    if (dp > 0) {
      for (int i = 0; i < dp; ++i) out.push_back(digit(i));
    } else {
      out.push_back('0');
    }
    const int frac = std::max(nd - dp, 0);
    if (frac > 0) {
      out.push_back('.');
      for (int i = 0; i < frac; ++i) out.push_back(digit(dp + i));
    }
    return out;
  }

  // Hexadecimal float (%x / %X): 0x1.8p+00.
  void FmtHexFloat(double v, bool upper) {
    std::string s;
    if (std::isnan(v) || std::isinf(v)) {
      FmtFloat(v, 'g', -1);
      return;
    }
    if (std::signbit(v)) {
      s = "-";
    } else if (f.plus) {
      s = "+";
    } else if (f.space) {
      s = " ";
    }
    const double a = std::fabs(v);
    int exp = 0;
    std::uint64_t mant = 0;
    if (a != 0) {
      const double m = std::frexp(a, &exp);  // a = m * 2^exp, m in [0.5, 1)
      mant = static_cast<std::uint64_t>(std::ldexp(m, 53));
      --exp;
    }
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string frac;
    std::uint64_t fbits = mant & ((std::uint64_t{1} << 52) - 1);
    for (int i = 0; i < 13; ++i) {
      frac.push_back(hex[(fbits >> (48 - 4 * i)) & 0xF]);
    }
    if (f.prec_present && f.prec < 13) {
      // Round half to even on the dropped nibbles.
      const int keep = f.prec;
      const int drop_bits = 52 - 4 * keep;
      std::uint64_t full = mant;
      const std::uint64_t half = std::uint64_t{1} << (drop_bits - 1);
      const std::uint64_t rem = full & ((std::uint64_t{1} << drop_bits) - 1);
      full >>= drop_bits;
      if (rem > half || (rem == half && (full & 1) != 0)) ++full;
      if (full >> (4 * keep + 1) != 0) {
        full >>= 1;
        ++exp;
      }
      frac.clear();
      for (int i = keep - 1; i >= 0; --i) frac.push_back(hex[(full >> (4 * i)) & 0xF]);
      mant = full >> (4 * keep);
      s += upper ? "0X" : "0x";
      s.push_back(a == 0 ? '0' : static_cast<char>('0' + (mant & 1)));
    } else {
      while (!frac.empty() && frac.back() == '0' && !f.prec_present) frac.pop_back();
      while (f.prec_present && static_cast<int>(frac.size()) < f.prec) frac.push_back('0');
      s += upper ? "0X" : "0x";
      s.push_back(a == 0 ? '0' : '1');
    }
    if (!frac.empty()) {
      s += "." + frac;
    } else if (f.sharp) {
      s.push_back('.');
    }
    s.push_back(upper ? 'P' : 'p');
    s.push_back(exp < 0 ? '-' : '+');
    const int ae = std::abs(exp);
    if (ae < 10) s.push_back('0');
    s += std::to_string(ae);
    Pad(s);
  }

  // strconv's 'b' format: decimal mantissa and binary exponent, 4503599627370496p-52.
  void FmtBinaryFloat(double v) {
    if (std::isnan(v) || std::isinf(v)) {
      FmtFloat(v, 'g', -1);
      return;
    }
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    std::uint64_t mant = bits & ((std::uint64_t{1} << 52) - 1);
    int exp = static_cast<int>((bits >> 52) & 0x7FF);
    if (exp == 0) {
      exp = 1;
    } else {
      mant |= std::uint64_t{1} << 52;
    }
    exp += -1023 - 52;
    std::string s = (bits >> 63) != 0 ? "-" : (f.plus ? "+" : (f.space ? " " : ""));
    s += std::to_string(mant) + "p" + (exp >= 0 ? "+" : "") + std::to_string(exp);
    Pad(s);
  }

  void FmtSbx(std::string_view s, bool upper) {
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t length = s.size();
    if (f.prec_present && static_cast<size_t>(f.prec) < length)
      length = static_cast<size_t>(f.prec);
    std::string buf;
    if (length == 0) {
      Pad("");
      return;
    }
    if (f.sharp && !f.space) buf += upper ? "0X" : "0x";
    for (size_t i = 0; i < length; ++i) {
      if (f.space && i > 0) buf.push_back(' ');
      if (f.space && f.sharp) buf += upper ? "0X" : "0x";
      const auto c = static_cast<unsigned char>(s[i]);
      buf.push_back(hex[c >> 4]);
      buf.push_back(hex[c & 0xF]);
    }
    Pad(buf);
  }

  void FmtQ(std::string_view s) {
    s = Truncate(s);
    if (f.sharp && CanBackquote(s)) {
      Pad("`" + std::string(s) + "`");
      return;
    }
    Pad(GoQuote(s, f.plus));
  }

  void FmtQc(std::int64_t r) { Pad(GoQuoteRune(r, f.plus)); }

  void BadVerb(char verb, const Value* v, const char* type_name = nullptr) {
    out_ += "%!";
    AppendRune(out_, static_cast<unsigned char>(verb));
    out_.push_back('(');
    if (v == nullptr || v->is_nil()) {
      out_ += "<nil>";
    } else {
      out_ += type_name != nullptr ? type_name : GoTypeName(*v);
      out_.push_back('=');
      PrintValue(*v, 'v', 0);
    }
    out_.push_back(')');
  }

  void PrintInt(std::int64_t i, char verb, const Value& v, const char* type_name = nullptr) {
    const auto u = static_cast<std::uint64_t>(i);
    switch (verb) {
      case 'v':
      case 'd':
        FmtInteger(u, 10, true, verb, false);
        return;
      case 'b':
        FmtInteger(u, 2, true, verb, false);
        return;
      case 'o':
      case 'O':
        FmtInteger(u, 8, true, verb, false);
        return;
      case 'x':
        FmtInteger(u, 16, true, verb, false);
        return;
      case 'X':
        FmtInteger(u, 16, true, verb, true);
        return;
      case 'c': {
        std::string s;
        AppendRune(s, i);
        Pad(s);
        return;
      }
      case 'q':
        FmtQc(i);
        return;
      case 'U':
        FmtUnicode(i);
        return;
      default:
        BadVerb(verb, &v, type_name);
    }
  }

  void PrintValue(const Value& v, char verb, int depth) {
    switch (v.kind()) {
      case Kind::kNil:
        if (depth > 0) {
          out_ += "<nil>";  // Go writes a nested nil without padding or precision
        } else if (verb == 'v') {
          Pad("<nil>");
        } else {
          BadVerb(verb, nullptr);
        }
        return;
      case Kind::kBool:
        if (verb == 't' || verb == 'v') {
          FmtBool(v.AsBool());
        } else {
          BadVerb(verb, &v);
        }
        return;
      case Kind::kInt:
        PrintInt(v.AsInt(), verb, v);
        return;
      case Kind::kDouble:
        switch (verb) {
          case 'v':
            FmtFloat(v.AsDouble(), 'g', -1);
            return;
          case 'g':
          case 'G':
            FmtFloat(v.AsDouble(), verb, -1);
            return;
          case 'e':
          case 'E':
          case 'f':
            FmtFloat(v.AsDouble(), verb, 6);
            return;
          case 'F':
            FmtFloat(v.AsDouble(), 'f', 6);
            return;
          case 'x':
          case 'X':
            FmtHexFloat(v.AsDouble(), verb == 'X');
            return;
          case 'b':
            FmtBinaryFloat(v.AsDouble());
            return;
          default:
            BadVerb(verb, &v);
            return;
        }
      case Kind::kString:
        switch (verb) {
          case 'v':
            if (f.sharp_v) {
              FmtQ(v.AsString());
            } else {
              FmtS(v.AsString());
            }
            return;
          case 's':
            FmtS(v.AsString());
            return;
          case 'x':
          case 'X':
            FmtSbx(v.AsString(), verb == 'X');
            return;
          case 'q':
            FmtQ(v.AsString());
            return;
          default:
            BadVerb(verb, &v);
            return;
        }
      case Kind::kBytes: {
        const std::string& data = v.AsBytes().data;
        switch (verb) {
          case 's':
            FmtS(data);
            return;
          case 'x':
          case 'X':
            FmtSbx(data, verb == 'X');
            return;
          case 'q':
            FmtQ(data);
            return;
          default:
            break;
        }
        out_.push_back('[');
        for (size_t i = 0; i < data.size(); ++i) {
          if (i > 0) out_.push_back(' ');
          const Value b(static_cast<std::int64_t>(static_cast<unsigned char>(data[i])));
          PrintInt(b.AsInt(), verb, b, "uint8");
        }
        out_.push_back(']');
        return;
      }
      case Kind::kList: {
        out_.push_back('[');
        const List& list = v.AsList();
        for (size_t i = 0; i < list.size(); ++i) {
          if (i > 0) out_.push_back(' ');
          PrintValue(list[i], verb, depth + 1);
        }
        out_.push_back(']');
        return;
      }
      case Kind::kMap: {
        out_ += "map[";
        bool first = true;
        for (const auto& [k, e] : v.AsMap()) {
          if (!first) out_.push_back(' ');
          first = false;
          PrintValue(Value(k), verb, depth + 1);
          out_.push_back(':');
          PrintValue(e, verb, depth + 1);
        }
        out_.push_back(']');
        return;
      }
    }
  }

  void PrintArg(const Value& v, char verb) {
    if (verb == 'T') {
      if (v.is_nil()) {
        Pad("<nil>");
      } else {
        FmtS(GoTypeName(v));
      }
      return;
    }
    PrintValue(v, verb, 0);
  }

 private:
  std::string& out_;
};

// Parses a decimal number at format[i]; returns -1 when there is none.
int ParseNum(std::string_view s, size_t& i, bool& ok) {
  ok = false;
  int n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > 1000000) return -1;  // absurd width: Go reports BADWIDTH
    n = n * 10 + (s[i] - '0');
    ok = true;
    ++i;
  }
  return n;
}

}  // namespace

const char* GoTypeName(const Value& v) {
  switch (v.kind()) {
    case Kind::kNil:
      return "<nil>";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kDouble:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kList:
      return "[]interface {}";
    case Kind::kMap:
      return "map[string]interface {}";
    case Kind::kBytes:
      return "[]uint8";
  }
  return "?";
}

void AppendValue(std::string& out, const Value& v) {
  Printer p(out);
  p.PrintArg(v, 'v');
}

std::string Sprint(std::span<const Value> args) {
  std::string out;
  Printer p(out);
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].kind() == Kind::kString;
    if (i > 0 && !is_string && !prev_string) out.push_back(' ');
    p.PrintArg(args[i], 'v');
    prev_string = is_string;
  }
  return out;
}

std::string Sprintln(std::span<const Value> args) {
  std::string out;
  Printer p(out);
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out.push_back(' ');
    p.PrintArg(args[i], 'v');
  }
  out.push_back('\n');
  return out;
}

std::string Sprintf(std::string_view format, std::span<const Value> args) {
  std::string out;
  Printer p(out);
  size_t arg_num = 0;
  bool reordered = false;
  bool good_arg_num = true;
  const size_t end = format.size();
  size_t i = 0;
  // Go's argNumber: "[n]" picks operand n (1-based).
  auto arg_number = [&](size_t& at) {
    if (at >= end || format[at] != '[') return;
    reordered = true;
    size_t j = at + 1;
    bool ok = false;
    const int n = ParseNum(format, j, ok);
    if (!ok || j >= end || format[j] != ']' || n < 1 || static_cast<size_t>(n) > args.size()) {
      // Go skips to the closing bracket, or just the '[' when there is none.
      const size_t close = format.find(']', at);
      good_arg_num = false;
      at = close == std::string_view::npos ? at + 1 : close + 1;
      return;
    }
    arg_num = static_cast<size_t>(n - 1);
    at = j + 1;
  };
  auto int_from_arg = [&](int& value) {
    if (arg_num >= args.size()) return false;
    const Value& a = args[arg_num++];
    if (a.kind() != Kind::kInt) return false;
    const std::int64_t n = a.AsInt();
    if (n > 1000000 || n < -1000000) return false;
    value = static_cast<int>(n);
    return true;
  };
  while (i < end) {
    good_arg_num = true;
    const size_t last = i;
    while (i < end && format[i] != '%') ++i;
    if (i > last) out.append(format.substr(last, i - last));
    if (i >= end) break;
    ++i;  // skip %
    p.f = Spec{};
    for (; i < end; ++i) {
      const char c = format[i];
      if (c == '#') {
        p.f.sharp = true;
      } else if (c == '0') {
        p.f.zero = !p.f.minus;
      } else if (c == '+') {
        p.f.plus = true;
      } else if (c == '-') {
        p.f.minus = true;
        p.f.zero = false;
      } else if (c == ' ') {
        p.f.space = true;
      } else {
        break;
      }
    }
    arg_number(i);
    if (i < end && format[i] == '*') {
      ++i;
      p.f.wid_present = int_from_arg(p.f.wid);
      if (!p.f.wid_present) out += "%!(BADWIDTH)";
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
    } else {
      bool ok = false;
      p.f.wid = ParseNum(format, i, ok);
      p.f.wid_present = ok;
      if (p.f.wid < 0) {
        out += "%!(BADWIDTH)";
        p.f.wid_present = false;
        p.f.wid = 0;
      }
    }
    if (i + 1 <= end && i < end && format[i] == '.') {
      ++i;
      arg_number(i);
      if (i < end && format[i] == '*') {
        ++i;
        p.f.prec_present = int_from_arg(p.f.prec);
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.prec_present = false;
        }
        if (!p.f.prec_present) out += "%!(BADPREC)";
      } else {
        bool ok = false;
        p.f.prec = ParseNum(format, i, ok);
        if (p.f.prec < 0) {
          out += "%!(BADPREC)";
          p.f.prec = 0;
        }
        p.f.prec_present = true;
      }
    }
    arg_number(i);
    if (i >= end) {
      out += "%!(NOVERB)";
      break;
    }
    size_t size = 0;
    const std::int32_t verb_rune = DecodeRune(format, i, &size);
    i += size;
    const char verb = verb_rune < 0x80 ? static_cast<char>(verb_rune) : '?';
    if (verb_rune == '%') {
      out.push_back('%');
      continue;
    }
    if (!good_arg_num) {
      out += "%!";
      AppendRune(out, verb_rune);
      out += "(BADINDEX)";
      continue;
    }
    if (arg_num >= args.size()) {
      out += "%!";
      AppendRune(out, verb_rune);
      out += "(MISSING)";
      continue;
    }
    if (verb == 'v') {
      p.f.sharp_v = p.f.sharp;
      p.f.sharp = false;
      p.f.plus_v = p.f.plus;
      p.f.plus = false;
    }
    if (verb_rune >= 0x80) {
      out += "%!";
      AppendRune(out, verb_rune);
      out.push_back('(');
      const Value& a = args[arg_num++];
      if (a.is_nil()) {
        out += "<nil>";
      } else {
        out += GoTypeName(a);
        out.push_back('=');
        p.PrintValue(a, 'v', 0);
      }
      out.push_back(')');
      continue;
    }
    p.PrintArg(args[arg_num++], verb);
  }
  if (!reordered && arg_num < args.size()) {
    p.f = Spec{};
    out += "%!(EXTRA ";
    for (size_t k = arg_num; k < args.size(); ++k) {
      if (k > arg_num) out += ", ";
      if (args[k].is_nil()) {
        out += "<nil>";
      } else {
        out += GoTypeName(args[k]);
        out.push_back('=');
        p.PrintArg(args[k], 'v');
      }
    }
    out.push_back(')');
  }
  return out;
}

}  // namespace coffer::tmpl::internal
