#include "operator/reconcile.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "operator/eso_hash.h"

namespace coffer::op {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kMinute = 60'000;

ExternalSecret MakeEs(CreationPolicy creation = CreationPolicy::kOwner,
                      DeletionPolicy deletion = DeletionPolicy::kRetain) {
  ExternalSecret es;
  es.api_version = std::string(kApiVersionV1);
  es.metadata.name = "app";
  es.metadata.namespace_ = "ns";
  es.metadata.uid = "uid-es";
  es.metadata.generation = 1;
  es.refresh_interval_ms = 15 * kMinute;
  es.store_ref.name = "store";
  es.target.name = "app-secret";
  es.target.creation_policy = creation;
  es.target.deletion_policy = deletion;
  es.data = {DataItem{"password", RemoteRef{"db", "password"}}};
  return es;
}

FetchResult Fetched(std::string_view document) {
  FetchResult f;
  f.values[{"db"}] = {Status::Ok(), {std::string(document)}};
  return f;
}

FetchResult RemoteGone() {
  FetchResult f;
  f.values[{"db"}] = {Status::NotFound("Secrets Manager can't find the specified secret."), {}};
  return f;
}

FetchResult BackendDown() {
  FetchResult f;
  f.values[{"db"}] = {Status::Unavailable("backend unreachable: connection refused"), {}};
  return f;
}

// The Secret the apiserver would return after creating `object`.
ObservedSecret Stored(json object, std::string_view resource_version = "100") {
  object["metadata"]["resourceVersion"] = resource_version;
  object["metadata"]["uid"] = "uid-secret";
  auto s = ParseSecret(object);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// A Secret this ExternalSecret created earlier with `data`.
ObservedSecret SyncedTarget(const ExternalSecret& es, const SecretData& data) {
  return Stored(BuildSecretObject(es, data));
}

// A Secret somebody else created (no managed label, no hash).
ObservedSecret ForeignSecret(const SecretData& data) {
  json obj = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"type", "Opaque"},
              {"metadata", {{"name", "app-secret"}, {"namespace", "ns"}}},
              {"data", json::object()}};
  for (const auto& [k, v] : data) obj["data"][k] = Base64Encode(v);
  return Stored(obj);
}

// Marks `es` as synced at `when` (what the status of a previous successful reconcile holds).
void MarkSynced(ExternalSecret& es, std::int64_t when) {
  es.status.refresh_time_ms = when;
  es.status.synced_resource_version = SyncedResourceVersionOf(es.metadata);
  es.status.conditions = {
      Condition{"Ready", "True", "SecretSynced", "secret synced", FormatIso8601(when)}};
}

const Condition& Ready(const Plan& plan) {
  const Condition* c = FindCondition(plan.status.conditions, kConditionReady);
  EXPECT_NE(c, nullptr);
  static const Condition kNone;
  return c != nullptr ? *c : kNone;
}

std::string DataOf(const json& secret, const std::string& key) {
  return *Base64Decode(secret["data"][key].get<std::string>());
}

// ---- creationPolicy x target existence ----------------------------------------------------------

struct CreationCase {
  std::string name;
  CreationPolicy creation;
  enum { kMissing, kOurs, kForeign } target;
  SecretAction action;
  std::string reason;
  bool owner_ref;  // whether the written Secret carries our controller reference
};

