#include "template/value.h"

#include <gtest/gtest.h>

namespace coffer::tmpl {
namespace {

TEST(ValueTest, TruthinessFollowsGo) {
  struct Case {
    Value v;
    bool want;
  };
  const Case cases[] = {
      {Value(), false},
      {Value(false), false},
      {Value(true), true},
      {Value(0), false},
      {Value(-3), true},
      {Value(0.0), false},
      {Value(0.5), true},
      {Value(""), false},
      {Value("x"), true},
      {Value(List{}), false},
      {Value(List{Value(0)}), true},
      {Value(Map{}), false},
      {Value(Map{{"a", Value()}}), true},
      {Value(Bytes{}), false},
      {Value(Bytes{std::string(1, '\0')}), true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.v.Truthy(), c.want) << KindName(c.v.kind());
  }
}

TEST(ValueTest, JsonRoundTrip) {
  const auto j = nlohmann::json::parse(
      R"({"b":true,"i":-4,"u":7,"d":1.5,"s":"x","l":[1,"two",null],"m":{"z":1,"a":{}}})");
  const Value v = Value::FromJson(j);
  ASSERT_EQ(v.kind(), Kind::kMap);
  EXPECT_EQ(v.AsMap().at("i").AsInt(), -4);
  EXPECT_EQ(v.AsMap().at("u").kind(), Kind::kInt);
  EXPECT_EQ(v.AsMap().at("d").AsDouble(), 1.5);
  EXPECT_EQ(v.AsMap().at("l").AsList().size(), 3U);
  EXPECT_TRUE(v.AsMap().at("l").AsList()[2].is_nil());
  EXPECT_EQ(v.ToJson(), j);
}

TEST(ValueTest, MapKeysAreSorted) {
  const Value v = Value::FromJson(nlohmann::json::parse(R"({"c":1,"a":2,"b":3})"));
  std::string order;
  for (const auto& [k, e] : v.AsMap()) order += k;
  EXPECT_EQ(order, "abc");
}

TEST(ValueTest, LargeUnsignedBecomesDouble) {
  const Value v = Value::FromJson(nlohmann::json(std::uint64_t{18446744073709551615ULL}));
  EXPECT_EQ(v.kind(), Kind::kDouble);
}

TEST(ValueTest, BytesBecomeJsonString) {
  EXPECT_EQ(Value(Bytes{"ab"}).ToJson(), nlohmann::json("ab"));
  EXPECT_EQ(Value(Bytes{"ab"}), Value(Bytes{"ab"}));
  EXPECT_NE(Value(Bytes{"ab"}), Value("ab"));
}

}  // namespace
}  // namespace coffer::tmpl
