#include "operator/types.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "operator/test_yaml.h"

namespace coffer::op {
namespace {

using nlohmann::json;
using testing::YamlToJson;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json Es(std::string_view api_version = kApiVersionV1) {
  json j = json::parse(R"({
    "apiVersion": "", "kind": "ExternalSecret",
    "metadata": {"name": "es1", "namespace": "ns", "uid": "u-1", "generation": 3},
    "spec": {"secretStoreRef": {"name": "store"},
             "data": [{"secretKey": "k", "remoteRef": {"key": "remote"}}]}})");
  j["apiVersion"] = api_version;
  return j;
}

TEST(GoDurationTest, ParsesGoSyntax) {
  struct Case {
    std::string_view text;
    std::int64_t ms;
  } cases[] = {{"0", 0},
               {"0s", 0},
               {"15m", 900'000},
               {"1h", 3'600'000},
               {"1h30m", 5'400'000},
               {"1h0m0s", 3'600'000},
               {"300ms", 300},
               {"1.5h", 5'400'000},
               {"90s", 90'000},
               {"2h45m30.5s", 9'930'500},
               {"1500us", 1},
               {"1000000ns", 1},
               {"-5s", -5'000},
               {"+10s", 10'000}};
  for (const Case& c : cases) {
    auto got = ParseGoDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.ms) << c.text;
  }
}

TEST(GoDurationTest, RejectsMalformed) {
  for (std::string_view text : {"", "15", "1x", "h", "1h30", "1..5s", "abc", "1 h", "-"}) {
    EXPECT_FALSE(ParseGoDuration(text).ok()) << text;
  }
}

TEST(GoDurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatGoDuration(3'600'000), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(900'000), "15m0s");
  EXPECT_EQ(FormatGoDuration(1'500), "1.5s");
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(250), "250ms");
  EXPECT_EQ(FormatGoDuration(5'400'000), "1h30m0s");
}

TEST(Rfc3339Test, ParsesUtcFractionsAndOffsets) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2015-08-30T12:36:00Z"), 1440938160000);
  EXPECT_EQ(*ParseRfc3339("2015-08-30T12:36:00.250Z"), 1440938160250);
  EXPECT_EQ(*ParseRfc3339("2015-08-30T14:36:00+02:00"), 1440938160000);
  EXPECT_FALSE(ParseRfc3339("2015-08-30 12:36:00").ok());
  EXPECT_FALSE(ParseRfc3339("2015-13-30T12:36:00Z").ok());
}

TEST(ParseExternalSecretTest, SeedGuideManifestsParse) {
  const std::vector<json> docs = YamlToJson(ReadFile("testdata/seed_manifests.yaml"));
  ASSERT_EQ(docs.size(), 3u);

  auto rotated = ParseExternalSecret(docs[0]);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->api_version, kApiVersionV1Beta1);
  EXPECT_EQ(rotated->metadata.name, "rotated-secret");
  EXPECT_EQ(rotated->metadata.namespace_, "ml-platform");
  EXPECT_EQ(rotated->refresh_interval_ms, 900'000);
  EXPECT_EQ(rotated->refresh_policy, RefreshPolicy::kPeriodic);
  EXPECT_EQ(rotated->store_ref.name, "aws-secrets-manager");
  EXPECT_EQ(rotated->store_ref.kind, StoreKind::kSecretStore);
  EXPECT_EQ(rotated->target.name, "rotated-secret");
  EXPECT_EQ(rotated->target.creation_policy, CreationPolicy::kOwner);
  EXPECT_EQ(rotated->target.deletion_policy, DeletionPolicy::kRetain);
  ASSERT_EQ(rotated->data.size(), 1u);
  EXPECT_EQ(rotated->data[0].secret_key, "database-password");
  EXPECT_EQ(rotated->data[0].remote_ref.key, "ml-platform/database");
  EXPECT_EQ(rotated->data[0].remote_ref.property, "password");
  EXPECT_EQ(rotated->data[0].remote_ref.decoding_strategy, DecodingStrategy::kNone);

  // The migration guide's minimal manifest: every default applies.
  auto minimal = ParseExternalSecret(docs[1]);
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(minimal->refresh_interval_ms, kDefaultRefreshIntervalMs);
  EXPECT_EQ(minimal->target.name, "service-credentials");
  EXPECT_EQ(minimal->target.creation_policy, CreationPolicy::kOwner);
  EXPECT_EQ(minimal->store_ref.kind, StoreKind::kSecretStore);
  EXPECT_TRUE(minimal->data[0].remote_ref.property.empty());
  EXPECT_TRUE(minimal->data[0].remote_ref.version.empty());

  auto store = ParseSecretStore(docs[2]);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->kind, StoreKind::kSecretStore);
  EXPECT_EQ(store->provider_type, ProviderType::kAws);
  EXPECT_EQ(store->aws.region, "us-east-1");
  ASSERT_TRUE(store->aws.access_key_id_ref.has_value());
  EXPECT_EQ(store->aws.access_key_id_ref->name, "coffer-credentials");
  EXPECT_EQ(store->aws.secret_access_key_ref->key, "secret-access-key");
}

TEST(ParseExternalSecretTest, V1ManifestWithEveryField) {
  const std::vector<json> docs = YamlToJson(R"(
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: full
  namespace: apps
  uid: 0b9c-1
  generation: 7
  labels: {team: payments}
  annotations: {force-sync: "1700000000"}
spec:
  refreshInterval: 1h30m
  refreshPolicy: OnChange
  secretStoreRef: {name: coffer, kind: ClusterSecretStore}
  target:
    name: app-secret
    creationPolicy: Orphan
    deletionPolicy: Delete
    immutable: true
    template:
      type: kubernetes.io/dockerconfigjson
      metadata:
        labels: {app: web}
        annotations: {owner: me}
  data:
  - secretKey: pw
    remoteRef: {key: app/db, property: creds.password, version: uuid/abc, decodingStrategy: Base64,
                metadataPolicy: None, conversionStrategy: Default}
  - secretKey: tags
    remoteRef: {key: app/db, metadataPolicy: Fetch, decodingStrategy: Auto}
  dataFrom:
  - extract: {key: app/all, version: AWSPREVIOUS, decodingStrategy: Base64URL,
              conversionStrategy: Unicode}
status:
  refreshTime: "2026-01-01T00:00:00Z"
  syncedResourceVersion: 7-abc
  binding: {name: app-secret}
  conditions:
  - {type: Ready, status: "True", reason: SecretSynced, message: secret synced,
     lastTransitionTime: "2026-01-01T00:00:00Z"}
)");
  auto es = ParseExternalSecret(docs.at(0));
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  EXPECT_EQ(es->api_version, kApiVersionV1);
  EXPECT_EQ(es->metadata.generation, 7);
  EXPECT_EQ(es->metadata.labels.at("team"), "payments");
  EXPECT_EQ(es->metadata.annotations.at("force-sync"), "1700000000");
  EXPECT_EQ(es->refresh_interval_ms, 5'400'000);
  EXPECT_EQ(es->refresh_policy, RefreshPolicy::kOnChange);
  EXPECT_EQ(es->store_ref.kind, StoreKind::kClusterSecretStore);
  EXPECT_EQ(es->target.name, "app-secret");
  EXPECT_EQ(es->target.creation_policy, CreationPolicy::kOrphan);
  EXPECT_EQ(es->target.deletion_policy, DeletionPolicy::kDelete);
  EXPECT_TRUE(es->target.immutable);
  EXPECT_TRUE(es->target.has_template);
  EXPECT_EQ(es->target.template_type, "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(es->target.template_labels.at("app"), "web");
  EXPECT_EQ(es->target.template_annotations.at("owner"), "me");
  ASSERT_EQ(es->data.size(), 2u);
  EXPECT_EQ(es->data[0].remote_ref.property, "creds.password");
  EXPECT_EQ(es->data[0].remote_ref.version, "uuid/abc");
  EXPECT_EQ(es->data[0].remote_ref.decoding_strategy, DecodingStrategy::kBase64);
  EXPECT_EQ(es->data[1].remote_ref.metadata_policy, MetadataPolicy::kFetch);
  EXPECT_EQ(es->data[1].remote_ref.decoding_strategy, DecodingStrategy::kAuto);
  ASSERT_EQ(es->data_from.size(), 1u);
  EXPECT_EQ(es->data_from[0].kind, DataFromEntry::Kind::kExtract);
  EXPECT_EQ(es->data_from[0].extract.key, "app/all");
  EXPECT_EQ(es->data_from[0].extract.version, "AWSPREVIOUS");
  EXPECT_EQ(es->data_from[0].extract.decoding_strategy, DecodingStrategy::kBase64Url);
  EXPECT_EQ(es->data_from[0].extract.conversion_strategy, ConversionStrategy::kUnicode);
  EXPECT_EQ(es->status.refresh_time_ms, 1767225600000);
  EXPECT_EQ(es->status.synced_resource_version, "7-abc");
  EXPECT_EQ(es->status.binding_name, "app-secret");
  ASSERT_EQ(es->status.conditions.size(), 1u);
  EXPECT_EQ(es->status.conditions[0].reason, "SecretSynced");
  // The status round-trips.
  EXPECT_EQ(StatusToJson(es->status), docs[0]["status"]);
}

TEST(ParseExternalSecretTest, V1AndV1Beta1AreTheSameSchema) {
  auto v1 = ParseExternalSecret(Es(kApiVersionV1));
  auto beta = ParseExternalSecret(Es(kApiVersionV1Beta1));
  ASSERT_TRUE(v1.ok() && beta.ok());
  EXPECT_EQ(v1->target.name, beta->target.name);
  EXPECT_EQ(v1->data[0].remote_ref.key, beta->data[0].remote_ref.key);
  EXPECT_FALSE(ParseExternalSecret(Es("external-secrets.io/v1alpha1")).ok());
}

TEST(ParseExternalSecretTest, RefreshIntervalZeroAndPolicies) {
  json j = Es();
  j["spec"]["refreshInterval"] = "0";
  j["spec"]["refreshPolicy"] = "CreatedOnce";
  auto es = ParseExternalSecret(j);
  ASSERT_TRUE(es.ok());
  EXPECT_EQ(es->refresh_interval_ms, 0);
  EXPECT_EQ(es->refresh_policy, RefreshPolicy::kCreatedOnce);
}

struct InvalidCase {
  std::string name;
  json patch;  // merge patch applied to Es()
  std::string expected_fragment;
};

TEST(ParseExternalSecretTest, AdmissionRulesAndTypeErrors) {
  const InvalidCase cases[] = {
      {"no data", json::parse(R"({"spec":{"data":null}})"), "either data or dataFrom"},
      {"bad interval", json::parse(R"({"spec":{"refreshInterval":"soon"}})"),
       "spec.refreshInterval"},
      {"bad policy", json::parse(R"({"spec":{"refreshPolicy":"Sometimes"}})"),
       "spec.refreshPolicy"},
      {"bad kind", json::parse(R"({"spec":{"secretStoreRef":{"kind":"Vault"}}})"),
       "spec.secretStoreRef.kind"},
      {"no store", json::parse(R"({"spec":{"secretStoreRef":null}})"), "spec.secretStoreRef"},
      {"delete+merge",
       json::parse(R"({"spec":{"target":{"creationPolicy":"Merge","deletionPolicy":"Delete"}}})"),
       "deletionPolicy=Delete"},
      {"delete+none",
       json::parse(R"({"spec":{"target":{"creationPolicy":"None","deletionPolicy":"Delete"}}})"),
       "deletionPolicy=Delete"},
      {"merge+none",
       json::parse(R"({"spec":{"target":{"creationPolicy":"None","deletionPolicy":"Merge"}}})"),
       "deletionPolicy=Merge"},
      {"bad secretKey",
       json::parse(R"({"spec":{"data":[{"secretKey":"a/b","remoteRef":{"key":"x"}}]}})"),
       "spec.data[0].secretKey"},
      {"duplicate secretKey",
       json::parse(R"({"spec":{"data":[{"secretKey":"a","remoteRef":{"key":"x"}},
                                        {"secretKey":"a","remoteRef":{"key":"y"}}]}})"),
       "duplicate"},
      {"no remote key",
       json::parse(R"({"spec":{"data":[{"secretKey":"a","remoteRef":{"property":"p"}}]}})"),
       "spec.data[0].remoteRef.key"},
      {"bad decoding",
       json::parse(
           R"({"spec":{"data":[{"secretKey":"a","remoteRef":{"key":"x","decodingStrategy":"Hex"}}]}})"),
       "decodingStrategy"},
      {"find without name or tags", json::parse(R"({"spec":{"dataFrom":[{"find":{"path":"a"}}]}})"),
       "spec.dataFrom[0].find: name.regexp or tags is required"},
      {"find and extract",
       json::parse(R"({"spec":{"dataFrom":[{"find":{"tags":{"a":"b"}},"extract":{"key":"k"}}]}})"),
       "spec.dataFrom[0]: must set exactly one of extract and find"},
      {"find bad regexp",
       json::parse(R"({"spec":{"dataFrom":[{"find":{"name":{"regexp":"(CANARY"}}}]}})"),
       "spec.dataFrom[0].find.name.regexp: invalid regular expression"},
      {"rewrite merge",
       json::parse(R"({"spec":{"dataFrom":[{"extract":{"key":"k"},"rewrite":[{"merge":{}}]}]}})"),
       "spec.dataFrom[0].rewrite[0].merge: is not supported"},
      {"rewrite both",
       json::parse(R"({"spec":{"dataFrom":[{"extract":{"key":"k"},"rewrite":[
           {"regexp":{"source":"a","target":"b"},"transform":{"template":"x"}}]}]}})"),
       "spec.dataFrom[0].rewrite[0]: must set exactly one of regexp and transform"},
      {"rewrite bad source",
       json::parse(R"({"spec":{"dataFrom":[{"extract":{"key":"k"},"rewrite":[
           {"regexp":{"source":"[CANARY","target":"b"}}]}]}})"),
       "spec.dataFrom[0].rewrite[0].regexp.source: invalid regular expression"},
      {"rewrite without target",
       json::parse(R"({"spec":{"dataFrom":[{"extract":{"key":"k"},"rewrite":[
           {"regexp":{"source":"a"}}]}]}})"),
       "spec.dataFrom[0].rewrite[0].regexp.target"},
      {"dataFrom sourceRef",
       json::parse(R"({"spec":{"dataFrom":[{"sourceRef":{"generatorRef":{"name":"g"}}}]}})"),
       "spec.dataFrom[0].sourceRef: is not supported"},
      {"immutable not bool", json::parse(R"({"spec":{"target":{"immutable":"yes"}}})"),
       "spec.target.immutable"},
      {"template data not a map",
       json::parse(R"({"spec":{"target":{"template":{"data":["{{ .x }}"]}}}})"),
       "spec.target.template.data"},
      {"templateFrom without a source",
       json::parse(R"({"spec":{"target":{"template":{"templateFrom":[{"target":"Data"}]}}}})"),
       "spec.target.template.templateFrom[0]"},
      {"wrong kind", json::parse(R"({"kind":"SecretStore"})"), "kind"},
      {"no name", json::parse(R"({"metadata":{"name":null}})"), "metadata.name"},
  };
  for (const InvalidCase& c : cases) {
    json j = Es();
    j.merge_patch(c.patch);
    auto es = ParseExternalSecret(j);
    ASSERT_FALSE(es.ok()) << c.name;
    EXPECT_EQ(es.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(es.status().message().find(c.expected_fragment), std::string::npos)
        << c.name << ": " << es.status().message();
    EXPECT_EQ(es.status().message().find("CANARY"), std::string::npos) << c.name;
  }
}

