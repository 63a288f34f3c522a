// `coffer operator`: the External Secrets Operator-compatible controller. Wiring only: config ->
// kube client -> controller (src/controller) -> leader election -> metrics/health endpoint ->
// wait for SIGTERM/SIGINT.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <memory>
#include <random>
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
#include "core/encoding.h"
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

int Run(const config::OperatorConfig& cfg, sigset_t signals) {
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
  controller::Controller controller(**client, registry, options);
  // PushSecrets (v1alpha1): same namespace, controller class and backends, same leadership.
  controller::PushSecretControllerOptions push_options;
  push_options.namespace_ = options.namespace_;
  push_options.controller_class = options.controller_class;
  push_options.backends = options.backends;
  controller::PushSecretController push_secrets(**client, push_options);
  // ClusterExternalSecrets are cluster-scoped: stamped only when every namespace is watched.
  std::unique_ptr<controller::ClusterExternalSecretController> cluster_external_secrets;
  if (options.namespace_.empty()) {
    cluster_external_secrets = std::make_unique<controller::ClusterExternalSecretController>(
        **client, controller::CesControllerOptions{.registry = &registry});
  }

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
  spdlog::info("coffer operator {}: {}; metrics, healthz and readyz on {} (port {})",
               COFFER_VERSION, kube_config->ToString(), http_options.listen, (*server)->port());
  if (!options.backends.default_endpoint.empty()) {
    spdlog::info("Secrets Manager endpoint (AWS_SECRETSMANAGER_ENDPOINT): {}",
                 options.backends.default_endpoint);
  }

  controller.StartInformers();
  // Not part of /readyz: without the PushSecret CRD this cache never syncs (it keeps retrying),
  // and ExternalSecrets must not wait for it.
  push_secrets.StartInformers();
  // Not part of /readyz either; its reconciles wait until its own caches have synced.
  if (cluster_external_secrets) cluster_external_secrets->StartInformers();

  std::unique_ptr<kube::LeaderElector> elector;
  std::jthread leading;  // runs StartWorkers() for the elector, which wants prompt callbacks
  std::jthread starter([&](std::stop_token stop) {
    while (!controller.WaitForSync(std::chrono::seconds(1))) {
      if (stop.stop_requested()) return;
    }
    synced = true;
    // The first lists were the memory peak; hand what they left behind back to the system.
    ::malloc_trim(0);
    spdlog::info("caches synced ({} KiB of heap in use)", ::mallinfo2().uordblks / 1024);
    if (!cfg.enable_leader_election) {
      controller.StartWorkers();
      push_secrets.StartWorkers();
      if (cluster_external_secrets) cluster_external_secrets->StartWorkers();
      return;
    }
    kube::LeaderElectionConfig le;
    le.lease_namespace = !cfg.leader_election_namespace.empty()
                             ? cfg.leader_election_namespace
                             : EnvOr("POD_NAMESPACE", kube_config->default_namespace);
    le.lease_name = cfg.leader_election_id;
    le.identity = LeaderIdentity();
    spdlog::info("leader election on Lease {}/{} as {}", le.lease_namespace, le.lease_name,
                 le.identity);
    elector = std::make_unique<kube::LeaderElector>(
        **client, le,
        kube::LeaderCallbacks{
            [&] {
              spdlog::info("became the leader: reconciling");
              leading = std::jthread([&] {
                controller.StartWorkers();
                push_secrets.StartWorkers();
                if (cluster_external_secrets) cluster_external_secrets->StartWorkers();
              });
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
  push_secrets.Stop();
  if (cluster_external_secrets) cluster_external_secrets->Stop();
  controller.Stop();
  (*server)->Shutdown();
  spdlog::info("coffer operator stopped");
  return 0;
}

}  // namespace

int RunOperator(const config::RawValues& flags) {
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
    std::fprintf(stderr, "coffer operator: %s\n", cfg.status().message().c_str());
    return 2;
  }
  SetUpLogging(cfg->log_level);
  spdlog::debug("configuration:\n{}", cfg->ToString());
  return Run(*cfg, signals);
}

}  // namespace coffer::cmd