TEST(ReconcileTest, CreationPolicyTable) {
  const CreationCase cases[] = {
      {"owner/missing", CreationPolicy::kOwner, CreationCase::kMissing, SecretAction::kCreate,
       "SecretSynced", true},
      {"owner/ours", CreationPolicy::kOwner, CreationCase::kOurs, SecretAction::kNone,
       "SecretSynced", true},
      {"owner/foreign", CreationPolicy::kOwner, CreationCase::kForeign, SecretAction::kUpdate,
       "SecretSynced", true},
      {"orphan/missing", CreationPolicy::kOrphan, CreationCase::kMissing, SecretAction::kCreate,
       "SecretSynced", false},
      {"orphan/foreign", CreationPolicy::kOrphan, CreationCase::kForeign, SecretAction::kUpdate,
       "SecretSynced", false},
      {"merge/missing", CreationPolicy::kMerge, CreationCase::kMissing, SecretAction::kNone,
       "SecretMissing", false},
      {"merge/foreign", CreationPolicy::kMerge, CreationCase::kForeign, SecretAction::kUpdate,
       "SecretSynced", false},
      {"none/missing", CreationPolicy::kNone, CreationCase::kMissing, SecretAction::kNone,
       "SecretSynced", false},
      {"none/foreign", CreationPolicy::kNone, CreationCase::kForeign, SecretAction::kNone,
       "SecretSynced", false},
  };
  for (const CreationCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExternalSecret es = MakeEs(c.creation);
    ObservedState observed;
    if (c.target == CreationCase::kOurs) observed.target = SyncedTarget(es, {{"password", "pw1"}});
    if (c.target == CreationCase::kForeign) {
      observed.target = ForeignSecret({{"other", "keep-me"}, {"password", "stale"}});
    }
    Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
    EXPECT_TRUE(plan.ok);
    EXPECT_EQ(plan.action, c.action);
    EXPECT_EQ(Ready(plan).status, "True");
    EXPECT_EQ(Ready(plan).reason, c.reason);
    EXPECT_EQ(plan.status.binding_name, "app-secret");
    EXPECT_EQ(plan.status.refresh_time_ms, kNow);
    EXPECT_EQ(plan.status.synced_resource_version, SyncedResourceVersionOf(es.metadata));
    EXPECT_EQ(plan.requeue_after_ms, 15 * kMinute);
    if (c.action == SecretAction::kNone) {
      EXPECT_TRUE(plan.events.empty());
      continue;
    }
    const json& s = plan.secret;
    EXPECT_EQ(s["metadata"]["name"], "app-secret");
    EXPECT_EQ(s["metadata"]["namespace"], "ns");
    EXPECT_EQ(DataOf(s, "password"), "pw1");
    EXPECT_EQ(s["metadata"]["labels"][std::string(kLabelManaged)], "true");
    const std::string hash = s["metadata"]["annotations"][std::string(kAnnotationDataHash)];
    ASSERT_EQ(plan.events.size(), 1u);
    EXPECT_EQ(plan.events[0].type, "Normal");
    if (c.action == SecretAction::kCreate) {
      EXPECT_EQ(plan.events[0].reason, "Created");
      EXPECT_EQ(plan.events[0].message, "secret created");
      EXPECT_EQ(s["type"], "Opaque");
      EXPECT_EQ(hash, DataHash({{"password", "pw1"}}));
    } else {
      EXPECT_EQ(plan.events[0].reason, "Updated");
      EXPECT_EQ(plan.patch["metadata"]["resourceVersion"], "100");
    }
    const bool has_owner =
        s["metadata"].contains("ownerReferences") && !s["metadata"]["ownerReferences"].empty();
    EXPECT_EQ(has_owner, c.owner_ref);
    if (c.owner_ref) {
      const json& ref = s["metadata"]["ownerReferences"][0];
      EXPECT_EQ(ref["kind"], "ExternalSecret");
      EXPECT_EQ(ref["name"], "app");
      EXPECT_EQ(ref["uid"], "uid-es");
      EXPECT_EQ(ref["apiVersion"], "external-secrets.io/v1");
      EXPECT_EQ(ref["controller"], true);
      EXPECT_EQ(ref["blockOwnerDeletion"], true);
      EXPECT_EQ(s["metadata"]["labels"][std::string(kLabelCreatedBy)], CreatedByValue("ns", "app"));
    }
  }
}

TEST(ReconcileTest, MergeTouchesOnlyOurKeys) {
  ExternalSecret es = MakeEs(CreationPolicy::kMerge);
  ObservedState observed;
  observed.target = ForeignSecret({{"other", "keep-me"}, {"password", "stale"}});
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_EQ(plan.patch["data"].size(), 1u);
  EXPECT_EQ(*Base64Decode(plan.patch["data"]["password"].get<std::string>()), "pw1");
  EXPECT_FALSE(plan.patch["data"].contains("other"));
  EXPECT_EQ(DataOf(plan.secret, "other"), "keep-me");
  // The hash covers the whole merged data, as ESO's does.
  EXPECT_EQ(plan.patch["metadata"]["annotations"][std::string(kAnnotationDataHash)],
            DataHash({{"other", "keep-me"}, {"password", "pw1"}}));
}

TEST(ReconcileTest, OwnerReplacesDataAndDropsStaleKeys) {
  ExternalSecret es = MakeEs();
  ObservedState observed;
  observed.target = ForeignSecret({{"other", "dropped"}, {"password", "stale"}});
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_TRUE(plan.patch["data"]["other"].is_null());
  EXPECT_FALSE(plan.secret["data"].contains("other"));
}

