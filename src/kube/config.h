#pragma once

// Where the apiserver is and how to authenticate to it: from kubeconfig files (as kubectl reads
// them) or from the in-cluster service-account files.

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::kube {

// Everything a Client needs to reach one apiserver. File references in kubeconfig are read at load
// time, so the PEM fields hold contents, never paths. Credentials never leave through ToString().
struct ClientConfig {
  std::string server;        // "https://127.0.0.1:6443" (no trailing slash)
  std::string ca_pem;        // empty: the system trust store
  bool insecure_skip_tls_verify = false;
  std::string token;         // bearer token
  std::string token_file;    // when set, re-read periodically (rotating service-account tokens)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string username;      // basic auth, when no token
  std::string password;
  std::string default_namespace = "default";
  std::string context;       // the kubeconfig context used; "" for in-cluster

  // "server=https://... context=x namespace=y auth=token token=***"; no credential ever appears.
  std::string ToString() const;
};

// Splits a KUBECONFIG value on ':', dropping empty entries.
std::vector<std::string> SplitKubeconfigPaths(std::string_view value);

// Loads and merges kubeconfig files as kubectl does: for each cluster, user and context name the
// first file that defines it wins, and so does the first current-context. Missing files in the list
// are skipped (at least one must exist). `context` overrides current-context when non-empty.
// Relative file paths are resolved against the directory of the file that names them.
// Errors: kNotFound when no file exists or the context, cluster or user is not defined;
// kInvalidArgument for malformed YAML, bad base64 or unreadable referenced files.
Result<ClientConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                    std::string_view context = {});

struct InClusterOptions {
  // Default: the standard mount. Tests point it at a temporary folder.
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Default: empty, meaning the KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT variables.
  std::string host;
  std::string port;
};

// The in-cluster config: token, ca.crt and namespace from the service-account folder, the server
// from the environment. Errors: kNotFound when not running in a cluster (no host or no token).
Result<ClientConfig> LoadInCluster(const InClusterOptions& options = {});

// The order `coffer operator` uses: `kubeconfig` when non-empty, else $KUBECONFIG, else in-cluster.
Result<ClientConfig> LoadDefaultConfig(std::string_view kubeconfig, std::string_view context = {});

}  // namespace coffer::kube
