// Whole ExternalSecret templates from ESO's documentation, rendered through the engine with the
// ESO function library: the data is the map[string]string ESO passes.
#include <crypt.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "template/eso_functions.h"
#include "template/template.h"

namespace coffer::tmpl {
namespace {

std::string Fixture(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "testdata" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Value Data(std::vector<std::pair<std::string, std::string>> kv) {
  Map m;
  for (auto& [k, v] : kv) m.emplace(k, Value(v));
  return Value(std::move(m));
}

Result<std::string> Render(std::string_view text, const Value& data) {
  auto t = Template::Parse("tpl", text, EsoFunctions());
  if (!t.ok()) return t.status();
  return t->Execute(data);
}

std::string MustRender(std::string_view text, const Value& data) {
  auto r = Render(text, data);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : "<error>";
}

TEST(EsoTemplatesTest, TlsSecretFromPemBundle) {
  const Value data = Data({{"mysecret", Fixture("bundle.pem")}});
  const std::string leaf = Fixture("leaf.crt");
  const std::string intermediate = Fixture("intermediate-ca.crt");
  const std::string root = Fixture("root-ca.crt");
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterPEM "CERTIFICATE" }})", data),
            leaf + intermediate + root);
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterPEM "PRIVATE KEY" }})", data), Fixture("leaf.key"));
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterCertChain "leaf" }})", data), leaf);
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterCertChain "intermediate" }})", data), intermediate);
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterCertChain "root" }})", data), root);
  // The full chain without the root, as an ingress controller wants it.
  EXPECT_EQ(MustRender(R"({{ .mysecret | filterCertChain "leaf" }})"
                       R"({{- .mysecret | filterCertChain "intermediate" }})",
                       data),
            leaf + intermediate);
  EXPECT_EQ(MustRender(R"({{ range (.mysecret | filterCertChain "leaf" | certSANs) }}{{ . }},)"
                       R"({{ end }})",
                       data),
            "app.example.test,*.app.example.test,10.0.0.7,2001:db8::7,ops@example.test,"
            "spiffe://example.test/app,");
}

TEST(EsoTemplatesTest, TlsSecretFromPkcs12) {
  const std::string chain =
      Fixture("leaf.crt") + Fixture("intermediate-ca.crt") + Fixture("root-ca.crt");
  // Stores hold the archive base64-encoded; ESO's docs b64dec it first.
  auto b64 = [](const std::string& bytes) {
    auto r = (*EsoFunctions().Find("b64enc"))(std::vector<Value>{Value(bytes)});
    return r->AsString();
  };
  const Value data = Data({{"archive", b64(Fixture("leaf-nopass.p12"))},
                           {"protected", b64(Fixture("leaf-pass.p12"))},
                           {"password", "fixture-p12-pass"}});
  EXPECT_EQ(MustRender("{{ .archive | b64dec | pkcs12cert }}", data), chain);
  EXPECT_EQ(MustRender("{{ .archive | b64dec | pkcs12key }}", data), Fixture("leaf.key"));
  EXPECT_EQ(MustRender("{{ .protected | b64dec | pkcs12certPass .password }}", data), chain);
  EXPECT_EQ(MustRender("{{ .protected | b64dec | pkcs12keyPass .password }}", data),
            Fixture("leaf.key"));
  // And back: a keystore for a Java client, rendered from PEM data.
  const Value pem = Data({{"crt", Fixture("leaf.crt")}, {"key", Fixture("leaf.key")}});
  const std::string p12 = MustRender(
      R"({{ pemToPkcs12Pass .crt .key "changeit" | b64dec | pkcs12keyPass "changeit" }})", pem);
  EXPECT_EQ(p12, Fixture("leaf.key"));
}

