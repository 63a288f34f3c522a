// Table-driven staging-label movement (reference §1.5): each case is a sequence of operations,
// each followed by the expected VersionIdsToStages of DescribeSecret.

#include "secrets/labels.h"

#include <algorithm>

#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

constexpr const char* C = "AWSCURRENT";
constexpr const char* P = "AWSPREVIOUS";
constexpr const char* PEND = "AWSPENDING";

enum class OpKind { kCreate, kCreateEmpty, kPut, kUpdateValue, kMoveStage };

struct Op {
  OpKind kind;
  std::string version;  // tag of the version created (kCreate, kPut, kUpdateValue)
  std::optional<std::vector<std::string>> stages;  // kPut
  // kMoveStage
  std::string label;
  std::string remove_from;
  std::string move_to;
  // version tag -> labels, after the op
  std::map<std::string, std::vector<std::string>> expected;
};

Op CreateOp(std::string v, std::map<std::string, std::vector<std::string>> e) {
  return {OpKind::kCreate, std::move(v), {}, "", "", "", std::move(e)};
}
Op CreateEmptyOp() { return {OpKind::kCreateEmpty, "", {}, "", "", "", {}}; }
Op PutOp(std::string v, std::map<std::string, std::vector<std::string>> e,
         std::optional<std::vector<std::string>> stages = {}) {
  return {OpKind::kPut, std::move(v), std::move(stages), "", "", "", std::move(e)};
}
Op UpdateOp(std::string v, std::map<std::string, std::vector<std::string>> e) {
  return {OpKind::kUpdateValue, std::move(v), {}, "", "", "", std::move(e)};
}
Op MoveOp(std::string label, std::string from, std::string to,
          std::map<std::string, std::vector<std::string>> e) {
  return {OpKind::kMoveStage, "",          {}, std::move(label), std::move(from),
          std::move(to),      std::move(e)};
}

struct LabelCase {
  std::string name;
  std::vector<Op> ops;
};

std::vector<LabelCase> Cases() {
  return {
      {"PutMovesCurrentAndPrevious",
       {CreateOp("v1", {{"v1", {C}}}), PutOp("v2", {{"v1", {P}}, {"v2", {C}}}),
        PutOp("v3", {{"v2", {P}}, {"v3", {C}}})}},
      {"PutWithCustomStagesLeavesCurrent",
       {CreateOp("v1", {{"v1", {C}}}),
        PutOp("v2", {{"v1", {C}}, {"v2", {"SAMPLESTAGE0", "SAMPLESTAGE1"}}},
              std::vector<std::string>{"SAMPLESTAGE1", "SAMPLESTAGE0"}),
        PutOp("v3", {{"v1", {C}}, {"v2", {"SAMPLESTAGE0"}}, {"v3", {"SAMPLESTAGE1"}}},
              std::vector<std::string>{"SAMPLESTAGE1"})}},
      {"PendingCycle",
       {CreateOp("v1", {{"v1", {C}}}),
        PutOp("v2", {{"v1", {C}}, {"v2", {PEND}}}, std::vector<std::string>{PEND}),
        MoveOp(C, "v1", "v2", {{"v1", {P}}, {"v2", {C, PEND}}}),
        PutOp("v3", {{"v1", {P}}, {"v2", {C}}, {"v3", {PEND}}}, std::vector<std::string>{PEND})}},
      {"PutWithCurrentInStages",
       {CreateOp("v1", {{"v1", {C}}}),
        PutOp("v2", {{"v1", {P}}, {"v2", {C, "X"}}}, std::vector<std::string>{C, "X"})}},
      {"UpdateSecretValueMovesLikePut",
       {CreateOp("v1", {{"v1", {C}}}), UpdateOp("v2", {{"v1", {P}}, {"v2", {C}}}),
        UpdateOp("v3", {{"v2", {P}}, {"v3", {C}}})}},
      {"FirstPutOnEmptySecretGetsCurrent",
       {CreateEmptyOp(), PutOp("v1", {{"v1", {C}}}), PutOp("v2", {{"v1", {P}}, {"v2", {C}}})}},
      {"CustomLabelMoves",
       {CreateOp("v1", {{"v1", {C}}}), PutOp("v2", {{"v1", {P}}, {"v2", {C}}}),
        MoveOp("X", "", "v1", {{"v1", {P, "X"}}, {"v2", {C}}}),
        MoveOp("X", "v1", "v2", {{"v1", {P}}, {"v2", {C, "X"}}}),
        MoveOp("X", "v2", "", {{"v1", {P}}, {"v2", {C}}})}},
      {"RollbackCurrentToOlderVersion",
       {CreateOp("v1", {{"v1", {C}}}), PutOp("v2", {{"v1", {P}}, {"v2", {C}}}),
        PutOp("v3", {{"v2", {P}}, {"v3", {C}}}),
        MoveOp(C, "v3", "v1", {{"v1", {C}}, {"v3", {P}}})}},
      {"MovingCurrentOntoPreviousDropsPrevious",
       {CreateOp("v1", {{"v1", {C}}}), PutOp("v2", {{"v1", {P}}, {"v2", {C}}}),
        MoveOp(C, "v2", "v1", {{"v1", {C}}, {"v2", {P}}})}},
  };
}

