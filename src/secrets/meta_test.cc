#include "secrets/meta.h"

#include <gtest/gtest.h>

namespace coffer::secrets {
namespace {

TEST(MetaTest, RoundTrip) {
  SecretMeta m;
  m.description = "d";
  m.kms_key_id = "alias/k";
  m.type = "t";
  m.tags = {{"a", "1"}, {"b", ""}};
  m.last_changed_ms = 42;
  m.rotation_enabled = false;
  m.rotation_lambda_arn = "arn:l";
  m.rotation_rules = RotationRules{std::nullopt, "2h", "rate(4 hours)"};
  m.next_rotation_ms = 7;
  m.external_rotation_metadata_json = "[]";
  m.external_rotation_role_arn = "arn:role";
  m.resource_policy = "{\"Statement\":[]}";
  auto parsed = ParseMeta(SerializeMeta(m));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeMeta(*parsed), SerializeMeta(m));
  EXPECT_EQ(parsed->tags[1].key, "b");
  EXPECT_EQ(parsed->rotation_rules->duration, "2h");
  EXPECT_FALSE(parsed->rotation_rules->automatically_after_days.has_value());
  EXPECT_FALSE(parsed->last_rotated_ms.has_value());
}

TEST(MetaTest, CarriesAFormatVersion) {
  EXPECT_NE(SerializeMeta({}).find("\"v\":1"), std::string::npos);
  EXPECT_EQ(ParseMeta(R"({"v":2})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseMeta(R"({"last_changed_ms":1})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseMeta("not json").status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(ParseMeta(R"({"v":1,"future_field":true})").ok());
}

TEST(MetaTest, UpsertTagOverwritesInPlace) {
  std::vector<Tag> tags = {{"a", "1"}, {"b", "2"}};
  UpsertTag(tags, "a", "3");
  UpsertTag(tags, "c", "4");
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].value, "3");
  EXPECT_EQ(tags[2].key, "c");
}

}  // namespace
}  // namespace coffer::secrets