TEST(ParseExternalSecretTest, DataFromFindAndRewrite) {
  auto docs = YamlToJson(R"(
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: ml, namespace: apps}
spec:
  secretStoreRef: {name: coffer}
  dataFrom:
  - find:
      path: ml-platform/
      name: {regexp: "^ml-platform/.*/db$"}
      tags: {team: ml, env: prod}
      conversionStrategy: Unicode
      decodingStrategy: Auto
    rewrite:
    - regexp: {source: "ml-platform/(.*)/db", target: "$1-db"}
    - transform: {template: "{{ .value | upper }}"}
  - extract: {key: app/all}
    rewrite:
    - regexp: {source: "^", target: ""}
)");
  auto es = ParseExternalSecret(docs[0]);
  ASSERT_TRUE(es.ok()) << es.status().message();
  ASSERT_EQ(es->data_from.size(), 2u);
  const DataFromEntry& find = es->data_from[0];
  EXPECT_EQ(find.kind, DataFromEntry::Kind::kFind);
  EXPECT_EQ(find.find.query.path, "ml-platform/");
  EXPECT_EQ(find.find.query.name_regexp, "^ml-platform/.*/db$");
  EXPECT_EQ(find.find.query.tags, (StringMap{{"env", "prod"}, {"team", "ml"}}));
  EXPECT_EQ(find.find.conversion_strategy, ConversionStrategy::kUnicode);
  EXPECT_EQ(find.find.decoding_strategy, DecodingStrategy::kAuto);
  ASSERT_EQ(find.rewrite.size(), 2u);
  EXPECT_EQ(find.rewrite[0].kind, Rewrite::Kind::kRegexp);
  EXPECT_EQ(find.rewrite[0].source, "ml-platform/(.*)/db");
  EXPECT_EQ(find.rewrite[0].target, "$1-db");
  EXPECT_EQ(find.rewrite[1].kind, Rewrite::Kind::kTransform);
  EXPECT_EQ(find.rewrite[1].template_text, "{{ .value | upper }}");
  EXPECT_EQ(es->data_from[1].kind, DataFromEntry::Kind::kExtract);
  EXPECT_EQ(es->data_from[1].extract.key, "app/all");
  ASSERT_EQ(es->data_from[1].rewrite.size(), 1u);
  EXPECT_EQ(es->data_from[1].rewrite[0].target, "");
}

