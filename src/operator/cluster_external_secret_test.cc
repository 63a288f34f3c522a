#include "operator/cluster_external_secret.h"

#include <gtest/gtest.h>

#include "operator/test_yaml.h"

namespace coffer::op {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

json Yaml(std::string_view text) { return testing::YamlToJson(text).at(0); }

const char* kCes = R"(
apiVersion: external-secrets.io/v1
kind: ClusterExternalSecret
metadata:
  name: ml-db
  uid: ces-uid-1
spec:
  externalSecretName: db-credentials
  externalSecretMetadata:
    labels: {team: ml}
    annotations: {note: stamped}
  namespaceSelectors:
    - matchLabels: {team: ml}
  refreshTime: 1m
  externalSecretSpec:
    refreshInterval: 1h
    secretStoreRef: {name: coffer, kind: ClusterSecretStore}
    target: {name: db}
    data:
      - secretKey: password
        remoteRef: {key: ml/db}
)";

ClusterExternalSecret Parse(const json& object) {
  Result<ClusterExternalSecret> ces = ParseClusterExternalSecret(object);
  EXPECT_TRUE(ces.ok()) << ces.status().ToString();
  return ces.ok() ? *ces : ClusterExternalSecret{};
}

NamespaceInfo Ns(std::string name, StringMap labels = {}, bool terminating = false) {
  return {std::move(name), std::move(labels), terminating};
}

// The ExternalSecret the CES created in `ns` as the apiserver would return it.
json Stored(const ClusterExternalSecret& ces, const std::string& ns, std::string rv = "7") {
  json es = DesiredExternalSecret(ces, ns);
  es["metadata"]["resourceVersion"] = rv;
  es["metadata"]["uid"] = "es-uid-" + ns;
  return es;
}

TEST(ParseClusterExternalSecret, ReadsEveryField) {
  json object = Yaml(kCes);
  object["spec"]["namespaceSelector"] = Yaml("matchLabels: {legacy: 'yes'}");
  object["spec"]["namespaces"] = {"extra"};
  ClusterExternalSecret ces = Parse(object);
  EXPECT_EQ(ces.metadata.name, "ml-db");
  EXPECT_EQ(ces.external_secret_name, "db-credentials");
  EXPECT_EQ(ces.external_secret_labels, (StringMap{{"team", "ml"}}));
  EXPECT_EQ(ces.external_secret_annotations, (StringMap{{"note", "stamped"}}));
  ASSERT_EQ(ces.namespace_selectors.size(), 2u);  // the deprecated one first
  EXPECT_EQ(ces.namespace_selectors[0].match_labels, (StringMap{{"legacy", "yes"}}));
  EXPECT_EQ(ces.namespace_selectors[1].match_labels, (StringMap{{"team", "ml"}}));
  EXPECT_EQ(ces.namespaces, std::vector<std::string>{"extra"});
  EXPECT_EQ(ces.refresh_time_ms, 60'000);
  EXPECT_EQ(ces.external_secret_spec["target"]["name"], "db");
}

TEST(ParseClusterExternalSecret, Defaults) {
  json object = Yaml(kCes);
  object["spec"].erase("externalSecretName");
  object["spec"].erase("refreshTime");
  ClusterExternalSecret ces = Parse(object);
  EXPECT_EQ(ces.external_secret_name, "ml-db");
  EXPECT_EQ(ces.refresh_time_ms, kDefaultCesRefreshMs);
  EXPECT_EQ(ces.refresh_time_ms, 3'600'000);
}

TEST(ParseClusterExternalSecret, Rejects) {
  json no_spec = Yaml(kCes);
  no_spec["spec"].erase("externalSecretSpec");
  EXPECT_EQ(ParseClusterExternalSecret(no_spec).status().code(), StatusCode::kInvalidArgument);

  json bad_op = Yaml(kCes);
  bad_op["spec"]["namespaceSelectors"] =
      Yaml("[{matchExpressions: [{key: team, operator: Near, values: [ml]}]}]");
  Result<ClusterExternalSecret> r = ParseClusterExternalSecret(bad_op);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("spec.namespaceSelectors[0].matchExpressions[0].operator"),
            std::string::npos)
      << r.status().message();

  json in_without_values = Yaml(kCes);
  in_without_values["spec"]["namespaceSelectors"] =
      Yaml("[{matchExpressions: [{key: team, operator: In}]}]");
  EXPECT_FALSE(ParseClusterExternalSecret(in_without_values).ok());

  json exists_with_values = Yaml(kCes);
  exists_with_values["spec"]["namespaceSelectors"] =
      Yaml("[{matchExpressions: [{key: team, operator: Exists, values: [x]}]}]");
  EXPECT_FALSE(ParseClusterExternalSecret(exists_with_values).ok());

  json bad_refresh = Yaml(kCes);
  bad_refresh["spec"]["refreshTime"] = "soon";
  EXPECT_FALSE(ParseClusterExternalSecret(bad_refresh).ok());

  json wrong_kind = Yaml(kCes);
  wrong_kind["kind"] = "ExternalSecret";
  EXPECT_FALSE(ParseClusterExternalSecret(wrong_kind).ok());

  json v1beta1 = Yaml(kCes);
  v1beta1["apiVersion"] = "external-secrets.io/v1beta1";
  EXPECT_TRUE(ParseClusterExternalSecret(v1beta1).ok());
}

