// The SecretStore conformance tests. See storage/store_conformance.h for how a backend runs them.

#include "storage/store_conformance.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coffer::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// A binary may link this file without instantiating the suite (no backend in it yet).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SecretStoreConformance);

constexpr char kRegion[] = "us-east-1";

std::string ArnFor(const std::string& name, const std::string& region = kRegion) {
  return "arn:aws:secretsmanager:" + region + ":000000000000:secret:" + name + "-AbCdEf";
}

SecretRecord MakeSecret(const std::string& name, std::int64_t created_ms = 1000,
                        const std::string& region = kRegion) {
  SecretRecord s;
  s.arn = ArnFor(name, region);
  s.region = region;
  s.name = name;
  s.created_ms = created_ms;
  s.meta_json = R"({"Description":"d"})";
  return s;
}

VersionRecord MakeVersion(const std::string& id, std::vector<std::string> stages,
                          std::int64_t created_ms = 2000) {
  VersionRecord v;
  v.version_id = id;
  v.stages = std::move(stages);
  v.created_ms = created_ms;
  // Opaque bytes, including NUL and high bytes.
  v.ciphertext = std::string("ct\0\xff-", 5) + id;
  v.key_version = 1;
  return v;
}

Mutation Create(const SecretRecord& secret, std::vector<VersionRecord> versions = {}) {
  Mutation m;
  m.secret = secret;
  m.expected_revision = 0;
  m.new_versions = std::move(versions);
  return m;
}

Mutation Update(const SecretRecord& secret, std::int64_t expected_revision) {
  Mutation m;
  m.secret = secret;
  m.expected_revision = expected_revision;
  return m;
}

Mutation Purge(const SecretRecord& secret, std::int64_t expected_revision) {
  Mutation m = Update(secret, expected_revision);
  m.purge = true;
  return m;
}

std::vector<std::string> VersionIds(const std::vector<VersionRecord>& versions) {
  std::vector<std::string> ids;
  for (const VersionRecord& v : versions) ids.push_back(v.version_id);
  return ids;
}

std::vector<std::string> Names(const std::vector<SecretRecord>& secrets) {
  std::vector<std::string> names;
  for (const SecretRecord& s : secrets) names.push_back(s.name);
  return names;
}

std::int64_t RevisionOf(SecretStore& store, const std::string& arn) {
  Result<std::optional<SecretRecord>> got = store.GetSecretByArn(arn);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok() || !got->has_value()) return 0;
  return (*got)->revision;
}

std::optional<std::string> VersionAtStage(SecretStore& store, const std::string& arn,
                                          const std::string& stage) {
  Result<std::optional<VersionRecord>> got = store.GetVersionByStage(arn, stage);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok() || !got->has_value()) return std::nullopt;
  return (*got)->version_id;
}

// --- secrets ---

TEST_P(SecretStoreConformance, CreateThenGetByArnAndName) {
  SecretRecord s = MakeSecret("db/password", 1234);
  ASSERT_TRUE(store().Commit(Create(s)).ok());

  Result<std::optional<SecretRecord>> by_arn = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(by_arn.ok()) << by_arn.status().ToString();
  ASSERT_TRUE(by_arn->has_value());
  const SecretRecord& got = **by_arn;
  EXPECT_EQ(got.arn, s.arn);
  EXPECT_EQ(got.region, kRegion);
  EXPECT_EQ(got.name, "db/password");
  EXPECT_EQ(got.created_ms, 1234);
  EXPECT_FALSE(got.deletion_date_ms.has_value());
  EXPECT_EQ(got.meta_json, s.meta_json);
  EXPECT_EQ(got.revision, 1);

  Result<std::optional<SecretRecord>> by_name = store().GetSecretByName(kRegion, "db/password");
  ASSERT_TRUE(by_name.ok());
  ASSERT_TRUE(by_name->has_value());
  EXPECT_EQ((*by_name)->arn, s.arn);
  EXPECT_EQ((*by_name)->revision, 1);
}

TEST_P(SecretStoreConformance, MissingSecretIsEmptyNotAnError) {
  Result<std::optional<SecretRecord>> by_arn = store().GetSecretByArn(ArnFor("nope"));
  ASSERT_TRUE(by_arn.ok());
  EXPECT_FALSE(by_arn->has_value());
  Result<std::optional<SecretRecord>> by_name = store().GetSecretByName(kRegion, "nope");
  ASSERT_TRUE(by_name.ok());
  EXPECT_FALSE(by_name->has_value());
  // The name lookup is per region.
  ASSERT_TRUE(store().Commit(Create(MakeSecret("only-east"))).ok());
  Result<std::optional<SecretRecord>> other = store().GetSecretByName("eu-west-1", "only-east");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_P(SecretStoreConformance, UpdateOverwritesFieldsAndBumpsRevision) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s)).ok());

  s.meta_json = R"({"Description":"new"})";
  s.deletion_date_ms = 99000;
  ASSERT_TRUE(store().Commit(Update(s, 1)).ok());
  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 2);
  EXPECT_EQ((*got)->meta_json, R"({"Description":"new"})");
  EXPECT_EQ((*got)->deletion_date_ms, 99000);

  s.deletion_date_ms.reset();  // restore
  ASSERT_TRUE(store().Commit(Update(s, 2)).ok());
  got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 3);
  EXPECT_FALSE((*got)->deletion_date_ms.has_value());
}

