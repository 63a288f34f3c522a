#include "api/ops/operations.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace coffer::api::ops {
namespace {

const std::set<std::string> kExpectedReadOnly = {
    "GetSecretValue",       "BatchGetSecretValue", "DescribeSecret",   "ListSecrets",
    "ListSecretVersionIds", "GetResourcePolicy",   "GetRandomPassword",
};

TEST(IsReadOnlyTargetTest, ExactlyTheReadActionsOfTheTable) {
  std::set<std::string> read_only;
  for (const Operation& op : AllOperations()) {
    if (IsReadOnlyTarget("secretsmanager." + std::string(op.action))) {
      read_only.insert(std::string(op.action));
    }
  }
  EXPECT_EQ(read_only, kExpectedReadOnly);  // every listed action is also registered
}

TEST(IsReadOnlyTargetTest, WritesAndMalformedTargetsAreNot) {
  for (const char* target :
       {"secretsmanager.PutSecretValue", "secretsmanager.CreateSecret",
        "secretsmanager.UpdateSecretVersionStage", "secretsmanager.DeleteSecret",
        "secretsmanager.RotateSecret", "secretsmanager.TagResource", "GetSecretValue",
        "secretsmanager.getsecretvalue", "secretsmanager.GetSecretValueX",
        "Secretsmanager.GetSecretValue", "secretsmanager.", ""}) {
    EXPECT_FALSE(IsReadOnlyTarget(target)) << target;
  }
  EXPECT_TRUE(IsReadOnlyTarget("secretsmanager.GetSecretValue"));
}

}  // namespace
}  // namespace coffer::api::ops
