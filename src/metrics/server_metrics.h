#pragma once

// The metrics `coffer server` exposes at GET /metrics, as one object the server calls into.
//
//   ServerMetrics metrics({.version = "0.1.0"});
//   metrics.SetSecretsSource([&] { return ...list of SecretGaugeInfo...; });
//   // per request (a cached lookup, then a few relaxed atomic adds):
//   metrics.RecordRequest("secretsmanager", "GetSecretValue", Outcome::kSuccess, "", 0.0004);
//   // GET /metrics:
//   body = metrics.Render();  content type: metrics::kContentType
//
// Series:
//   coffer_requests_total{service,action,outcome}  outcome: success, client_error, server_error
//   coffer_request_errors_total{service,action,code}  code: the AWS error code
//   coffer_request_duration_seconds{service,action}  histogram, DefaultLatencyBuckets()
//   coffer_authentication_failures_total{reason}  reason: the AWS error type
//   coffer_authorization_denials_total{service,action}
//   coffer_audit_write_failures_total
//   coffer_secrets{state}  state: active or scheduled_for_deletion
//   aws_secretsmanager_secret_last_rotation_timestamp{secret_name,region}
//       seconds since the epoch: the last rotation, else the creation; none for secrets
//       scheduled for deletion
//   coffer_metrics_source_errors_total  scrapes for which the secrets source failed
//   coffer_build_info{version} 1
//
// Label values stay bounded whatever the caller passes: an empty or malformed service or action is
// "unknown", and past kMaxActions distinct (service, action) pairs every new pair is counted as
// ("unknown", "unknown"); error codes and authentication-failure reasons likewise fall back to
// "other". Metrics carry secret NAMES (identifiers), never secret values.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "metrics/registry.h"

namespace coffer::metrics {

enum class Outcome { kSuccess, kClientError, kServerError };

// success below 400, client_error for 4xx, server_error otherwise.
Outcome OutcomeFromHttpStatus(int http_status);
std::string_view OutcomeName(Outcome outcome);

// One secret, as the gauges need it.
struct SecretGaugeInfo {
  std::string name;
  std::string region;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> last_rotated_ms;
  bool scheduled_for_deletion = false;
};

using SecretsSource = std::function<Result<std::vector<SecretGaugeInfo>>()>;

struct ServerMetricsOptions {
  std::string version = "unknown";
  // How long one answer of the secrets source serves scrapes (0: ask on every scrape).
  std::chrono::milliseconds secrets_cache_ttl{5000};
  // Reads time for the cache; nullptr means SystemClock.
  const Clock* clock = nullptr;
};

// The handles of one (service, action); stable for the ServerMetrics' lifetime, so a caller may
// keep the reference. All methods are lock-free except the first use of a new error code.
class ActionMetrics {
 public:
  ActionMetrics(const ActionMetrics&) = delete;
  ActionMetrics& operator=(const ActionMetrics&) = delete;

  // `code` (the AWS error code) is ignored on success; empty on failure counts as "unknown".
  void Record(Outcome outcome, std::string_view code, double seconds);
  void CountDenial() { denials_->Inc(); }

 private:
  friend class ServerMetrics;
  ActionMetrics() = default;

  std::string service_;
  std::string action_;
  Counter* outcomes_[3] = {};
  Histogram* duration_ = nullptr;
  Counter* denials_ = nullptr;
  Family<Counter>* errors_family_ = nullptr;
  std::mutex codes_mu_;
  std::map<std::string, Counter*, std::less<>> codes_;  // guarded by codes_mu_
};

class ServerMetrics {
 public:
  static constexpr std::size_t kMaxActions = 512;
  static constexpr std::size_t kMaxErrorCodesPerAction = 64;
  static constexpr std::size_t kMaxAuthFailureReasons = 32;

  explicit ServerMetrics(ServerMetricsOptions options = {});
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // The handles of (service, action), created on first use. `action` is a validated operation
  // name or "" (unknown). Takes a shared lock; the caller may cache the reference.
  ActionMetrics& ForAction(std::string_view service, std::string_view action);

  // One finished request: ForAction(service, action).Record(outcome, code, seconds).
  void RecordRequest(std::string_view service, std::string_view action, Outcome outcome,
                     std::string_view code, double seconds);
  // An unauthenticated request; `type` is the AWS error type (e.g. "InvalidSignatureException").
  void CountAuthFailure(std::string_view type);
  // A request denied by policy.
  void CountDenial(std::string_view service, std::string_view action);
  // An audit record that could not be written.
  void CountAuditFailure() { audit_failures_->Inc(); }

  // Supplies coffer_secrets and aws_secretsmanager_secret_last_rotation_timestamp. May be called
  // before or after serving starts; the source is called from scrapes (at most once per
  // secrets_cache_ttl, one caller at a time) and must be thread-safe.
  void SetSecretsSource(SecretsSource source);

  // The exposition text; thread-safe. The Content-Type is kContentType.
  std::string Render() const { return registry_.Render(); }
  // For components that add metrics of their own.
  Registry& registry() { return registry_; }

 private:
  void CollectSecrets(Writer& writer);

  ServerMetricsOptions options_;
  const Clock* clock_;
  Registry registry_;

  Family<Counter>& requests_;
  Family<Counter>& errors_;
  Family<Histogram>& durations_;
  Family<Counter>& auth_failures_;
  Family<Counter>& denials_;
  Counter* audit_failures_;
  Counter* source_errors_;

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::shared_mutex actions_mu_;
  // key: service + '\0' + action, after bounding
  std::unordered_map<std::string, std::unique_ptr<ActionMetrics>, StringHash, std::equal_to<>>
      actions_;                        // guarded by actions_mu_
  ActionMetrics* overflow_ = nullptr;  // ("unknown", "unknown"), guarded by actions_mu_

  std::mutex source_mu_;  // held while the source runs: concurrent scrapes share one call
  SecretsSource source_;  // guarded by source_mu_
  std::optional<Result<std::vector<SecretGaugeInfo>>> cached_;  // guarded by source_mu_
  std::int64_t cached_at_ms_ = 0;                               // guarded by source_mu_
};

}  // namespace coffer::metrics