TEST(ParseSecretStoreTest, AwsWithEndpointAndClusterNamespaces) {
  auto docs = YamlToJson(R"(
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: coffer}
spec:
  refreshInterval: 60
  conditions:
  - namespaces: [team-a]
    namespaceRegexes: ["^ml-"]
    namespaceSelector: {matchLabels: {tier: prod}}
  provider:
    aws:
      service: SecretsManager
      region: eu-west-1
      endpoint: http://coffer.coffer-system:8080
      role: arn:aws:iam::123456789012:role/ignored
      auth:
        secretRef:
          accessKeyIDSecretRef: {name: creds, key: id, namespace: coffer-system}
          secretAccessKeySecretRef: {name: creds, key: secret, namespace: coffer-system}
)");
  auto store = ParseSecretStore(docs.at(0));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->kind, StoreKind::kClusterSecretStore);
  EXPECT_EQ(store->refresh_interval_ms, 60'000);
  EXPECT_EQ(store->aws.endpoint, "http://coffer.coffer-system:8080");
  EXPECT_EQ(store->aws.role, "arn:aws:iam::123456789012:role/ignored");
  EXPECT_EQ(store->aws.access_key_id_ref->namespace_, "coffer-system");
  ASSERT_EQ(store->namespace_conditions.size(), 1u);
  EXPECT_EQ(store->namespace_conditions[0].namespaces, std::vector<std::string>{"team-a"});
  EXPECT_EQ(store->namespace_conditions[0].namespace_regexes, std::vector<std::string>{"^ml-"});
  ASSERT_TRUE(store->namespace_conditions[0].selector.has_value());
  EXPECT_EQ(store->namespace_conditions[0].selector->match_labels.at("tier"), "prod");
}