TEST_P(SecretStoreConformance, StaleRevisionIsAbortedAndChangesNothing) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s)).ok());
  ASSERT_TRUE(store().Commit(Update(s, 1)).ok());

  SecretRecord changed = s;
  changed.meta_json = "{}";
  Mutation stale = Update(changed, 1);
  stale.new_versions.push_back(MakeVersion("v1", {"AWSCURRENT"}));
  Status status = store().Commit(stale);
  EXPECT_EQ(status.code(), StatusCode::kAborted) << status.ToString();

  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 2);
  EXPECT_EQ((*got)->meta_json, s.meta_json);
  Result<std::vector<VersionRecord>> versions = store().ListVersions(s.arn);
  ASSERT_TRUE(versions.ok());
  EXPECT_THAT(*versions, IsEmpty());

  EXPECT_EQ(store().Commit(Update(s, 3)).code(), StatusCode::kAborted);  // from the future
}

TEST_P(SecretStoreConformance, CreatingAnExistingArnIsAborted) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s)).ok());
  EXPECT_EQ(store().Commit(Create(s)).code(), StatusCode::kAborted);
  EXPECT_EQ(RevisionOf(store(), s.arn), 1);
}

TEST_P(SecretStoreConformance, UpdatingAMissingSecretIsAborted) {
  SecretRecord s = MakeSecret("ghost");
  EXPECT_EQ(store().Commit(Update(s, 1)).code(), StatusCode::kAborted);
  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST_P(SecretStoreConformance, NameClashInARegionIsAlreadyExists) {
  SecretRecord first = MakeSecret("shared");
  ASSERT_TRUE(store().Commit(Create(first)).ok());

  SecretRecord second = first;
  second.arn = first.arn + "x";  // another ARN (another random suffix), same region and name
  Status status = store().Commit(Create(second, {MakeVersion("v1", {"AWSCURRENT"})}));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(second.arn);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());

  // The same name in another region is another secret.
  EXPECT_TRUE(store().Commit(Create(MakeSecret("shared", 1000, "eu-west-1"))).ok());

  // Renaming onto a taken name clashes too.
  SecretRecord third = MakeSecret("third");
  ASSERT_TRUE(store().Commit(Create(third)).ok());
  third.name = "shared";
  EXPECT_EQ(store().Commit(Update(third, 1)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(RevisionOf(store(), third.arn), 1);
}

TEST_P(SecretStoreConformance, PurgeFreesTheName) {
  SecretRecord s = MakeSecret("reuse");
  ASSERT_TRUE(store().Commit(Create(s)).ok());
  ASSERT_TRUE(store().Commit(Purge(s, 1)).ok());
  SecretRecord again = s;
  again.arn = s.arn + "2";
  ASSERT_TRUE(store().Commit(Create(again)).ok());
  Result<std::optional<SecretRecord>> got = store().GetSecretByName(kRegion, "reuse");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->arn, again.arn);
  EXPECT_EQ((*got)->revision, 1);
}

// --- versions ---

TEST_P(SecretStoreConformance, VersionsRoundTripAndListOldestFirstWithoutCiphertext) {
  SecretRecord s = MakeSecret("app");
  // Inserted out of created_ms order; v-b and v-c share a timestamp, so insertion order decides.
  ASSERT_TRUE(store()
                  .Commit(Create(s, {MakeVersion("v-late", {}, 5000),
                                     MakeVersion("v-b", {"AWSPREVIOUS"}, 3000)}))
                  .ok());
  Mutation m = Update(s, 1);
  m.new_versions.push_back(MakeVersion("v-c", {"AWSCURRENT", "custom"}, 3000));
  m.new_versions.push_back(MakeVersion("v-first", {}, 1000));
  ASSERT_TRUE(store().Commit(m).ok());

  Result<std::vector<VersionRecord>> list = store().ListVersions(s.arn);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_THAT(VersionIds(*list), ElementsAre("v-first", "v-b", "v-c", "v-late"));
  for (const VersionRecord& v : *list) EXPECT_THAT(v.ciphertext, IsEmpty()) << v.version_id;
  EXPECT_THAT((*list)[2].stages, ElementsAre("AWSCURRENT", "custom"));
  EXPECT_EQ((*list)[2].created_ms, 3000);
  EXPECT_EQ((*list)[2].key_version, 1u);
  EXPECT_FALSE((*list)[2].last_accessed_ms.has_value());

  Result<std::optional<VersionRecord>> one = store().GetVersion(s.arn, "v-c");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->ciphertext, MakeVersion("v-c", {}).ciphertext);
  EXPECT_THAT((*one)->stages, ElementsAre("AWSCURRENT", "custom"));

  Result<std::optional<VersionRecord>> missing = store().GetVersion(s.arn, "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  Result<std::vector<VersionRecord>> none = store().ListVersions(ArnFor("other"));
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

TEST_P(SecretStoreConformance, LargeBinaryCiphertextRoundTrips) {
  SecretRecord s = MakeSecret("big");
  VersionRecord v = MakeVersion("v1", {"AWSCURRENT"});
  v.ciphertext.clear();
  for (int i = 0; i < 70000; ++i) v.ciphertext.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(store().Commit(Create(s, {v})).ok());
  Result<std::optional<VersionRecord>> got = store().GetVersionByStage(s.arn, "AWSCURRENT");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->ciphertext, v.ciphertext);
}

TEST_P(SecretStoreConformance, DuplicateVersionIdIsAlreadyExistsAndCommitChangesNothing) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"})})).ok());

  SecretRecord changed = s;
  changed.meta_json = "{}";
  Mutation m = Update(changed, 1);
  m.new_versions.push_back(MakeVersion("v2", {}));
  m.new_versions.push_back(MakeVersion("v1", {}));
  EXPECT_EQ(store().Commit(m).code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(RevisionOf(store(), s.arn), 1);
  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->meta_json, s.meta_json);
  Result<std::vector<VersionRecord>> list = store().ListVersions(s.arn);
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(VersionIds(*list), ElementsAre("v1"));
}

