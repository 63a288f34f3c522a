#include "metrics/server_metrics.h"

#include <utility>

namespace coffer::metrics {
namespace {

constexpr std::string_view kUnknown = "unknown";
constexpr std::string_view kOther = "other";

// The authentication failures the SigV4 layer produces; they are always exported (as 0 until
// they happen) so that rate() and alerts see them from the first scrape.
constexpr std::string_view kAuthFailureReasons[] = {
    "IncompleteSignature",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "UnrecognizedClientException",
};

// Letters, digits and . _ - ; 1 to 64 of them. Anything else is not a name we produced.
bool IsBoundedToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view BoundedOr(std::string_view s, std::string_view fallback) {
  return IsBoundedToken(s) ? s : fallback;
}

}  // namespace

Outcome OutcomeFromHttpStatus(int http_status) {
  if (http_status < 400) return Outcome::kSuccess;
  if (http_status < 500) return Outcome::kClientError;
  return Outcome::kServerError;
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kClientError:
      return "client_error";
    case Outcome::kServerError:
      return "server_error";
  }
  return "server_error";
}

// --- ActionMetrics -------------------------------------------------------------------------------

void ActionMetrics::Record(Outcome outcome, std::string_view code, double seconds) {
  outcomes_[static_cast<int>(outcome)]->Inc();
  duration_->Observe(seconds);
  if (outcome == Outcome::kSuccess) return;
  code = code.empty() ? kUnknown : BoundedOr(code, kOther);
  Counter* counter = nullptr;
  {
    std::lock_guard lock(codes_mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) {
      if (codes_.size() >= ServerMetrics::kMaxErrorCodesPerAction) {
        code = kOther;
        it = codes_.find(code);
      }
      if (it == codes_.end()) {
        Counter& c = errors_family_->WithLabels(service_, action_, code);
        it = codes_.emplace(std::string(code), &c).first;
      }
    }
    counter = it->second;
  }
  counter->Inc();
}

// --- ServerMetrics -------------------------------------------------------------------------------

