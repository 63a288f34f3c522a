#include "operator/store_ref.h"

#include <gtest/gtest.h>

#include "operator/fake_provider.h"
#include "operator/metrics_names.h"
#include "operator/reconcile.h"

namespace coffer::op {
namespace {

ExternalSecret EsFor(StoreKind kind, std::string store_name = "store") {
  ExternalSecret es;
  es.metadata.name = "app";
  es.metadata.namespace_ = "apps";
  es.store_ref = {std::move(store_name), kind};
  es.target.name = "app";
  return es;
}

SecretStore ReadyStore(StoreKind kind, std::string ns) {
  SecretStore s;
  s.kind = kind;
  s.metadata.name = "store";
  s.metadata.namespace_ = std::move(ns);
  s.conditions = {Condition{"Ready", "True", "Valid", "store validated", "2026-01-01T00:00:00Z"}};
  return s;
}

TEST(CheckStoreUsableTest, FoundReadyAndMatching) {
  SecretStore ss = ReadyStore(StoreKind::kSecretStore, "apps");
  EXPECT_TRUE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &ss).ok());
  SecretStore css = ReadyStore(StoreKind::kClusterSecretStore, "");
  EXPECT_TRUE(CheckStoreUsable(EsFor(StoreKind::kClusterSecretStore), &css).ok());
}

TEST(CheckStoreUsableTest, Failures) {
  EXPECT_EQ(CheckStoreUsable(EsFor(StoreKind::kSecretStore), nullptr).message(),
            "could not get SecretStore \"store\", SecretStore.external-secrets.io \"store\" not "
            "found");
  SecretStore other_ns = ReadyStore(StoreKind::kSecretStore, "elsewhere");
  EXPECT_FALSE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &other_ns).ok());
  SecretStore css = ReadyStore(StoreKind::kClusterSecretStore, "");
  EXPECT_FALSE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &css).ok());  // kind mismatch
  SecretStore not_ready = ReadyStore(StoreKind::kSecretStore, "apps");
  not_ready.conditions[0].status = "False";
  EXPECT_EQ(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &not_ready).message(),
            "SecretStore \"store\" is not ready");
  SecretStore no_status = ReadyStore(StoreKind::kSecretStore, "apps");
  no_status.conditions.clear();
  EXPECT_FALSE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &no_status).ok());
  SecretStore classed = ReadyStore(StoreKind::kSecretStore, "apps");
  classed.controller = "team-b";
  EXPECT_FALSE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &classed).ok());
  EXPECT_TRUE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &classed, {}, "team-b").ok());
}

TEST(CheckStoreUsableTest, ClusterStoreNamespaceConditions) {
  SecretStore css = ReadyStore(StoreKind::kClusterSecretStore, "");
  ExternalSecret es = EsFor(StoreKind::kClusterSecretStore);  // in namespace "apps"
  css.namespace_conditions = {NamespaceCondition{{"team-a", "team-b"}}};
  Status denied = CheckStoreUsable(es, &css);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "using cluster store \"store\" is not allowed from namespace \"apps\": denied");
  css.namespace_conditions.push_back(NamespaceCondition{{}, {"^ap+s$"}});
  EXPECT_TRUE(CheckStoreUsable(es, &css).ok());
  // Unanchored like Go's MatchString; an invalid pattern allows nothing.
  EXPECT_TRUE(NamespaceAllowed(
      SecretStore{.kind = StoreKind::kClusterSecretStore, .namespace_conditions = {{{}, {"pp"}}}},
      "apps", {}));
  EXPECT_FALSE(NamespaceAllowed(
      SecretStore{.kind = StoreKind::kClusterSecretStore, .namespace_conditions = {{{}, {"(["}}}},
      "apps", {}));
  // namespaceSelector (matchLabels and matchExpressions) against the Namespace's labels.
  NamespaceCondition by_label;
  by_label.selector = LabelSelector{.match_labels = {{"tier", "prod"}}};
  SecretStore sel = ReadyStore(StoreKind::kClusterSecretStore, "");
  sel.namespace_conditions = {by_label};
  EXPECT_FALSE(CheckStoreUsable(es, &sel, {{"tier", "dev"}}).ok());
  EXPECT_TRUE(CheckStoreUsable(es, &sel, {{"tier", "prod"}, {"x", "y"}}).ok());
  sel.namespace_conditions[0].selector->match_expressions = {
      {"team", LabelSelectorRequirement::Operator::kIn, {"ml", "data"}},
      {"frozen", LabelSelectorRequirement::Operator::kDoesNotExist, {}}};
  EXPECT_FALSE(CheckStoreUsable(es, &sel, {{"tier", "prod"}}).ok());
  EXPECT_TRUE(CheckStoreUsable(es, &sel, {{"tier", "prod"}, {"team", "ml"}}).ok());
  EXPECT_FALSE(CheckStoreUsable(es, &sel, {{"tier", "prod"}, {"team", "ml"}, {"frozen", ""}}).ok());
  // A namespaced SecretStore ignores conditions.
  SecretStore ss = ReadyStore(StoreKind::kSecretStore, "apps");
  ss.namespace_conditions = {NamespaceCondition{{"nobody"}}};
  EXPECT_TRUE(CheckStoreUsable(EsFor(StoreKind::kSecretStore), &ss).ok());
}

