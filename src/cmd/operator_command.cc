// `coffer operator` (the External Secrets Operator-compatible controllers, and with --reloader
// the reloader too) and `coffer reloader` (the reloader alone). Wiring only: config -> kube
// client -> controllers (src/controller) -> leader election -> metrics/health endpoint -> wait for
// SIGTERM/SIGINT.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <memory>
#include <random>
#include <set>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "cmd/commands.h"
#include "cmd/common.h"
#include "config/operator_config.h"
#include "controller/cluster_external_secret_controller.h"
#include "controller/controller.h"
#include "controller/push_secret_controller.h"
#include "controller/reloader_controller.h"
#include "core/encoding.h"
#include "core/strings.h"
#include "http/server.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/leader.h"
#include "metrics/registry.h"

namespace coffer::cmd {
namespace {

std::string EnvOr(const char* name, std::string fallback = {}) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// A unique identity for leader election: the host (the pod name in a cluster) and a random
// suffix, so two processes on one host never share it.
std::string LeaderIdentity() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "unknown");
  std::random_device random;
  std::string suffix;
  for (int i = 0; i < 4; ++i) suffix.push_back(static_cast<char>(random() & 0xff));
  return std::string(host) + "_" + HexEncode(suffix);
}

http::Response Text(int status, std::string body, std::string content_type = "text/plain") {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

enum class Mode { kOperator, kReloader };

// The non-empty items of a comma list.
std::set<std::string> CommaSet(std::string_view list) {
  std::set<std::string> out;
  for (std::string_view item : SplitAndTrim(list)) {
    if (!item.empty()) out.emplace(item);
  }
  return out;
}

int Run(const config::OperatorConfig& cfg, Mode mode, sigset_t signals) {
  const char* const name = mode == Mode::kOperator ? "coffer operator" : "coffer reloader";
  Result<kube::ClientConfig> kube_config = kube::LoadDefaultConfig(cfg.kubeconfig, cfg.context);
  if (!kube_config.ok()) {
    spdlog::critical("kubernetes config: {}", kube_config.status().ToString());
    return 2;
  }
  kube::ClientOptions client_options;
  client_options.qps = cfg.client_qps;
  client_options.burst = cfg.client_burst;
  client_options.user_agent = "coffer-operator/" COFFER_VERSION;
  Result<std::unique_ptr<kube::Client>> client = kube::Client::Create(*kube_config, client_options);
  if (!client.ok()) {
    spdlog::critical("kubernetes client: {}", client.status().ToString());
    return 2;
  }

  // Events get a client (and so a QPS limiter) of their own, as client-go's event recorder: an
  // Event never takes a Secret write's or a status update's place in the queue of requests.
  Result<std::unique_ptr<kube::Client>> event_client =
      kube::Client::Create(*kube_config, client_options);
  if (!event_client.ok()) {
    spdlog::critical("kubernetes client: {}", event_client.status().ToString());
    return 2;
  }

  controller::ControllerOptions options;
  options.namespace_ = cfg.watch_namespace;
  options.event_client = event_client->get();
  options.controller_class = cfg.controller_class;
  options.workers = cfg.concurrent;
  options.store_requeue_ms = static_cast<std::int64_t>(cfg.store_requeue_interval_seconds) * 1000;
  options.templates.left_delim = cfg.template_left_delimiter;
  options.templates.right_delim = cfg.template_right_delimiter;
  options.backends.default_endpoint = EnvOr("AWS_SECRETSMANAGER_ENDPOINT");
  options.backends.env_credentials.access_key_id = EnvOr("AWS_ACCESS_KEY_ID");
  options.backends.env_credentials.secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY");
  options.backends.env_credentials.session_token = EnvOr("AWS_SESSION_TOKEN");

  metrics::Registry registry;
  std::unique_ptr<controller::Controller> controller;
  std::unique_ptr<controller::PushSecretController> push_secrets;
  std::unique_ptr<controller::ClusterExternalSecretController> cluster_external_secrets;
  if (mode == Mode::kOperator) {
    controller = std::make_unique<controller::Controller>(**client, registry, options);
    // PushSecrets (v1alpha1): same namespace, controller class and backends, same leadership.
    controller::PushSecretControllerOptions push_options;
    push_options.namespace_ = options.namespace_;
    push_options.controller_class = options.controller_class;
    push_options.backends = options.backends;
    push_secrets = std::make_unique<controller::PushSecretController>(**client, push_options);
    // ClusterExternalSecrets are cluster-scoped: stamped only when every namespace is watched.
    if (options.namespace_.empty()) {
      cluster_external_secrets = std::make_unique<controller::ClusterExternalSecretController>(
          **client, controller::CesControllerOptions{.registry = &registry});
    }
  }
  // The namespace of this process's own objects (Lease, the reloader's HMAC key Secret).
  const std::string own_namespace = !cfg.leader_election_namespace.empty()
                                        ? cfg.leader_election_namespace
                                        : EnvOr("POD_NAMESPACE", kube_config->default_namespace);
  std::unique_ptr<controller::ReloaderController> reloader;
  if (mode == Mode::kReloader || cfg.reloader) {
    Result<std::string> hmac_key =
        controller::LoadOrCreateHmacKey(**client, own_namespace, cfg.reload_hmac_secret);
    if (!hmac_key.ok()) {
      spdlog::critical("reloader: {}", hmac_key.status().ToString());
      return 1;
    }
    controller::ReloaderOptions ro;
    ro.namespace_ = cfg.watch_namespace;
    ro.namespaces = CommaSet(cfg.reload_namespaces);
    ro.namespaces_to_ignore = CommaSet(cfg.namespaces_to_ignore);
    ro.namespace_selector = cfg.namespace_selector;
    ro.resource_label_selector = cfg.resource_label_selector;
    ro.strategy = cfg.reload_strategy == "annotations" ? reloader::Strategy::kAnnotations
                                                       : reloader::Strategy::kEnvVars;
    ro.debounce_ms = cfg.reload_debounce_ms;
    ro.rules.auto_reload_all = cfg.auto_reload_all;
    ro.hmac_key = std::move(*hmac_key);
    ro.workers = cfg.concurrent;
    ro.event_client = event_client->get();
    Result<std::unique_ptr<controller::ReloaderController>> created =
        controller::ReloaderController::Create(**client, registry, std::move(ro));
    if (!created.ok()) {
      spdlog::critical("reloader: {}", created.status().ToString());
      return 2;
    }
    reloader = std::move(*created);
  }
  const auto all_synced = [&](std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (controller && !controller->WaitForSync(timeout)) return false;
    return !reloader ||
           reloader->WaitForSync(std::max(std::chrono::milliseconds(1),
                                          std::chrono::duration_cast<std::chrono::milliseconds>(
                                              deadline - std::chrono::steady_clock::now())));
  };
  const auto start_workers = [&] {
    if (controller) controller->StartWorkers();
    if (push_secrets) push_secrets->StartWorkers();
    if (cluster_external_secrets) cluster_external_secrets->StartWorkers();
    if (reloader) reloader->StartWorkers();
  };

  std::atomic<bool> synced{false};
  http::ServerOptions http_options;
  http_options.listen = cfg.MetricsListenAddress();
  http_options.io_threads = 1;
  http_options.worker_threads = 2;
  http_options.max_body_bytes = 4096;
  auto server = http::StartServer(http_options, [&](const http::Request& req) {
    if (req.method != "GET" && req.method != "HEAD") return Text(405, "method not allowed\n");
    const std::string path = PathOnly(req.target);
    if (path == "/metrics") return Text(200, registry.Render(), std::string(metrics::kContentType));
    if (path == "/healthz") return Text(200, "ok\n");
    if (path == "/readyz") {
      return synced.load() ? Text(200, "ok\n") : Text(503, "caches not synced\n");
    }
    return Text(404, "not found\n");
  });
  if (!server.ok()) {
    spdlog::critical("metrics endpoint {}: {}", http_options.listen, server.status().ToString());
    return 1;
  }
  spdlog::info("{} {}: {}; metrics, healthz and readyz on {} (port {})", name, COFFER_VERSION,
               kube_config->ToString(), http_options.listen, (*server)->port());
  if (!options.backends.default_endpoint.empty()) {
    spdlog::info("Secrets Manager endpoint (AWS_SECRETSMANAGER_ENDPOINT): {}",
                 options.backends.default_endpoint);
  }

  if (controller) controller->StartInformers();
  // Not part of /readyz: without the PushSecret CRD this cache never syncs (it keeps retrying),
  // and ExternalSecrets must not wait for it.
  if (push_secrets) push_secrets->StartInformers();
  // Not part of /readyz either; its reconciles wait until its own caches have synced.
  if (cluster_external_secrets) cluster_external_secrets->StartInformers();
  if (reloader) reloader->StartInformers();

  std::unique_ptr<kube::LeaderElector> elector;
  std::jthread leading;  // runs StartWorkers() for the elector, which wants prompt callbacks
  std::jthread starter([&](std::stop_token stop) {
    while (!all_synced(std::chrono::seconds(1))) {
      if (stop.stop_requested()) return;
    }
    synced = true;
    // The first lists were the memory peak; hand what they left behind back to the system.
    ::malloc_trim(0);
    spdlog::info("caches synced ({} KiB of heap in use)", ::mallinfo2().uordblks / 1024);
    if (!cfg.enable_leader_election) {
      start_workers();
      return;
    }
    kube::LeaderElectionConfig le;
    le.lease_namespace = own_namespace;
    // `coffer reloader` beside `coffer operator` must not take the operator's Lease.
    le.lease_name = mode == Mode::kReloader && cfg.leader_election_id == "coffer-operator"
                        ? "coffer-reloader"
                        : cfg.leader_election_id;
    le.identity = LeaderIdentity();
    spdlog::info("leader election on Lease {}/{} as {}", le.lease_namespace, le.lease_name,
                 le.identity);
    elector = std::make_unique<kube::LeaderElector>(
        **client, le,
        kube::LeaderCallbacks{
            [&] {
              spdlog::info("became the leader: reconciling");
              leading = std::jthread(start_workers);
            },
            [] {
              // As controller-runtime does: a replica that lost the Lease exits, and its
              // restart campaigns afresh, so two replicas never reconcile at once.
              spdlog::error("lost leadership: exiting");
              ::kill(::getpid(), SIGTERM);
            },
            [](const std::string& leader) { spdlog::info("the leader is {}", leader); }});
    elector->Start();
  });

  int sig = 0;
  while (::sigwait(&signals, &sig) != 0) {
  }
  spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  starter.request_stop();
  starter.join();
  if (elector) elector->Stop();
  if (leading.joinable()) leading.join();
  if (reloader) reloader->Stop();
  if (push_secrets) push_secrets->Stop();
  if (cluster_external_secrets) cluster_external_secrets->Stop();
  if (controller) controller->Stop();
  (*server)->Shutdown();
  spdlog::info("{} stopped", name);
  return 0;
}

int RunCommand(const config::RawValues& flags, Mode mode) {
  DisableCoreDumps();
  // Two malloc arenas instead of one per thread (up to 8 per core): the workers and informers
  // all allocate, and per-thread arenas would each keep their own free memory (RSS) for the
  // life of the process. Contention is negligible at the operator's allocation rate.
  ::mallopt(M_ARENA_MAX, 2);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto cfg = config::LoadOperatorConfig(flags, config::ProcessEnvironment());
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s: %s\n",
                 mode == Mode::kOperator ? "coffer operator" : "coffer reloader",
                 cfg.status().message().c_str());
    return 2;
  }
  SetUpLogging(cfg->log_level);
  spdlog::debug("configuration:\n{}", cfg->ToString());
  return Run(*cfg, mode, signals);
}

}  // namespace

int RunOperator(const config::RawValues& flags) { return RunCommand(flags, Mode::kOperator); }

int RunReloader(const config::RawValues& flags) { return RunCommand(flags, Mode::kReloader); }

}  // namespace coffer::cmd