TEST_P(SecretStoreConformance, VersionUpdatesChangeStagesAndLastAccessed) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"})})).ok());

  Mutation touch = Update(s, 1);
  touch.version_updates.push_back({"v1", std::nullopt, 777});
  ASSERT_TRUE(store().Commit(touch).ok());
  Result<std::optional<VersionRecord>> got = store().GetVersion(s.arn, "v1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->last_accessed_ms, 777);
  EXPECT_THAT((*got)->stages, ElementsAre("AWSCURRENT"));  // untouched

  Mutation relabel = Update(s, 2);
  relabel.version_updates.push_back(
      {"v1", std::vector<std::string>{"zeta", "AWSCURRENT", "alpha"}, std::nullopt});
  ASSERT_TRUE(store().Commit(relabel).ok());
  got = store().GetVersion(s.arn, "v1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_THAT((*got)->stages, ElementsAre("zeta", "AWSCURRENT", "alpha"));  // order kept
  EXPECT_EQ((*got)->last_accessed_ms, 777);
  EXPECT_EQ(VersionAtStage(store(), s.arn, "zeta"), "v1");
  EXPECT_EQ(VersionAtStage(store(), s.arn, "alpha"), "v1");

  Mutation strip = Update(s, 3);
  strip.version_updates.push_back({"v1", std::vector<std::string>{}, std::nullopt});
  ASSERT_TRUE(store().Commit(strip).ok());
  got = store().GetVersion(s.arn, "v1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_THAT((*got)->stages, IsEmpty());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), std::nullopt);
  EXPECT_EQ(RevisionOf(store(), s.arn), 4);
}

TEST_P(SecretStoreConformance, UpdatingOrDeletingAMissingVersionIsNotFound) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"})})).ok());

  Mutation update = Update(s, 1);
  update.new_versions.push_back(MakeVersion("v2", {}));
  update.version_updates.push_back({"nope", std::vector<std::string>{"x"}, std::nullopt});
  EXPECT_EQ(store().Commit(update).code(), StatusCode::kNotFound);

  Mutation del = Update(s, 1);
  del.deleted_versions.push_back("nope");
  EXPECT_EQ(store().Commit(del).code(), StatusCode::kNotFound);

  // Neither left anything behind.
  EXPECT_EQ(RevisionOf(store(), s.arn), 1);
  Result<std::vector<VersionRecord>> list = store().ListVersions(s.arn);
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(VersionIds(*list), ElementsAre("v1"));
}

TEST_P(SecretStoreConformance, DeletedVersionsDisappearWithTheirStages) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store()
                  .Commit(Create(s, {MakeVersion("old", {"AWSPREVIOUS"}, 1),
                                     MakeVersion("cur", {"AWSCURRENT"}, 2)}))
                  .ok());
  Mutation m = Update(s, 1);
  m.deleted_versions.push_back("old");
  ASSERT_TRUE(store().Commit(m).ok());

  Result<std::optional<VersionRecord>> got = store().GetVersion(s.arn, "old");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSPREVIOUS"), std::nullopt);
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), "cur");
  Result<std::vector<VersionRecord>> list = store().ListVersions(s.arn);
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(VersionIds(*list), ElementsAre("cur"));
}