TEST(ReconcileTest, OrphanRemovesOurOwnerReferenceAfterPolicyChange) {
  ExternalSecret owner = MakeEs(CreationPolicy::kOwner);
  ObservedState observed;
  observed.target = SyncedTarget(owner, {{"password", "pw1"}});
  ExternalSecret orphan = MakeEs(CreationPolicy::kOrphan);
  Plan plan = ReconcileExternalSecret(orphan, observed, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_EQ(plan.patch["metadata"]["ownerReferences"], json::array());
  EXPECT_FALSE(plan.patch.contains("data"));
}

TEST(ReconcileTest, OwnerReferenceUnderTheOtherServedVersionIsKept) {
  ExternalSecret beta = MakeEs();
  beta.api_version = std::string(kApiVersionV1Beta1);
  ObservedState observed;
  observed.target = SyncedTarget(beta, {{"password", "pw1"}});
  Plan plan = ReconcileExternalSecret(MakeEs(), observed, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_EQ(plan.action, SecretAction::kNone);
}

TEST(ReconcileTest, AdoptsASecretWrittenByEsoWithoutAWrite) {
  // What ESO writes for data {a: hi, b: x} (hash from the reference report, computed with Go).
  ExternalSecret es = MakeEs();
  es.data = {DataItem{"a", RemoteRef{"db", "a"}}, DataItem{"b", RemoteRef{"db", "b"}}};
  json eso_secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "Opaque"},
      {"metadata",
       {{"name", "app-secret"},
        {"namespace", "ns"},
        {"labels",
         {{"reconcile.external-secrets.io/managed", "true"},
          {"reconcile.external-secrets.io/created-by", CreatedByValue("ns", "app")}}},
        {"annotations",
         {{"reconcile.external-secrets.io/data-hash",
           "e7cd839ed0fe7c0c32fc26b43678c717e1f427d73058fe65cc84af8b"}}},
        {"ownerReferences",
         {{{"apiVersion", "external-secrets.io/v1"},
           {"kind", "ExternalSecret"},
           {"name", "app"},
           {"uid", "uid-es"},
           {"controller", true},
           {"blockOwnerDeletion", true}}}}}},
      {"data", {{"a", Base64Encode("hi")}, {"b", Base64Encode("x")}}}};
  ObservedState observed;
  observed.target = Stored(eso_secret);
  EXPECT_TRUE(IsTargetValid(es, observed));
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"a":"hi","b":"x"})"), kNow);
  EXPECT_TRUE(plan.ok);
  EXPECT_EQ(plan.action, SecretAction::kNone) << plan.patch.dump();
}

// ---- deletionPolicy x remote NotFound -----------------------------------------------------------

struct DeletionCase {
  std::string name;
  CreationPolicy creation;
  DeletionPolicy deletion;
  bool target_exists;
  SecretAction action;
  std::string status;
  std::string reason;
};

TEST(ReconcileTest, DeletionPolicyWhenRemoteIsGone) {
  const DeletionCase cases[] = {
      {"retain", CreationPolicy::kOwner, DeletionPolicy::kRetain, true, SecretAction::kNone,
       "False", "SecretSyncedError"},
      {"delete/exists", CreationPolicy::kOwner, DeletionPolicy::kDelete, true,
       SecretAction::kDelete, "True", "SecretDeleted"},
      {"delete/missing", CreationPolicy::kOwner, DeletionPolicy::kDelete, false,
       SecretAction::kNone, "True", "SecretDeleted"},
      {"delete/orphan", CreationPolicy::kOrphan, DeletionPolicy::kDelete, true, SecretAction::kNone,
       "False", "SecretSyncedError"},
      {"merge/owner", CreationPolicy::kOwner, DeletionPolicy::kMerge, true, SecretAction::kUpdate,
       "True", "SecretSynced"},
  };
  for (const DeletionCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExternalSecret es = MakeEs(c.creation, c.deletion);
    ObservedState observed;
    if (c.target_exists) observed.target = SyncedTarget(es, {{"password", "pw1"}});
    Plan plan = ReconcileExternalSecret(es, observed, RemoteGone(), kNow);
    EXPECT_EQ(plan.action, c.action);
    EXPECT_EQ(Ready(plan).status, c.status);
    EXPECT_EQ(Ready(plan).reason, c.reason);
    if (c.action == SecretAction::kDelete) {
      EXPECT_EQ(plan.secret["metadata"]["name"], "app-secret");
      ASSERT_EQ(plan.events.size(), 1u);
      EXPECT_EQ(plan.events[0].reason, "Deleted");
      EXPECT_EQ(Ready(plan).message, "secret deleted due to DeletionPolicy=Delete");
    }
    if (c.action == SecretAction::kUpdate) {
      EXPECT_TRUE(plan.patch["data"]["password"].is_null());
    }
    if (c.status == "False") {
      EXPECT_FALSE(plan.ok);
      EXPECT_EQ(plan.requeue_after_ms, kBackoffBaseMs);
    }
  }
}

