#include "kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace coffer::kube {
namespace {

namespace fs = std::filesystem;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("coffer-kubeconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "certs");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

constexpr char kTwoContexts[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: certs/ca.crt
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: s3cr3t-token
- name: prod-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)";

TEST_F(KubeconfigTest, TokenCaFileRelativeToKubeconfigAndNamespace) {
  Write("certs/ca.crt", "CA PEM");
  Result<ClientConfig> c = LoadKubeconfig({Write("config", kTwoContexts)});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->context, "dev");
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->token, "s3cr3t-token");
  EXPECT_EQ(c->default_namespace, "team-a");
}

TEST_F(KubeconfigTest, ContextOverrideClientCertDataAndInsecure) {
  Write("certs/ca.crt", "CA PEM");
  Result<ClientConfig> c = LoadKubeconfig({Write("config", kTwoContexts)}, "prod");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->context, "prod");
  EXPECT_EQ(c->server, "https://prod.example:443");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_TRUE(c->ca_pem.empty());
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->token.empty());
  EXPECT_EQ(c->default_namespace, "default");
}

TEST_F(KubeconfigTest, ToStringNeverShowsCredentials) {
  Write("certs/ca.crt", "CA PEM");
  const std::string path = Write("config", kTwoContexts);
  Result<ClientConfig> dev = LoadKubeconfig({path});
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->ToString().find("s3cr3t"), std::string::npos);
  EXPECT_NE(dev->ToString().find("token=***"), std::string::npos);
  EXPECT_NE(dev->ToString().find("https://127.0.0.1:6443"), std::string::npos);
  Result<ClientConfig> prod = LoadKubeconfig({path}, "prod");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->ToString().find("KEY"), std::string::npos);
}

TEST_F(KubeconfigTest, CertificateFilesAndTokenFileRelativePaths) {
  Write("certs/client.crt", "CLIENT CERT");
  Write("certs/client.key", "CLIENT KEY");
  Write("token", "file-token\n");
  const std::string ca_b64 = Base64Encode("CA DATA");
  const std::string path = Write("config", R"(
current-context: a
clusters:
- name: c
  cluster: {server: "https://h:1", certificate-authority-data: )" + ca_b64 + R"(}
users:
- name: cert
  user: {client-certificate: certs/client.crt, client-key: certs/client.key}
- name: tok
  user: {tokenFile: token}
contexts:
- {name: a, context: {cluster: c, user: cert}}
- {name: b, context: {cluster: c, user: tok}}
)");
  Result<ClientConfig> a = LoadKubeconfig({path});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->ca_pem, "CA DATA");
  EXPECT_EQ(a->client_cert_pem, "CLIENT CERT");
  EXPECT_EQ(a->client_key_pem, "CLIENT KEY");
  Result<ClientConfig> b = LoadKubeconfig({path}, "b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->token, "file-token");
  EXPECT_EQ(b->token_file, (dir_ / "token").string());
}

TEST_F(KubeconfigTest, MergesFilesFirstDefinitionWins) {
  const std::string first = Write("first", R"(
current-context: one
clusters:
- {name: c, cluster: {server: "https://first:1"}}
users:
- {name: u, user: {token: first-token}}
contexts:
- {name: one, context: {cluster: c, user: u}}
)");
  const std::string second = Write("second", R"(
current-context: two
clusters:
- {name: c, cluster: {server: "https://second:1"}}
- {name: c2, cluster: {server: "https://second:2"}}
users:
- {name: u, user: {token: second-token}}
contexts:
- {name: two, context: {cluster: c2, user: u}}
)");
  const std::vector<std::string> paths =
      SplitKubeconfigPaths((dir_ / "missing").string() + ":" + first + "::" + second);
  ASSERT_EQ(paths.size(), 3u);
  Result<ClientConfig> c = LoadKubeconfig(paths);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->context, "one");
  EXPECT_EQ(c->server, "https://first:1");
  EXPECT_EQ(c->token, "first-token");
  Result<ClientConfig> two = LoadKubeconfig(paths, "two");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->server, "https://second:2");
  EXPECT_EQ(two->token, "first-token");  // user "u" from the first file
}

TEST_F(KubeconfigTest, Errors) {
  EXPECT_EQ(LoadKubeconfig({(dir_ / "nope").string()}).status().code(), StatusCode::kNotFound);
  const std::string path = Write("config", kTwoContexts);
  EXPECT_EQ(LoadKubeconfig({path}, "staging").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadKubeconfig({Write("bad", "clusters: [unclosed")}).status().code(),
            StatusCode::kInvalidArgument);
  // dev-cluster's CA file does not exist here.
  EXPECT_EQ(LoadKubeconfig({path}).status().code(), StatusCode::kInvalidArgument);
  const std::string bad_b64 = Write("badb64", R"(
current-context: a
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "!!!"}}]
contexts: [{name: a, context: {cluster: c}}]
)");
  EXPECT_EQ(LoadKubeconfig({bad_b64}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(KubeconfigTest, InCluster) {
  InClusterOptions o;
  o.service_account_dir = dir_.string();
  o.host = "10.0.0.1";
  o.port = "443";
  EXPECT_EQ(LoadInCluster(o).status().code(), StatusCode::kNotFound);  // no token yet
  Write("token", "sa-token\n");
  Write("ca.crt", "SA CA");
  Write("namespace", "coffer-system");
  Result<ClientConfig> c = LoadInCluster(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_EQ(c->ca_pem, "SA CA");
  EXPECT_EQ(c->default_namespace, "coffer-system");
  o.host = "fd00::1";
  EXPECT_EQ(LoadInCluster(o)->server, "https://[fd00::1]:443");
  o.host.clear();
  o.port.clear();
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(LoadInCluster(o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace coffer::kube