class LabelMovementTest : public ServiceTest, public ::testing::WithParamInterface<LabelCase> {
 protected:
  void RunOp(const Op& op) {
    const std::string name = "labels";
    switch (op.kind) {
      case OpKind::kCreate:
        ASSERT_TRUE(Create(name, "value-" + op.version, Token(op.version)).ok());
        break;
      case OpKind::kCreateEmpty:
        ASSERT_TRUE(CreateEmpty(name).ok());
        break;
      case OpKind::kPut: {
        auto r = Put(name, "value-" + op.version, Token(op.version), op.stages);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        break;
      }
      case OpKind::kUpdateValue: {
        UpdateSecretRequest r;
        r.secret_id = name;
        r.client_request_token = Token(op.version);
        r.value = Str("value-" + op.version);
        auto out = service_->UpdateSecret(ctx_, r);
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        EXPECT_EQ(out->version_id, Token(op.version));
        break;
      }
      case OpKind::kMoveStage: {
        UpdateSecretVersionStageRequest r;
        r.secret_id = name;
        r.version_stage = op.label;
        if (!op.remove_from.empty()) r.remove_from_version_id = Token(op.remove_from);
        if (!op.move_to.empty()) r.move_to_version_id = Token(op.move_to);
        auto out = service_->UpdateSecretVersionStage(ctx_, r);
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        break;
      }
    }
  }
};

StageTable Sorted(StageTable t) {
  for (auto& [id, stages] : t) std::sort(stages.begin(), stages.end());
  return t;
}

TEST_P(LabelMovementTest, MatchesExpectedStagesAfterEachOp) {
  const LabelCase& c = GetParam();
  for (std::size_t i = 0; i < c.ops.size(); ++i) {
    SCOPED_TRACE("op #" + std::to_string(i));
    ASSERT_NO_FATAL_FAILURE(RunOp(c.ops[i]));
    if (c.ops[i].kind == OpKind::kCreateEmpty) {
      EXPECT_TRUE(Stages("labels").empty());
      continue;
    }
    StageTable expected;
    for (const auto& [tag, stages] : c.ops[i].expected) expected[Token(tag)] = stages;
    EXPECT_EQ(Sorted(Stages("labels")), Sorted(expected));
  }
}

INSTANTIATE_TEST_SUITE_P(Sequences, LabelMovementTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

class StageUpdateErrorsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Create("s", "one", Token("v1")).ok());
    ASSERT_TRUE(Put("s", "two", Token("v2")).ok());
  }
  Status Move(const std::string& label, std::optional<std::string> from,
              std::optional<std::string> to) {
    UpdateSecretVersionStageRequest r{"s", label, std::move(from), std::move(to)};
    return service_->UpdateSecretVersionStage(ctx_, r).status();
  }
};

TEST_F(StageUpdateErrorsTest, CurrentNeedsRemoveFromVersionId) {
  EXPECT_THAT(Move(C, std::nullopt, Token("v1")),
              StatusIs(StatusCode::kInvalidArgument,
                       "The parameter RemoveFromVersionId can't be empty. Staging label "
                       "AWSCURRENT is currently attached to version " +
                           Token("v2") +
                           ", so you must explicitly reference that version in "
                           "RemoveFromVersionId."));
}

TEST_F(StageUpdateErrorsTest, RemoveFromMustHoldTheLabel) {
  EXPECT_THAT(Move(C, Token("v1"), Token("v1")),
              StatusIs(StatusCode::kInvalidArgument,
                       "Version stage AWSCURRENT not found in version " + Token("v1")));
}