TEST_P(SecretStoreConformance, GetVersionByStageFollowsLabelMoves) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"}, 1)})).ok());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), "v1");
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSPREVIOUS"), std::nullopt);

  // PutSecretValue: the new version takes AWSCURRENT, the old one becomes AWSPREVIOUS.
  Mutation put = Update(s, 1);
  put.new_versions.push_back(MakeVersion("v2", {"AWSCURRENT"}, 2));
  put.version_updates.push_back({"v1", std::vector<std::string>{"AWSPREVIOUS"}, std::nullopt});
  ASSERT_TRUE(store().Commit(put).ok());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), "v2");
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSPREVIOUS"), "v1");

  Result<std::optional<VersionRecord>> current = store().GetVersionByStage(s.arn, "AWSCURRENT");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->ciphertext, MakeVersion("v2", {}).ciphertext);  // with ciphertext
  EXPECT_THAT((*current)->stages, ElementsAre("AWSCURRENT"));

  // An update may target a version inserted by the same commit.
  Mutation pending = Update(s, 2);
  pending.new_versions.push_back(MakeVersion("v3", {}, 3));
  pending.version_updates.push_back({"v3", std::vector<std::string>{"AWSPENDING"}, std::nullopt});
  ASSERT_TRUE(store().Commit(pending).ok());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSPENDING"), "v3");

  // Stages are per secret.
  EXPECT_EQ(VersionAtStage(store(), ArnFor("other"), "AWSCURRENT"), std::nullopt);
}

TEST_P(SecretStoreConformance, AStageOnTwoVersionsIsInvalidArgument) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"})})).ok());
  Mutation m = Update(s, 1);
  m.new_versions.push_back(MakeVersion("v2", {"AWSCURRENT"}));  // v1 keeps it: invalid
  EXPECT_EQ(store().Commit(m).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), "v1");
  EXPECT_EQ(RevisionOf(store(), s.arn), 1);
}

TEST_P(SecretStoreConformance, PurgeDeletesTheSecretAndItsVersions) {
  SecretRecord s = MakeSecret("doomed");
  SecretRecord keep = MakeSecret("kept");
  ASSERT_TRUE(store()
                  .Commit(Create(s, {MakeVersion("v1", {"AWSPREVIOUS"}, 1),
                                     MakeVersion("v2", {"AWSCURRENT"}, 2)}))
                  .ok());
  ASSERT_TRUE(store().Commit(Create(keep, {MakeVersion("v1", {"AWSCURRENT"})})).ok());
  Result<std::int64_t> count = store().CountSecrets();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);

  EXPECT_EQ(store().Commit(Purge(s, 7)).code(), StatusCode::kAborted);  // revision still checked
  ASSERT_TRUE(store().Commit(Purge(s, 1)).ok());

  Result<std::optional<SecretRecord>> got = store().GetSecretByArn(s.arn);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  Result<std::vector<VersionRecord>> list = store().ListVersions(s.arn);
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*list, IsEmpty());
  Result<std::optional<VersionRecord>> v = store().GetVersion(s.arn, "v1");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
  EXPECT_EQ(VersionAtStage(store(), s.arn, "AWSCURRENT"), std::nullopt);
  count = store().CountSecrets();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
  // The other secret's version with the same id is untouched.
  EXPECT_EQ(VersionAtStage(store(), keep.arn, "AWSCURRENT"), "v1");

  // Purging what is already gone, expecting it gone, is a no-op.
  EXPECT_TRUE(store().Commit(Purge(s, 0)).ok());
}

// --- listings ---

TEST_P(SecretStoreConformance, ListSecretsIsPerRegionInCreationOrder) {
  SecretRecord c = MakeSecret("c", 300);
  SecretRecord a = MakeSecret("a", 100);
  SecretRecord b = MakeSecret("b", 200);
  b.deletion_date_ms = 5000;  // scheduled for deletion: still listed
  SecretRecord west = MakeSecret("west", 150, "us-west-2");
  SecretRecord tie1 = MakeSecret("tie-z", 400);  // same created_ms: ordered by ARN
  SecretRecord tie2 = MakeSecret("tie-a", 400);
  for (const SecretRecord& s : {c, a, b, west, tie1, tie2}) {
    ASSERT_TRUE(store().Commit(Create(s)).ok()) << s.name;
  }

  Result<std::vector<SecretRecord>> east = store().ListSecrets(kRegion);
  ASSERT_TRUE(east.ok()) << east.status().ToString();
  EXPECT_THAT(Names(*east), ElementsAre("a", "b", "c", "tie-a", "tie-z"));
  EXPECT_EQ((*east)[1].deletion_date_ms, 5000);
  Result<std::vector<SecretRecord>> w = store().ListSecrets("us-west-2");
  ASSERT_TRUE(w.ok());
  EXPECT_THAT(Names(*w), ElementsAre("west"));
  Result<std::vector<SecretRecord>> none = store().ListSecrets("ap-south-1");
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
  Result<std::int64_t> count = store().CountSecrets();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 6);
}

