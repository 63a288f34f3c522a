#include "operator/push_secret.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/test_yaml.h"

namespace coffer::op {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kNow = 1'767'225'600'000;
constexpr char kValue[] = "s3cr3t";

json Manifest(std::string_view yaml) { return testing::YamlToJson(yaml).at(0); }

constexpr char kBasic[] = R"(
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata:
  name: push-db
  namespace: team
  generation: 2
spec:
  secretStoreRefs:
    - name: aws
  selector:
    secret:
      name: db
  data:
    - match:
        secretKey: password
        remoteRef:
          remoteKey: team/db
)";

PushSecret Parse(std::string_view yaml) {
  Result<PushSecret> ps = ParsePushSecret(Manifest(yaml));
  EXPECT_TRUE(ps.ok()) << ps.status().ToString();
  return ps.ok() ? std::move(*ps) : PushSecret{};
}

RemoteState Managed(std::optional<std::string> value) {
  RemoteState s;
  s.exists = true;
  s.tags = {{"managed-by", "external-secrets"}};
  s.value = std::move(value);
  return s;
}

TEST(ParsePushSecretTest, DefaultsLikeEso) {
  PushSecret ps = Parse(kBasic);
  EXPECT_EQ(ps.metadata.name, "push-db");
  EXPECT_EQ(ps.refresh_interval_ms, 3'600'000);
  EXPECT_EQ(ps.update_policy, PushUpdatePolicy::kReplace);
  EXPECT_EQ(ps.deletion_policy, PushDeletionPolicy::kNone);
  ASSERT_EQ(ps.store_refs.size(), 1u);
  EXPECT_EQ(ps.store_refs[0].name, "aws");
  EXPECT_EQ(ps.store_refs[0].kind, StoreKind::kSecretStore);
  EXPECT_EQ(ps.secret_name, "db");
  ASSERT_EQ(ps.data.size(), 1u);
  EXPECT_EQ(ps.data[0].secret_key, "password");
  EXPECT_EQ(ps.data[0].remote_key, "team/db");
  EXPECT_FALSE(ps.data[0].metadata.string_format);
  EXPECT_FALSE(ps.deleting);
}