TEST(LabelSelector, OperatorsAsKubernetes) {
  auto selector = [](std::string_view yaml) {
    Result<LabelSelector> s = ParseLabelSelector(Yaml(yaml), "s");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : LabelSelector{};
  };
  const StringMap ml = {{"team", "ml"}, {"tier", "prod"}};
  const StringMap web = {{"team", "web"}};
  const StringMap none = {};

  LabelSelector in = selector("matchExpressions: [{key: team, operator: In, values: [ml, data]}]");
  EXPECT_TRUE(SelectorMatches(in, ml));
  EXPECT_FALSE(SelectorMatches(in, web));
  EXPECT_FALSE(SelectorMatches(in, none));

  LabelSelector not_in = selector("matchExpressions: [{key: team, operator: NotIn, values: [ml]}]");
  EXPECT_FALSE(SelectorMatches(not_in, ml));
  EXPECT_TRUE(SelectorMatches(not_in, web));
  EXPECT_TRUE(SelectorMatches(not_in, none));  // no label is "not in"

  LabelSelector exists = selector("matchExpressions: [{key: tier, operator: Exists}]");
  EXPECT_TRUE(SelectorMatches(exists, ml));
  EXPECT_FALSE(SelectorMatches(exists, web));

  LabelSelector absent = selector("matchExpressions: [{key: tier, operator: DoesNotExist}]");
  EXPECT_FALSE(SelectorMatches(absent, ml));
  EXPECT_TRUE(SelectorMatches(absent, web));

  // matchLabels and matchExpressions are ANDed.
  LabelSelector both = selector(
      "{matchLabels: {team: ml}, matchExpressions: [{key: tier, operator: In, values: [dev]}]}");
  EXPECT_FALSE(SelectorMatches(both, ml));
  EXPECT_TRUE(SelectorMatches(both, {{"team", "ml"}, {"tier", "dev"}}));

  // An empty selector selects everything.
  EXPECT_TRUE(SelectorMatches(selector("{}"), none));
}

TEST(SelectNamespaces, SelectorsAreOredAndNamesAdded) {
  json object = Yaml(kCes);
  object["spec"]["namespaceSelectors"] = Yaml(R"([
    {matchLabels: {team: ml}},
    {matchExpressions: [{key: shared, operator: Exists}]}])");
  object["spec"]["namespaces"] = {"listed", "missing"};
  ClusterExternalSecret ces = Parse(object);
  std::vector<NamespaceInfo> namespaces = {
      Ns("ml-a", {{"team", "ml"}}), Ns("web", {{"team", "web"}}), Ns("common", {{"shared", "1"}}),
      Ns("listed"), Ns("ml-gone", {{"team", "ml"}}, true)};  // terminating
  EXPECT_EQ(SelectNamespaces(ces, namespaces),
            (std::vector<std::string>{"common", "listed", "ml-a"}));
}