TEST_P(SecretStoreConformance, ListDueForPurgeSpansRegionsInDeletionOrder) {
  SecretRecord live = MakeSecret("live");
  SecretRecord later = MakeSecret("later");
  later.deletion_date_ms = 10'000;
  SecretRecord due_east = MakeSecret("due-east");
  due_east.deletion_date_ms = 5'000;
  SecretRecord due_west = MakeSecret("due-west", 1000, "us-west-2");
  due_west.deletion_date_ms = 4'000;
  SecretRecord due_exact = MakeSecret("due-exact");
  due_exact.deletion_date_ms = 6'000;
  for (const SecretRecord& s : {live, later, due_east, due_west, due_exact}) {
    ASSERT_TRUE(store().Commit(Create(s)).ok()) << s.name;
  }

  Result<std::vector<SecretRecord>> due = store().ListDueForPurge(6'000);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  EXPECT_THAT(Names(*due), ElementsAre("due-west", "due-east", "due-exact"));
  Result<std::vector<SecretRecord>> early = store().ListDueForPurge(3'999);
  ASSERT_TRUE(early.ok());
  EXPECT_THAT(*early, IsEmpty());
}

TEST_P(SecretStoreConformance, ListAllSecretsSpansRegionsInCreationOrder) {
  SecretRecord east = MakeSecret("east", 300);
  SecretRecord west = MakeSecret("west", 100, "us-west-2");
  SecretRecord deleted = MakeSecret("deleted", 200, "eu-west-1");
  deleted.deletion_date_ms = 9'000;  // scheduled for deletion: still listed
  SecretRecord tie_z = MakeSecret("tie-z", 400);
  SecretRecord tie_a = MakeSecret("tie-a", 400, "us-west-2");  // same created_ms: by ARN
  for (const SecretRecord& s : {east, west, deleted, tie_z, tie_a}) {
    ASSERT_TRUE(store().Commit(Create(s)).ok()) << s.name;
  }
  Result<std::vector<SecretRecord>> all = store().ListAllSecrets();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  // tie-z's ARN (us-east-1) sorts before tie-a's (us-west-2).
  EXPECT_THAT(Names(*all), ElementsAre("west", "deleted", "east", "tie-z", "tie-a"));
  EXPECT_EQ((*all)[1].region, "eu-west-1");
  EXPECT_EQ((*all)[1].deletion_date_ms, 9'000);
  EXPECT_EQ((*all)[2].meta_json, east.meta_json);

  ASSERT_TRUE(store().Commit(Purge(east, 1)).ok());
  all = store().ListAllSecrets();
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(Names(*all), ElementsAre("west", "deleted", "tie-z", "tie-a"));
}

TEST_P(SecretStoreConformance, ListAllSecretsOfAnEmptyStoreIsEmpty) {
  Result<std::vector<SecretRecord>> all = store().ListAllSecrets();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_THAT(*all, IsEmpty());
}

// --- IAM entities ---

IamEntityRecord Entity(const std::string& kind, const std::string& key, const std::string& json) {
  return IamEntityRecord{kind, key, json, /*revision=*/0};
}

std::vector<std::string> Keys(const std::vector<IamEntityRecord>& entities) {
  std::vector<std::string> keys;
  for (const IamEntityRecord& e : entities) keys.push_back(e.key);
  return keys;
}

TEST_P(SecretStoreConformance, IamEntityCreateGetUpdateDelete) {
  Result<std::optional<IamEntityRecord>> missing = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store().PutIamEntity(Entity("user", "alice", R"({"v":1})"), 0).ok());
  Result<std::optional<IamEntityRecord>> got = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->kind, "user");
  EXPECT_EQ((*got)->key, "alice");
  EXPECT_EQ((*got)->json, R"({"v":1})");
  EXPECT_EQ((*got)->revision, 1);

  ASSERT_TRUE(store().PutIamEntity(Entity("user", "alice", R"({"v":2})"), 1).ok());
  got = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->json, R"({"v":2})");
  EXPECT_EQ((*got)->revision, 2);

  // The same key under another kind is another row.
  EXPECT_TRUE(store().PutIamEntity(Entity("policy", "alice", "{}"), 0).ok());
  got = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 2);

  EXPECT_EQ(store().DeleteIamEntity("user", "alice", 1).code(), StatusCode::kAborted);
  ASSERT_TRUE(store().DeleteIamEntity("user", "alice", 2).ok());
  got = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(store().DeleteIamEntity("user", "alice", 2).code(), StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteIamEntity("user", "alice", 0).code(), StatusCode::kNotFound);
  got = store().GetIamEntity("policy", "alice");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());

  // Recreated after a delete: revision starts over.
  ASSERT_TRUE(store().PutIamEntity(Entity("user", "alice", "{}"), 0).ok());
  got = store().GetIamEntity("user", "alice");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->revision, 1);
}

