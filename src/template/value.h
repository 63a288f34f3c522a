// Value: the data a template reads, modelled on the Go values text/template sees.
#ifndef COFFER_TEMPLATE_VALUE_H_
#define COFFER_TEMPLATE_VALUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace coffer::tmpl {

class Value;
using List = std::vector<Value>;
// Keys are kept sorted, as Go's text/template visits map keys in sorted order.
using Map = std::map<std::string, Value, std::less<>>;

// A byte string, distinct from text (Go's []byte).
struct Bytes {
  std::string data;
  bool operator==(const Bytes& other) const = default;
};

enum class Kind : std::uint8_t { kNil, kBool, kInt, kDouble, kString, kList, kMap, kBytes };

class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}                            // NOLINT
  Value(bool b) : v_(b) {}                            // NOLINT
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}  // NOLINT
  Value(std::int64_t i) : v_(i) {}                    // NOLINT
  Value(double d) : v_(d) {}                          // NOLINT
  Value(const char* s) : v_(std::string(s)) {}        // NOLINT
  Value(std::string s) : v_(std::move(s)) {}          // NOLINT
  Value(List l) : v_(std::move(l)) {}                 // NOLINT
  Value(Map m) : v_(std::move(m)) {}                  // NOLINT
  Value(Bytes b) : v_(std::move(b)) {}                // NOLINT

  // Converts JSON: null, booleans, integers (unsigned ones above INT64_MAX become doubles),
  // floats, strings, arrays and objects. Binary JSON becomes Bytes.
  static Value FromJson(const nlohmann::json& j);
  // The inverse; Bytes become a JSON string of the same bytes.
  nlohmann::json ToJson() const;

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_nil() const { return kind() == Kind::kNil; }

  bool AsBool() const { return std::get<bool>(v_); }
  std::int64_t AsInt() const { return std::get<std::int64_t>(v_); }
  double AsDouble() const { return std::get<double>(v_); }
  const std::string& AsString() const { return std::get<std::string>(v_); }
  const List& AsList() const { return std::get<List>(v_); }
  const Map& AsMap() const { return std::get<Map>(v_); }
  const Bytes& AsBytes() const { return std::get<Bytes>(v_); }

  // Go's truth: false, 0, 0.0, "", empty list/map/bytes and nil are false.
  bool Truthy() const;

  bool operator==(const Value& other) const = default;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Map, Bytes> v_;
};

// A name for the kind, for error messages ("string", "map", ...). Never a value.
const char* KindName(Kind kind);

}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_VALUE_H_
