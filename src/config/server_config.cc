#include "config/server_config.h"

#include <algorithm>

#include "core/strings.h"
#include "http/address.h"

namespace coffer::config {
namespace {

using Table = OptionTable<ServerConfig>;

// THE option table. Keep docs/design/configuration.md in step (a test compares them).
const Table& TheTable() {
  static const Table table({
      Def("config", "--config", "COFFER_CONFIG", &ServerConfig::config_file, "none",
          "YAML config file (keys: the file keys in docs/design/configuration.md)", false,
          /*file_allowed=*/false),
      Def("listen", "--listen", "COFFER_LISTEN", &ServerConfig::listen, "127.0.0.1:7430",
          "HOST:PORT to listen on ([::1]:PORT for IPv6; port 0 picks a free port)"),
      Def("data_dir", "--data-dir", "COFFER_DATA_DIR", &ServerConfig::data_dir,
          "none (required; --dev: a fresh /tmp/coffer-dev-XXXXXX)",
          "directory for the database and the master key file (created 0700)"),
      Def("dev", "--dev", "COFFER_DEV", &ServerConfig::dev, "false",
          "development mode: throwaway data dir, root key printed on stdout"),
      Def("tls_cert", "--tls-cert", "COFFER_TLS_CERT", &ServerConfig::tls_cert, "none (plain HTTP)",
          "PEM certificate chain for HTTPS (needs --tls-key)"),
      Def("tls_key", "--tls-key", "COFFER_TLS_KEY", &ServerConfig::tls_key, "none",
          "PEM private key for HTTPS (needs --tls-cert)"),
      Def("region", "--region", "COFFER_REGION", &ServerConfig::region, "us-east-1",
          "default region"),
      Def("account_id", "--account-id", "COFFER_ACCOUNT_ID", &ServerConfig::account_id,
          "000000000000", "12-digit account id used in ARNs"),
      Def("allowed_regions", "--allowed-regions", "COFFER_ALLOWED_REGIONS",
          &ServerConfig::allowed_regions, "empty (any region)",
          "regions requests may be signed for (comma list; a YAML list in the file)"),
      Def("master_key_file", "--master-key-file", "COFFER_MASTER_KEY_FILE",
          &ServerConfig::master_key_file, "<data_dir>/master.key",
          "master key file (JSON keyring, mode 0600; created when missing)"),
      Def("master_key", "", "COFFER_MASTER_KEY", &ServerConfig::master_key, "none",
          "master key material (JSON keyring or one base64 key); replaces the key file",
          /*secret=*/true, /*file_allowed=*/false),
      Def("root_access_key_id", "", "COFFER_ROOT_ACCESS_KEY_ID", &ServerConfig::root_access_key_id,
          "none (generated)", "root access key id to use (with COFFER_ROOT_SECRET_ACCESS_KEY)",
          false, false),
      Def("root_secret_access_key", "", "COFFER_ROOT_SECRET_ACCESS_KEY",
          &ServerConfig::root_secret_access_key, "none (generated)",
          "root secret access key to use (with COFFER_ROOT_ACCESS_KEY_ID)", true, false),
      Def("port_file", "--port-file", "COFFER_PORT_FILE", &ServerConfig::port_file, "none",
          "file the bound port number is written to after listening"),
      Def("log_level", "--log-level", "COFFER_LOG_LEVEL", &ServerConfig::log_level, "info",
          "trace, debug, info, warn, error, critical or off"),
      Def("max_body_bytes", "--max-body-bytes", "COFFER_MAX_BODY_BYTES",
          &ServerConfig::max_body_bytes, "1048576", "largest request body (else 413)"),
      Def("max_header_bytes", "--max-header-bytes", "COFFER_MAX_HEADER_BYTES",
          &ServerConfig::max_header_bytes, "16384", "largest request header block (else 431)"),
      Def("read_timeout_seconds", "--read-timeout-seconds", "COFFER_READ_TIMEOUT_SECONDS",
          &ServerConfig::read_timeout_seconds, "30",
          "time to read one request or write one response"),
      Def("idle_timeout_seconds", "--idle-timeout-seconds", "COFFER_IDLE_TIMEOUT_SECONDS",
          &ServerConfig::idle_timeout_seconds, "60", "idle keep-alive connection lifetime"),
      Def("drain_timeout_seconds", "--drain-timeout-seconds", "COFFER_DRAIN_TIMEOUT_SECONDS",
          &ServerConfig::drain_timeout_seconds, "30",
          "time in-flight requests get to finish on SIGTERM/SIGINT"),
      Def("io_threads", "--io-threads", "COFFER_IO_THREADS", &ServerConfig::io_threads, "2",
          "network I/O threads"),
      Def("worker_threads", "--worker-threads", "COFFER_WORKER_THREADS",
          &ServerConfig::worker_threads, "64", "request handler threads"),
      Def("max_connections", "--max-connections", "COFFER_MAX_CONNECTIONS",
          &ServerConfig::max_connections, "10000", "open connections beyond this are refused"),
      Def("purge_interval_seconds", "--purge-interval-seconds", "COFFER_PURGE_INTERVAL_SECONDS",
          &ServerConfig::purge_interval_seconds, "60",
          "how often secrets past their recovery window are purged"),
      Def("keyring_reload_seconds", "--keyring-reload-seconds", "COFFER_KEYRING_RELOAD_SECONDS",
          &ServerConfig::keyring_reload_seconds, "2",
          "how often the master key file is re-read (to pick up `coffer keys rotate`)"),
      Def("audit", "--audit", "COFFER_AUDIT", &ServerConfig::audit, "true",
          "audit every API request (fail-closed); turn off only for benchmarks"),
      Def("audit_dir", "--audit-dir", "COFFER_AUDIT_DIR", &ServerConfig::audit_dir,
          "<data_dir>/audit", "directory of the hash-chained audit segments and signed digests"),
      Def("audit_segment_max_bytes", "--audit-segment-max-bytes", "COFFER_AUDIT_SEGMENT_MAX_BYTES",
          &ServerConfig::audit_segment_max_bytes, "67108864",
          "size at which an audit segment is closed and a new one begun"),
      Def("audit_digest_interval_seconds", "--audit-digest-interval-seconds",
          "COFFER_AUDIT_DIGEST_INTERVAL_SECONDS", &ServerConfig::audit_digest_interval_seconds,
          "60", "seconds between signed digests sealing the newest audit records"),
      Def("audit_retention_days", "--audit-retention-days", "COFFER_AUDIT_RETENTION_DAYS",
          &ServerConfig::audit_retention_days, "0 (keep forever)",
          "audit segments older than this are removed (exported first)"),
      Def("audit_export_dir", "--audit-export-dir", "COFFER_AUDIT_EXPORT_DIR",
          &ServerConfig::audit_export_dir, "none",
          "closed audit segments and digests are copied here before removal"),
      Def("audit_jsonl_sink", "--audit-jsonl-sink", "COFFER_AUDIT_JSONL_SINK",
          &ServerConfig::audit_jsonl_sink, "none",
          "file that also gets each audit record as a CloudTrail event JSON line"),
      Def("metrics", "--metrics", "COFFER_METRICS", &ServerConfig::metrics, "true",
          "serve Prometheus metrics at GET /metrics"),
  });
  return table;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string ServerConfig::MasterKeyFile() const {
  if (!master_key_file.empty()) return master_key_file;
  if (data_dir.empty()) return "";
  return data_dir + "/master.key";
}

std::string ServerConfig::AuditDir() const {
  if (!audit_dir.empty()) return audit_dir;
  if (data_dir.empty()) return "";
  return data_dir + "/audit";
}

http::ServerOptions ServerConfig::ToHttpOptions() const {
  http::ServerOptions o;
  o.listen = listen;
  o.tls_cert_file = tls_cert;
  o.tls_key_file = tls_key;
  o.max_body_bytes = static_cast<std::size_t>(max_body_bytes);
  o.max_header_bytes = static_cast<std::size_t>(max_header_bytes);
  o.read_timeout = std::chrono::seconds(read_timeout_seconds);
  o.idle_timeout = std::chrono::seconds(idle_timeout_seconds);
  o.drain_timeout = std::chrono::seconds(drain_timeout_seconds);
  o.io_threads = io_threads;
  o.worker_threads = worker_threads;
  o.max_connections = static_cast<std::size_t>(max_connections);
  return o;
}

std::string ServerConfig::ToString() const { return TheTable().ToString(*this); }

const std::vector<OptionInfo>& Options() { return TheTable().Infos(); }

Status Validate(const ServerConfig& c, bool require_data_dir) {
  auto invalid = [](std::string m) { return Status::InvalidArgument(std::move(m)); };
  auto listen = http::ParseHostPort(c.listen);
  if (!listen.ok()) return listen.status().WithContext("listen");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return invalid(c.tls_cert.empty() ? "tls_key is set without tls_cert (--tls-cert)"
                                      : "tls_cert is set without tls_key (--tls-key)");
  }
  if (require_data_dir && !c.dev && c.data_dir.empty()) {
    return invalid(
        "a data directory is required: pass --data-dir DIR (or set COFFER_DATA_DIR or data_dir "
        "in the config file), or use --dev for a throwaway development server");
  }
  if (!IsValidRegion(c.region)) {
    return invalid("region \"" + c.region + "\" is not a region name like us-east-1");
  }
  for (const std::string& r : c.allowed_regions) {
    if (!IsValidRegion(r)) {
      return invalid("allowed_regions: \"" + r + "\" is not a region name like us-east-1");
    }
  }
  if (!c.allowed_regions.empty() && std::find(c.allowed_regions.begin(), c.allowed_regions.end(),
                                              c.region) == c.allowed_regions.end()) {
    return invalid("region \"" + c.region + "\" is not in allowed_regions");
  }
  if (c.account_id.size() != 12 || !AllDigits(c.account_id)) {
    return invalid("account_id \"" + c.account_id + "\" must be exactly 12 digits");
  }
  if (c.root_access_key_id.empty() != c.root_secret_access_key.empty()) {
    return invalid(
        "COFFER_ROOT_ACCESS_KEY_ID and COFFER_ROOT_SECRET_ACCESS_KEY must be set together");
  }
  if (!c.root_access_key_id.empty()) {
    // The same rules as api::EnsureRootCredentials, checked before anything is opened.
    bool ok = c.root_access_key_id.size() >= 16 && c.root_access_key_id.size() <= 128 &&
              std::all_of(c.root_access_key_id.begin(), c.root_access_key_id.end(), [](char ch) {
                return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
              });
    if (!ok)
      return invalid("COFFER_ROOT_ACCESS_KEY_ID must be 16 to 128 characters of A-Z and 0-9");
    if (c.root_secret_access_key.size() < 8 || c.root_secret_access_key.size() > 128) {
      return invalid("COFFER_ROOT_SECRET_ACCESS_KEY must be 8 to 128 characters long");
    }
  }
  COFFER_RETURN_IF_ERROR(CheckLogLevel("log_level", c.log_level));
  constexpr std::uint64_t kDay = 24 * 3600;
  COFFER_RETURN_IF_ERROR(CheckRange("max_body_bytes", c.max_body_bytes, 1024, 1ull << 30));
  COFFER_RETURN_IF_ERROR(CheckRange("max_header_bytes", c.max_header_bytes, 1024, 1u << 20));
  COFFER_RETURN_IF_ERROR(CheckRange("read_timeout_seconds", c.read_timeout_seconds, 1, kDay));
  COFFER_RETURN_IF_ERROR(CheckRange("idle_timeout_seconds", c.idle_timeout_seconds, 1, kDay));
  COFFER_RETURN_IF_ERROR(CheckRange("drain_timeout_seconds", c.drain_timeout_seconds, 0, kDay));
  COFFER_RETURN_IF_ERROR(CheckRange("io_threads", c.io_threads, 1, 256));
  COFFER_RETURN_IF_ERROR(CheckRange("worker_threads", c.worker_threads, 1, 4096));
  COFFER_RETURN_IF_ERROR(CheckRange("max_connections", c.max_connections, 1, 1000000));
  COFFER_RETURN_IF_ERROR(CheckRange("purge_interval_seconds", c.purge_interval_seconds, 1, kDay));
  COFFER_RETURN_IF_ERROR(CheckRange("keyring_reload_seconds", c.keyring_reload_seconds, 1, kDay));
  COFFER_RETURN_IF_ERROR(
      CheckRange("audit_segment_max_bytes", c.audit_segment_max_bytes, 4096, 1ull << 40));
  COFFER_RETURN_IF_ERROR(
      CheckRange("audit_digest_interval_seconds", c.audit_digest_interval_seconds, 1, kDay));
  COFFER_RETURN_IF_ERROR(CheckRange("audit_retention_days", c.audit_retention_days, 0, 36500));
  return Status::Ok();
}

Result<ServerConfig> LoadServerConfig(const RawValues& flags,
                                      const std::map<std::string, std::string>& env,
                                      bool require_data_dir) {
  ServerConfig config;

  COFFER_RETURN_IF_ERROR(TheTable().Load(config, flags, env));
  COFFER_RETURN_IF_ERROR(Validate(config, require_data_dir));
  return config;
}

std::string OptionsMarkdownTable() { return TheTable().MarkdownTable(); }

}  // namespace coffer::config