TEST(ReconcileTest, RetainMessageNamesTheMissingKeyAndKeepsTheSecret) {
  ExternalSecret es = MakeEs();
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  Plan plan = ReconcileExternalSecret(es, observed, RemoteGone(), kNow);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_NE(Ready(plan).message.find("could not get secret data from provider"), std::string::npos);
  EXPECT_NE(Ready(plan).message.find("\"db\""), std::string::npos);
}

TEST(ReconcileTest, DeletionMergeWithMergeCreationRemovesOnlyOurKeys) {
  ExternalSecret es = MakeEs(CreationPolicy::kMerge, DeletionPolicy::kMerge);
  es.data.push_back(DataItem{"user", RemoteRef{"users", "name"}});
  ObservedState observed;
  observed.target = ForeignSecret({{"other", "keep"}, {"password", "old"}, {"user", "bob"}});
  FetchResult f = RemoteGone();
  f.values[{"users"}] = {Status::Ok(), {R"({"name":"bob"})"}};
  Plan plan = ReconcileExternalSecret(es, observed, f, kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_TRUE(plan.patch["data"]["password"].is_null());
  EXPECT_FALSE(plan.patch["data"].contains("other"));
  EXPECT_FALSE(plan.patch["data"].contains("user"));  // unchanged
  EXPECT_EQ(DataOf(plan.secret, "other"), "keep");
  EXPECT_FALSE(plan.secret["data"].contains("password"));
}

TEST(ReconcileTest, EmptyProviderDataWithRetainIsRetained) {
  ExternalSecret es = MakeEs();
  es.data.clear();
  es.data_from = {RemoteRef{"db"}};
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"a", "1"}});
  Plan plan = ReconcileExternalSecret(es, observed, Fetched("{}"), kNow);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_EQ(Ready(plan).reason, "SecretSynced");
  EXPECT_EQ(Ready(plan).message, "secret retained due to DeletionPolicy=Retain");
}

// ---- writes only on change ----------------------------------------------------------------------

TEST(ReconcileTest, UnchangedDataIsNotWritten) {
  ExternalSecret es = MakeEs();
  es.metadata.labels = {{"team", "a"}};
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  MarkSynced(es, kNow - 20 * kMinute);
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_TRUE(plan.events.empty());
  EXPECT_TRUE(plan.status_changed);  // refreshTime moved
  EXPECT_EQ(Ready(plan).last_transition_time, FormatIso8601(kNow - 20 * kMinute));
}

TEST(ReconcileTest, ChangedDataIsAnUpdateWithOptimisticConcurrency) {
  ExternalSecret es = MakeEs();
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw2"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_EQ(plan.patch["metadata"]["resourceVersion"], "100");
  EXPECT_EQ(*Base64Decode(plan.patch["data"]["password"].get<std::string>()), "pw2");
  EXPECT_EQ(plan.patch["metadata"]["annotations"][std::string(kAnnotationDataHash)],
            DataHash({{"password", "pw2"}}));
  EXPECT_FALSE(plan.patch["metadata"].contains("labels"));  // labels already right
  EXPECT_EQ(DataOf(plan.secret, "password"), "pw2");
  EXPECT_EQ(plan.secret["metadata"]["uid"], "uid-secret");  // full object keeps what we read
  EXPECT_EQ(plan.events.at(0).message, "secret updated");
}

