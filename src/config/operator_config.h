#pragma once

// Configuration of `coffer operator`, the External Secrets Operator-compatible controller.
//
// Sources, highest precedence first (the same machinery as `coffer server`, option_table.h):
//   1. command-line flags        (--namespace team-a)
//   2. environment variables     (COFFER_OPERATOR_NAMESPACE=team-a)
//   3. the YAML config file      (namespace: team-a), named by --config or COFFER_OPERATOR_CONFIG
//   4. the defaults below.
// Every option is declared once, in the table in operator_config.cc (OperatorOptions());
// docs/design/configuration.md embeds it (a test compares).

#include <map>
#include <string>
#include <vector>

#include "config/option_table.h"
#include "core/status.h"

namespace coffer::config {

struct OperatorConfig {
  // Default: none. The YAML file the other values were read from (--config /
  // COFFER_OPERATOR_CONFIG).
  std::string config_file;
  // Default: none: $KUBECONFIG when set, else the in-cluster service account.
  std::string kubeconfig;
  // Default: none: the kubeconfig's current-context.
  std::string context;
  // Default: ":8080" (all interfaces). HOST:PORT serving /metrics, /healthz and /readyz.
  std::string metrics_addr = ":8080";
  // Default: "" = all namespaces. When set, only this namespace is watched.
  std::string watch_namespace;
  // Default: "default". ESO's controller class: stores whose spec.controller names another
  // class are ignored.
  std::string controller_class = "default";
  // Default: 4. Reconcile workers (1..256).
  int concurrent = 4;
  // Default: 200. Sustained apiserver requests per second; 0 = unlimited.
  int client_qps = 200;
  // Default: 400. Apiserver requests allowed at once above client_qps (>= 1).
  int client_burst = 400;
  // Default: false. When on, only the replica holding the Lease reconciles.
  bool enable_leader_election = false;
  // Default: "" = the service account's namespace in a cluster, else "default".
  std::string leader_election_namespace;
  // Default: "coffer-operator". The Lease's name.
  std::string leader_election_id = "coffer-operator";
  // Default: 300. Seconds between re-validations of each SecretStore (>= 1).
  int store_requeue_interval_seconds = 300;
  // Default: "{{". Left delimiter of ExternalSecret templates (ESO's
  // --template-left-delimiter), e.g. "<%" to avoid escaping Helm's "{{".
  std::string template_left_delimiter = "{{";
  // Default: "}}". Right delimiter of ExternalSecret templates.
  std::string template_right_delimiter = "}}";
  // Default: info. One of trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";

  // The reloader (`coffer reloader`, or inside the operator with `reloader: true`).
  // Default: false. `coffer operator` also runs the reloader (under the operator's leadership).
  bool reloader = false;
  // Default: "env-vars". How a workload is rolled: "env-vars" (a STAKATER_<NAME>_SECRET variable)
  // or "annotations" (a pod template annotation), as Reloader's --reload-strategy.
  std::string reload_strategy = "env-vars";
  // Default: 5000. Changes to the Secrets and ConfigMaps of one workload within this many
  // milliseconds of the first give one rollout (0: roll at once).
  int reload_debounce_ms = 5000;
  // Default: false. Reloader's --auto-reload-all: every workload behaves as if annotated
  // reloader.stakater.com/auto: "true" unless it says "false".
  bool auto_reload_all = false;
  // Default: "" = every namespace. Comma list of the namespaces the reloader acts in.
  std::string reload_namespaces;
  // Default: "". Comma list of namespaces the reloader leaves alone (Reloader's
  // --namespaces-to-ignore).
  std::string namespaces_to_ignore;
  // Default: "". Label selector on namespaces: only workloads in matching namespaces are rolled
  // (Reloader's --namespace-selector).
  std::string namespace_selector;
  // Default: "". Label selector on Secrets and ConfigMaps: only matching ones trigger rollouts
  // (Reloader's --resource-label-selector).
  std::string resource_label_selector;
  // Default: "coffer-reloader-hmac". The Secret, in the reloader's own namespace, that holds the
  // key of the HMAC written into pod templates; created with 32 random bytes when missing.
  std::string reload_hmac_secret = "coffer-reloader-hmac";

  // metrics_addr in the form http::ParseHostPort accepts: ":8080" becomes "0.0.0.0:8080";
  // anything else is returned as is.
  std::string MetricsListenAddress() const;
  // One "key = value" line per option, in table order.
  std::string ToString() const;
};

// The operator's option table, in documentation order.
const std::vector<OptionInfo>& OperatorOptions();

// Builds the configuration from the sources in precedence order and validates it.
// `flags` is keyed by option key (see OperatorFlags in flags.h); `env` by variable name. Empty
// environment values count as unset. The config file is flags["config"], else
// env["COFFER_OPERATOR_CONFIG"].
Result<OperatorConfig> LoadOperatorConfig(const RawValues& flags,
                                          const std::map<std::string, std::string>& env);

// Errors name the option: bad metrics address, namespace or Lease name that Kubernetes would
// refuse, numbers out of range, unknown log level.
Status Validate(const OperatorConfig& config);

// The option table as a Markdown table (docs/design/configuration.md embeds it verbatim).
std::string OperatorOptionsMarkdownTable();

}  // namespace coffer::config