TEST(PlanClusterExternalSecret, CreatesInEveryMatchingNamespace) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}}), Ns("ml-b", {{"team", "ml"}}), Ns("other")};
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.requeue_after_ms, 60'000);
  for (const CesAction& a : plan.actions) {
    EXPECT_EQ(a.kind, CesAction::Kind::kCreate);
    EXPECT_EQ(a.name, "db-credentials");
    const json& es = a.body;
    EXPECT_EQ(es["apiVersion"], "external-secrets.io/v1");
    EXPECT_EQ(es["kind"], "ExternalSecret");
    EXPECT_EQ(es["metadata"]["namespace"], a.namespace_);
    EXPECT_EQ(es["metadata"]["labels"], json({{"team", "ml"}}));
    EXPECT_EQ(es["metadata"]["annotations"], json({{"note", "stamped"}}));
    EXPECT_EQ(es["metadata"]["ownerReferences"],
              json::parse(R"([{"apiVersion":"external-secrets.io/v1","kind":
                  "ClusterExternalSecret","name":"ml-db","uid":"ces-uid-1","controller":true,
                  "blockOwnerDeletion":true}])"));
    EXPECT_EQ(es["spec"], ces.external_secret_spec);
  }
  EXPECT_EQ(plan.actions[0].namespace_, "ml-a");
  EXPECT_EQ(plan.actions[1].namespace_, "ml-b");
  EXPECT_EQ(plan.provisioned, (std::vector<std::string>{"ml-a", "ml-b"}));

  ClusterExternalSecretStatus status = CesStatusAfter(ces, plan, {}, kNow);
  EXPECT_EQ(status.external_secret_name, "db-credentials");
  EXPECT_EQ(status.provisioned_namespaces, (std::vector<std::string>{"ml-a", "ml-b"}));
  EXPECT_TRUE(status.failed_namespaces.empty());
  ASSERT_EQ(status.conditions.size(), 1u);
  EXPECT_EQ(status.conditions[0].type, "Ready");
  EXPECT_EQ(status.conditions[0].status, "True");
  EXPECT_EQ(status.conditions[0].last_transition_time, "2026-01-01T00:00:00Z");
  EXPECT_EQ(CesStatusToJson(status), json::parse(R"({"externalSecretName":"db-credentials",
                "provisionedNamespaces":["ml-a","ml-b"],
                "conditions":[{"type":"Ready","status":"True",
                               "lastTransitionTime":"2026-01-01T00:00:00Z"}]})"));
}

TEST(PlanClusterExternalSecret, UpToDateMeansNoWrites) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}})};
  observed.external_secrets[{"ml-a", "db-credentials"}] = Stored(ces, "ml-a");
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.provisioned, std::vector<std::string>{"ml-a"});
}

TEST(PlanClusterExternalSecret, UpdatesDriftWithAGuardedJsonPatch) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  json existing = Stored(ces, "ml-a", "42");
  existing["spec"]["refreshInterval"] = "5m";     // edited by hand
  existing["metadata"]["labels"]["extra"] = "x";  // ESO replaces labels
  existing["metadata"]["annotations"].erase("note");
  existing["metadata"]["finalizers"] = {"someone/else"};  // not ours: kept
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}})};
  observed.external_secrets[{"ml-a", "db-credentials"}] = existing;
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ASSERT_EQ(plan.actions.size(), 1u);
  const CesAction& a = plan.actions[0];
  EXPECT_EQ(a.kind, CesAction::Kind::kUpdate);
  ASSERT_TRUE(a.body.is_array());
  EXPECT_EQ(a.body[0], json::parse(R"({"op":"test","path":"/metadata/resourceVersion",
                                       "value":"42"})"));
  json patched = existing.patch(a.body);
  EXPECT_EQ(patched["spec"]["refreshInterval"], "1h");
  EXPECT_EQ(patched["metadata"]["labels"], json({{"team", "ml"}}));
  EXPECT_EQ(patched["metadata"]["annotations"], json({{"note", "stamped"}}));
  EXPECT_EQ(patched["metadata"]["finalizers"], json({"someone/else"}));
  EXPECT_EQ(plan.provisioned, std::vector<std::string>{"ml-a"});
}

