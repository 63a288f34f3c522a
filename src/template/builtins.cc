#include "template/builtins.h"

#include <cstdio>
#include <string>
#include <vector>

#include "template/format.h"
#include "template/literal.h"

namespace coffer::tmpl::internal {
namespace {

Status Err(std::string message) { return Status::InvalidArgument(std::move(message)); }

// Go's basicKind classes; kOther for nil and non-basic kinds.
enum class Basic : std::uint8_t { kBool, kInt, kFloat, kString, kOther };

Basic BasicOf(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool:
      return Basic::kBool;
    case Kind::kInt:
      return Basic::kInt;
    case Kind::kDouble:
      return Basic::kFloat;
    case Kind::kString:
      return Basic::kString;
    default:
      return Basic::kOther;
  }
}

bool Comparable(const Value& v) {
  return v.kind() != Kind::kList && v.kind() != Kind::kMap && v.kind() != Kind::kBytes;
}

Result<Value> Not(std::span<const Value> args) { return Value(!args[0].Truthy()); }

Result<Value> Len(std::span<const Value> args) {
  const Value& v = args[0];
  switch (v.kind()) {
    case Kind::kString:
      return Value(static_cast<std::int64_t>(v.AsString().size()));
    case Kind::kList:
      return Value(static_cast<std::int64_t>(v.AsList().size()));
    case Kind::kMap:
      return Value(static_cast<std::int64_t>(v.AsMap().size()));
    case Kind::kBytes:
      return Value(static_cast<std::int64_t>(v.AsBytes().data.size()));
    case Kind::kNil:
      return Err("len of untyped nil");
    default:
      return Err(std::string("len of type ") + GoTypeName(v));
  }
}

// Go's indexArg: an int index into a sequence of length `cap` (cap itself allowed).
Result<size_t> IndexArg(const Value& index, size_t cap) {
  if (index.is_nil()) return Err("cannot index slice/array with nil");
  if (index.kind() != Kind::kInt) {
    return Err(std::string("cannot index slice/array with type ") + GoTypeName(index));
  }
  const std::int64_t x = index.AsInt();
  if (x < 0 || static_cast<std::uint64_t>(x) > cap) return Err("index out of range");
  return static_cast<size_t>(x);
}

Result<Value> Index(std::span<const Value> args) {
  static const Value kNil;
  const Value* item = &args[0];
  std::int64_t byte = 0;  // the last byte read from a string, when `item` is it
  bool is_byte = false;
  if (item->is_nil()) return Err("index of untyped nil");
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& index = args[i];
    if (is_byte) return Err("can't index item of type uint8");
    if (item->is_nil()) return Err("index of nil pointer");
    switch (item->kind()) {
      case Kind::kList: {
        COFFER_ASSIGN_OR_RETURN(size_t x, IndexArg(index, item->AsList().size()));
        if (x >= item->AsList().size()) return Err("index out of range");
        item = &item->AsList()[x];
        break;
      }
      case Kind::kString:
      case Kind::kBytes: {
        const std::string& s =
            item->kind() == Kind::kString ? item->AsString() : item->AsBytes().data;
        COFFER_ASSIGN_OR_RETURN(size_t x, IndexArg(index, s.size()));
        if (x >= s.size()) return Err("index out of range");
        byte = static_cast<unsigned char>(s[x]);
        is_byte = true;
        break;
      }
      case Kind::kMap: {
        if (index.is_nil()) return Err("value is nil; should be of type string");
        if (index.kind() != Kind::kString) {
          return Err(std::string("value has type ") + GoTypeName(index) + "; should be string");
        }
        auto it = item->AsMap().find(index.AsString());
        item = it == item->AsMap().end() ? &kNil : &it->second;
        break;
      }
      default:
        return Err(std::string("can't index item of type ") + GoTypeName(*item));
    }
  }
  if (is_byte) return Value(byte);
  return *item;
}

Result<Value> Slice(std::span<const Value> args) {
  const Value& item = args[0];
  if (item.is_nil()) return Err("slice of untyped nil");
  const size_t n = args.size() - 1;
  if (n > 3) return Err("too many slice indexes: " + std::to_string(n));
  size_t len = 0;
  switch (item.kind()) {
    case Kind::kString:
      if (n == 3) return Err("cannot 3-index slice a string");
      len = item.AsString().size();
      break;
    case Kind::kBytes:
      len = item.AsBytes().data.size();
      break;
    case Kind::kList:
      len = item.AsList().size();
      break;
    default:
      return Err(std::string("can't slice item of type ") + GoTypeName(item));
  }
  size_t idx[3] = {0, len, len};
  for (size_t i = 0; i < n; ++i) {
    COFFER_ASSIGN_OR_RETURN(idx[i], IndexArg(args[i + 1], len));
  }
  if (idx[0] > idx[1]) return Err("invalid slice index");
  if (n == 3 && idx[1] > idx[2]) return Err("invalid slice index");
  switch (item.kind()) {
    case Kind::kString:
      return Value(item.AsString().substr(idx[0], idx[1] - idx[0]));
    case Kind::kBytes:
      return Value(Bytes{item.AsBytes().data.substr(idx[0], idx[1] - idx[0])});
    default: {
      const List& l = item.AsList();
      return Value(List(l.begin() + static_cast<std::ptrdiff_t>(idx[0]),
                        l.begin() + static_cast<std::ptrdiff_t>(idx[1])));
    }
  }
}