TEST(ParseSecretStoreTest, Fake) {
  auto docs = YamlToJson(R"(
apiVersion: external-secrets.io/v1beta1
kind: SecretStore
metadata: {name: fake, namespace: ns}
spec:
  provider:
    fake:
      data:
      - {key: /foo/bar, value: HELLO1, version: v1}
      - key: /foo/baz
        valueMap: {john: doe}
)");
  auto store = ParseSecretStore(docs.at(0));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->provider_type, ProviderType::kFake);
  ASSERT_EQ(store->fake.data.size(), 2u);
  EXPECT_EQ(store->fake.data[0].value, "HELLO1");
  EXPECT_EQ(store->fake.data[0].version, "v1");
  EXPECT_EQ(store->fake.data[1].value_map.at("john"), "doe");
}

TEST(ParseSecretStoreTest, RejectsInvalidProviderConfig) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"provider":{}})", "spec.provider"},
      {R"({"provider":{"vault":{}}})", "not supported"},
      {R"({"provider":{"aws":{"service":"SecretsManager"},"fake":{}}})", "exactly one"},
      {R"({"provider":{"aws":{"service":"ParameterStore","region":"us-east-1"}}})", "service"},
      {R"({"provider":{"aws":{"service":"SecretsManager"}}})", "region"},
      {R"({"provider":{"aws":{"service":"SecretsManager","region":"us-east-1","endpoint":"coffer:80"}}})",
       "endpoint"},
      {R"({"provider":{"aws":{"service":"SecretsManager","region":"us-east-1",
           "auth":{"secretRef":{"accessKeyIDSecretRef":{"name":"a","key":"b"}}}}}})",
       "must both be set"},
      {R"({"provider":{"aws":{"service":"SecretsManager","region":"us-east-1",
           "auth":{"secretRef":{"accessKeyIDSecretRef":{"name":"a","key":"b","namespace":"x"},
                                "secretAccessKeySecretRef":{"name":"a","key":"c"}}}}}})",
       "only allowed in a ClusterSecretStore"},
      {R"({"provider":{"aws":{"service":"SecretsManager","region":"us-east-1",
           "auth":{"jwt":{"serviceAccountRef":{"name":"sa"}}}}}})",
       "auth.jwt"},
  };
  for (const auto& [spec, fragment] : cases) {
    json j = {{"apiVersion", kApiVersionV1},
              {"kind", "SecretStore"},
              {"metadata", {{"name", "s"}, {"namespace", "n"}}},
              {"spec", json::parse(spec)}};
    auto store = ParseSecretStore(j);
    ASSERT_FALSE(store.ok()) << spec;
    EXPECT_NE(store.status().message().find(fragment), std::string::npos)
        << spec << " -> " << store.status().message();
  }
}

