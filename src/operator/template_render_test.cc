#include "operator/template_render.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace coffer::op {
namespace {

using nlohmann::json;

TEST(TemplateRenderTest, YamlDocumentsAreTypedAsTheApiserverWould) {
  auto docs =
      ParseYamlDocuments("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: text\n---\n---\n- x\n- 2\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);  // the empty document is skipped
  EXPECT_EQ((*docs)[0], json::parse(R"({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"text"})"));
  EXPECT_EQ((*docs)[1], json::parse(R"(["x",2])"));
}

TEST(TemplateRenderTest, BadYamlNamesTheLineNotTheText) {
  auto docs = ParseYamlDocuments("ok: 1\npassword: [s3cr3t\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.status().message().find("line"), std::string::npos);
  EXPECT_EQ(docs.status().message().find("s3cr3t"), std::string::npos);
}

TEST(TemplateRenderTest, JsonToYamlRoundTrips) {
  json v = json::parse(
      R"({"s":"x","n":"123","b":"true","e":"","multi":"a\nb\n","list":[1,"2"],"m":{"k":null}})");
  auto back = ParseYamlDocuments(JsonToYaml(v));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(back->front(), v) << JsonToYaml(v);
}

TEST(TemplateRenderTest, SecretDataFromEsoctlMapOrSecretManifest) {
  auto m = ParseSecretDataDocument(json{{"token", Base64Encode("t0k")}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (SecretData{{"token", "t0k"}}));
  auto s = ParseSecretDataDocument(json::parse(
      R"({"kind":"Secret","data":{"a":")" + Base64Encode("A") + R"("},"stringData":{"b":"B"}})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (SecretData{{"a", "A"}, {"b", "B"}}));
  auto bad = ParseSecretDataDocument(json{{"token", "s3cr3t!!"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "secret data: the value of token is not valid base64");
  EXPECT_FALSE(ParseSecretDataDocument(json{{"token", 1}}).ok());
  EXPECT_FALSE(ParseSecretDataDocument(json::array()).ok());
}

TEST(TemplateRenderTest, SourcesAndRender) {
  TemplateSources sources;
  ASSERT_TRUE(AddTemplateSourceDocument(json::parse(R"({"kind":"ConfigMap","metadata":{"name":"cm"},
                                  "data":{"k":"user={{ .user }}"}})"),
                                        sources)
                  .ok());
  EXPECT_FALSE(
      AddTemplateSourceDocument(json::parse(R"({"kind":"Pod","metadata":{"name":"p"}})"), sources)
          .ok());
  EXPECT_FALSE(AddTemplateSourceDocument(json::parse(R"({"kind":"ConfigMap"})"), sources).ok());
  json es = json::parse(R"({
    "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
    "metadata": {"name": "app", "namespace": "ns", "labels": {"team": "ml"}},
    "spec": {"secretStoreRef": {"name": "s"},
             "data": [{"secretKey": "user", "remoteRef": {"key": "db"}}],
             "target": {"template": {"type": "kubernetes.io/basic-auth",
                                     "templateFrom": [{"configMap": {"name": "cm",
                                                                     "items": [{"key": "k"}]}}],
                                     "data": {"username": "{{ .user }}"}}}}})");
  auto secret = RenderExternalSecret(es, {{"user", "mlflow"}}, sources, {});
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ((*secret)["type"], "kubernetes.io/basic-auth");
  EXPECT_EQ((*secret)["metadata"], json::parse(R"({"name":"app","namespace":"ns"})"));
  EXPECT_EQ((*secret)["data"],
            json({{"k", Base64Encode("user=mlflow")}, {"username", Base64Encode("mlflow")}}));

  // Without a template the data is copied and the ExternalSecret's labels carried over.
  es["spec"]["target"].erase("template");
  secret = RenderExternalSecret(es, {{"user", "mlflow"}}, sources, {});
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ((*secret)["type"], "Opaque");
  EXPECT_EQ((*secret)["metadata"]["labels"], json({{"team", "ml"}}));
  EXPECT_EQ((*secret)["data"], json({{"user", Base64Encode("mlflow")}}));
}

}  // namespace
}  // namespace coffer::op
