#pragma once

// What the reloader needs to know of a Deployment, StatefulSet or DaemonSet: its annotations and
// which Secrets and ConfigMaps its pod template uses, container by container.
//
// "Uses" is any of (containers and initContainers alike): env[].valueFrom.secretKeyRef /
// configMapKeyRef, envFrom[].secretRef / configMapRef, and a volumeMount of a `secret`,
// `configMap` or `projected` volume (its sources' secret / configMap).

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace coffer::reloader {

enum class SourceKind { kSecret, kConfigMap };

// A Secret or ConfigMap in the workload's namespace.
struct SourceRef {
  SourceKind kind = SourceKind::kSecret;
  std::string name;
  auto operator<=>(const SourceRef&) const = default;
  bool operator==(const SourceRef&) const = default;
};

// "secret/<name>" or "configmap/<name>" (the keys of the record annotation).
std::string SourceKey(const SourceRef& ref);

struct Container {
  std::string name;
  bool init = false;
  std::set<SourceRef> env_refs;                     // env valueFrom and envFrom
  std::set<SourceRef> mounted_refs;                 // through mounted volumes
  std::map<std::string, std::string> stakater_env;  // STAKATER_* variables -> value
};

struct Workload {
  std::string kind;  // Deployment, StatefulSet, DaemonSet
  std::string ns;
  std::string name;
  std::string resource_version;
  std::map<std::string, std::string> annotations;           // metadata.annotations
  std::map<std::string, std::string> template_annotations;  // spec.template.metadata.annotations
  std::vector<Container> containers;                        // regular ones first, then init
};

// kInvalidArgument for another kind or an object without metadata.name.
Result<Workload> ParseWorkload(const nlohmann::json& object);

// Every Secret and ConfigMap the pod template uses.
std::set<SourceRef> ReferencedSources(const Workload& workload);

}  // namespace coffer::reloader