TEST(ParseSecretTest, DecodesDataAndOwners) {
  json j = json::parse(R"({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "s", "namespace": "n", "resourceVersion": "42",
                 "labels": {"reconcile.external-secrets.io/managed": "true"},
                 "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                                      "name": "es", "uid": "u", "controller": true,
                                      "blockOwnerDeletion": true}]},
    "type": "kubernetes.io/tls", "immutable": true,
    "data": {"a": "aGk=", "b": ""}})");
  auto s = ParseSecret(j);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->data.at("a"), "hi");
  EXPECT_EQ(s->data.at("b"), "");
  EXPECT_EQ(s->type, "kubernetes.io/tls");
  EXPECT_TRUE(s->immutable);
  EXPECT_EQ(s->metadata.resource_version, "42");
  ASSERT_EQ(s->owner_references.size(), 1u);
  EXPECT_TRUE(s->owner_references[0].controller);
  EXPECT_EQ(s->raw, j);
}

TEST(ParseSecretTest, BadBase64NamesTheKeyNotTheValue) {
  json j = {{"metadata", {{"name", "s"}}}, {"data", {{"pw", "CANARY-not-base64!"}}}};
  auto s = ParseSecret(j);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("pw"), std::string::npos);
  EXPECT_EQ(s.status().message().find("CANARY"), std::string::npos);
}

}  // namespace
}  // namespace coffer::op
