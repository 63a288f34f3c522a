#include "secrets/meta_cache.h"

#include <gtest/gtest.h>

namespace coffer::secrets::internal {
namespace {

storage::SecretRecord Record(const std::string& arn, const SecretMeta& meta) {
  storage::SecretRecord r;
  r.arn = arn;
  r.meta_json = SerializeMeta(meta);
  return r;
}

TEST(MetaCacheTest, ParsesOncePerMetadataText) {
  MetaCache cache;
  SecretMeta meta;
  meta.tags = {{"team", "ml"}};
  meta.resource_policy = "{}";
  const storage::SecretRecord record = Record("arn:a", meta);
  auto first = cache.Get(record);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->tags.at(0).value, "ml");
  EXPECT_EQ((*first)->resource_policy, "{}");
  auto again = cache.Get(record);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());  // the same parsed object
}

TEST(MetaCacheTest, ChangedTextIsParsedAgain) {
  MetaCache cache;
  SecretMeta meta;
  meta.tags = {{"team", "ml"}};
  ASSERT_TRUE(cache.Get(Record("arn:a", meta)).ok());
  meta.tags = {{"team", "web"}};
  auto changed = cache.Get(Record("arn:a", meta));
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ((*changed)->tags.at(0).value, "web");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MetaCacheTest, BoundedAndCorruptTextIsAnError) {
  MetaCache cache(2);
  for (const char* arn : {"arn:a", "arn:b", "arn:c"}) ASSERT_TRUE(cache.Get(Record(arn, {})).ok());
  EXPECT_EQ(cache.size(), 2u);
  storage::SecretRecord bad;
  bad.arn = "arn:bad";
  bad.meta_json = "{not json";
  EXPECT_EQ(cache.Get(bad).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace coffer::secrets::internal