TEST_P(SecretStoreConformance, IamEntityRevisionMismatchIsAbortedAndChangesNothing) {
  ASSERT_TRUE(store().PutIamEntity(Entity("user", "bob", "one"), 0).ok());
  EXPECT_EQ(store().PutIamEntity(Entity("user", "bob", "two"), 0).code(), StatusCode::kAborted);
  EXPECT_EQ(store().PutIamEntity(Entity("user", "bob", "two"), 2).code(), StatusCode::kAborted);
  EXPECT_EQ(store().PutIamEntity(Entity("user", "carol", "x"), 1).code(), StatusCode::kAborted);
  Result<std::optional<IamEntityRecord>> got = store().GetIamEntity("user", "bob");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->json, "one");
  EXPECT_EQ((*got)->revision, 1);
  got = store().GetIamEntity("user", "carol");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());

  EXPECT_EQ(store().PutIamEntity(Entity("", "bob", "x"), 0).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().PutIamEntity(Entity("user", "", "x"), 0).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store().DeleteIamEntity("user", "", 1).code(), StatusCode::kInvalidArgument);
}

TEST_P(SecretStoreConformance, ListIamEntitiesIsPerKindOrderedByKey) {
  for (const char* key : {"zed", "Bob", "alice", "arn:aws:iam::000000000000:policy/p"}) {
    ASSERT_TRUE(store().PutIamEntity(Entity("user", key, "{}"), 0).ok()) << key;
  }
  ASSERT_TRUE(store().PutIamEntity(Entity("policy", "arn:aws:iam::000000000000:policy/a", "{}"), 0)
                  .ok());
  ASSERT_TRUE(store().PutIamEntity(Entity("role", "r", "{}"), 0).ok());

  Result<std::vector<IamEntityRecord>> users = store().ListIamEntities("user");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  // Byte-wise: upper case before lower case.
  EXPECT_THAT(Keys(*users),
              ElementsAre("Bob", "alice", "arn:aws:iam::000000000000:policy/p", "zed"));
  for (const IamEntityRecord& u : *users) {
    EXPECT_EQ(u.kind, "user");
    EXPECT_EQ(u.revision, 1);
  }
  Result<std::vector<IamEntityRecord>> policies = store().ListIamEntities("policy");
  ASSERT_TRUE(policies.ok());
  EXPECT_THAT(Keys(*policies), ElementsAre("arn:aws:iam::000000000000:policy/a"));
  Result<std::vector<IamEntityRecord>> none = store().ListIamEntities("group");
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

TEST_P(SecretStoreConformance, ConcurrentIamEntityWritersExactlyOneWinsPerRevision) {
  ASSERT_TRUE(store().PutIamEntity(Entity("policy", "p", "0"), 0).ok());
  constexpr int kThreads = 8;
  constexpr int kAttempts = 20;
  std::atomic<int> wins{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        Result<std::optional<IamEntityRecord>> cur = store().GetIamEntity("policy", "p");
        if (!cur.ok() || !cur->has_value()) {
          ++unexpected;
          continue;
        }
        // Each win increments the counter held in the JSON: a lost update would show.
        IamEntityRecord next = **cur;
        next.json = std::to_string(std::stoi(next.json) + 1);
        Status status = store().PutIamEntity(next, (*cur)->revision);
        if (status.ok()) {
          ++wins;
        } else if (status.code() != StatusCode::kAborted) {
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GE(wins.load(), kAttempts);
  Result<std::optional<IamEntityRecord>> final_row = store().GetIamEntity("policy", "p");
  ASSERT_TRUE(final_row.ok() && final_row->has_value());
  EXPECT_EQ((*final_row)->json, std::to_string(wins.load()));
  EXPECT_EQ((*final_row)->revision, 1 + wins.load());
}

// --- access keys ---

AccessKeyRecord MakeKey(const std::string& id, std::int64_t created_ms) {
  AccessKeyRecord k;
  k.access_key_id = id;
  k.principal_arn = "arn:aws:iam::000000000000:user/" + id;
  k.user_name = "user-" + id;
  k.created_ms = created_ms;
  k.secret_ciphertext = std::string("\0sk-", 4) + id;
  k.key_version = 1;
  return k;
}

TEST_P(SecretStoreConformance, AccessKeysCrud) {
  ASSERT_TRUE(store().PutAccessKey(MakeKey("AKIDB", 20)).ok());
  ASSERT_TRUE(store().PutAccessKey(MakeKey("AKIDA", 30)).ok());
  ASSERT_TRUE(store().PutAccessKey(MakeKey("AKIDC", 10)).ok());

  Result<std::optional<AccessKeyRecord>> got = store().GetAccessKey("AKIDA");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->principal_arn, "arn:aws:iam::000000000000:user/AKIDA");
  EXPECT_EQ((*got)->user_name, "user-AKIDA");
  EXPECT_EQ((*got)->status, "Active");
  EXPECT_EQ((*got)->created_ms, 30);
  EXPECT_EQ((*got)->secret_ciphertext, std::string("\0sk-AKIDA", 9));
  EXPECT_EQ((*got)->key_version, 1u);

  Result<std::vector<AccessKeyRecord>> all = store().ListAccessKeys();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> ids;
  for (const AccessKeyRecord& k : *all) ids.push_back(k.access_key_id);
  EXPECT_THAT(ids, ElementsAre("AKIDC", "AKIDB", "AKIDA"));

  AccessKeyRecord replaced = MakeKey("AKIDA", 30);
  replaced.status = "Inactive";
  ASSERT_TRUE(store().PutAccessKey(replaced).ok());
  got = store().GetAccessKey("AKIDA");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, "Inactive");

  ASSERT_TRUE(store().DeleteAccessKey("AKIDA").ok());
  got = store().GetAccessKey("AKIDA");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(store().DeleteAccessKey("AKIDA").code(), StatusCode::kNotFound);
  all = store().ListAccessKeys();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

// --- master-key rotation ---

TEST_P(SecretStoreConformance, ListStaleWrappedFindsVersionsThenAccessKeys) {
  SecretRecord s = MakeSecret("app");
  VersionRecord fresh = MakeVersion("fresh", {"AWSCURRENT"}, 2);
  fresh.key_version = 2;
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("stale", {}, 1), fresh})).ok());
  ASSERT_TRUE(store().PutAccessKey(MakeKey("AKIDSTALE", 1)).ok());
  AccessKeyRecord fresh_key = MakeKey("AKIDFRESH", 2);
  fresh_key.key_version = 2;
  ASSERT_TRUE(store().PutAccessKey(fresh_key).ok());

  Result<std::vector<WrappedRef>> stale = store().ListStaleWrapped(2, 100);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  ASSERT_EQ(stale->size(), 2u);
  EXPECT_EQ((*stale)[0].kind, WrappedRef::Kind::kSecretVersion);
  EXPECT_EQ((*stale)[0].arn, s.arn);
  EXPECT_EQ((*stale)[0].version_id, "stale");
  EXPECT_EQ((*stale)[0].ciphertext, MakeVersion("stale", {}).ciphertext);
  EXPECT_EQ((*stale)[0].key_version, 1u);
  EXPECT_EQ((*stale)[1].kind, WrappedRef::Kind::kAccessKey);
  EXPECT_EQ((*stale)[1].access_key_id, "AKIDSTALE");
  EXPECT_EQ((*stale)[1].ciphertext, MakeKey("AKIDSTALE", 1).secret_ciphertext);

  Result<std::vector<WrappedRef>> one = store().ListStaleWrapped(2, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].version_id, "stale");

  // A version newer than "current" (rolled back key) is stale as well.
  Result<std::vector<WrappedRef>> newer = store().ListStaleWrapped(1, 100);
  ASSERT_TRUE(newer.ok());
  ASSERT_EQ(newer->size(), 2u);
  EXPECT_EQ((*newer)[0].version_id, "fresh");
  EXPECT_EQ((*newer)[1].access_key_id, "AKIDFRESH");
}

