#include "kube/leader.h"

#include <spdlog/spdlog.h>

namespace coffer::kube {
namespace {

bool SleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

}  // namespace

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config,
                             LeaderCallbacks callbacks)
    : client_(client), config_(std::move(config)), callbacks_(std::move(callbacks)),
      ref_(LeasesRef(config_.lease_namespace, config_.lease_name)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void LeaderElector::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

std::string LeaderElector::observed_leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_leader_;
}

Json LeaderElector::Record(const Json& old_spec, bool was_mine) const {
  const std::string now = FormatMicroTime(config_.clock->NowMillis());
  Json spec = {
      {"holderIdentity", config_.identity},
      {"leaseDurationSeconds",
       std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                  config_.lease_duration).count())},
      {"renewTime", now},
  };
  const int transitions = old_spec.value("leaseTransitions", 0);
  if (was_mine && old_spec.contains("acquireTime")) {
    spec["acquireTime"] = old_spec["acquireTime"];
    spec["leaseTransitions"] = transitions;
  } else {
    spec["acquireTime"] = now;
    // A first holder of a fresh Lease is not a transition.
    spec["leaseTransitions"] = old_spec.is_object() && !old_spec.empty() ? transitions + 1 : 0;
  }
  return spec;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now = std::chrono::steady_clock::now();
  Result<Json> lease = client_.Get(ref_);
  if (!lease.ok() && lease.status().code() == StatusCode::kNotFound) {
    Json object = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", Record(Json::object(), false)},
    };
    Result<Json> created = client_.Create(ref_, object);
    if (!created.ok()) return false;  // another candidate created it first
    std::lock_guard<std::mutex> lock(mu_);
    observed_spec_ = (*created)["spec"];
    observed_leader_ = config_.identity;
    observed_at_ = now;
    return true;
  }
  if (!lease.ok()) {
    spdlog::warn("leader election: reading lease {}/{}: {}", config_.lease_namespace,
                 config_.lease_name, lease.status().ToString());
    return false;
  }
  Json spec = lease->contains("spec") ? (*lease)["spec"] : Json::object();
  const std::string holder = spec.value("holderIdentity", "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spec != observed_spec_) {
      observed_spec_ = spec;
      observed_at_ = now;
    }
    observed_leader_ = holder;
    const auto duration = std::chrono::seconds(spec.value("leaseDurationSeconds", 0));
    if (!holder.empty() && holder != config_.identity && observed_at_ + duration > now) {
      return false;  // held, and renewed recently enough
    }
  }
  Json updated = *lease;
  updated["spec"] = Record(spec, holder == config_.identity);
  Result<Json> put = client_.Update(ref_, updated);  // carries metadata.resourceVersion
  if (!put.ok()) {
    if (!IsConflict(put.status())) {
      spdlog::warn("leader election: updating lease {}/{}: {}", config_.lease_namespace,
                   config_.lease_name, put.status().ToString());
    }
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  observed_spec_ = (*put)["spec"];
  observed_leader_ = config_.identity;
  observed_at_ = now;
  return true;
}

void LeaderElector::Release() {
  Result<Json> lease = client_.Get(ref_);
  if (!lease.ok() || (*lease)["spec"].value("holderIdentity", "") != config_.identity) return;
  Json updated = *lease;
  updated["spec"]["holderIdentity"] = "";
  updated["spec"]["leaseDurationSeconds"] = 1;
  updated["spec"]["renewTime"] = FormatMicroTime(config_.clock->NowMillis());
  Result<Json> put = client_.Update(ref_, updated);
  if (!put.ok()) {
    spdlog::warn("leader election: releasing lease: {}", put.status().ToString());
  }
}

void LeaderElector::Run(std::stop_token stop) {
  std::string last_reported_leader;
  auto report_leader = [&] {
    const std::string now_leader = observed_leader();
    if (now_leader != last_reported_leader && !now_leader.empty()) {
      last_reported_leader = now_leader;
      if (callbacks_.on_new_leader) callbacks_.on_new_leader(now_leader);
    }
  };
  while (!stop.stop_requested()) {
    // Campaign.
    while (!TryAcquireOrRenew()) {
      report_leader();
      if (!SleepFor(config_.retry_period, stop)) return;
    }
    report_leader();
    {
      std::lock_guard<std::mutex> lock(mu_);
      leader_ = true;
    }
    spdlog::info("leader election: {} leads {}/{}", config_.identity, config_.lease_namespace,
                 config_.lease_name);
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();

    // Renew until stopped or the renew deadline passes without a successful renewal.
    auto last_renew = std::chrono::steady_clock::now();
    while (SleepFor(config_.retry_period, stop)) {
      if (TryAcquireOrRenew()) {
        last_renew = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_renew > config_.renew_deadline) {
        break;
      }
    }
    const bool stopping = stop.stop_requested();
    if (stopping && config_.release_on_stop) Release();
    {
      std::lock_guard<std::mutex> lock(mu_);
      leader_ = false;
    }
    spdlog::info("leader election: {} stopped leading", config_.identity);
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
    if (stopping) return;
  }
}

}  // namespace coffer::kube