TEST(ResolveCredentialRefsTest, NamespacesPerStoreKind) {
  SecretStore ss = ReadyStore(StoreKind::kSecretStore, "apps");
  ss.provider_type = ProviderType::kAws;
  EXPECT_FALSE(ResolveCredentialRefs(ss, "apps").has_value());  // no secretRef auth
  ss.aws.access_key_id_ref = SecretKeySelector{"creds", "id", ""};
  ss.aws.secret_access_key_ref = SecretKeySelector{"creds", "secret", ""};
  auto refs = ResolveCredentialRefs(ss, "ignored");
  ASSERT_TRUE(refs.has_value());
  EXPECT_EQ(refs->access_key_id.namespace_, "apps");
  EXPECT_EQ(refs->secret_access_key.key, "secret");
  EXPECT_FALSE(refs->session_token.has_value());

  SecretStore css = ss;
  css.kind = StoreKind::kClusterSecretStore;
  css.metadata.namespace_.clear();
  css.aws.access_key_id_ref->namespace_ = "coffer-system";
  css.aws.session_token_ref = SecretKeySelector{"creds", "token", ""};
  refs = ResolveCredentialRefs(css, "team-a");
  ASSERT_TRUE(refs.has_value());
  EXPECT_EQ(refs->access_key_id.namespace_, "coffer-system");
  EXPECT_EQ(refs->secret_access_key.namespace_, "team-a");  // referent auth
  EXPECT_EQ(refs->session_token->namespace_, "team-a");
}

TEST(FakeProviderTest, AnswersByKeyAndVersion) {
  FakeProvider fake;
  fake.data = {{"/foo/bar", "HELLO1", "v1", {}},
               {"/foo/bar", "HELLO-current", "", {}},
               {"/foo/map", "", "", {{"b", "2"}, {"a", "1"}}}};
  FetchResult f = FetchFromFake(fake, {{"/foo/bar", "v1"},
                                       {"/foo/bar", ""},
                                       {"/foo/map", ""},
                                       {"/foo/bar", "v9"},
                                       {"/nope", ""},
                                       {"/foo/bar", "", MetadataPolicy::kFetch}});
  EXPECT_EQ(f.values.at({"/foo/bar", "v1"}).value.bytes, "HELLO1");
  EXPECT_EQ(f.values.at({"/foo/bar", "v1"}).value.version_id, "v1");
  EXPECT_EQ(f.values.at({"/foo/bar", ""}).value.bytes, "HELLO-current");
  EXPECT_EQ(f.values.at({"/foo/map", ""}).value.bytes, R"({"a":"1","b":"2"})");
  EXPECT_EQ(f.values.at({"/foo/bar", "v9"}).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(f.values.at({"/nope", ""}).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(f.values.at({"/foo/bar", "", MetadataPolicy::kFetch}).value.bytes, "{}");
}

TEST(FakeProviderTest, DrivesAFullReconcile) {
  FakeProvider fake;
  fake.data = {{"db", R"({"user":"u","password":"p"})", "", {}}};
  ExternalSecret es = EsFor(StoreKind::kSecretStore);
  es.metadata.uid = "uid";
  es.data = {DataItem{"pw", RemoteRef{"db", "password"}}};
  es.data_from = {RemoteRef{"db"}};
  Plan plan = ReconcileExternalSecret(es, {}, FetchFromFake(fake, RequiredFetches(es)), 1000);
  ASSERT_EQ(plan.action, SecretAction::kCreate);
  EXPECT_EQ(plan.secret["data"].size(), 3u);  // user, password, pw
}

TEST(MetricsNamesTest, ConditionGaugeKeepsBothSeries) {
  auto series = metrics::ConditionGaugeSeries("Ready", "False");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].status, "True");
  EXPECT_EQ(series[0].value, 0.0);
  EXPECT_EQ(series[1].status, "False");
  EXPECT_EQ(series[1].value, 1.0);
}

}  // namespace
}  // namespace coffer::op