TEST_P(SecretStoreConformance, ReplaceWrappedIsACompareAndSwap) {
  SecretRecord s = MakeSecret("app");
  ASSERT_TRUE(store().Commit(Create(s, {MakeVersion("v1", {"AWSCURRENT"})})).ok());
  ASSERT_TRUE(store().PutAccessKey(MakeKey("AKID", 1)).ok());

  Result<std::vector<WrappedRef>> stale = store().ListStaleWrapped(2, 10);
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->size(), 2u);

  // Someone rewrote the access key since we listed it: the swap must not overwrite that.
  AccessKeyRecord rewritten = MakeKey("AKID", 1);
  rewritten.secret_ciphertext = "concurrently-changed";
  ASSERT_TRUE(store().PutAccessKey(rewritten).ok());
  Result<bool> key_swap = store().ReplaceWrapped((*stale)[1], "rewrapped-key", 2);
  ASSERT_TRUE(key_swap.ok());
  EXPECT_FALSE(*key_swap);
  Result<std::optional<AccessKeyRecord>> key = store().GetAccessKey("AKID");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->secret_ciphertext, "concurrently-changed");
  EXPECT_EQ((*key)->key_version, 1u);

  Result<bool> version_swap = store().ReplaceWrapped((*stale)[0], "rewrapped-version", 2);
  ASSERT_TRUE(version_swap.ok());
  EXPECT_TRUE(*version_swap);
  Result<std::optional<VersionRecord>> v = store().GetVersionByStage(s.arn, "AWSCURRENT");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->ciphertext, "rewrapped-version");
  EXPECT_EQ((*v)->key_version, 2u);
  EXPECT_THAT((*v)->stages, ElementsAre("AWSCURRENT"));
  EXPECT_EQ(RevisionOf(store(), s.arn), 1);  // rewrapping is not a change of the secret

  // The same (now outdated) ref again: no swap.
  version_swap = store().ReplaceWrapped((*stale)[0], "again", 3);
  ASSERT_TRUE(version_swap.ok());
  EXPECT_FALSE(*version_swap);

  // Re-list and finish the access key.
  stale = store().ListStaleWrapped(2, 10);
  ASSERT_TRUE(stale.ok());
  ASSERT_EQ(stale->size(), 1u);
  key_swap = store().ReplaceWrapped((*stale)[0], "rewrapped-key", 2);
  ASSERT_TRUE(key_swap.ok());
  EXPECT_TRUE(*key_swap);
  stale = store().ListStaleWrapped(2, 10);
  ASSERT_TRUE(stale.ok());
  EXPECT_THAT(*stale, IsEmpty());

  // Rows that do not exist are simply not replaced.
  WrappedRef gone;
  gone.kind = WrappedRef::Kind::kSecretVersion;
  gone.arn = s.arn;
  gone.version_id = "missing";
  gone.ciphertext = "x";
  Result<bool> none = store().ReplaceWrapped(gone, "y", 2);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