TEST(ParsePushSecretTest, AllFields) {
  PushSecret ps = Parse(R"(
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata:
  name: p
  namespace: team
  finalizers: [pushsecret.externalsecrets.io/finalizer]
  deletionTimestamp: "2026-01-01T00:00:00Z"
spec:
  refreshInterval: 10m
  updatePolicy: IfNotExists
  deletionPolicy: Delete
  secretStoreRefs:
    - kind: ClusterSecretStore
      labelSelector:
        matchLabels: {push: "yes"}
        matchExpressions:
          - {key: tier, operator: In, values: [gold]}
  selector:
    secret:
      name: src
  data:
    - match:
        remoteRef:
          remoteKey: all
          property: doc
      metadata:
        apiVersion: kubernetes.external-secrets.io/v1alpha1
        kind: PushSecretMetadata
        spec:
          secretPushFormat: string
          description: from k8s
          tags: {team: payments}
status:
  refreshTime: "2026-01-01T00:00:00Z"
  syncedPushSecrets:
    ClusterSecretStore/shared:
      all/doc: {match: {remoteRef: {remoteKey: all, property: doc}}}
)");
  EXPECT_EQ(ps.refresh_interval_ms, 600'000);
  EXPECT_EQ(ps.update_policy, PushUpdatePolicy::kIfNotExists);
  EXPECT_EQ(ps.deletion_policy, PushDeletionPolicy::kDelete);
  EXPECT_TRUE(ps.deleting);
  EXPECT_TRUE(HasPushFinalizer(ps));
  EXPECT_FALSE(NeedsPushFinalizer(ps));
  ASSERT_TRUE(ps.store_refs[0].label_selector.has_value());
  EXPECT_EQ(ps.store_refs[0].kind, StoreKind::kClusterSecretStore);
  EXPECT_TRUE(
      SelectorMatches(*ps.store_refs[0].label_selector, {{"push", "yes"}, {"tier", "gold"}}));
  EXPECT_FALSE(SelectorMatches(*ps.store_refs[0].label_selector, {{"push", "yes"}}));
  EXPECT_TRUE(ps.data[0].secret_key.empty());
  EXPECT_EQ(ps.data[0].property, "doc");
  EXPECT_TRUE(ps.data[0].metadata.string_format);
  EXPECT_EQ(ps.data[0].metadata.description, "from k8s");
  EXPECT_EQ(ps.data[0].metadata.tags.at("team"), "payments");
  EXPECT_EQ(ps.status.synced.at("ClusterSecretStore/shared").count("all/doc"), 1u);
  EXPECT_TRUE(ps.status.refresh_time_ms.has_value());
}

TEST(ParsePushSecretTest, RejectsWhatIsInvalidOrUnsupportedByName) {
  struct Case {
    std::string yaml_patch;
    std::string message;
  };
  const Case cases[] = {
      {"updatePolicy: Sometimes", "spec.updatePolicy"},
      {"deletionPolicy: Retain", "spec.deletionPolicy"},
      {"refreshInterval: soon", "spec.refreshInterval"},
      {"dataTo: [{}]", "spec.dataTo"},
      {"template: {}", "spec.template"},
      {"secretStoreRefs: [{kind: SecretStore}]", "needs a name or a labelSelector"},
      {"secretStoreRefs: [{name: a, kind: Vault}]", "spec.secretStoreRefs[0].kind"},
      {"selector: {generatorRef: {name: g}}", "generatorRef"},
      {"selector: {secret: {selector: {matchLabels: {a: b}}}}", "spec.selector.secret.selector"},
      {"data: [{match: {secretKey: a, remoteRef: {}}}]", "remoteKey: is required"},
      {"data: [{match: {remoteRef: {remoteKey: k}}, metadata: {spec: {tags: {managed-by: me}}}}]",
       "reserved"},
      {"data: [{match: {remoteRef: {remoteKey: k}}, conversionStrategy: ReverseUnicode}]",
       "conversionStrategy"},
  };
  for (const Case& c : cases) {
    json object = Manifest(kBasic);
    json patch = Manifest(c.yaml_patch);
    for (const auto& [k, v] : patch.items()) object["spec"][k] = v;
    Result<PushSecret> ps = ParsePushSecret(object);
    ASSERT_FALSE(ps.ok()) << c.yaml_patch;
    EXPECT_THAT(ps.status().message(), HasSubstr(c.message)) << c.yaml_patch;
  }
}

TEST(PlanRemoteWriteTest, CreatesMissingSecretWithManagedByTag) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  ASSERT_EQ(writes.size(), 1u);
  Result<PushAction> action =
      PlanRemoteWrite(writes[0], {{"password", kValue}}, RemoteState{}, PushUpdatePolicy::kReplace);
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(action->type, PushActionType::kCreate);
  EXPECT_EQ(action->value, kValue);
  EXPECT_TRUE(action->binary);
  EXPECT_EQ(action->tags.at("managed-by"), "external-secrets");
  EXPECT_EQ(action->description, "secret 'managed-by:external-secrets'");
}

TEST(PlanRemoteWriteTest, PutsOnlyWhenTheValueDiffers) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  Result<PushAction> same = PlanRemoteWrite(writes[0], {{"password", kValue}}, Managed(kValue),
                                            PushUpdatePolicy::kReplace);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->type, PushActionType::kNone);
  Result<PushAction> changed = PlanRemoteWrite(writes[0], {{"password", "n3w"}}, Managed(kValue),
                                               PushUpdatePolicy::kReplace);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->type, PushActionType::kPutValue);
  EXPECT_EQ(changed->value, "n3w");
}

TEST(PlanRemoteWriteTest, IfNotExistsLeavesAnExistingSecretAlone) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  RemoteState foreign;
  foreign.exists = true;  // not even ours: IfNotExists never looks at it
  Result<PushAction> action =
      PlanRemoteWrite(writes[0], {{"password", kValue}}, foreign, PushUpdatePolicy::kIfNotExists);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(action->type, PushActionType::kNone);
  EXPECT_TRUE(action->skipped_exists);
  Result<PushAction> missing = PlanRemoteWrite(writes[0], {{"password", kValue}}, RemoteState{},
                                               PushUpdatePolicy::kIfNotExists);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, PushActionType::kCreate);
}

TEST(PlanRemoteWriteTest, RefusesASecretWithoutTheManagedByTag) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  RemoteState foreign;
  foreign.exists = true;
  foreign.tags = {{"managed-by", "someone-else"}};
  foreign.value = "other";
  Result<PushAction> action =
      PlanRemoteWrite(writes[0], {{"password", kValue}}, foreign, PushUpdatePolicy::kReplace);
  ASSERT_FALSE(action.ok());
  EXPECT_EQ(action.status().message(), "secret not managed by external-secrets");
}

