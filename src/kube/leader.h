#pragma once

// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: candidates
// try to take the Lease when its holder has not renewed it for leaseDurationSeconds (measured on
// the local clock from when the candidate last saw the record change, so clock skew between
// replicas does not matter); the leader renews every retry period, and gives up leadership when it
// could not renew within the renew deadline. Updates carry the resourceVersion, so two candidates
// racing for the same Lease cannot both win.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "core/clock.h"
#include "kube/client.h"

namespace coffer::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;                              // unique per replica, e.g. the pod name
  std::chrono::milliseconds lease_duration{15000};   // Default: 15 s, as client-go.
  std::chrono::milliseconds renew_deadline{10000};   // Default: 10 s; must be < lease_duration.
  std::chrono::milliseconds retry_period{2000};      // Default: 2 s.
  bool release_on_stop = true;  // Default: true. Stop() hands the Lease back at once.
  const Clock* clock = SystemClock::Get();           // for the acquireTime/renewTime stamps
};

struct LeaderCallbacks {
  // Run on the elector's thread; they should return promptly (start or signal work elsewhere).
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;  // optional: observed holder
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks);
  ~LeaderElector();  // Stop()s
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops campaigning; a leader releases the Lease (when configured) and gets on_stopped_leading.
  void Stop();

  bool IsLeader() const;
  std::string observed_leader() const;

  // One attempt to acquire or renew; true when this candidate holds the Lease afterwards.
  // Exposed for tests; Start() calls it in a loop.
  bool TryAcquireOrRenew();

 private:
  void Run(std::stop_token stop);
  void Release();
  Json Record(const Json& old_spec, bool was_mine) const;

  Client& client_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;
  const ResourceRef ref_;

  mutable std::mutex mu_;
  bool leader_ = false;
  std::string observed_leader_;
  Json observed_spec_;
  std::string observed_resource_version_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::jthread thread_;
};

}  // namespace coffer::kube