TEST(PlanClusterExternalSecret, ForceSyncAnnotationIsMirrored) {
  json object = Yaml(kCes);
  object["metadata"]["annotations"] = {{"external-secrets.io/force-sync", "1700000000"}};
  ClusterExternalSecret ces = Parse(object);
  json desired = DesiredExternalSecret(ces, "ml-a");
  EXPECT_EQ(desired["metadata"]["annotations"]["external-secrets.io/force-sync"], "1700000000");

  // Removed from the ClusterExternalSecret: removed from the ExternalSecrets.
  json stored = Stored(ces, "ml-a");
  object["metadata"].erase("annotations");
  ClusterExternalSecret without = Parse(object);
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}})};
  observed.external_secrets[{"ml-a", "db-credentials"}] = stored;
  CesPlan plan = PlanClusterExternalSecret(without, observed);
  ASSERT_EQ(plan.actions.size(), 1u);
  json patched = stored.patch(plan.actions[0].body);
  EXPECT_FALSE(patched["metadata"]["annotations"].contains("external-secrets.io/force-sync"));
}

TEST(PlanClusterExternalSecret, ForeignExternalSecretIsAFailureAndLeftAlone) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  json foreign = Yaml(R"(
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: db-credentials, namespace: ml-b, resourceVersion: "3"}
spec: {secretStoreRef: {name: other}}
)");
  json other_ces = Stored(ces, "ml-c");
  other_ces["metadata"]["ownerReferences"][0]["name"] = "another-ces";
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}}), Ns("ml-b", {{"team", "ml"}}),
                         Ns("ml-c", {{"team", "ml"}})};
  observed.external_secrets[{"ml-b", "db-credentials"}] = foreign;
  observed.external_secrets[{"ml-c", "db-credentials"}] = other_ces;
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].namespace_, "ml-a");
  EXPECT_EQ(plan.failed, (std::map<std::string, std::string>{
                             {"ml-b", "external secret already exists in namespace"},
                             {"ml-c", "external secret already exists in namespace"}}));

  ClusterExternalSecretStatus status = CesStatusAfter(ces, plan, {}, kNow);
  EXPECT_EQ(status.provisioned_namespaces, std::vector<std::string>{"ml-a"});
  EXPECT_EQ(
      status.failed_namespaces,
      (std::vector<NamespaceFailure>{{"ml-b", "external secret already exists in namespace"},
                                     {"ml-c", "external secret already exists in namespace"}}));
  EXPECT_EQ(status.conditions[0].status, "False");
  EXPECT_EQ(status.conditions[0].message, "one or more namespaces failed");
}

