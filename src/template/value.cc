#include "template/value.h"

#include <limits>

namespace coffer::tmpl {

Value Value::FromJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value();
    case nlohmann::json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value(static_cast<double>(u));
      }
      return Value(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      List list;
      list.reserve(j.size());
      for (const auto& e : j) list.push_back(FromJson(e));
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      Map map;
      for (const auto& [k, e] : j.items()) map.emplace(k, FromJson(e));
      return Value(std::move(map));
    }
    case nlohmann::json::value_t::binary: {
      const auto& bin = j.get_binary();
      return Value(Bytes{std::string(bin.begin(), bin.end())});
    }
    case nlohmann::json::value_t::discarded:
      break;
  }
  return Value();
}

nlohmann::json Value::ToJson() const {
  switch (kind()) {
    case Kind::kNil:
      return nullptr;
    case Kind::kBool:
      return AsBool();
    case Kind::kInt:
      return AsInt();
    case Kind::kDouble:
      return AsDouble();
    case Kind::kString:
      return AsString();
    case Kind::kBytes:
      return AsBytes().data;
    case Kind::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : AsList()) out.push_back(e.ToJson());
      return out;
    }
    case Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, e] : AsMap()) out[k] = e.ToJson();
      return out;
    }
  }
  return nullptr;
}

bool Value::Truthy() const {
  switch (kind()) {
    case Kind::kNil:
      return false;
    case Kind::kBool:
      return AsBool();
    case Kind::kInt:
      return AsInt() != 0;
    case Kind::kDouble:
      return AsDouble() != 0.0;
    case Kind::kString:
      return !AsString().empty();
    case Kind::kList:
      return !AsList().empty();
    case Kind::kMap:
      return !AsMap().empty();
    case Kind::kBytes:
      return !AsBytes().data.empty();
  }
  return false;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNil:
      return "nil";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kDouble:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kList:
      return "slice";
    case Kind::kMap:
      return "map";
    case Kind::kBytes:
      return "[]byte";
  }
  return "unknown";
}

}  // namespace coffer::tmpl
