#include "operator/eso_hash.h"

#include <gtest/gtest.h>

namespace coffer::op {
namespace {

// Vectors from the reference report (section 1.8), checked there against Go's fmt and Python's
// hashlib.sha3_224.
TEST(EsoHashTest, GoFormatOfSecretData) {
  EXPECT_EQ(GoFormatByteMap({{"a", "hi"}, {"b", "x"}}), "map[a:[104 105] b:[120]]");
  EXPECT_EQ(GoFormatByteMap({}), "map[]");
  EXPECT_EQ(GoFormatByteMap({{"e", ""}, {"z", "\xff"}}), "map[e:[] z:[255]]");
}

TEST(EsoHashTest, DataHashMatchesEso) {
  EXPECT_EQ(DataHash({{"a", "hi"}, {"b", "x"}}),
            "e7cd839ed0fe7c0c32fc26b43678c717e1f427d73058fe65cc84af8b");
  EXPECT_EQ(DataHash({}), "74a974446e359fb3e6baff9bd0058950e6edd0f040888d9989b0a11b");
}

TEST(EsoHashTest, Sha3KnownAnswer) {
  // FIPS 202 SHA3-224("abc").
  EXPECT_EQ(Sha3_224Hex("abc"), "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf");
}

TEST(EsoHashTest, SyncedResourceVersionTracksGenerationLabelsAnnotations) {
  ObjectMeta m;
  m.generation = 4;
  const std::string base = SyncedResourceVersionOf(m);
  EXPECT_EQ(base, "4-" + Sha3_224Hex("{annotations:map[] labels:map[]}"));
  m.annotations["force-sync"] = "1700000000";
  const std::string annotated = SyncedResourceVersionOf(m);
  EXPECT_EQ(annotated, "4-" + Sha3_224Hex("{annotations:map[force-sync:1700000000] labels:map[]}"));
  EXPECT_NE(annotated, base);
  m.labels["team"] = "x";
  EXPECT_NE(SyncedResourceVersionOf(m), annotated);
  m.generation = 5;
  EXPECT_EQ(SyncedResourceVersionOf(m).rfind("5-", 0), 0u);
}

TEST(EsoHashTest, FieldManagerAndCreatedBy) {
  EXPECT_EQ(FieldManagerName("db"), "externalsecrets.external-secrets.io/db");
  const std::string long_name(40, 'n');
  EXPECT_EQ(FieldManagerName(long_name),
            "externalsecrets.external-secrets.io/sha3/" + Sha3_224Hex(long_name));
  EXPECT_EQ(CreatedByValue("ns", "es"), Sha3_224Hex("ns/es"));
  EXPECT_EQ(CreatedByValue("ns", "es").size(), 56u);
}

}  // namespace
}  // namespace coffer::op
