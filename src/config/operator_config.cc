#include "config/operator_config.h"

#include <string_view>

#include "core/strings.h"
#include "http/address.h"

namespace coffer::config {
namespace {

using Table = OptionTable<OperatorConfig>;

// THE operator option table. Keep docs/design/configuration.md in step (a test compares them).
const Table& TheTable() {
  static const Table table({
      Def("config", "--config", "COFFER_OPERATOR_CONFIG", &OperatorConfig::config_file, "none",
          "YAML config file (keys: the operator file keys in docs/design/configuration.md)", false,
          /*file_allowed=*/false),
      Def("kubeconfig", "--kubeconfig", "COFFER_OPERATOR_KUBECONFIG", &OperatorConfig::kubeconfig,
          "none ($KUBECONFIG, else the in-cluster service account)",
          "kubeconfig file to reach the apiserver with"),
      Def("context", "--context", "COFFER_OPERATOR_CONTEXT", &OperatorConfig::context,
          "none (the kubeconfig's current-context)", "kubeconfig context to use"),
      Def("metrics_addr", "--metrics-addr", "COFFER_OPERATOR_METRICS_ADDR",
          &OperatorConfig::metrics_addr, ":8080 (all interfaces)",
          "HOST:PORT serving /metrics, /healthz and /readyz"),
      Def("namespace", "--namespace", "COFFER_OPERATOR_NAMESPACE", &OperatorConfig::watch_namespace,
          "empty (all namespaces)", "watch only this namespace"),
      Def("controller_class", "--controller-class", "COFFER_OPERATOR_CONTROLLER_CLASS",
          &OperatorConfig::controller_class, "default",
          "ESO controller class: stores whose spec.controller names another class are ignored"),
      Def("concurrent", "--concurrent", "COFFER_OPERATOR_CONCURRENT", &OperatorConfig::concurrent,
          "4", "reconcile workers (1..256)"),
      Def("client_qps", "--client-qps", "COFFER_OPERATOR_CLIENT_QPS", &OperatorConfig::client_qps,
          "200", "sustained apiserver requests per second (0 = unlimited)"),
      Def("client_burst", "--client-burst", "COFFER_OPERATOR_CLIENT_BURST",
          &OperatorConfig::client_burst, "400",
          "apiserver requests allowed at once above the sustained rate (at least 1)"),
      Def("enable_leader_election", "--enable-leader-election",
          "COFFER_OPERATOR_ENABLE_LEADER_ELECTION", &OperatorConfig::enable_leader_election,
          "false", "only the replica holding the Lease reconciles"),
      Def("leader_election_namespace", "--leader-election-namespace",
          "COFFER_OPERATOR_LEADER_ELECTION_NAMESPACE", &OperatorConfig::leader_election_namespace,
          "empty (the service account's namespace in a cluster, else default)",
          "namespace of the leader election Lease"),
      Def("leader_election_id", "--leader-election-id", "COFFER_OPERATOR_LEADER_ELECTION_ID",
          &OperatorConfig::leader_election_id, "coffer-operator",
          "name of the leader election Lease"),
      Def("store_requeue_interval_seconds", "--store-requeue-interval-seconds",
          "COFFER_OPERATOR_STORE_REQUEUE_INTERVAL_SECONDS",
          &OperatorConfig::store_requeue_interval_seconds, "300",
          "how often each SecretStore is re-validated"),
      Def("template_left_delimiter", "--template-left-delimiter",
          "COFFER_OPERATOR_TEMPLATE_LEFT_DELIMITER", &OperatorConfig::template_left_delimiter, "{{",
          "left delimiter of ExternalSecret templates"),
      Def("template_right_delimiter", "--template-right-delimiter",
          "COFFER_OPERATOR_TEMPLATE_RIGHT_DELIMITER", &OperatorConfig::template_right_delimiter,
          "}}", "right delimiter of ExternalSecret templates"),
      Def("log_level", "--log-level", "COFFER_OPERATOR_LOG_LEVEL", &OperatorConfig::log_level,
          "info", "trace, debug, info, warn, error, critical or off"),
      Def("reloader", "--reloader", "COFFER_OPERATOR_RELOADER", &OperatorConfig::reloader, "false",
          "`coffer operator` also runs the reloader"),
      Def("reload_strategy", "--reload-strategy", "COFFER_OPERATOR_RELOAD_STRATEGY",
          &OperatorConfig::reload_strategy, "env-vars",
          "how workloads are rolled: env-vars or annotations"),
      Def("reload_debounce_ms", "--reload-debounce-ms", "COFFER_OPERATOR_RELOAD_DEBOUNCE_MS",
          &OperatorConfig::reload_debounce_ms, "5000",
          "changes to one workload's Secrets within this window give one rollout (0 = none)"),
      Def("auto_reload_all", "--auto-reload-all", "COFFER_OPERATOR_AUTO_RELOAD_ALL",
          &OperatorConfig::auto_reload_all, "false",
          "every workload is reloaded as if annotated reloader.stakater.com/auto"),
      Def("reload_namespaces", "--reload-namespaces", "COFFER_OPERATOR_RELOAD_NAMESPACES",
          &OperatorConfig::reload_namespaces, "empty (every namespace)",
          "comma list of the namespaces the reloader acts in"),
      Def("namespaces_to_ignore", "--namespaces-to-ignore", "COFFER_OPERATOR_NAMESPACES_TO_IGNORE",
          &OperatorConfig::namespaces_to_ignore, "empty", "comma list of namespaces not reloaded"),
      Def("namespace_selector", "--namespace-selector", "COFFER_OPERATOR_NAMESPACE_SELECTOR",
          &OperatorConfig::namespace_selector, "empty (every namespace)",
          "label selector on namespaces whose workloads are reloaded"),
      Def("resource_label_selector", "--resource-label-selector",
          "COFFER_OPERATOR_RESOURCE_LABEL_SELECTOR", &OperatorConfig::resource_label_selector,
          "empty (every Secret and ConfigMap)",
          "label selector on the Secrets and ConfigMaps that trigger rollouts"),
      Def("reload_hmac_secret", "--reload-hmac-secret", "COFFER_OPERATOR_RELOAD_HMAC_SECRET",
          &OperatorConfig::reload_hmac_secret, "coffer-reloader-hmac",
          "Secret in the reloader's namespace holding the HMAC key (created when missing)"),
  });
  return table;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A Kubernetes namespace name: an RFC 1123 label (lower-case letters, digits and '-', at most
// 63 characters, beginning and ending with a letter or digit).
bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// A Kubernetes object name such as a Lease's: an RFC 1123 subdomain (dot-separated labels, at
// most 253 characters).
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    std::size_t dot = s.find('.');
    if (!IsDnsLabel(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

}  // namespace

std::string OperatorConfig::MetricsListenAddress() const {
  if (!metrics_addr.empty() && metrics_addr.front() == ':') return "0.0.0.0" + metrics_addr;
  return metrics_addr;
}

std::string OperatorConfig::ToString() const { return TheTable().ToString(*this); }

const std::vector<OptionInfo>& OperatorOptions() { return TheTable().Infos(); }

Status Validate(const OperatorConfig& c) {
  auto invalid = [](std::string m) { return Status::InvalidArgument(std::move(m)); };
  auto metrics = http::ParseHostPort(c.MetricsListenAddress());
  if (!metrics.ok()) return metrics.status().WithContext("metrics_addr");
  if (!c.watch_namespace.empty() && !IsDnsLabel(c.watch_namespace)) {
    return invalid(
        "namespace \"" + c.watch_namespace +
        "\" is not a namespace name (lower-case letters, digits and '-', at most 63 characters)");
  }
  if (c.controller_class.empty()) return invalid("controller_class must not be empty");
  COFFER_RETURN_IF_ERROR(CheckRange("concurrent", c.concurrent, 1, 256));
  COFFER_RETURN_IF_ERROR(CheckRange("client_qps", c.client_qps, 0, 1000000));
  COFFER_RETURN_IF_ERROR(CheckRange("client_burst", c.client_burst, 1, 1000000));
  if (!c.leader_election_namespace.empty() && !IsDnsLabel(c.leader_election_namespace)) {
    return invalid(
        "leader_election_namespace \"" + c.leader_election_namespace +
        "\" is not a namespace name (lower-case letters, digits and '-', at most 63 characters)");
  }
  if (!IsDnsSubdomain(c.leader_election_id)) {
    return invalid("leader_election_id \"" + c.leader_election_id +
                   "\" is not a Lease name (lower-case letters, digits, '-' and '.')");
  }
  constexpr std::uint64_t kWeek = 7 * 24 * 3600;
  COFFER_RETURN_IF_ERROR(
      CheckRange("store_requeue_interval_seconds", c.store_requeue_interval_seconds, 1, kWeek));
  for (const auto& [key, delim] :
       {std::pair{"template_left_delimiter", &c.template_left_delimiter},
        std::pair{"template_right_delimiter", &c.template_right_delimiter}}) {
    if (delim->empty() || delim->find_first_of(" \t\r\n") != std::string::npos) {
      return invalid(std::string(key) + " must be non-empty and contain no white space");
    }
  }
  COFFER_RETURN_IF_ERROR(CheckLogLevel("log_level", c.log_level));
  if (c.reload_strategy != "env-vars" && c.reload_strategy != "annotations") {
    return invalid("reload_strategy \"" + c.reload_strategy +
                   "\" is not one of env-vars, annotations");
  }
  COFFER_RETURN_IF_ERROR(CheckRange("reload_debounce_ms", c.reload_debounce_ms, 0, 3'600'000));
  for (const auto& [key, list] : {std::pair{"reload_namespaces", &c.reload_namespaces},
                                  std::pair{"namespaces_to_ignore", &c.namespaces_to_ignore}}) {
    for (std::string_view item : SplitAndTrim(*list)) {
      if (!IsDnsLabel(item)) {
        return invalid(std::string(key) + ": \"" + std::string(item) +
                       "\" is not a namespace name");
      }
    }
  }
  if (!IsDnsSubdomain(c.reload_hmac_secret)) {
    return invalid("reload_hmac_secret \"" + c.reload_hmac_secret + "\" is not a Secret name");
  }
  return Status::Ok();
}

Result<OperatorConfig> LoadOperatorConfig(const RawValues& flags,
                                          const std::map<std::string, std::string>& env) {
  OperatorConfig config;
  COFFER_RETURN_IF_ERROR(TheTable().Load(config, flags, env));
  COFFER_RETURN_IF_ERROR(Validate(config));
  return config;
}

std::string OperatorOptionsMarkdownTable() { return TheTable().MarkdownTable(); }

}  // namespace coffer::config