TEST(PlanClusterExternalSecret, DeletesWhereTheNamespaceStoppedMatching) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  ces.status.external_secret_name = "db-credentials";
  ces.status.provisioned_namespaces = {"ml-a", "ml-b", "ml-c"};
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}}), Ns("ml-b", {{"team", "web"}}),
                         Ns("ml-c", {{"team", "ml"}}, /*terminating=*/true)};
  observed.external_secrets[{"ml-a", "db-credentials"}] = Stored(ces, "ml-a");
  observed.external_secrets[{"ml-b", "db-credentials"}] = Stored(ces, "ml-b");
  observed.external_secrets[{"ml-c", "db-credentials"}] = Stored(ces, "ml-c");
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0].kind, CesAction::Kind::kDelete);
  EXPECT_EQ(plan.actions[0].namespace_, "ml-b");
  EXPECT_EQ(plan.actions[0].uid, "es-uid-ml-b");
  EXPECT_EQ(plan.actions[1].kind, CesAction::Kind::kDelete);
  EXPECT_EQ(plan.actions[1].namespace_, "ml-c");
  EXPECT_EQ(CesStatusAfter(ces, plan, {}, kNow).provisioned_namespaces,
            std::vector<std::string>{"ml-a"});

  // A delete that fails is reported, and tried again next time.
  ClusterExternalSecretStatus status = CesStatusAfter(ces, plan, {{"ml-b", "Forbidden: no"}}, kNow);
  EXPECT_EQ(status.failed_namespaces, (std::vector<NamespaceFailure>{{"ml-b", "Forbidden: no"}}));
  ces.status = status;
  CesPlan again = PlanClusterExternalSecret(ces, observed);
  ASSERT_FALSE(again.actions.empty());
  EXPECT_EQ(again.actions[0].namespace_, "ml-b");
}

TEST(PlanClusterExternalSecret, NeverDeletesWhatItDoesNotControl) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  ces.status.provisioned_namespaces = {"web"};
  json foreign = Stored(ces, "web");
  foreign["metadata"].erase("ownerReferences");
  CesObserved observed;
  observed.namespaces = {Ns("web", {{"team", "web"}})};
  observed.external_secrets[{"web", "db-credentials"}] = foreign;
  EXPECT_TRUE(PlanClusterExternalSecret(ces, observed).actions.empty());
}

TEST(PlanClusterExternalSecret, RenameDeletesTheOldOnes) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  ces.status.external_secret_name = "old-name";
  ces.status.provisioned_namespaces = {"ml-a"};
  json old = Stored(ces, "ml-a");
  old["metadata"]["name"] = "old-name";
  CesObserved observed;
  observed.namespaces = {Ns("ml-a", {{"team", "ml"}})};
  observed.external_secrets[{"ml-a", "old-name"}] = old;
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0].kind, CesAction::Kind::kDelete);
  EXPECT_EQ(plan.actions[0].name, "old-name");
  EXPECT_EQ(plan.actions[1].kind, CesAction::Kind::kCreate);
  EXPECT_EQ(plan.actions[1].name, "db-credentials");
  EXPECT_EQ(CesStatusAfter(ces, plan, {}, kNow).external_secret_name, "db-credentials");
  // The old one could not be deleted: the status keeps its name so the next pass retries.
  EXPECT_EQ(CesStatusAfter(ces, plan, {{"ml-a", "boom"}}, kNow).external_secret_name, "old-name");
}

TEST(CesStatus, ReadyKeepsItsTransitionTimeAndInvalidSpecsSayWhy) {
  ClusterExternalSecret ces = Parse(Yaml(kCes));
  CesObserved observed;
  CesPlan plan = PlanClusterExternalSecret(ces, observed);
  ces.status = CesStatusAfter(ces, plan, {}, kNow);
  ClusterExternalSecretStatus later = CesStatusAfter(ces, plan, {}, kNow + 60'000);
  EXPECT_EQ(later.conditions[0].last_transition_time, "2026-01-01T00:00:00Z");
  EXPECT_EQ(ParseClusterExternalSecretStatus(json{{"status", CesStatusToJson(later)}})
                .conditions[0]
                .last_transition_time,
            "2026-01-01T00:00:00Z");

  ClusterExternalSecretStatus invalid =
      CesInvalidStatus(ces.status, Status::InvalidArgument("spec.refreshTime bad"), kNow + 1000);
  EXPECT_EQ(invalid.failed_namespaces,
            (std::vector<NamespaceFailure>{{"unknown", "spec.refreshTime bad"}}));
  EXPECT_EQ(invalid.conditions[0].status, "False");
  EXPECT_EQ(invalid.conditions[0].message, "spec.refreshTime bad");
}

}  // namespace
}  // namespace coffer::op