// --- settings ---

TEST_P(SecretStoreConformance, SettingsGetPutOverwrite) {
  Result<std::optional<std::string>> missing = store().GetSetting("instance_id");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store().PutSetting("instance_id", "abc").ok());
  ASSERT_TRUE(store().PutSetting("other", "").ok());
  Result<std::optional<std::string>> got = store().GetSetting("instance_id");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "abc");

  ASSERT_TRUE(store().PutSetting("instance_id", "def").ok());
  got = store().GetSetting("instance_id");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "def");
  got = store().GetSetting("other");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, "");
}

// --- concurrency ---

TEST_P(SecretStoreConformance, ConcurrentCommittersOnOneSecretExactlyOneWinsPerRevision) {
  SecretRecord s = MakeSecret("contended");
  ASSERT_TRUE(store().Commit(Create(s)).ok());

  constexpr int kThreads = 8;
  constexpr int kAttempts = 25;
  std::mutex mu;
  std::vector<std::int64_t> winning_revisions;  // the expected_revision of each success
  std::atomic<int> aborted{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttempts; ++i) {
        Result<std::optional<SecretRecord>> cur = store().GetSecretByArn(s.arn);
        if (!cur.ok() || !cur->has_value()) {
          ++unexpected;
          continue;
        }
        Mutation m = Update(**cur, (*cur)->revision);
        m.new_versions.push_back(
            MakeVersion("t" + std::to_string(t) + "-" + std::to_string(i), {}));
        Status status = store().Commit(m);
        if (status.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          winning_revisions.push_back((*cur)->revision);
        } else if (status.code() == StatusCode::kAborted) {
          ++aborted;
        } else {
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(static_cast<int>(winning_revisions.size()) + aborted.load(), kThreads * kAttempts);
  std::set<std::int64_t> distinct(winning_revisions.begin(), winning_revisions.end());
  EXPECT_EQ(distinct.size(), winning_revisions.size()) << "two commits won the same revision";
  const std::int64_t wins = static_cast<std::int64_t>(winning_revisions.size());
  EXPECT_GE(wins, kAttempts);  // someone always makes progress
  EXPECT_EQ(RevisionOf(store(), s.arn), 1 + wins);
  Result<std::vector<VersionRecord>> versions = store().ListVersions(s.arn);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(static_cast<std::int64_t>(versions->size()), wins);
}

TEST_P(SecretStoreConformance, ConcurrentCommittersOnDifferentSecretsAllWin) {
  constexpr int kThreads = 16;
  constexpr int kUpdates = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SecretRecord s = MakeSecret("secret-" + std::to_string(t), t);
      if (!store().Commit(Create(s, {MakeVersion("v0", {"AWSCURRENT"})})).ok()) ++failures;
      for (int i = 1; i <= kUpdates; ++i) {
        Mutation m = Update(s, i);
        std::string id = "v" + std::to_string(i);
        std::string prev = "v" + std::to_string(i - 1);
        m.new_versions.push_back(MakeVersion(id, {"AWSCURRENT"}, i));
        m.version_updates.push_back({prev, std::vector<std::string>{}, std::nullopt});
        if (!store().Commit(m).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    std::string arn = ArnFor("secret-" + std::to_string(t));
    EXPECT_EQ(RevisionOf(store(), arn), kUpdates + 1);
    EXPECT_EQ(VersionAtStage(store(), arn, "AWSCURRENT"), "v" + std::to_string(kUpdates));
  }
  Result<std::int64_t> count = store().CountSecrets();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, kThreads);
}

}  // namespace
}  // namespace coffer::storage