ServerMetrics::ServerMetrics(ServerMetricsOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      requests_(registry_.AddCounterFamily(
          "coffer_requests_total",
          "Requests handled, by service, action and outcome (success, client_error, "
          "server_error).",
          {"service", "action", "outcome"})),
      errors_(registry_.AddCounterFamily("coffer_request_errors_total",
                                         "Failed requests, by service, action and AWS error code.",
                                         {"service", "action", "code"})),
      durations_(registry_.AddHistogramFamily("coffer_request_duration_seconds",
                                              "Request latency in seconds, by service and action.",
                                              {"service", "action"})),
      auth_failures_(registry_.AddCounterFamily(
          "coffer_authentication_failures_total",
          "Requests rejected before authentication succeeded, by AWS error type.", {"reason"})),
      denials_(registry_.AddCounterFamily("coffer_authorization_denials_total",
                                          "Authenticated requests denied by policy.",
                                          {"service", "action"})),
      audit_failures_(&registry_.AddCounter(
          "coffer_audit_write_failures_total",
          "Audit records that could not be written (each failed its request).")),
      source_errors_(
          &registry_.AddCounter("coffer_metrics_source_errors_total",
                                "Scrapes for which the secret inventory could not be read.")) {
  for (std::string_view reason : kAuthFailureReasons) auth_failures_.WithLabels(reason);
  registry_
      .AddGaugeFamily("coffer_build_info", "The coffer version serving; always 1.", {"version"})
      .WithLabels(options_.version)
      .Set(1);
  registry_.AddCollector([this](Writer& writer) { CollectSecrets(writer); });
}

ActionMetrics& ServerMetrics::ForAction(std::string_view service, std::string_view action) {
  service = BoundedOr(service, kUnknown);
  action = BoundedOr(action, kUnknown);
  thread_local std::string key;
  key.assign(service);
  key += '\0';
  key += action;
  {
    std::shared_lock lock(actions_mu_);
    auto it = actions_.find(key);
    if (it != actions_.end()) return *it->second;
  }
  std::unique_lock lock(actions_mu_);
  auto it = actions_.find(key);
  if (it != actions_.end()) return *it->second;
  const bool at_cap = actions_.size() >= kMaxActions;
  if (at_cap) {
    if (overflow_ != nullptr) return *overflow_;
    service = kUnknown;
    action = kUnknown;
    key.assign(service);
    key += '\0';
    key += action;
    it = actions_.find(key);
    if (it != actions_.end()) return *(overflow_ = it->second.get());
  }
  std::unique_ptr<ActionMetrics> handles(new ActionMetrics());
  handles->service_ = std::string(service);
  handles->action_ = std::string(action);
  for (Outcome o : {Outcome::kSuccess, Outcome::kClientError, Outcome::kServerError}) {
    handles->outcomes_[static_cast<int>(o)] =
        &requests_.WithLabels(service, action, OutcomeName(o));
  }
  handles->duration_ = &durations_.WithLabels(service, action);
  handles->denials_ = &denials_.WithLabels(service, action);
  handles->errors_family_ = &errors_;
  ActionMetrics* raw = handles.get();
  actions_.emplace(key, std::move(handles));
  if (at_cap) overflow_ = raw;
  return *raw;
}

void ServerMetrics::RecordRequest(std::string_view service, std::string_view action,
                                  Outcome outcome, std::string_view code, double seconds) {
  ForAction(service, action).Record(outcome, code, seconds);
}

void ServerMetrics::CountAuthFailure(std::string_view type) {
  std::string_view reason = BoundedOr(type, kOther);
  // Past the cap, a reason without a series yet is counted as "other".
  if (auth_failures_.size() >= kMaxAuthFailureReasons && auth_failures_.Find({reason}) == nullptr) {
    reason = kOther;
  }
  auth_failures_.WithLabels(reason).Inc();
}

void ServerMetrics::CountDenial(std::string_view service, std::string_view action) {
  ForAction(service, action).CountDenial();
}

void ServerMetrics::SetSecretsSource(SecretsSource source) {
  std::lock_guard lock(source_mu_);
  source_ = std::move(source);
  cached_.reset();
}

void ServerMetrics::CollectSecrets(Writer& writer) {
  std::lock_guard lock(source_mu_);
  if (!source_) return;
  const std::int64_t now = clock_->NowMillis();
  const std::int64_t ttl = options_.secrets_cache_ttl.count();
  if (!cached_.has_value() || ttl <= 0 || now - cached_at_ms_ >= ttl || now < cached_at_ms_) {
    cached_.emplace(source_());
    cached_at_ms_ = now;
    if (!cached_->ok()) source_errors_->Inc();
  }
  if (!cached_->ok()) return;

  writer.DeclareGauge("coffer_secrets", "Secrets in the store, by state.", {"state"});
  writer.DeclareGauge("aws_secretsmanager_secret_last_rotation_timestamp",
                      "When the secret was last rotated (its creation if never), in seconds "
                      "since the Unix epoch.",
                      {"secret_name", "region"});
  std::int64_t active = 0;
  std::int64_t scheduled = 0;
  for (const SecretGaugeInfo& s : cached_->value()) {
    if (s.scheduled_for_deletion) {
      ++scheduled;
      continue;
    }
    ++active;
    const std::int64_t ms = s.last_rotated_ms.value_or(s.created_ms);
    writer.Sample("aws_secretsmanager_secret_last_rotation_timestamp", {s.name, s.region},
                  static_cast<double>(ms) / 1000.0);
  }
  writer.Sample("coffer_secrets", {"active"}, static_cast<double>(active));
  writer.Sample("coffer_secrets", {"scheduled_for_deletion"}, static_cast<double>(scheduled));
}

}  // namespace coffer::metrics
