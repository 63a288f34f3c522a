// The in-memory fake runs the same conformance suite as the real backends.

#include "storage/testing/memory_store.h"

#include <memory>

#include "storage/store_conformance.h"

namespace coffer::storage {
namespace {

std::unique_ptr<SecretStore> MakeFake() { return std::make_unique<MemorySecretStore>(); }

INSTANTIATE_TEST_SUITE_P(Fake, SecretStoreConformance,
                         ::testing::Values(StoreFactory{"MemorySecretStore", &MakeFake}),
                         StoreFactoryName);

TEST(MemorySecretStoreTest, InjectedFailureChangesNothing) {
  MemorySecretStore store;
  Mutation m;
  m.secret.arn = "arn:aws:secretsmanager:us-east-1:0:secret:a-AbCdEf";
  m.secret.region = "us-east-1";
  m.secret.name = "a";
  store.FailNextCommit(Status::Unavailable("disk gone"));
  EXPECT_EQ(store.Commit(m).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store.GetSecretByArn(m.secret.arn)->has_value());
  EXPECT_EQ(store.commit_count(), 0);
  EXPECT_TRUE(store.Commit(m).ok());
  EXPECT_EQ(store.commit_count(), 1);
}

}  // namespace
}  // namespace coffer::storage
