// `coffer server`: wires config -> keyring -> store -> envelope -> SigV4 verifier -> root key ->
// IAM (policy source, authorizer, Query API) -> secrets service -> audit trail -> metrics ->
// AWS pipeline -> HTTP server, then waits for SIGTERM/SIGINT.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/credentials.h"
#include "api/ops/operations.h"
#include "api/pipeline.h"
#include "audit/trail.h"
#include "cmd/commands.h"
#include "cmd/common.h"
#include "core/clock.h"
#include "crypto/envelope.h"
#include "http/address.h"
#include "http/server.h"
#include "iam/iam_service.h"
#include "iam/policy_source.h"
#include "iam/query_api.h"
#include "metrics/server_metrics.h"
#include "policy/authorizer.h"
#include "secrets/service.h"
#include "sigv4/sigv4.h"
#include "storage/caching_store.h"
#include "storage/sqlite/sqlite_store.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "unknown"
#endif

namespace coffer::cmd {
namespace {

// An exclusive flock(2) on <data_dir>/coffer.lock, held for the life of the object (and released
// by the kernel however the process ends).
class DataDirLock {
 public:
  static Result<DataDirLock> Acquire(const std::string& data_dir) {
    const std::string path = data_dir + "/coffer.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::Unavailable("cannot open lock file " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::FailedPrecondition("another coffer server is using " + data_dir);
      }
      return Status::Unavailable("cannot lock " + path + ": " + std::strerror(err));
    }
    return DataDirLock(fd);
  }
  DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&&) = delete;
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Writes the port atomically (temp file + rename), so a reader never sees a partial number.
Status WritePortFile(const std::string& path, std::uint16_t port) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    out.flush();
    if (!out) return Status::Unavailable("cannot write port file " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Status::Unavailable("cannot write port file " + path + ": " + why);
  }
  return Status::Ok();
}

http::Response TextResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

// The test-only clock offset (COFFER_TESTING_CLOCK_OFFSET_SECONDS, signed seconds), applied to the
// secrets service's clock only, so that tests can create secrets that look months old. SigV4 and
// the audit trail keep the real time. 0 when unset or malformed (logged).
std::int64_t TestingClockOffsetMillis() {
  const char* text = std::getenv("COFFER_TESTING_CLOCK_OFFSET_SECONDS");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  long long seconds = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || seconds > 100LL * 365 * 86400 ||
      seconds < -100LL * 365 * 86400) {
    spdlog::error("ignoring malformed COFFER_TESTING_CLOCK_OFFSET_SECONDS");
    return 0;
  }
  return seconds * 1000;
}

// Whether the HTTP server may run `req` on its I/O thread: the health probe, and the read-only
// Secrets Manager actions (api::ops::IsReadOnlyTarget), which never wait for a durable commit.
bool RunsInline(const http::Request& req) {
  if (req.method == "GET" || req.method == "HEAD") return PathOnly(req.target) == "/healthz";
  if (req.method != "POST" || PathOnly(req.target) != "/") return false;
  const std::string* target = req.FindHeader("X-Amz-Target");
  return target != nullptr && api::ops::IsReadOnlyTarget(*target);
}

// Runs `fn` every `interval` until Stop(); Stop() wakes it at once.
class Periodic {
 public:
  Periodic(std::chrono::seconds interval, std::function<void()> fn)
      : interval_(interval), fn_(std::move(fn)), thread_([this] { Run(); }) {}
  ~Periodic() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
      lock.unlock();
      fn_();
      lock.lock();
    }
  }

  std::chrono::seconds interval_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