TEST(ReconcileTest, LabelOrTemplateChangeIsAnUpdateWithoutDataChange) {
  ExternalSecret es = MakeEs();
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  es.target.has_template = true;
  es.target.template_labels = {{"app", "web"}};
  es.target.template_annotations = {{"note", "x"}};
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_FALSE(plan.patch.contains("data"));
  EXPECT_EQ(plan.patch["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(plan.patch["metadata"]["annotations"]["note"], "x");
}

TEST(ReconcileTest, TemplateTypeLabelsAnnotationsAndImmutableOnCreate) {
  ExternalSecret es = MakeEs();
  es.metadata.labels = {{"from-es", "not-copied-with-template"}};
  es.metadata.annotations = {{std::string(kAnnotationLastApplied), "{}"}};
  es.target.immutable = true;
  es.target.has_template = true;
  es.target.template_type = "kubernetes.io/basic-auth";
  es.target.template_labels = {{"app", "web"}};
  Plan plan = ReconcileExternalSecret(es, {}, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kCreate);
  EXPECT_EQ(plan.secret["type"], "kubernetes.io/basic-auth");
  EXPECT_EQ(plan.secret["immutable"], true);
  EXPECT_EQ(plan.secret["metadata"]["labels"]["app"], "web");
  EXPECT_FALSE(plan.secret["metadata"]["labels"].contains("from-es"));

  // Without a template the ExternalSecret's labels and annotations are copied (not last-applied).
  ExternalSecret plain = MakeEs();
  plain.metadata.labels = {{"team", "a"}};
  plain.metadata.annotations = {{std::string(kAnnotationLastApplied), "{}"}, {"note", "n"}};
  Plan p2 = ReconcileExternalSecret(plain, {}, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_EQ(p2.secret["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(p2.secret["metadata"]["annotations"]["note"], "n");
  EXPECT_FALSE(p2.secret["metadata"]["annotations"].contains(std::string(kAnnotationLastApplied)));
  EXPECT_FALSE(p2.secret.contains("immutable"));
}

TEST(ReconcileTest, ImmutableTargetWithNewDataIsAnError) {
  ExternalSecret es = MakeEs();
  es.target.immutable = true;
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  ASSERT_TRUE(observed.target->immutable);
  Plan same = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_TRUE(same.ok);
  EXPECT_EQ(same.action, SecretAction::kNone);
  Plan changed = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw2"})"), kNow);
  EXPECT_FALSE(changed.ok);
  EXPECT_EQ(changed.action, SecretAction::kNone);
  EXPECT_EQ(Ready(changed).message, "could not update secret, target is immutable");
}

TEST(ReconcileTest, TargetOwnedByAnotherExternalSecretIsAnError) {
  ExternalSecret other = MakeEs();
  other.metadata.name = "other";
  other.metadata.uid = "uid-other";
  ObservedState observed;
  observed.target = SyncedTarget(other, {{"password", "pw1"}});
  Plan plan = ReconcileExternalSecret(MakeEs(), observed, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_NE(Ready(plan).message.find("target is owned by another ExternalSecret"),
            std::string::npos);
}

TEST(ReconcileTest, EditedTargetNeedsRefreshAndIsRestored) {
  ExternalSecret es = MakeEs();
  MarkSynced(es, kNow - kMinute);
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  EXPECT_FALSE(NeedsRefresh(es, observed, kNow));
  observed.target->data["password"] = "tampered";  // kubectl edit; the hash no longer matches
  EXPECT_FALSE(IsTargetValid(es, observed));
  EXPECT_TRUE(NeedsRefresh(es, observed, kNow));
  Plan plan = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  ASSERT_EQ(plan.action, SecretAction::kUpdate);
  EXPECT_EQ(*Base64Decode(plan.patch["data"]["password"].get<std::string>()), "pw1");

  ObservedState deleted;  // kubectl delete secret
  EXPECT_TRUE(NeedsRefresh(es, deleted, kNow));
  ObservedState unlabeled;
  unlabeled.target = SyncedTarget(es, {{"password", "pw1"}});
  unlabeled.target->metadata.labels.erase(std::string(kLabelManaged));
  EXPECT_TRUE(NeedsRefresh(es, unlabeled, kNow));
}

TEST(ReconcileTest, OrphanAndNoneTargetsAreNotRepairedBeforeTheRefresh) {
  for (CreationPolicy p : {CreationPolicy::kOrphan, CreationPolicy::kNone}) {
    ExternalSecret es = MakeEs(p);
    MarkSynced(es, kNow - kMinute);
    EXPECT_TRUE(IsTargetValid(es, ObservedState{}));
    EXPECT_FALSE(NeedsRefresh(es, ObservedState{}, kNow));
  }
}

// ---- refresh timing -----------------------------------------------------------------------------

struct RefreshCase {
  std::string name;
  RefreshPolicy policy;
  std::int64_t interval_ms;
  bool synced;                 // a previous successful sync exists
  std::int64_t synced_ago_ms;  // how long ago
  bool metadata_changed;       // labels/annotations/spec changed since
  bool want;
};

TEST(RefreshTest, ShouldRefreshTable) {
  const std::int64_t h = 60 * kMinute;
  const RefreshCase cases[] = {
      {"periodic/never synced", RefreshPolicy::kPeriodic, 15 * kMinute, false, 0, false, true},
      {"periodic/15m/fresh", RefreshPolicy::kPeriodic, 15 * kMinute, true, 14 * kMinute, false,
       false},
      {"periodic/15m/due", RefreshPolicy::kPeriodic, 15 * kMinute, true, 15 * kMinute + 1, false,
       true},
      {"periodic/1h/fresh", RefreshPolicy::kPeriodic, h, true, 59 * kMinute, false, false},
      {"periodic/1h/due", RefreshPolicy::kPeriodic, h, true, h + 1, false, true},
      {"periodic/force-sync", RefreshPolicy::kPeriodic, h, true, kMinute, true, true},
      {"periodic/0/never synced", RefreshPolicy::kPeriodic, 0, false, 0, false, true},
      {"periodic/0/synced", RefreshPolicy::kPeriodic, 0, true, 100 * h, false, false},
      {"periodic/0/force-sync ignored", RefreshPolicy::kPeriodic, 0, true, kMinute, true, false},
      {"createdonce/never", RefreshPolicy::kCreatedOnce, h, false, 0, false, true},
      {"createdonce/synced/due", RefreshPolicy::kCreatedOnce, h, true, 100 * h, false, false},
      {"createdonce/force-sync ignored", RefreshPolicy::kCreatedOnce, h, true, kMinute, true,
       false},
      {"onchange/unchanged/due", RefreshPolicy::kOnChange, h, true, 100 * h, false, false},
      {"onchange/changed", RefreshPolicy::kOnChange, h, true, kMinute, true, true},
      {"onchange/never", RefreshPolicy::kOnChange, h, false, 0, false, true},
  };
  for (const RefreshCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExternalSecret es = MakeEs();
    es.refresh_policy = c.policy;
    es.refresh_interval_ms = c.interval_ms;
    if (c.synced) MarkSynced(es, kNow - c.synced_ago_ms);
    if (c.metadata_changed) es.metadata.annotations["force-sync"] = "1767225600";
    EXPECT_EQ(ShouldRefresh(es, kNow), c.want);
  }
}

TEST(RefreshTest, SpecChangeAndRefreshTimeInTheFuture) {
  ExternalSecret es = MakeEs();
  MarkSynced(es, kNow - kMinute);
  EXPECT_FALSE(ShouldRefresh(es, kNow));
  es.metadata.generation = 2;  // spec edited
  EXPECT_TRUE(ShouldRefresh(es, kNow));
  ExternalSecret future = MakeEs();
  MarkSynced(future, kNow + kMinute);  // clock skew
  EXPECT_TRUE(ShouldRefresh(future, kNow));
}

TEST(RefreshTest, RequeueAfterSuccessPerPolicy) {
  struct Case {
    RefreshPolicy policy;
    std::int64_t interval;
    std::optional<std::int64_t> want;
  } cases[] = {{RefreshPolicy::kPeriodic, 15 * kMinute, 15 * kMinute},
               {RefreshPolicy::kPeriodic, 60 * kMinute, 60 * kMinute},
               {RefreshPolicy::kPeriodic, 0, std::nullopt},
               {RefreshPolicy::kCreatedOnce, 15 * kMinute, std::nullopt},
               {RefreshPolicy::kOnChange, 15 * kMinute, std::nullopt}};
  for (const Case& c : cases) {
    ExternalSecret es = MakeEs();
    es.refresh_policy = c.policy;
    es.refresh_interval_ms = c.interval;
    Plan plan = ReconcileExternalSecret(es, {}, Fetched(R"({"password":"pw1"})"), kNow);
    EXPECT_EQ(plan.requeue_after_ms, c.want);
  }
}

TEST(RefreshTest, NextRefreshDelay) {
  ExternalSecret es = MakeEs();
  EXPECT_EQ(NextRefreshDelay(es, kNow), 0);
  MarkSynced(es, kNow - 5 * kMinute);
  EXPECT_EQ(NextRefreshDelay(es, kNow), 10 * kMinute);
  MarkSynced(es, kNow - 20 * kMinute);
  EXPECT_EQ(NextRefreshDelay(es, kNow), 0);
  es.refresh_interval_ms = 0;
  EXPECT_EQ(NextRefreshDelay(es, kNow), std::nullopt);
  es.refresh_interval_ms = kMinute;
  es.refresh_policy = RefreshPolicy::kOnChange;
  EXPECT_EQ(NextRefreshDelay(es, kNow), std::nullopt);
}

TEST(RefreshTest, ForceSyncAnnotationRefreshesAtOnceAfterASuccessfulSync) {
  ExternalSecret es = MakeEs();
  Plan first = ReconcileExternalSecret(es, {}, Fetched(R"({"password":"pw1"})"), kNow);
  es.status = first.status;
  ObservedState observed;
  observed.target = Stored(first.secret);
  EXPECT_FALSE(NeedsRefresh(es, observed, kNow + kMinute));
  es.metadata.annotations["force-sync"] = "1767225660";  // kubectl annotate ... --overwrite
  EXPECT_TRUE(NeedsRefresh(es, observed, kNow + kMinute));
}

// ---- failures -----------------------------------------------------------------------------------

TEST(FailureTest, BackendDownKeepsTheSecretAndBacksOff) {
  ExternalSecret es = MakeEs();
  MarkSynced(es, kNow - 20 * kMinute);
  ObservedState observed;
  observed.target = SyncedTarget(es, {{"password", "pw1"}});
  std::int64_t want_delay = 5'000;
  for (int attempt = 1; attempt <= 9; ++attempt) {
    SCOPED_TRACE(attempt);
    Plan plan = ReconcileExternalSecret(es, observed, BackendDown(), kNow);
    EXPECT_FALSE(plan.ok);
    EXPECT_EQ(plan.action, SecretAction::kNone);
    EXPECT_TRUE(plan.secret.is_null());
    EXPECT_EQ(Ready(plan).status, "False");
    EXPECT_EQ(Ready(plan).reason, "SecretSyncedError");
    EXPECT_EQ(Ready(plan).message,
              "could not get secret data from provider: spec.data[0] (remote key \"db\"): backend "
              "unreachable: connection refused");
    ASSERT_EQ(plan.events.size(), 1u);
    EXPECT_EQ(plan.events[0].type, "Warning");
    EXPECT_EQ(plan.events[0].reason, "UpdateFailed");
    EXPECT_EQ(plan.consecutive_failures, attempt);
    EXPECT_EQ(plan.requeue_after_ms, want_delay);
    // refreshTime and syncedResourceVersion keep the last success: the next reconcile refreshes.
    EXPECT_EQ(plan.status.refresh_time_ms, kNow - 20 * kMinute);
    EXPECT_EQ(plan.status.synced_resource_version, es.status.synced_resource_version);
    want_delay = std::min<std::int64_t>(want_delay * 2, 300'000);
    observed.consecutive_failures = plan.consecutive_failures;
    es.status = plan.status;
  }
  // Recovery: the next success resets the count and turns Ready True with a new transition time.
  Plan ok = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow + 1000);
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.consecutive_failures, 0);
  EXPECT_EQ(ok.action, SecretAction::kNone);
  EXPECT_EQ(Ready(ok).status, "True");
  EXPECT_EQ(Ready(ok).last_transition_time, FormatIso8601(kNow + 1000));
}

TEST(FailureTest, BackoffSequence) {
  EXPECT_EQ(BackoffDelay(1), 5'000);
  EXPECT_EQ(BackoffDelay(2), 10'000);
  EXPECT_EQ(BackoffDelay(3), 20'000);
  EXPECT_EQ(BackoffDelay(6), 160'000);
  EXPECT_EQ(BackoffDelay(7), 300'000);
  EXPECT_EQ(BackoffDelay(1000), 300'000);
  EXPECT_EQ(BackoffDelay(0), 5'000);
}

TEST(FailureTest, StoreErrorIsReportedLikeAFetchError) {
  FetchResult f;
  f.error = Status::FailedPrecondition("SecretStore \"store\" is not ready");
  Plan plan = ReconcileExternalSecret(MakeEs(), {}, f, kNow);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(Ready(plan).message,
            "could not get secret data from provider: SecretStore \"store\" is not ready");
}

TEST(FailureTest, WriteFailureAfterAnAttemptedUpdateOrDelete) {
  ExternalSecret es = MakeEs();
  MarkSynced(es, kNow - 20 * kMinute);
  ObservedState observed;
  observed.consecutive_failures = 2;
  Plan attempted;
  attempted.action = SecretAction::kUpdate;
  Plan plan = PlanWriteFailure(es, observed, attempted, Status::Aborted("409 Conflict"), kNow);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(Ready(plan).message, "could not update secret: 409 Conflict");
  EXPECT_EQ(plan.events.at(0).reason, "UpdateFailed");
  EXPECT_EQ(plan.consecutive_failures, 3);
  EXPECT_EQ(plan.requeue_after_ms, 20'000);
  EXPECT_EQ(plan.status.refresh_time_ms, kNow - 20 * kMinute);
  attempted.action = SecretAction::kDelete;
  Plan del = PlanWriteFailure(es, observed, attempted, Status::PermissionDenied("forbidden"), kNow);
  EXPECT_EQ(Ready(del).message, "could not delete secret: forbidden");
}

// ---- conditions ---------------------------------------------------------------------------------

TEST(ConditionTest, LastTransitionTimeKeptWhileStatusUnchanged) {
  std::vector<Condition> conditions;
  SetCondition(conditions, {"Ready", "False", "SecretSyncedError", "a", ""}, 1'000);
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].last_transition_time, FormatIso8601(1'000));
  // Same status, new message: the transition time stays.
  SetCondition(conditions, {"Ready", "False", "SecretSyncedError", "b", ""}, 5'000);
  EXPECT_EQ(conditions[0].message, "b");
  EXPECT_EQ(conditions[0].last_transition_time, FormatIso8601(1'000));
  // Status flips: new transition time.
  SetCondition(conditions, {"Ready", "True", "SecretSynced", "secret synced", ""}, 9'000);
  EXPECT_EQ(conditions[0].last_transition_time, FormatIso8601(9'000));
  // Identical: untouched.
  SetCondition(conditions, {"Ready", "True", "SecretSynced", "secret synced", ""}, 20'000);
  EXPECT_EQ(conditions[0].last_transition_time, FormatIso8601(9'000));
  // Another type is added beside it.
  SetCondition(conditions, {"Deleted", "True", "SecretDeleted", "", ""}, 30'000);
  EXPECT_EQ(conditions.size(), 2u);
}

TEST(ConditionTest, StatusUnchangedMeansNoStatusWrite) {
  ExternalSecret es = MakeEs();
  es.refresh_policy = RefreshPolicy::kCreatedOnce;
  Plan first = ReconcileExternalSecret(es, {}, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_TRUE(first.status_changed);
  es.status = first.status;
  // Same reconcile at the same instant (e.g. a restarted operator with a stale cache): no writes.
  ObservedState observed;
  observed.target = Stored(first.secret);
  Plan again = ReconcileExternalSecret(es, observed, Fetched(R"({"password":"pw1"})"), kNow);
  EXPECT_EQ(again.action, SecretAction::kNone);
  EXPECT_FALSE(again.status_changed);
  EXPECT_EQ(StatusToJson(again.status)["binding"]["name"], "app-secret");
}

TEST(InvalidSpecTest, StatusNamesTheFieldAndIsWrittenOnce) {
  json object = {{"apiVersion", "external-secrets.io/v1"},
                 {"kind", "ExternalSecret"},
                 {"metadata", {{"name", "app"}, {"namespace", "ns"}}},
                 {"spec", {{"secretStoreRef", {{"name", "s"}}}, {"refreshInterval", "soon"}}}};
  auto parsed = ParseExternalSecret(object);
  ASSERT_FALSE(parsed.ok());
  Plan plan = PlanInvalidSpec(object, parsed.status(), kNow);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_FALSE(plan.requeue_after_ms.has_value());
  EXPECT_TRUE(plan.status_changed);
  EXPECT_EQ(Ready(plan).status, "False");
  EXPECT_EQ(Ready(plan).reason, "SecretSyncedError");
  EXPECT_NE(Ready(plan).message.find("spec.refreshInterval"), std::string::npos);
  EXPECT_EQ(plan.events.at(0).reason, "UpdateFailed");
  // Reconciling the same invalid object again changes nothing.
  object["status"] = StatusToJson(plan.status);
  Plan again = PlanInvalidSpec(object, parsed.status(), kNow + 60'000);
  EXPECT_FALSE(again.status_changed);
}

TEST(CanaryTest, PlansNeverCarrySecretValuesOutsideTheSecret) {
  const std::string canary = "CANARY-8d1e-secret";
  ExternalSecret es = MakeEs();
  es.data.push_back(DataItem{"bad", RemoteRef{"db", "password", "", DecodingStrategy::kBase64}});
  Plan plan = ReconcileExternalSecret(es, {}, Fetched(R"({"password":")" + canary + "\"}"), kNow);
  EXPECT_FALSE(plan.ok);
  EXPECT_EQ(StatusToJson(plan.status).dump().find("CANARY"), std::string::npos);
  for (const Event& e : plan.events) EXPECT_EQ(e.message.find("CANARY"), std::string::npos);
}

}  // namespace
}  // namespace coffer::op
