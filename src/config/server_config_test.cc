#include "config/server_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config/flags.h"
#include "config/operator_config.h"

namespace coffer::config {
namespace {

using Env = std::map<std::string, std::string>;

class ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("coffer-config-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // Parses argv with the real flag registration, as `coffer server` does.
  Result<ServerConfig> Load(std::vector<std::string> args, const Env& env,
                            bool require_data_dir = true) {
    CLI::App app("test");
    ServerFlags flags;
    flags.Register(&app);
    std::vector<const char*> argv = {"coffer"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return Status::InvalidArgument(std::string("flags: ") + e.what());
    }
    return LoadServerConfig(flags.Given(), env, require_data_dir);
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsMatchTheHeader) {
  auto c = Load({"--data-dir", "/d"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:7430");
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->account_id, "000000000000");
  EXPECT_TRUE(c->allowed_regions.empty());
  EXPECT_FALSE(c->dev);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->purge_interval_seconds, 60);
  EXPECT_EQ(c->keyring_reload_seconds, 2);
  EXPECT_EQ(c->MasterKeyFile(), "/d/master.key");
  http::ServerOptions http_defaults;
  http::ServerOptions h = c->ToHttpOptions();
  EXPECT_EQ(h.listen, "127.0.0.1:7430");
  EXPECT_EQ(h.max_body_bytes, http_defaults.max_body_bytes);
  EXPECT_EQ(h.max_header_bytes, http_defaults.max_header_bytes);
  EXPECT_EQ(h.read_timeout, http_defaults.read_timeout);
  EXPECT_EQ(h.idle_timeout, http_defaults.idle_timeout);
  EXPECT_EQ(h.drain_timeout, http_defaults.drain_timeout);
  EXPECT_EQ(h.io_threads, http_defaults.io_threads);
  EXPECT_EQ(h.worker_threads, http_defaults.worker_threads);
  EXPECT_EQ(h.max_connections, http_defaults.max_connections);
}

TEST_F(ConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  std::string file = WriteFile("c.yaml",
                               "listen: 127.0.0.1:1001\n"
                               "region: eu-west-1\n"
                               "account_id: '111111111111'\n"
                               "log_level: debug\n"
                               "data_dir: /from-file\n");
  Env env = {{"COFFER_CONFIG", file},
             {"COFFER_LISTEN", "127.0.0.1:2002"},
             {"COFFER_REGION", "eu-central-1"}};
  auto c = Load({"--listen", "127.0.0.1:3003"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:3003");    // flag
  EXPECT_EQ(c->region, "eu-central-1");      // env over file
  EXPECT_EQ(c->account_id, "111111111111");  // file over default
  EXPECT_EQ(c->log_level, "debug");          // file
  EXPECT_EQ(c->data_dir, "/from-file");
  EXPECT_EQ(c->io_threads, 2);  // default
  EXPECT_EQ(c->config_file, file);

  // --config beats COFFER_CONFIG.
  std::string other = WriteFile("other.yaml", "data_dir: /other\n");
  c = Load({"--config", other}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/other");
  EXPECT_EQ(c->listen, "127.0.0.1:2002");

  // Empty env values count as unset.
  c = Load({"--data-dir", "/d"}, {{"COFFER_REGION", ""}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region, "us-east-1");
}

TEST_F(ConfigTest, EveryTypeFromEachSource) {
  std::string file = WriteFile("c.yaml",
                               "dev: true\n"
                               "allowed_regions: [us-east-1, us-west-2]\n"
                               "max_body_bytes: 2048\n"
                               "worker_threads: 8\n");
  auto c = Load({}, {{"COFFER_CONFIG", file}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->dev);
  EXPECT_EQ(c->allowed_regions, (std::vector<std::string>{"us-east-1", "us-west-2"}));
  EXPECT_EQ(c->max_body_bytes, 2048u);
  EXPECT_EQ(c->worker_threads, 8);

  c = Load({"--dev", "--allowed-regions", "us-east-1, eu-west-1", "--io-threads", "3"},
           {{"COFFER_WORKER_THREADS", "5"}, {"COFFER_DEV", "false"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->dev);  // the flag beats COFFER_DEV=false
  EXPECT_EQ(c->allowed_regions, (std::vector<std::string>{"us-east-1", "eu-west-1"}));
  EXPECT_EQ(c->io_threads, 3);
  EXPECT_EQ(c->worker_threads, 5);

  c = Load({}, {{"COFFER_DEV", "1"}, {"COFFER_ALLOWED_REGIONS", "us-east-1"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->dev);
  EXPECT_EQ(c->allowed_regions, std::vector<std::string>{"us-east-1"});

  // A comma string in the file works for lists too.
  file = WriteFile("d.yaml", "allowed_regions: us-east-1,us-east-2\ndev: yes\n");
  c = Load({"--config", file}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->allowed_regions.size(), 2u);
}

TEST_F(ConfigTest, SecretsComeFromTheEnvironmentOnly) {
  Env env = {{"COFFER_MASTER_KEY", "c2VjcmV0LWtleS1tYXRlcmlhbA=="},
             {"COFFER_ROOT_ACCESS_KEY_ID", "AKIAEXAMPLE123456"},
             {"COFFER_ROOT_SECRET_ACCESS_KEY", "very/secret+value"}};
  auto c = Load({"--data-dir", "/d"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->master_key, "c2VjcmV0LWtleS1tYXRlcmlhbA==");
  EXPECT_EQ(c->root_access_key_id, "AKIAEXAMPLE123456");
  EXPECT_EQ(c->root_secret_access_key, "very/secret+value");

  // Not in the file, with a message that points at the env var.
  std::string file = WriteFile("c.yaml", "master_key: abc\n");
  auto bad = Load({"--data-dir", "/d", "--config", file}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("COFFER_MASTER_KEY"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("abc"), std::string::npos);

  // And there is no flag for them (a flag would show in `ps`).
  EXPECT_FALSE(Load({"--data-dir", "/d", "--master-key", "x"}, {}).ok());
  EXPECT_FALSE(Load({"--data-dir", "/d", "--root-secret-access-key", "x"}, {}).ok());
}

TEST_F(ConfigTest, ToStringRedactsSecrets) {
  Env env = {{"COFFER_MASTER_KEY", "TOPSECRETMASTER"},
             {"COFFER_ROOT_ACCESS_KEY_ID", "AKIAVISIBLE00001"},
             {"COFFER_ROOT_SECRET_ACCESS_KEY", "TOPSECRETROOT"}};
  auto c = Load({"--data-dir", "/d"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string dump = c->ToString();
  EXPECT_EQ(dump.find("TOPSECRET"), std::string::npos) << dump;
  EXPECT_NE(dump.find("master_key = ***\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("root_secret_access_key = ***\n"), std::string::npos);
  EXPECT_NE(dump.find("root_access_key_id = AKIAVISIBLE00001\n"), std::string::npos);
  EXPECT_NE(dump.find("listen = 127.0.0.1:7430\n"), std::string::npos);
  EXPECT_NE(dump.find("data_dir = /d\n"), std::string::npos);
  // Every option appears once.
  for (const OptionInfo& o : Options()) {
    EXPECT_NE(dump.find(std::string(o.key) + " = "), std::string::npos) << o.key;
  }
  ServerConfig empty;
  EXPECT_NE(empty.ToString().find("master_key = (unset)\n"), std::string::npos);

  // A secret with a bad value is not echoed in the error either.
  auto bad = LoadServerConfig({},
                              {{"COFFER_ROOT_ACCESS_KEY_ID", "AKIAEXAMPLE123456"},
                               {"COFFER_ROOT_SECRET_ACCESS_KEY", "Zq9"}},
                              false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("Zq9"), std::string::npos);
}

TEST_F(ConfigTest, UnknownAndMistypedFileKeysAreRejected) {
  struct Case {
    std::string yaml;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {"listen: 127.0.0.1:1\nlisten_adress: x\n", "unknown key \"listen_adress\""},
      {"Listen: 127.0.0.1:1\n", "unknown key \"Listen\""},
      {"io_threads: many\n", "not a non-negative integer"},
      {"io_threads: -1\n", "not a non-negative integer"},
      {"dev: maybe\n", "not a boolean"},
      {"listen: [a, b]\n", "expected a single value"},
      {"region: {a: b}\n", "expected a single value"},
      {"allowed_regions: {a: b}\n", "expected a list"},
      {"allowed_regions: [[a]]\n", "list items must be strings"},
      {"- listen\n", "expected a mapping"},
      {"listen: [unclosed\n", "line"},
      {"config: other.yaml\n", "cannot be set in a config file"},
  };
  for (const Case& c : cases) {
    std::string file = WriteFile("bad.yaml", c.yaml);
    auto r = Load({"--data-dir", "/d", "--config", file}, {});
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.yaml << " -> " << r.status().message();
    EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
  }
  auto missing = Load({"--data-dir", "/d", "--config", (dir_ / "nope.yaml").string()}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot be read"), std::string::npos);

  // An empty file is fine.
  std::string empty = WriteFile("empty.yaml", "");
  EXPECT_TRUE(Load({"--data-dir", "/d", "--config", empty}, {}).ok());
}

TEST_F(ConfigTest, ValidationErrors) {
  struct Case {
    std::vector<std::string> args;
    Env env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, {}, "--data-dir"},
      {{"--data-dir", "/d", "--listen", "localhost"}, {}, "missing port"},
      {{"--data-dir", "/d", "--listen", "127.0.0.1:70000"}, {}, "port"},
      {{"--data-dir", "/d", "--listen", "::1:80"}, {}, "brackets"},
      {{"--data-dir", "/d", "--tls-cert", "c.pem"}, {}, "without tls_key"},
      {{"--data-dir", "/d", "--tls-key", "k.pem"}, {}, "without tls_cert"},
      {{"--data-dir", "/d", "--region", "US-EAST-1"}, {}, "region"},
      {{"--data-dir", "/d", "--region", "useast1"}, {}, "region"},
      {{"--data-dir", "/d", "--allowed-regions", "us-east-1,mars"}, {}, "\"mars\""},
      {{"--data-dir", "/d", "--allowed-regions", "eu-west-1"}, {}, "not in allowed_regions"},
      {{"--data-dir", "/d", "--account-id", "12345"}, {}, "12 digits"},
      {{"--data-dir", "/d", "--account-id", "12345678901a"}, {}, "12 digits"},
      {{"--data-dir", "/d", "--log-level", "loud"}, {}, "log_level"},
      {{"--data-dir", "/d", "--io-threads", "0"}, {}, "io_threads"},
      {{"--data-dir", "/d", "--max-body-bytes", "10"}, {}, "max_body_bytes"},
      {{"--data-dir", "/d", "--purge-interval-seconds", "0"}, {}, "purge_interval_seconds"},
      {{"--data-dir", "/d", "--io-threads", "x"}, {}, "--io-threads"},
      {{"--data-dir", "/d"}, {{"COFFER_IO_THREADS", "x"}}, "COFFER_IO_THREADS"},
      {{"--data-dir", "/d"}, {{"COFFER_ROOT_ACCESS_KEY_ID", "AKIAONLYID"}}, "set together"},
      {{"--data-dir", "/d"},
       {{"COFFER_ROOT_ACCESS_KEY_ID", "akiaLOWERCASE0001"},
        {"COFFER_ROOT_SECRET_ACCESS_KEY", "long enough"}},
       "A-Z and 0-9"},
      {{"--data-dir", "/d"},
       {{"COFFER_ROOT_ACCESS_KEY_ID", "AKIASHORT"},
        {"COFFER_ROOT_SECRET_ACCESS_KEY", "long enough"}},
       "16 to 128"},
      {{"--data-dir", "/d"},
       {{"COFFER_ROOT_ACCESS_KEY_ID", "AKIAEXAMPLE123456"},
        {"COFFER_ROOT_SECRET_ACCESS_KEY", "short"}},
       "8 to 128"},
  };
  for (const Case& c : cases) {
    auto r = Load(c.args, c.env);
    std::string args;
    for (const auto& a : c.args) args += a + " ";
    ASSERT_FALSE(r.ok()) << args;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << args;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << args << " -> " << r.status().message();
  }
  // --dev needs no data dir; nor does a caller that does not require one.
  EXPECT_TRUE(Load({"--dev"}, {}).ok());
  EXPECT_TRUE(Load({}, {}, /*require_data_dir=*/false).ok());
  EXPECT_TRUE(Load({"--data-dir", "/d", "--listen", "[::1]:0"}, {}).ok());
  EXPECT_TRUE(Load({"--data-dir", "/d", "--region", "us-gov-west-1"}, {}).ok());
}

TEST(ConfigDocTest, DocumentationEmbedsTheOptionTables) {
  // Tests run in src/config (see CofferHelpers.cmake).
  std::ifstream in("../../docs/design/configuration.md");
  ASSERT_TRUE(in.good()) << "docs/design/configuration.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(OptionsMarkdownTable()), std::string::npos)
      << "regenerate the table in docs/design/configuration.md; it should read:\n"
      << OptionsMarkdownTable();
  // The operator's table, in its own section after the server's.
  std::size_t section = text.str().find("\n## Operator options\n");
  ASSERT_NE(section, std::string::npos)
      << "docs/design/configuration.md lacks \"## Operator options\"";
  EXPECT_NE(text.str().find(OperatorOptionsMarkdownTable(), section), std::string::npos)
      << "regenerate the operator table in docs/design/configuration.md; it should read:\n"
      << OperatorOptionsMarkdownTable();
}

}  // namespace
}  // namespace coffer::config