Result<Value> Print(std::span<const Value> args) { return Value(Sprint(args)); }
Result<Value> Println(std::span<const Value> args) { return Value(Sprintln(args)); }
Result<Value> Printf(std::span<const Value> args) {
  return Value(Sprintf(args[0].AsString(), args.subspan(1)));
}

Result<Value> Eq(std::span<const Value> args) {
  const Value& a = args[0];
  if (args.size() < 2) return Err("missing argument for comparison");
  for (size_t i = 1; i < args.size(); ++i) {
    COFFER_ASSIGN_OR_RETURN(bool truth, BuiltinEq(a, args[i]));
    if (truth) return Value(true);
  }
  return Value(false);
}

Result<Value> Ne(std::span<const Value> args) {
  COFFER_ASSIGN_OR_RETURN(bool eq, BuiltinEq(args[0], args[1]));
  return Value(!eq);
}

Result<Value> Lt(std::span<const Value> args) {
  COFFER_ASSIGN_OR_RETURN(bool lt, BuiltinLt(args[0], args[1]));
  return Value(lt);
}

Result<bool> LessOrEqual(const Value& a, const Value& b) {
  COFFER_ASSIGN_OR_RETURN(bool lt, BuiltinLt(a, b));
  if (lt) return true;
  return BuiltinEq(a, b);
}

Result<Value> Le(std::span<const Value> args) {
  COFFER_ASSIGN_OR_RETURN(bool le, LessOrEqual(args[0], args[1]));
  return Value(le);
}

Result<Value> Gt(std::span<const Value> args) {
  COFFER_ASSIGN_OR_RETURN(bool le, LessOrEqual(args[0], args[1]));
  return Value(!le);
}

Result<Value> Ge(std::span<const Value> args) {
  COFFER_ASSIGN_OR_RETURN(bool lt, BuiltinLt(args[0], args[1]));
  return Value(!lt);
}

// Go's evalArgs for html/js/urlquery: a lone string as is, otherwise fmt.Sprint with nil
// operands shown as "<no value>".
std::string EvalArgs(std::span<const Value> args) {
  if (args.size() == 1 && args[0].kind() == Kind::kString) return args[0].AsString();
  std::vector<Value> copy(args.begin(), args.end());
  for (auto& v : copy) {
    if (v.is_nil()) v = Value("<no value>");
  }
  return Sprint(copy);
}

Result<Value> Html(std::span<const Value> args) {
  const std::string s = EvalArgs(args);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out.push_back(c);
    }
  }
  return Value(std::move(out));
}

Result<Value> Js(std::span<const Value> args) {
  static const char kHex[] = "0123456789ABCDEF";
  const std::string s = EvalArgs(args);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t size = 0;
      const std::int32_t r = DecodeRune(s, i, &size);
      if (IsPrintRune(r) && !(r == 0xFFFD && size == 1)) {
        out.append(s, i, size);
      } else {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(r));
        out += buf;
      }
      i += size;
      continue;
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (c < ' ') {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  return Value(std::move(out));
}

Result<Value> UrlQuery(std::span<const Value> args) {
  static const char kHex[] = "0123456789ABCDEF";
  const std::string s = EvalArgs(args);
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return Value(std::move(out));
}

constexpr Builtin kBuiltins[] = {
    {"and", 1, -1, nullptr}, {"or", 1, -1, nullptr},    {"not", 1, 1, Not},
    {"len", 1, 1, Len},      {"index", 1, -1, Index},   {"slice", 1, -1, Slice},
    {"print", 0, -1, Print}, {"printf", 1, -1, Printf}, {"println", 0, -1, Println},
    {"eq", 1, -1, Eq},       {"ne", 2, 2, Ne},          {"lt", 2, 2, Lt},
    {"le", 2, 2, Le},        {"gt", 2, 2, Gt},          {"ge", 2, 2, Ge},
    {"html", 0, -1, Html},   {"js", 0, -1, Js},         {"urlquery", 0, -1, UrlQuery},
};

}  // namespace

const Builtin* FindBuiltin(std::string_view name) {
  for (const auto& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Result<bool> BuiltinEq(const Value& a, const Value& b) {
  const Basic ka = BasicOf(a);
  const Basic kb = BasicOf(b);
  if (ka != kb) {
    if (!a.is_nil() && !b.is_nil()) return Err("incompatible types for comparison");
    return false;
  }
  switch (ka) {
    case Basic::kBool:
      return a.AsBool() == b.AsBool();
    case Basic::kInt:
      return a.AsInt() == b.AsInt();
    case Basic::kFloat:
      return a.AsDouble() == b.AsDouble();
    case Basic::kString:
      return a.AsString() == b.AsString();
    case Basic::kOther:
      break;
  }
  if (a.is_nil() || b.is_nil()) return a.is_nil() && b.is_nil();
  if (!Comparable(b)) return Err(std::string("non-comparable type ") + GoTypeName(b));
  return Err(std::string("non-comparable type ") + GoTypeName(a));
}

Result<bool> BuiltinLt(const Value& a, const Value& b) {
  const Basic ka = BasicOf(a);
  const Basic kb = BasicOf(b);
  if (ka == Basic::kOther || kb == Basic::kOther) return Err("invalid type for comparison");
  if (ka != kb) return Err("incompatible types for comparison");
  switch (ka) {
    case Basic::kInt:
      return a.AsInt() < b.AsInt();
    case Basic::kFloat:
      return a.AsDouble() < b.AsDouble();
    case Basic::kString:
      return a.AsString() < b.AsString();
    default:
      return Err("invalid type for comparison");
  }
}

}  // namespace coffer::tmpl::internal
