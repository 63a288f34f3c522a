#include "kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/encoding.h"

namespace coffer::kube {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One named entry's body (the `cluster:`, `user:` or `context:` map), with the folder of the file
// that defined it, for resolving relative paths.
struct Entry {
  YAML::Node body;
  fs::path dir;
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
};

std::string Str(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.as<std::string>() : std::string();
}

// Adds the file's named entries that no earlier file defined. yaml-cpp throws on malformed input;
// the caller catches.
void MergeFile(const YAML::Node& root, const fs::path& dir, Merged& merged) {
  auto add = [&](const char* list, const char* field, std::map<std::string, Entry>& into) {
    const YAML::Node items = root[list];
    if (!items || !items.IsSequence()) return;
    for (const YAML::Node& item : items) {
      const std::string name = Str(item, "name");
      if (name.empty() || into.count(name)) continue;
      into.emplace(name, Entry{item[field] ? item[field] : YAML::Node(YAML::NodeType::Map), dir});
    }
  };
  add("clusters", "cluster", merged.clusters);
  add("users", "user", merged.users);
  add("contexts", "context", merged.contexts);
  if (merged.current_context.empty()) merged.current_context = Str(root, "current-context");
}

// The contents of `<key>-data` (base64) or of the file `<key>` (relative to the entry's folder).
Result<std::string> Material(const Entry& entry, const std::string& key) {
  const std::string data = Str(entry.body, (key + "-data").c_str());
  if (!data.empty()) {
    std::string compact;
    for (char c : data) {
      if (c != '\n' && c != '\r' && c != ' ') compact += c;
    }
    std::optional<std::string> decoded = Base64Decode(compact);
    if (!decoded) return Status::InvalidArgument(key + "-data is not valid base64");
    return *decoded;
  }
  const std::string file = Str(entry.body, key.c_str());
  if (file.empty()) return std::string();
  fs::path path(file);
  if (path.is_relative()) path = entry.dir / path;
  std::optional<std::string> contents = ReadFile(path);
  if (!contents) return Status::InvalidArgument("cannot read " + key + " file " + path.string());
  return *contents;
}

Result<ClientConfig> Resolve(const Merged& merged, std::string_view context_override) {
  const std::string context_name =
      context_override.empty() ? merged.current_context : std::string(context_override);
  if (context_name.empty()) return Status::NotFound("kubeconfig: no current-context and no context");
  auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end()) {
    return Status::NotFound("kubeconfig: context \"" + context_name + "\" not found");
  }
  const std::string cluster_name = Str(ctx->second.body, "cluster");
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return Status::NotFound("kubeconfig: cluster \"" + cluster_name + "\" not found");
  }
  ClientConfig config;
  config.context = context_name;
  const std::string ns = Str(ctx->second.body, "namespace");
  if (!ns.empty()) config.default_namespace = ns;

  const Entry& c = cluster->second;
  config.server = Str(c.body, "server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) {
    return Status::InvalidArgument("kubeconfig: cluster \"" + cluster_name + "\" has no server");
  }
  config.insecure_skip_tls_verify = c.body["insecure-skip-tls-verify"] &&
                                    c.body["insecure-skip-tls-verify"].as<bool>(false);
  COFFER_ASSIGN_OR_RETURN(config.ca_pem, Material(c, "certificate-authority"));

  const std::string user_name = Str(ctx->second.body, "user");
  if (user_name.empty()) return config;  // anonymous
  auto user = merged.users.find(user_name);
  if (user == merged.users.end()) {
    return Status::NotFound("kubeconfig: user \"" + user_name + "\" not found");
  }
  const Entry& u = user->second;
  config.token = Str(u.body, "token");
  const std::string token_file = Str(u.body, "tokenFile");
  if (config.token.empty() && !token_file.empty()) {
    fs::path path(token_file);
    if (path.is_relative()) path = u.dir / path;
    std::optional<std::string> token = ReadFile(path);
    if (!token) return Status::InvalidArgument("cannot read tokenFile " + path.string());
    config.token = TrimTrailingNewlines(*token);
    config.token_file = path.string();
  }
  COFFER_ASSIGN_OR_RETURN(config.client_cert_pem, Material(u, "client-certificate"));
  COFFER_ASSIGN_OR_RETURN(config.client_key_pem, Material(u, "client-key"));
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return Status::InvalidArgument("kubeconfig: user \"" + user_name +
                                   "\" needs both client-certificate and client-key");
  }
  config.username = Str(u.body, "username");
  config.password = Str(u.body, "password");
  return config;
}

}  // namespace

std::string ClientConfig::ToString() const {
  std::string auth = "none";
  if (!token.empty()) {
    auth = "token token=***";
  } else if (!client_cert_pem.empty()) {
    auth = "client-certificate key=***";
  } else if (!username.empty()) {
    auth = "basic user=" + username + " password=***";
  }
  return "server=" + server + " context=" + context + " namespace=" + default_namespace +
         " ca=" + (ca_pem.empty() ? "system" : "custom") +
         (insecure_skip_tls_verify ? " insecure-skip-tls-verify" : "") + " auth=" + auth;
}

std::vector<std::string> SplitKubeconfigPaths(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const std::size_t colon = value.find(':');
    std::string_view part = value.substr(0, colon);
    if (!part.empty()) out.emplace_back(part);
    if (colon == std::string_view::npos) break;
    value.remove_prefix(colon + 1);
  }
  return out;
}

Result<ClientConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                    std::string_view context) {
  Merged merged;
  bool any = false;
  for (const std::string& p : paths) {
    std::optional<std::string> text = ReadFile(p);
    if (!text) continue;
    any = true;
    try {
      const YAML::Node root = YAML::Load(*text);
      if (!root.IsMap()) return Status::InvalidArgument("kubeconfig " + p + " is not a map");
      MergeFile(root, fs::absolute(fs::path(p)).parent_path(), merged);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument("kubeconfig " + p + ": " + e.what());
    }
  }
  if (!any) return Status::NotFound("no kubeconfig file found");
  try {
    return Resolve(merged, context);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("kubeconfig: ") + e.what());
  }
}

Result<ClientConfig> LoadInCluster(const InClusterOptions& options) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
  };
  const std::string host = options.host.empty() ? env("KUBERNETES_SERVICE_HOST") : options.host;
  const std::string port = options.port.empty() ? env("KUBERNETES_SERVICE_PORT") : options.port;
  if (host.empty() || port.empty()) {
    return Status::NotFound("not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  const fs::path dir(options.service_account_dir);
  std::optional<std::string> token = ReadFile(dir / "token");
  if (!token) return Status::NotFound("not in a cluster: no service-account token");
  ClientConfig config;
  // An IPv6 literal needs brackets in a URL.
  config.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                  ":" + port;
  config.token = TrimTrailingNewlines(*token);
  config.token_file = (dir / "token").string();
  if (std::optional<std::string> ca = ReadFile(dir / "ca.crt")) config.ca_pem = *ca;
  if (std::optional<std::string> ns = ReadFile(dir / "namespace")) {
    std::string trimmed = TrimTrailingNewlines(*ns);
    if (!trimmed.empty()) config.default_namespace = trimmed;
  }
  return config;
}

Result<ClientConfig> LoadDefaultConfig(std::string_view kubeconfig, std::string_view context) {
  if (!kubeconfig.empty()) return LoadKubeconfig({std::string(kubeconfig)}, context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    return LoadKubeconfig(SplitKubeconfigPaths(env), context);
  }
  return LoadInCluster();
}

}  // namespace coffer::kube