TEST(EsoTemplatesTest, DockerConfigJson) {
  const Value data =
      Data({{"registry", "registry.example.test"}, {"username", "robot"}, {"password", "s3cr3t"}});
  // The string-building form from ESO's docs.
  EXPECT_EQ(MustRender(R"({"auths":{"{{ .registry }}":{"username":"{{ .username }}",)"
                       R"("password":"{{ .password }}",)"
                       R"("auth":"{{ printf "%s:%s" .username .password | b64enc }}"}}})",
                       data),
            R"({"auths":{"registry.example.test":{"username":"robot","password":"s3cr3t",)"
            R"("auth":"cm9ib3Q6czNjcjN0"}}})");
  // The dict/toJson form: correct JSON even when the password needs escaping.
  const Value tricky =
      Data({{"registry", "registry.example.test"}, {"username", "robot"}, {"password", "p\"w<"}});
  EXPECT_EQ(MustRender(R"({{ dict "auths" (dict .registry (dict "username" .username )"
                       R"("password" .password "auth" (printf "%s:%s" .username .password )"
                       R"(| b64enc))) | toJson }})",
                       tricky),
            R"({"auths":{"registry.example.test":{"auth":"cm9ib3Q6cCJ3PA==",)"
            R"("password":"p\"w\u003c","username":"robot"}}})");
}

TEST(EsoTemplatesTest, ConnectionStrings) {
  const Value data = Data({{"user", "app"},
                           {"password", "s3cr3t"},
                           {"host", "db.internal"},
                           {"port", "5432"},
                           {"database", "orders"},
                           {"config", R"({"db":{"user":"svc","password":"j5on","port":6432}})"},
                           {"yaml", "db:\n  host: yaml.internal\n  port: 5433\n"}});
  EXPECT_EQ(MustRender("postgresql://{{ .user }}:{{ .password }}@{{ .host }}:{{ .port }}/"
                       "{{ .database }}?sslmode=require",
                       data),
            "postgresql://app:s3cr3t@db.internal:5432/orders?sslmode=require");
  EXPECT_EQ(MustRender(R"({{ $c := .config | fromJson }})"
                       R"(postgresql://{{ $c.db.user }}:{{ $c.db.password }}@{{ .host }}:)"
                       R"({{ $c.db.port }}/{{ .database | upper }})",
                       data),
            "postgresql://svc:j5on@db.internal:6432/ORDERS");
  EXPECT_EQ(MustRender(R"({{ $y := fromYaml .yaml }}{{ $y.db.host }}:{{ $y.db.port }})", data),
            "yaml.internal:5433");
  EXPECT_EQ(MustRender(R"({{ .config | fromJson | dig "db" "missing" "fallback" }})", data),
            "fallback");
  EXPECT_EQ(MustRender(R"({{ .missing_key | default "x" }})", Data({{"missing_key", ""}})), "x");
  // A config file rendered as YAML, keys sorted as ESO's toYaml does.
  EXPECT_EQ(
      MustRender(R"({{ dict "password" .password "user" .user "port" 5432 | toYaml }})", data),
      "password: s3cr3t\nport: 5432\nuser: app");
}

TEST(EsoTemplatesTest, Htpasswd) {
  const Value data = Data({{"user", "admin"}, {"password", "s3cr3t"}});
  const std::string line = MustRender("{{ htpasswd .user .password }}", data);
  ASSERT_EQ(line.rfind("admin:$2a$10$", 0), 0u) << line;
  crypt_data cd{};
  const std::string hash = line.substr(6);
  const char* check = crypt_rn("s3cr3t", hash.c_str(), &cd, sizeof(cd));
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(hash, check);
}

TEST(EsoTemplatesTest, FunctionErrorsDoNotLeakData) {
  const Value data = Data({{"notpem", "s3cr3t"}, {"notb64", "s3cr3t!"}});
  for (const char* text : {R"({{ .notpem | filterPEM "CERTIFICATE" }})", "{{ .notb64 | b64dec }}",
                           "{{ .notpem | pkcs12key }}", "{{ upper .notpem .notpem }}"}) {
    auto r = Render(text, data);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().find("s3cr3t"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace coffer::tmpl
