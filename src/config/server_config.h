#pragma once

// Configuration of `coffer server` (and the data-dir parts that `coffer keys` shares).
//
// Sources, highest precedence first:
//   1. command-line flags        (--listen 127.0.0.1:7430)
//   2. environment variables     (COFFER_LISTEN=127.0.0.1:7430)
//   3. the YAML config file      (listen: 127.0.0.1:7430), named by --config or COFFER_CONFIG
//   4. the defaults below.
// Every option is declared once, in the table in server_config.cc (Options()); flags, env vars,
// file keys, the dump and docs/design/configuration.md all follow that table. The loading
// machinery is shared with the operator's configuration (option_table.h).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/option_table.h"
#include "core/status.h"
#include "http/server.h"

namespace coffer::config {

struct ServerConfig {
  // Default: 127.0.0.1:7430. HOST:PORT; "[::1]:7430" for IPv6; port 0 picks a free port.
  std::string listen = "127.0.0.1:7430";
  // Default: none. Required unless `dev`; with `dev` a fresh /tmp/coffer-dev-XXXXXX is used.
  std::string data_dir;
  // Default: none (plain HTTP). PEM certificate chain; needs tls_key.
  std::string tls_cert;
  // Default: none. PEM private key; needs tls_cert.
  std::string tls_key;
  // Default: false. Development mode: throwaway data dir and root key printed on stdout.
  bool dev = false;
  // Default: us-east-1. The default region (printed by --dev, used for the root key's setup).
  std::string region = "us-east-1";
  // Default: 000000000000. The 12-digit account id in every ARN.
  std::string account_id = "000000000000";
  // Default: empty = any well-formed region may be used by a signed request.
  std::vector<std::string> allowed_regions;
  // Default: <data_dir>/master.key (see MasterKeyFile()). Created 0600 when missing.
  std::string master_key_file;
  // Default: none. Environment only (COFFER_MASTER_KEY); secret. When set, it is used instead of
  // the key file.
  std::string master_key;
  // Default: none. Environment only (COFFER_ROOT_ACCESS_KEY_ID); with root_secret_access_key it
  // becomes the root access key.
  std::string root_access_key_id;
  // Default: none. Environment only (COFFER_ROOT_SECRET_ACCESS_KEY); secret.
  std::string root_secret_access_key;
  // Default: none. When set, the bound port number is written there after listening.
  std::string port_file;
  // Default: info. One of trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // Default: 1048576 (1 MiB). Larger request bodies get 413.
  std::uint64_t max_body_bytes = 1024 * 1024;
  // Default: 16384 (16 KiB). Larger request headers get 431.
  std::uint64_t max_header_bytes = 16 * 1024;
  // Default: 30. Seconds to read one request (and to write its response).
  int read_timeout_seconds = 30;
  // Default: 60. Seconds an idle keep-alive connection stays open.
  int idle_timeout_seconds = 60;
  // Default: 30. Seconds in-flight requests get to finish on SIGTERM.
  int drain_timeout_seconds = 30;
  // Default: 2. Threads running network I/O.
  int io_threads = 2;
  // Default: 64. Threads running requests (they may wait on durable commits).
  int worker_threads = 64;
  // Default: 10000. Connections beyond this are closed on accept.
  std::uint64_t max_connections = 10000;
  // Default: 60. Seconds between purges of secrets whose recovery window has passed.
  int purge_interval_seconds = 60;
  // Default: 2. Seconds between re-reads of the master key file (to pick up a rotation).
  int keyring_reload_seconds = 2;
  // Default: true. Append one hash-chained record per API request to the audit trail, and fail a
  // request whose record cannot be written. Off only for benchmarks and throwaway servers.
  bool audit = true;
  // Default: <data_dir>/audit (see AuditDir()). Directory of the audit segments and digests.
  std::string audit_dir;
  // Default: 67108864 (64 MiB). An audit segment file is closed and a new one begun past this.
  std::uint64_t audit_segment_max_bytes = 64ull * 1024 * 1024;
  // Default: 60. Seconds between signed digests that seal the records written since the last.
  int audit_digest_interval_seconds = 60;
  // Default: 0 (keep forever). Segments whose newest record is older are removed (after export).
  int audit_retention_days = 0;
  // Default: none. Closed segments (and digests) are copied here before retention removes them.
  std::string audit_export_dir;
  // Default: none. A file each record is also appended to as one CloudTrail event JSON line, for a
  // log shipper to tail.
  std::string audit_jsonl_sink;
  // Default: true. Serve Prometheus metrics at GET /metrics on the listen address.
  bool metrics = true;
  // Default: none. The YAML file the other values were read from (--config / COFFER_CONFIG).
  std::string config_file;

  // master_key_file, or <data_dir>/master.key when unset.
  std::string MasterKeyFile() const;
  // audit_dir, or <data_dir>/audit when unset.
  std::string AuditDir() const;
  // The HTTP server's options from the listen address, TLS files and limits.
  http::ServerOptions ToHttpOptions() const;
  // One "key = value" line per option, in table order; secrets print as "***".
  std::string ToString() const;
};

// The option table, in documentation order.
const std::vector<OptionInfo>& Options();

// Builds the configuration from the sources in precedence order and validates it.
// `flags` is keyed by option key (see ServerFlags); `env` by variable name. Empty environment
// values count as unset. The config file is flags["config"], else env["COFFER_CONFIG"].
// When `require_data_dir` is set, a missing data dir is an error unless `dev` is on.
Result<ServerConfig> LoadServerConfig(const RawValues& flags,
                                      const std::map<std::string, std::string>& env,
                                      bool require_data_dir = true);

// Errors name the option: bad listen address, TLS cert without key, region format, ...
Status Validate(const ServerConfig& config, bool require_data_dir = true);

// The option table as a Markdown table (docs/design/configuration.md embeds it verbatim).
std::string OptionsMarkdownTable();

}  // namespace coffer::config
