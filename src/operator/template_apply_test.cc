#include "operator/template_apply.h"

#include <string>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "operator/reconcile.h"
#include "operator/test_yaml.h"

namespace coffer::op {
namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// An ExternalSecret reading db (user, password) and tls (cert, key) with `target_yaml` as its
// spec.target (indented by 4).
ExternalSecret EsWithTarget(const std::string& target_yaml) {
  const std::string manifest = R"(apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: app, namespace: ns, uid: uid-es, generation: 1}
spec:
  secretStoreRef: {name: coffer}
  data:
    - {secretKey: user, remoteRef: {key: db, property: user}}
    - {secretKey: password, remoteRef: {key: db, property: password}}
  target:
)" + target_yaml;
  auto docs = testing::YamlToJson(manifest);
  auto es = ParseExternalSecret(docs.at(0));
  EXPECT_TRUE(es.ok()) << es.status().ToString();
  return es.ok() ? *es : ExternalSecret{};
}

const SecretData kData = {{"user", "mlflow"}, {"password", "s3cr3t-pw"}};

RenderedSecret Apply(const ExternalSecret& es, const TemplateSources& sources = {},
                     const TemplateOptions& options = {}) {
  auto r = ApplyTemplate(es, kData, sources, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RenderedSecret{};
}

Status ApplyError(const ExternalSecret& es, const TemplateSources& sources = {}) {
  auto r = ApplyTemplate(es, kData, sources, {});
  EXPECT_FALSE(r.ok());
  if (r.ok()) return Status::Ok();
  EXPECT_EQ(r.status().message().find("s3cr3t"), std::string::npos) << "value leaked";
  EXPECT_EQ(r.status().message().find("mlflow"), std::string::npos) << "value leaked";
  return r.status();
}

TEST(TemplateApplyTest, DataReplacesProviderKeysByDefault) {
  auto es = EsWithTarget(R"(    template:
      engineVersion: v2
      data:
        url: "postgres://{{ .user }}:{{ .password }}@db:5432/mlflow"
)");
  auto out = Apply(es);
  EXPECT_EQ(out.data, (SecretData{{"url", "postgres://mlflow:s3cr3t-pw@db:5432/mlflow"}}));
}

TEST(TemplateApplyTest, MergePolicyMergeKeepsProviderKeysBelowRenderedOnes) {
  auto es = EsWithTarget(R"(    template:
      mergePolicy: Merge
      data:
        user: "{{ .user | upper }}"
        dsn: "{{ .user }}@db"
)");
  auto out = Apply(es);
  EXPECT_EQ(out.data,
            (SecretData{{"dsn", "mlflow@db"}, {"password", "s3cr3t-pw"}, {"user", "MLFLOW"}}));
}

TEST(TemplateApplyTest, OnlyMetadataKeepsProviderDataAndRendersLabelsAndAnnotations) {
  auto es = EsWithTarget(R"(    template:
      type: kubernetes.io/basic-auth
      metadata:
        labels: {app: mlflow, owner: "{{ .user }}"}
        annotations: {note: "len {{ len .password }}"}
)");
  auto out = Apply(es);
  EXPECT_EQ(out.data, kData);
  EXPECT_EQ(out.labels, (StringMap{{"app", "mlflow"}, {"owner", "mlflow"}}));
  EXPECT_EQ(out.annotations, (StringMap{{"note", "len 9"}}));
}

TEST(TemplateApplyTest, TemplateFromConfigMapValuesAndKeysAndValues) {
  auto es = EsWithTarget(R"(    template:
      templateFrom:
        - configMap:
            name: tpl
            items:
              - key: config.yaml
              - key: env
                templateAs: KeysAndValues
)");
  TemplateSources sources;
  sources.config_maps["tpl"].data = {
      {"config.yaml", "db:\n  user: {{ .user }}\n"},
      {"env", "DB_USER: {{ .user }}\nDB_PASSWORD: \"{{ .password }}\"\n"}};
  auto out = Apply(es, sources);
  EXPECT_EQ(out.data, (SecretData{{"DB_PASSWORD", "s3cr3t-pw"},
                                  {"DB_USER", "mlflow"},
                                  {"config.yaml", "db:\n  user: mlflow\n"}}));
}

TEST(TemplateApplyTest, TemplateFromSecretLiteralAndTargets) {
  auto es = EsWithTarget(R"(    template:
      templateFrom:
        - secret: {name: tpl-secret, items: [{key: greeting}]}
        - literal: "from-literal: {{ .user }}"
        - target: Annotations
          literal: "owner: {{ .user }}"
        - target: Labels
          literal: "team: ml"
)");
  TemplateSources sources;
  sources.secrets["tpl-secret"].data = {{"greeting", "hello {{ .user }}"}};
  auto out = Apply(es, sources);
  EXPECT_EQ(out.data, (SecretData{{"from-literal", "mlflow"}, {"greeting", "hello mlflow"}}));
  EXPECT_EQ(out.annotations, (StringMap{{"owner", "mlflow"}}));
  EXPECT_EQ(out.labels, (StringMap{{"team", "ml"}}));
}

TEST(TemplateApplyTest, TemplateDataWinsOverTemplateFromAndMetadataOverLabelsTarget) {
  auto es = EsWithTarget(R"(    template:
      metadata:
        labels: {team: "from-metadata"}
      data:
        key: from-data
      templateFrom:
        - literal: "key: from-literal"
        - target: Labels
          literal: "team: from-literal"
)");
  auto out = Apply(es);
  EXPECT_EQ(out.data, (SecretData{{"key", "from-data"}}));
  EXPECT_EQ(out.labels, (StringMap{{"team", "from-metadata"}}));
}

TEST(TemplateApplyTest, ConfigurableDelimiters) {
  auto es = EsWithTarget(R"(    template:
      data:
        helm: "{{ not-a-template }} <% .user %>"
)");
  TemplateOptions options;
  options.left_delim = "<%";
  options.right_delim = "%>";
  auto out = Apply(es, {}, options);
  EXPECT_EQ(out.data.at("helm"), "{{ not-a-template }} mlflow");
}

TEST(TemplateApplyTest, MissingKeyIsAnErrorNamingTheTemplateKey) {
  auto es = EsWithTarget(R"(    template:
      data:
        url: "{{ .user }}:{{ .nope }}"
)");
  Status s = ApplyError(es);
  EXPECT_NE(s.message().find("unable to execute template at key url"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("nope"), std::string::npos) << s.message();
}

TEST(TemplateApplyTest, ParseErrorNamesTheKey) {
  auto es = EsWithTarget(R"(    template:
      data:
        url: "{{ .user "
)");
  Status s = ApplyError(es);
  EXPECT_NE(s.message().find("unable to parse template at key url"), std::string::npos)
      << s.message();
}

TEST(TemplateApplyTest, FunctionErrorsDoNotQuoteValues) {
  // b64dec fails on bad input (Sprig would render the decoder's message into the Secret).
  for (const char* text :
       {"{{ .password | b64dec }}", "{{ .password | mustFromJson }}", "{{ .password | pkcs12key }}",
        "{{ .password | filterCertChain \"leaf\" }}", "{{ index .password 99 }}",
        "{{ .password.field }}"}) {
    ExternalSecret es =
        EsWithTarget("    template:\n      data:\n        a: '" + std::string(text) + "'\n");
    Status s = ApplyError(es);
    EXPECT_NE(s.message().find("unable to execute template at key a"), std::string::npos)
        << text << ": " << s.message();
  }
}

TEST(TemplateApplyTest, MissingConfigMapAndMissingKey) {
  auto es = EsWithTarget(R"(    template:
      templateFrom:
        - configMap: {name: tpl, items: [{key: absent}]}
)");
  TemplateSources none;
  none.config_maps["tpl"].status = Status::NotFound("configmaps \"tpl\" not found");
  Status s = ApplyError(es, none);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("configmap tpl"), std::string::npos) << s.message();

  TemplateSources empty;
  empty.config_maps["tpl"].data = {{"other", "x"}};
  s = ApplyError(es, empty);
  EXPECT_EQ(s.message(), "error in configmap tpl: missing key absent");
}

TEST(TemplateApplyTest, KeysAndValuesMustRenderAMap) {
  auto es = EsWithTarget(R"(    template:
      templateFrom:
        - literal: "- {{ .password }}"
)");
  Status s = ApplyError(es);
  EXPECT_NE(s.message().find("must render a YAML map"), std::string::npos) << s.message();
  auto es2 = EsWithTarget(R"(    template:
      templateFrom:
        - literal: "a: [ {{ .password }}"
)");
  ApplyError(es2);
}

TEST(TemplateApplyTest, SourcesOfListsEachNameOnce) {
  auto es = EsWithTarget(R"(    template:
      templateFrom:
        - configMap: {name: b, items: [{key: x}]}
        - configMap: {name: a, items: [{key: y}]}
        - configMap: {name: b, items: [{key: z}]}
        - secret: {name: s, items: [{key: k}]}
        - literal: "k: v"
)");
  auto names = TemplateSourcesOf(es);
  EXPECT_EQ(names.config_maps, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names.secrets, (std::vector<std::string>{"s"}));
}

TEST(TemplateApplyTest, ParseRejectsBadTemplateSpecs) {
  const char* bad[] = {
      "    template: {engineVersion: v1}\n",
      "    template: {mergePolicy: Sometimes}\n",
      "    template: {templateFrom: [{literal: 'a: b', configMap: {name: x}}]}\n",
      "    template: {templateFrom: [{target: Spec, literal: 'a: b'}]}\n",
      "    template: {templateFrom: [{configMap: {name: x, items: [{key: k, templateAs: "
      "All}]}}]}\n",
      "    template: {templateFrom: [{configMap: {items: [{key: k}]}}]}\n",
      "    template: {templateFrom: [{}]}\n",
  };
  for (const char* target : bad) {
    const std::string manifest = std::string(R"(apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: app, namespace: ns}
spec:
  secretStoreRef: {name: coffer}
  data: [{secretKey: user, remoteRef: {key: db}}]
  target:
)") + target;
    auto es = ParseExternalSecret(testing::YamlToJson(manifest).at(0));
    EXPECT_FALSE(es.ok()) << target;
  }
}

// The reconcile applies the template before hashing and writing.
TEST(TemplateApplyTest, ReconcileWritesRenderedDataTypeAndLabels) {
  auto es = EsWithTarget(R"(    name: db-url
    template:
      type: kubernetes.io/basic-auth
      metadata:
        labels: {owner: "{{ .user }}"}
      data:
        username: "{{ .user }}"
        password: "{{ .password }}"
)");
  FetchResult fetched;
  fetched.values[{"db"}] = {Status::Ok(), {R"({"user":"mlflow","password":"s3cr3t-pw"})"}};
  Plan plan = ReconcileExternalSecret(es, {}, fetched, kNow);
  ASSERT_EQ(plan.action, SecretAction::kCreate);
  EXPECT_EQ(plan.secret["type"], "kubernetes.io/basic-auth");
  EXPECT_EQ(plan.secret["data"]["username"], Base64Encode("mlflow"));
  EXPECT_EQ(plan.secret["data"]["password"], Base64Encode("s3cr3t-pw"));
  EXPECT_EQ(plan.secret["data"].size(), 2u);
  EXPECT_EQ(plan.secret["metadata"]["labels"]["owner"], "mlflow");
}

TEST(TemplateApplyTest, ReconcileTemplateErrorFailsWithoutWriting) {
  auto es = EsWithTarget(R"(    template:
      data:
        url: "{{ .missing }}"
)");
  FetchResult fetched;
  fetched.values[{"db"}] = {Status::Ok(), {R"({"user":"mlflow","password":"s3cr3t-pw"})"}};
  Plan plan = ReconcileExternalSecret(es, {}, fetched, kNow);
  EXPECT_EQ(plan.action, SecretAction::kNone);
  EXPECT_FALSE(plan.ok);
  ASSERT_FALSE(plan.status.conditions.empty());
  const std::string& msg = plan.status.conditions[0].message;
  EXPECT_NE(msg.find("could not apply template"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << msg;
  ASSERT_FALSE(plan.events.empty());
  EXPECT_EQ(plan.events[0].reason, "UpdateFailed");
}

}  // namespace
}  // namespace coffer::op
