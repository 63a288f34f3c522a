#include "config/operator_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config/flags.h"
#include "http/address.h"

namespace coffer::config {
namespace {

using Env = std::map<std::string, std::string>;

class OperatorConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("coffer-operator-config-test-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // Parses argv with the real flag registration, as `coffer operator` will.
  static Result<RawValues> ParseFlags(const std::vector<std::string>& args) {
    CLI::App app("test");
    OperatorFlags flags;
    flags.Register(&app);
    std::vector<const char*> argv = {"coffer"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return Status::InvalidArgument(std::string("flags: ") + e.what());
    }
    return flags.Given();
  }

  static Result<OperatorConfig> Load(const std::vector<std::string>& args, const Env& env) {
    COFFER_ASSIGN_OR_RETURN(RawValues given, ParseFlags(args));
    return LoadOperatorConfig(given, env);
  }

  std::filesystem::path dir_;
};

TEST_F(OperatorConfigTest, DefaultsMatchTheHeader) {
  auto c = Load({}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config_file, "");
  EXPECT_EQ(c->kubeconfig, "");
  EXPECT_EQ(c->context, "");
  EXPECT_EQ(c->metrics_addr, ":8080");
  EXPECT_EQ(c->watch_namespace, "");
  EXPECT_EQ(c->controller_class, "default");
  EXPECT_EQ(c->concurrent, 4);
  EXPECT_EQ(c->client_qps, 200);
  EXPECT_EQ(c->client_burst, 400);
  EXPECT_FALSE(c->enable_leader_election);
  EXPECT_EQ(c->leader_election_namespace, "");
  EXPECT_EQ(c->leader_election_id, "coffer-operator");
  EXPECT_EQ(c->store_requeue_interval_seconds, 300);
  EXPECT_EQ(c->template_left_delimiter, "{{");
  EXPECT_EQ(c->template_right_delimiter, "}}");
  EXPECT_EQ(c->log_level, "info");
  EXPECT_FALSE(c->reloader);
  EXPECT_EQ(c->reload_strategy, "env-vars");
  EXPECT_EQ(c->reload_debounce_ms, 5000);
  EXPECT_FALSE(c->auto_reload_all);
  EXPECT_EQ(c->reload_namespaces, "");
  EXPECT_EQ(c->namespaces_to_ignore, "");
  EXPECT_EQ(c->namespace_selector, "");
  EXPECT_EQ(c->resource_label_selector, "");
  EXPECT_EQ(c->reload_hmac_secret, "coffer-reloader-hmac");

  // The table has one row per field, flags and variables spelled after the key.
  ASSERT_EQ(OperatorOptions().size(), 25u);
  for (const OptionInfo& o : OperatorOptions()) {
    std::string key(o.key);
    std::string flag = "--" + key;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    std::string env = "COFFER_OPERATOR_" + key;
    for (char& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(o.flag, flag);
    EXPECT_EQ(o.env, env);
    EXPECT_FALSE(o.secret) << key;
  }
}

TEST_F(OperatorConfigTest, ReloaderOptionsAreValidated) {
  auto c = Load({"--reload-strategy", "annotations", "--reload-debounce-ms", "0",
                 "--reload-namespaces", "team-a, team-b", "--namespaces-to-ignore", "kube-system",
                 "--reloader"},
                {{"COFFER_OPERATOR_AUTO_RELOAD_ALL", "true"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->reload_strategy, "annotations");
  EXPECT_EQ(c->reload_debounce_ms, 0);
  EXPECT_TRUE(c->reloader);
  EXPECT_TRUE(c->auto_reload_all);

  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--reload-strategy", "restart"}, "reload_strategy"},
      {{"--reload-debounce-ms=-1"}, "debounce"},
      {{"--reload-debounce-ms", "3600001"}, "reload_debounce_ms"},
      {{"--reload-namespaces", "team-a,Team_B"}, "reload_namespaces"},
      {{"--namespaces-to-ignore", "a,,b"}, "namespaces_to_ignore"},
      {{"--reload-hmac-secret", "Bad Name"}, "reload_hmac_secret"},
  };
  for (const auto& [args, word] : bad) {
    auto r = Load(args, {});
    ASSERT_FALSE(r.ok()) << args[0];
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(word), std::string::npos) << r.status().message();
  }
}

TEST_F(OperatorConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  std::string file = WriteFile("op.yaml",
                               "namespace: from-file\n"
                               "controller_class: file-class\n"
                               "concurrent: 8\n"
                               "log_level: debug\n"
                               "kubeconfig: /file/kubeconfig\n");
  Env env = {{"COFFER_OPERATOR_CONFIG", file},
             {"COFFER_OPERATOR_NAMESPACE", "from-env"},
             {"COFFER_OPERATOR_CONTROLLER_CLASS", "env-class"}};
  auto c = Load({"--namespace", "from-flag"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->watch_namespace, "from-flag");    // flag
  EXPECT_EQ(c->controller_class, "env-class");   // env over file
  EXPECT_EQ(c->concurrent, 8);                   // file over default
  EXPECT_EQ(c->log_level, "debug");              // file
  EXPECT_EQ(c->kubeconfig, "/file/kubeconfig");  // file
  EXPECT_EQ(c->client_qps, 200);                 // default
  EXPECT_EQ(c->config_file, file);

  // --config beats COFFER_OPERATOR_CONFIG.
  std::string other = WriteFile("other.yaml", "concurrent: 2\n");
  c = Load({"--config", other}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->concurrent, 2);
  EXPECT_EQ(c->watch_namespace, "from-env");
  EXPECT_EQ(c->config_file, other);

  // Empty env values count as unset; the server's variables do not apply.
  c = Load({}, {{"COFFER_OPERATOR_CONCURRENT", ""},
                {"COFFER_LOG_LEVEL", "debug"},
                {"COFFER_CONFIG", (dir_ / "missing.yaml").string()}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->concurrent, 4);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->config_file, "");
}

TEST_F(OperatorConfigTest, EveryOptionFromEachSource) {
  std::string file = WriteFile("op.yaml",
                               "kubeconfig: /k\n"
                               "context: kind-a\n"
                               "metrics_addr: 127.0.0.1:9090\n"
                               "namespace: ns\n"
                               "controller_class: c\n"
                               "concurrent: 16\n"
                               "client_qps: 0\n"
                               "client_burst: 1\n"
                               "enable_leader_election: yes\n"
                               "leader_election_namespace: system\n"
                               "leader_election_id: op.example.com\n"
                               "store_requeue_interval_seconds: 60\n"
                               "template_left_delimiter: <%\n"
                               "template_right_delimiter: '%>'\n"
                               "log_level: warn\n");
  auto from_file = Load({"--config", file}, {});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();

  Env env = {{"COFFER_OPERATOR_KUBECONFIG", "/k"},
             {"COFFER_OPERATOR_CONTEXT", "kind-a"},
             {"COFFER_OPERATOR_METRICS_ADDR", "127.0.0.1:9090"},
             {"COFFER_OPERATOR_NAMESPACE", "ns"},
             {"COFFER_OPERATOR_CONTROLLER_CLASS", "c"},
             {"COFFER_OPERATOR_CONCURRENT", "16"},
             {"COFFER_OPERATOR_CLIENT_QPS", "0"},
             {"COFFER_OPERATOR_CLIENT_BURST", "1"},
             {"COFFER_OPERATOR_ENABLE_LEADER_ELECTION", "true"},
             {"COFFER_OPERATOR_LEADER_ELECTION_NAMESPACE", "system"},
             {"COFFER_OPERATOR_LEADER_ELECTION_ID", "op.example.com"},
             {"COFFER_OPERATOR_STORE_REQUEUE_INTERVAL_SECONDS", "60"},
             {"COFFER_OPERATOR_TEMPLATE_LEFT_DELIMITER", "<%"},
             {"COFFER_OPERATOR_TEMPLATE_RIGHT_DELIMITER", "%>"},
             {"COFFER_OPERATOR_LOG_LEVEL", "warn"}};
  auto from_env = Load({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();

  auto from_flags = Load({"--kubeconfig",
                          "/k",
                          "--context",
                          "kind-a",
                          "--metrics-addr",
                          "127.0.0.1:9090",
                          "--namespace",
                          "ns",
                          "--controller-class",
                          "c",
                          "--concurrent",
                          "16",
                          "--client-qps",
                          "0",
                          "--client-burst",
                          "1",
                          "--enable-leader-election",
                          "--leader-election-namespace",
                          "system",
                          "--leader-election-id",
                          "op.example.com",
                          "--store-requeue-interval-seconds",
                          "60",
                          "--template-left-delimiter",
                          "<%",
                          "--template-right-delimiter",
                          "%>",
                          "--log-level",
                          "warn"},
                         {});
  ASSERT_TRUE(from_flags.ok()) << from_flags.status().ToString();

  for (const OperatorConfig* c : {&*from_file, &*from_env, &*from_flags}) {
    EXPECT_EQ(c->kubeconfig, "/k");
    EXPECT_EQ(c->context, "kind-a");
    EXPECT_EQ(c->metrics_addr, "127.0.0.1:9090");
    EXPECT_EQ(c->watch_namespace, "ns");
    EXPECT_EQ(c->controller_class, "c");
    EXPECT_EQ(c->concurrent, 16);
    EXPECT_EQ(c->client_qps, 0);
    EXPECT_EQ(c->client_burst, 1);
    EXPECT_TRUE(c->enable_leader_election);
    EXPECT_EQ(c->leader_election_namespace, "system");
    EXPECT_EQ(c->leader_election_id, "op.example.com");
    EXPECT_EQ(c->store_requeue_interval_seconds, 60);
    EXPECT_EQ(c->template_left_delimiter, "<%");
    EXPECT_EQ(c->template_right_delimiter, "%>");
    EXPECT_EQ(c->log_level, "warn");
  }
  // Apart from where the file came from, the three agree exactly.
  from_file->config_file.clear();
  EXPECT_EQ(from_file->ToString(), from_env->ToString());
  EXPECT_EQ(from_env->ToString(), from_flags->ToString());
}

TEST_F(OperatorConfigTest, LeaderElectionFlagForms) {
  auto given = ParseFlags({});
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->count("enable_leader_election"), 0u);

  given = ParseFlags({"--enable-leader-election"});
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->at("enable_leader_election"), "true");

  given = ParseFlags({"--enable-leader-election=false"});
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->at("enable_leader_election"), "false");

  given = ParseFlags({"--enable-leader-election=true"});
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->at("enable_leader_election"), "true");

  // The flag's false beats the environment's true.
  Env env = {{"COFFER_OPERATOR_ENABLE_LEADER_ELECTION", "true"}};
  auto c = Load({"--enable-leader-election=false"}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->enable_leader_election);
  c = Load({}, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->enable_leader_election);

  // Flags that are the server's, not the operator's, are refused.
  EXPECT_FALSE(Load({"--listen", "127.0.0.1:1"}, {}).ok());
  EXPECT_FALSE(Load({"--data-dir", "/d"}, {}).ok());
}

TEST_F(OperatorConfigTest, UnknownAndMistypedFileKeysAreRejected) {
  struct Case {
    std::string yaml;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {"namespace: a\nnamepsace: b\n", "unknown key \"namepsace\""},
      {"listen: 127.0.0.1:1\n", "unknown key \"listen\""},          // a server key
      {"watch_namespace: a\n", "unknown key \"watch_namespace\""},  // the field, not the key
      {"concurrent: many\n", "not a non-negative integer"},
      {"client_qps: -1\n", "not a non-negative integer"},
      {"enable_leader_election: maybe\n", "not a boolean"},
      {"namespace: [a, b]\n", "expected a single value"},
      {"- namespace\n", "expected a mapping"},
      {"config: other.yaml\n", "cannot be set in a config file"},
  };
  for (const Case& c : cases) {
    std::string file = WriteFile("bad.yaml", c.yaml);
    auto r = Load({"--config", file}, {});
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.yaml << " -> " << r.status().message();
    EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
  }
  auto missing = Load({}, {{"COFFER_OPERATOR_CONFIG", (dir_ / "nope.yaml").string()}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot be read"), std::string::npos);
}

TEST_F(OperatorConfigTest, ValidationErrorsNameTheOption) {
  struct Case {
    std::vector<std::string> args;
    Env env;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--metrics-addr", "8080"}, {}, "metrics_addr"},
      {{"--metrics-addr", ":70000"}, {}, "metrics_addr"},
      {{"--metrics-addr", ""}, {}, "metrics_addr"},
      {{"--namespace", "Team_A"}, {}, "namespace \"Team_A\""},
      {{"--namespace", "-a"}, {}, "namespace"},
      {{"--namespace", std::string(64, 'a')}, {}, "namespace"},
      {{"--controller-class", ""}, {}, "controller_class"},
      {{"--concurrent", "0"}, {}, "concurrent must be between 1 and 256"},
      {{"--concurrent", "257"}, {}, "concurrent"},
      {{"--client-qps", "1000001"}, {}, "client_qps"},
      {{"--client-burst", "0"}, {}, "client_burst"},
      {{"--leader-election-namespace", "a.b"}, {}, "leader_election_namespace"},
      {{"--leader-election-id", ""}, {}, "leader_election_id"},
      {{"--leader-election-id", "Coffer"}, {}, "leader_election_id"},
      {{"--leader-election-id", "a..b"}, {}, "leader_election_id"},
      {{"--store-requeue-interval-seconds", "0"}, {}, "store_requeue_interval_seconds"},
      {{"--log-level", "loud"}, {}, "log_level"},
      {{"--template-left-delimiter", ""}, {}, "template_left_delimiter"},
      {{"--template-right-delimiter", "} }"}, {}, "template_right_delimiter"},
      {{"--concurrent", "x"}, {}, "--concurrent"},
      {{}, {{"COFFER_OPERATOR_CLIENT_BURST", "x"}}, "COFFER_OPERATOR_CLIENT_BURST"},
      {{}, {{"COFFER_OPERATOR_ENABLE_LEADER_ELECTION", "maybe"}}, "not a boolean"},
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
  // The edges that are allowed.
  EXPECT_TRUE(Load({"--concurrent", "256", "--client-qps", "0", "--client-burst", "1"}, {}).ok());
  EXPECT_TRUE(Load({"--namespace", "a", "--leader-election-id", "a.b-c"}, {}).ok());
  EXPECT_TRUE(Load({"--metrics-addr", "[::]:0"}, {}).ok());
  EXPECT_TRUE(Load({"--store-requeue-interval-seconds", "1"}, {}).ok());
}

TEST_F(OperatorConfigTest, MetricsListenAddress) {
  OperatorConfig c;
  EXPECT_EQ(c.MetricsListenAddress(), "0.0.0.0:8080");
  auto parsed = http::ParseHostPort(c.MetricsListenAddress());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->host, "0.0.0.0");
  EXPECT_EQ(parsed->port, 8080);

  c.metrics_addr = "127.0.0.1:9443";
  EXPECT_EQ(c.MetricsListenAddress(), "127.0.0.1:9443");
  c.metrics_addr = "[::1]:8080";
  EXPECT_EQ(c.MetricsListenAddress(), "[::1]:8080");
  c.metrics_addr = ":0";
  EXPECT_EQ(c.MetricsListenAddress(), "0.0.0.0:0");
  EXPECT_TRUE(Validate(c).ok());
}

TEST_F(OperatorConfigTest, ToStringListsEveryOption) {
  auto c = Load({"--namespace", "team-a", "--enable-leader-election"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string dump = c->ToString();
  EXPECT_NE(dump.find("namespace = team-a\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("enable_leader_election = true\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("metrics_addr = :8080\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("concurrent = 4\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("kubeconfig = (unset)\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("leader_election_namespace = (unset)\n"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("config = (unset)\n"), 0u) << dump;  // table order: config first
  std::size_t lines = 0;
  for (const OptionInfo& o : OperatorOptions()) {
    EXPECT_NE(dump.find(std::string(o.key) + " = "), std::string::npos) << o.key;
    ++lines;
  }
  EXPECT_EQ(static_cast<std::size_t>(std::count(dump.begin(), dump.end(), '\n')), lines);
}

TEST_F(OperatorConfigTest, FlagsRegisterOnlyTheOperatorOptions) {
  CLI::App app("test");
  OperatorFlags flags;
  flags.Register(&app, {"namespace"});
  EXPECT_NE(app.get_option_no_throw("--namespace"), nullptr);
  EXPECT_NE(app.get_option_no_throw("--config"), nullptr);  // always
  EXPECT_EQ(app.get_option_no_throw("--concurrent"), nullptr);
  EXPECT_EQ(app.get_option_no_throw("--listen"), nullptr);
}

}  // namespace
}  // namespace coffer::config