TEST(PlanRemoteWriteTest, PropertiesMergeIntoTheExistingJsonInOneWrite) {
  PushSecret ps = Parse(R"(
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p, namespace: team}
spec:
  secretStoreRefs: [{name: aws}]
  selector: {secret: {name: tls}}
  data:
    - match: {secretKey: tls.crt, remoteRef: {remoteKey: certs, property: crt}}
    - match: {secretKey: tls.key, remoteRef: {remoteKey: certs, property: nested.key}}
    - match: {secretKey: tls.crt, remoteRef: {remoteKey: other}}
)");
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].remote_key, "certs");
  EXPECT_EQ(writes[0].items.size(), 2u);
  const std::map<std::string, std::string> data = {{"tls.crt", "CRT"}, {"tls.key", kValue}};
  Result<PushAction> merged = PlanRemoteWrite(writes[0], data, Managed(R"({"keep":1,"crt":"old"})"),
                                              PushUpdatePolicy::kReplace);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->type, PushActionType::kPutValue);
  EXPECT_EQ(json::parse(merged->value),
            json::parse(R"({"keep":1,"crt":"CRT","nested":{"key":"s3cr3t"}})"));
  Result<PushAction> created =
      PlanRemoteWrite(writes[0], data, RemoteState{}, PushUpdatePolicy::kReplace);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(json::parse(created->value), json::parse(R"({"crt":"CRT","nested":{"key":"s3cr3t"}})"));
  // Not JSON: refused, without the value in the message.
  Result<PushAction> refused =
      PlanRemoteWrite(writes[0], data, Managed("plain-old-value"), PushUpdatePolicy::kReplace);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(refused.status().message(), Not(HasSubstr("plain-old-value")));
  // Already merged: no write.
  Result<PushAction> same =
      PlanRemoteWrite(writes[0], data, Managed(merged->value), PushUpdatePolicy::kReplace);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->type, PushActionType::kNone);
}

TEST(PlanRemoteWriteTest, NoSecretKeyPushesTheWholeSecretAsJson) {
  PushSecret ps = Parse(R"(
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: {name: p, namespace: team}
spec:
  secretStoreRefs: [{name: aws}]
  selector: {secret: {name: db}}
  data:
    - match: {remoteRef: {remoteKey: whole}}
      metadata: {spec: {secretPushFormat: string, tags: {team: a}}}
)");
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  Result<PushAction> action = PlanRemoteWrite(writes[0], {{"user", "app"}, {"password", kValue}},
                                              RemoteState{}, PushUpdatePolicy::kReplace);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(json::parse(action->value), json::parse(R"({"user":"app","password":"s3cr3t"})"));
  EXPECT_FALSE(action->binary);
  EXPECT_EQ(action->tags, (StringMap{{"managed-by", "external-secrets"}, {"team", "a"}}));
  // On an existing secret, missing metadata tags are added.
  RemoteState existing = Managed(action->value);
  Result<PushAction> again = PlanRemoteWrite(writes[0], {{"user", "app"}, {"password", kValue}},
                                             existing, PushUpdatePolicy::kReplace);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->type, PushActionType::kNone);
  EXPECT_EQ(again->tags, (StringMap{{"team", "a"}}));
}

TEST(PlanRemoteWriteTest, MissingSecretKeyIsAnErrorNamingTheKey) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  Result<PushAction> action =
      PlanRemoteWrite(writes[0], {{"other", kValue}}, RemoteState{}, PushUpdatePolicy::kReplace);
  ASSERT_FALSE(action.ok());
  EXPECT_EQ(action.status().message(), "secret key password does not exist");
}

TEST(RemovedRemoteSecretsTest, OnlyKeysNoLongerWrittenInThatStore) {
  SyncedPushSecrets previous;
  previous["SecretStore/aws"]["a"] = {{"match", {{"remoteRef", {{"remoteKey", "a"}}}}}};
  previous["SecretStore/aws"]["b/x"] = {
      {"match", {{"remoteRef", {{"remoteKey", "b"}, {"property", "x"}}}}}};
  previous["SecretStore/aws"]["b/y"] = {
      {"match", {{"remoteRef", {{"remoteKey", "b"}, {"property", "y"}}}}}};
  previous["SecretStore/old"]["a"] = previous["SecretStore/aws"]["a"];
  SyncedPushSecrets current;
  current["SecretStore/aws"]["b/y"] = previous["SecretStore/aws"]["b/y"];
  const std::vector<RemoteSecretRef> removed = RemovedRemoteSecrets(previous, current);
  EXPECT_EQ(removed,
            (std::vector<RemoteSecretRef>{{"SecretStore/aws", "a"}, {"SecretStore/old", "a"}}));
  EXPECT_EQ(RemovedRemoteSecrets(previous, {}).size(), 3u);
}