int Serve(const config::ServerConfig& cfg_in, sigset_t signals) {
  config::ServerConfig cfg = cfg_in;
  Clock* clock = SystemClock::Get();

  // Data dir.
  if (cfg.data_dir.empty()) {  // --dev without --data-dir: a fresh throwaway dir
    char tmpl[] = "/tmp/coffer-dev-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      spdlog::critical("cannot create a dev data dir under /tmp: {}", std::strerror(errno));
      return 1;
    }
    cfg.data_dir = tmpl;
  }
  if (Status s = EnsureDataDir(cfg.data_dir); !s.ok()) {
    spdlog::critical("{}", s.ToString());
    return 1;
  }

  // Master key.
  auto keyring = OpenKeyring(cfg);
  if (!keyring.ok()) {
    spdlog::critical("master key: {}", keyring.status().ToString());
    return 1;
  }
  const bool keyring_from_file = cfg.master_key.empty();

  // One server per data dir: the read cache below is only valid while this process is the only
  // writer of secret rows. `coffer keys rotate` does not take the lock (it only rewraps).
  auto dir_lock = DataDirLock::Acquire(cfg.data_dir);
  if (!dir_lock.ok()) {
    spdlog::critical("{}", dir_lock.status().message());
    return 1;
  }

  // Store: SQLite behind the read cache (see storage/caching_store.h for why it is safe here).
  auto sqlite = OpenStore(cfg.data_dir);
  if (!sqlite.ok()) {
    spdlog::critical("store: {}", sqlite.status().ToString());
    return 1;
  }
  auto store = std::make_unique<storage::CachingStore>(std::move(*sqlite));

  crypto::Envelope envelope(keyring->get());
  api::StoreCredentialSource credentials(store.get(), &envelope, clock);
  sigv4::Verifier verifier(clock, &credentials);

  std::optional<std::pair<std::string, std::string>> env_root;
  if (!cfg.root_access_key_id.empty()) {
    env_root.emplace(cfg.root_access_key_id, cfg.root_secret_access_key);
  }
  auto root = api::EnsureRootCredentials(store.get(), &envelope, clock, cfg.account_id, env_root);
  if (!root.ok()) {
    spdlog::critical("root access key: {}", root.status().ToString());
    return 1;
  }

  // IAM: identity policies from the store, the authorizer every API asks, and the Query API.
  iam::StorePolicySource policy_source(store.get(), cfg.account_id);
  policy::PolicyAuthorizer authorizer(&policy_source);
  iam::IamServiceOptions iam_options;
  iam_options.account_id = cfg.account_id;
  iam_options.policy_source = &policy_source;
  iam_options.on_access_key_changed = [&credentials](const std::string& id) {
    credentials.Invalidate(id);
  };
  iam::IamService iam_service(store.get(), &envelope, clock, iam_options);
  iam::QueryApi iam_api(&iam_service, &authorizer);

  // The secrets service reads time through the test-only offset, when one is set.
  const std::int64_t offset_ms = TestingClockOffsetMillis();
  OffsetClock service_clock(clock, offset_ms);
  if (offset_ms != 0) {
    spdlog::warn("TESTING ONLY: the secrets service clock is offset by {} s", offset_ms / 1000);
  }

  // In an optional so that it is destroyed (its background LastAccessedDate thread stopped)
  // before the store it writes to.
  secrets::ServiceOptions service_options;
  service_options.authorizer = &authorizer;
  std::optional<secrets::Service> service_holder;
  secrets::Service& service =
      service_holder.emplace(store.get(), &envelope, &service_clock, service_options);

  // The audit trail (fail-closed; see api/pipeline.h).
  std::unique_ptr<audit::Trail> trail;
  if (cfg.audit) {
    audit::TrailOptions trail_options;
    trail_options.dir = cfg.AuditDir();
    trail_options.segment_max_bytes = cfg.audit_segment_max_bytes;
    trail_options.digest_interval = std::chrono::seconds(cfg.audit_digest_interval_seconds);
    trail_options.retention_days = cfg.audit_retention_days;
    trail_options.export_dir = cfg.audit_export_dir;
    trail_options.jsonl_sink_path = cfg.audit_jsonl_sink;
    auto opened = audit::Trail::Open(trail_options, keyring->get());
    if (!opened.ok()) {
      spdlog::critical("audit trail: {}", opened.status().ToString());
      return 1;
    }
    trail = std::move(opened).value();
  } else {
    spdlog::warn("the audit trail is OFF (audit: false): requests are not recorded");
  }

  // Metrics: request counters from the pipeline, secret gauges from the service at scrape time.
  metrics::ServerMetricsOptions metrics_options;
  metrics_options.version = COFFER_VERSION;
  metrics::ServerMetrics server_metrics(metrics_options);
  server_metrics.SetSecretsSource([&service]() -> Result<std::vector<metrics::SecretGaugeInfo>> {
    COFFER_ASSIGN_OR_RETURN(std::vector<secrets::SecretGaugeRow> rows, service.SecretGauges());
    std::vector<metrics::SecretGaugeInfo> out;
    out.reserve(rows.size());
    for (secrets::SecretGaugeRow& row : rows) {
      out.push_back(metrics::SecretGaugeInfo{std::move(row.name), std::move(row.region),
                                             row.created_ms, row.last_rotated_ms,
                                             row.scheduled_for_deletion});
    }
    return out;
  });

  api::PipelineOptions pipeline_options;
  pipeline_options.account_id = cfg.account_id;
  pipeline_options.allowed_regions = cfg.allowed_regions;
  api::PipelineParts parts;
  parts.authorizer = &authorizer;
  parts.trail = trail.get();
  parts.metrics = &server_metrics;
  parts.iam = &iam_api;
  api::Pipeline pipeline(pipeline_options, &service, &verifier, clock, parts);

  storage::SecretStore* store_ptr = store.get();
  const bool serve_metrics = cfg.metrics;
  metrics::ServerMetrics* metrics_ptr = &server_metrics;
  http::Handler handler = [&pipeline, store_ptr, serve_metrics,
                           metrics_ptr](const http::Request& req) -> http::Response {
    if (req.method == "GET" || req.method == "HEAD") {
      std::string path = PathOnly(req.target);
      if (path == "/healthz") return TextResponse(200, "ok");
      if (path == "/metrics" && serve_metrics) {
        http::Response r;
        r.status = 200;
        r.headers.emplace_back("Content-Type", std::string(metrics::kContentType));
        r.body = metrics_ptr->Render();
        return r;
      }
      if (path == "/readyz") {
        auto count = store_ptr->CountSecrets();
        if (count.ok()) return TextResponse(200, "ready");
        spdlog::warn("readyz: store not ready: {}", count.status().ToString());
        return TextResponse(503, "not ready");
      }
    }
    return pipeline.Handle(req);
  };

  http::ServerOptions http_options = cfg.ToHttpOptions();
  // Reads run on the I/O thread that parsed them (no hand-off to the worker pool and back);
  // writes, which wait for a durable group commit, stay on the worker pool.
  http_options.run_inline = [](const http::Request& req) { return RunsInline(req); };
  auto server = http::StartServer(http_options, handler);
  if (!server.ok()) {
    spdlog::critical("http: {}", server.status().ToString());
    return 1;
  }
  const std::uint16_t port = (*server)->port();
  if (!cfg.port_file.empty()) {
    if (Status s = WritePortFile(cfg.port_file, port); !s.ok()) {
      spdlog::critical("{}", s.ToString());
      (*server)->Shutdown();
      return 1;
    }
  }
  auto host_port = http::ParseHostPort(cfg.listen);
  host_port->port = port;  // validated by the config loader
  const std::string scheme = cfg.tls_cert.empty() ? "http" : "https";
  const std::string endpoint = scheme + "://" + host_port->ToString();
  spdlog::info("coffer server listening on {} (data dir {})", endpoint, cfg.data_dir);

  if (cfg.dev) {
    std::printf(
        "coffer dev server\n"
        "  endpoint:              %s\n"
        "  AWS_ACCESS_KEY_ID=%s\n"
        "  AWS_SECRET_ACCESS_KEY=%s\n"
        "  AWS_DEFAULT_REGION=%s\n",
        endpoint.c_str(), root->access_key_id.c_str(), root->secret_access_key.c_str(),
        cfg.region.c_str());
    std::fflush(stdout);
  } else if (root->created && !env_root.has_value()) {
    std::printf(
        "coffer created the root access key. Store it now: it will not be shown again.\n"
        "  AWS_ACCESS_KEY_ID=%s\n"
        "  AWS_SECRET_ACCESS_KEY=%s\n",
        root->access_key_id.c_str(), root->secret_access_key.c_str());
    std::fflush(stdout);
  }
  // Drop our copy of the secret now that it has been shown.
  std::fill(root->secret_access_key.begin(), root->secret_access_key.end(), '\0');

  Periodic purge(std::chrono::seconds(cfg.purge_interval_seconds), [&service] {
    auto purged = service.PurgeExpired();
    if (!purged.ok()) {
      spdlog::warn("purge: {}", purged.status().ToString());
    } else if (*purged > 0) {
      spdlog::info("purged {} secret(s) past their recovery window", *purged);
    }
  });
  std::optional<Periodic> reload;
  if (keyring_from_file) {
    crypto::Keyring* keyring_ptr = keyring->get();
    reload.emplace(std::chrono::seconds(cfg.keyring_reload_seconds), [keyring_ptr] {
      std::uint32_t before = keyring_ptr->ActiveVersion();
      Status s = keyring_ptr->Reload();
      if (!s.ok()) {
        spdlog::warn("master key reload: {}", s.ToString());
      } else if (keyring_ptr->ActiveVersion() != before) {
        spdlog::info("master key version {} is now active", keyring_ptr->ActiveVersion());
      }
    });
  }

  // Wait for SIGTERM/SIGINT (blocked in every thread, so only this sigwait sees them). SIGHUP
  // reopens the audit JSON-lines sink, for logrotate.
  int sig = 0;
  while (true) {
    if (::sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    if (trail) {
      if (Status s = trail->ReopenSink(); !s.ok()) {
        spdlog::error("audit sink: {}", s.ToString());
      } else if (!cfg.audit_jsonl_sink.empty()) {
        spdlog::info("SIGHUP: reopened the audit sink {}", cfg.audit_jsonl_sink);
      }
    }
  }
  spdlog::info("received {}, draining in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown();
  purge.Stop();
  if (reload) reload->Stop();
  server->reset();
  // The service's background writes (LastAccessedDate) must land before the store closes.
  service.Shutdown();
  if (trail) {
    if (Status s = trail->Close(); !s.ok()) spdlog::error("audit trail: {}", s.ToString());
  }
  service_holder.reset();
  store.reset();  // finishes queued writes and closes the database
  spdlog::info("coffer server stopped");
  return 0;
}

}  // namespace

int RunServer(const config::RawValues& flags) {
  DisableCoreDumps();

  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // main thread's sigwait() is the only place they are delivered.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // A file that hits RLIMIT_FSIZE must fail its write (the audit trail then fails closed), not
  // kill the server.
  ::signal(SIGXFSZ, SIG_IGN);

  auto cfg = config::LoadServerConfig(flags, config::ProcessEnvironment());
  if (!cfg.ok()) {
    std::fprintf(stderr, "coffer server: %s\n", cfg.status().message().c_str());
    return 2;
  }
  SetUpLogging(cfg->log_level);
  spdlog::debug("configuration:\n{}", cfg->ToString());
  return Serve(*cfg, signals);
}

}  // namespace coffer::cmd