TEST_F(StageUpdateErrorsTest, UnknownVersions) {
  EXPECT_THAT(Move(C, Token("v2"), Token("nope")),
              StatusIs(StatusCode::kInvalidArgument, "Not a valid version: " + Token("nope")));
  EXPECT_THAT(Move("X", Token("nope"), std::nullopt),
              StatusIs(StatusCode::kInvalidArgument, "Not a valid version: " + Token("nope")));
}

TEST_F(StageUpdateErrorsTest, LabelAlreadyOnTargetIsANoOp) {
  EXPECT_TRUE(Move(C, std::nullopt, Token("v2")).ok());
  EXPECT_EQ(Stages("s").at(Token("v2")), std::vector<std::string>{C});
}

TEST_F(StageUpdateErrorsTest, FailedMoveChangesNothing) {
  const auto before = Stages("s");
  EXPECT_FALSE(Move(C, Token("v1"), Token("v2")).ok());
  EXPECT_EQ(Stages("s"), before);
}

TEST_F(ServiceTest, LabelQuotaIsTwenty) {
  ASSERT_TRUE(Create("q", "v", Token("v0")).ok());
  // AWSCURRENT plus 19 custom labels = 20.
  for (int i = 0; i < 19; ++i) {
    auto r = Put("q", "v" + std::to_string(i), Token("l" + std::to_string(i)),
                 std::vector<std::string>{"L" + std::to_string(i)});
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  auto over = Put("q", "over", Token("over"), std::vector<std::string>{"L19"});
  EXPECT_THAT(over.status(), StatusIs(StatusCode::kResourceExhausted));
  // Moving an existing label is still fine.
  EXPECT_TRUE(Put("q", "move", Token("move"), std::vector<std::string>{"L0"}).ok());
  // UpdateSecretVersionStage adding a 21st label is refused too.
  UpdateSecretVersionStageRequest r{"q", "NEW", std::nullopt, Token("v0")};
  EXPECT_THAT(service_->UpdateSecretVersionStage(ctx_, r).status(),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(ServiceTest, PutRejectsMoreThanTwentyStagesInOneRequest) {
  ASSERT_TRUE(Create("q", "v", Token("v0")).ok());
  std::vector<std::string> stages;
  for (int i = 0; i < 21; ++i) stages.push_back("S" + std::to_string(i));
  EXPECT_THAT(Put("q", "x", Token("x"), stages).status(), StatusIs(StatusCode::kValidation));
}

// Rule 6: beyond 100 versions, unlabeled versions older than 24 h are pruned.
TEST_F(ServiceTest, VersionPruningKeepsRecentAndLabeledVersions) {
  ServiceOptions options;
  options.max_versions = 5;
  Reconfigure(options);
  ASSERT_TRUE(Create("p", "v", Token("p0")).ok());
  for (int i = 1; i < 5; ++i) ASSERT_TRUE(Put("p", "v", Token("p" + std::to_string(i))).ok());
  // 5 versions, all within 24 h: a sixth exceeds the quota.
  EXPECT_THAT(Put("p", "v", Token("p5")).status(), StatusIs(StatusCode::kResourceExhausted));

  clock_.AdvanceMillis(kDayMs + 1);
  auto r = Put("p", "v", Token("p5"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto versions = store_.ListVersions(Describe("p")->arn);
  ASSERT_TRUE(versions.ok());
  std::vector<std::string> ids;
  for (const auto& v : *versions) ids.push_back(v.version_id);
  // p0 (oldest unlabeled) was pruned; AWSPREVIOUS (p4) and AWSCURRENT (p5) are kept.
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), Token("p0")), 0);
  EXPECT_EQ(Stages("p").at(Token("p4")), std::vector<std::string>{P});
  EXPECT_EQ(Stages("p").at(Token("p5")), std::vector<std::string>{C});
}

TEST(StageMapTest, AttachTakesLabelFromOtherHolder) {
  std::vector<storage::VersionRecord> versions(2);
  versions[0].version_id = "a";
  versions[0].stages = {"X", "AWSCURRENT"};
  versions[1].version_id = "b";
  StageMap map(versions);
  map.Attach("X", "b");
  EXPECT_EQ(map.Holder("X"), "b");
  EXPECT_EQ(map.StagesOf("a"), std::vector<std::string>{"AWSCURRENT"});
  auto changes = map.Changes();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(map.LabelCount(), 2u);
}

}  // namespace
}  // namespace coffer::secrets::testing