TEST(ShouldDeleteRemoteTest, OnlyManagedSecrets) {
  EXPECT_TRUE(ShouldDeleteRemote(Managed(kValue)));
  RemoteState foreign;
  foreign.exists = true;
  EXPECT_FALSE(ShouldDeleteRemote(foreign));
  EXPECT_FALSE(ShouldDeleteRemote(RemoteState{}));
}

TEST(PlanPushStatusTest, SuccessAndFailureLikeEso) {
  PushSecret ps = Parse(kBasic);
  auto writes = PlanRemoteWrites(ps, {"SecretStore/aws"});
  SyncedPushSecrets synced;
  RecordSynced(writes[0], synced);
  PushStatusPlan ok = PlanPushStatus(ps, synced, Status::Ok(), /*wrote=*/true, 0, kNow);
  EXPECT_TRUE(ok.ok);
  EXPECT_TRUE(ok.status_changed);
  const json status = PushStatusToJson(ok.status);
  EXPECT_EQ(status["conditions"][0]["reason"], "Synced");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(status["conditions"][0]["message"], "PushSecret synced successfully");
  EXPECT_EQ(status["syncedPushSecrets"]["SecretStore/aws"]["team/db"]["match"]["secretKey"],
            "password");
  EXPECT_EQ(status["refreshTime"], "2026-01-01T00:00:00Z");
  EXPECT_THAT(status["syncedResourceVersion"].get<std::string>(), ::testing::StartsWith("2-"));
  EXPECT_EQ(ok.requeue_after_ms, 3'600'000);
  ASSERT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.events[0].reason, "Synced");

  ps.status = ok.status;
  PushStatusPlan again = PlanPushStatus(ps, synced, Status::Ok(), /*wrote=*/false, 0, kNow + 1000);
  EXPECT_TRUE(again.events.empty());  // nothing written, nothing new to say

  PushStatusPlan failed = PlanPushStatus(
      ps, {}, Status::FailedPrecondition("secret not managed by external-secrets"), false, 2, kNow);
  EXPECT_FALSE(failed.ok);
  const json fstatus = PushStatusToJson(failed.status);
  EXPECT_EQ(fstatus["conditions"][0]["reason"], "Errored");
  EXPECT_EQ(fstatus["conditions"][0]["message"], "secret not managed by external-secrets");
  // What was synced before stays recorded.
  EXPECT_TRUE(fstatus["syncedPushSecrets"]["SecretStore/aws"].contains("team/db"));
  EXPECT_EQ(failed.consecutive_failures, 3);
  EXPECT_EQ(failed.requeue_after_ms, BackoffDelay(3));
  ASSERT_EQ(failed.events.size(), 1u);
  EXPECT_EQ(failed.events[0].type, "Warning");
}

TEST(SetJsonPropertyTest, PathsAndEscapes) {
  EXPECT_EQ(*SetJsonProperty("", "a", "x"), R"({"a":"x"})");
  EXPECT_EQ(*SetJsonProperty(R"({"a":{"b":1}})", "a.c", "x"), R"({"a":{"b":1,"c":"x"}})");
  EXPECT_EQ(*SetJsonProperty("{}", R"(a\.b)", "x"), R"({"a.b":"x"})");
  EXPECT_FALSE(SetJsonProperty(R"({"a":"str"})", "a.b", "x").ok());
  EXPECT_FALSE(SetJsonProperty("[1]", "a", "x").ok());
}

TEST(RemoteDeleteOptionsTest, ReadsTheStoresSecretsManagerSettings) {
  json store = Manifest(R"(
spec:
  provider:
    aws:
      secretsManager: {recoveryWindowInDays: 7}
)");
  RemoteDeleteOptions o = ParseRemoteDeleteOptions(store);
  EXPECT_FALSE(o.force_delete_without_recovery);
  EXPECT_EQ(o.recovery_window_in_days, 7);
  store["spec"]["provider"]["aws"]["secretsManager"]["forceDeleteWithoutRecovery"] = true;
  o = ParseRemoteDeleteOptions(store);
  EXPECT_TRUE(o.force_delete_without_recovery);
  EXPECT_FALSE(o.recovery_window_in_days.has_value());
}

}  // namespace
}  // namespace coffer::op
