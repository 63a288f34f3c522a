#pragma once

// Stakater Reloader's annotations and their precedence: which changed Secret or ConfigMap
// concerns which workload.
//
// On the workload (its metadata; when the metadata has none of the reload, auto, typed-auto or
// search annotations, the pod template's annotations are read instead, as Reloader does):
//   reloader.stakater.com/auto: "true"           any Secret or ConfigMap the pod template uses
//   secret.reloader.stakater.com/auto: "true"    any Secret it uses
//   configmap.reloader.stakater.com/auto: "true" any ConfigMap it uses
//   secret.reloader.stakater.com/reload: "a,b"   these Secrets (each entry an anchored regular
//   configmap.reloader.stakater.com/reload       expression), used or not
//   reloader.stakater.com/search: "true"         the used ones annotated match: "true"
//   secrets.exclude.reloader.stakater.com/reload, configmaps.exclude.reloader.stakater.com/reload:
//                                                names (exact) never to reload for
// On the Secret or ConfigMap:
//   reloader.stakater.com/match: "true"          eligible for search
//   reloader.stakater.com/ignore: "true"         never triggers anything
// Precedence: ignore, exclude, named reload, auto (auto wins over search), search + match, and
// with auto_reload_all every used source unless the workload says auto: "false".

#include <map>
#include <set>
#include <string>
#include <vector>

#include "reloader/workload.h"

namespace coffer::reloader {

struct RuleOptions {
  // Default: false. Reloader's --auto-reload-all.
  bool auto_reload_all = false;
  // Defaults: Reloader's annotation keys.
  std::string auto_annotation = "reloader.stakater.com/auto";
  std::string secret_auto_annotation = "secret.reloader.stakater.com/auto";
  std::string configmap_auto_annotation = "configmap.reloader.stakater.com/auto";
  std::string secret_reload_annotation = "secret.reloader.stakater.com/reload";
  std::string configmap_reload_annotation = "configmap.reloader.stakater.com/reload";
  std::string search_annotation = "reloader.stakater.com/search";
  std::string match_annotation = "reloader.stakater.com/match";
  std::string ignore_annotation = "reloader.stakater.com/ignore";
  std::string secret_exclude_annotation = "secrets.exclude.reloader.stakater.com/reload";
  std::string configmap_exclude_annotation = "configmaps.exclude.reloader.stakater.com/reload";
};

// A Secret or ConfigMap as the rules see it (never its data).
struct SourceInfo {
  SourceRef ref;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> labels;
};

// Whether a change of `source` (in the workload's namespace) should roll `workload`.
bool ShouldReload(const Workload& workload, const SourceInfo& source, const RuleOptions& options);

// The sources of the namespace ShouldReload can hold for: the ones the workload uses, and every
// source of a kind whose reload annotation names any (its entries are regular expressions, so no
// list of names can stand in for them). A caller need look up no other source.
struct Candidates {
  std::set<SourceRef> refs;
  bool all_secrets = false;
  bool all_configmaps = false;
};
Candidates CandidateSources(const Workload& workload, const RuleOptions& options);

// The sources of the namespace for which ShouldReload holds, in `sources`' order.
std::vector<SourceRef> WatchedSources(const Workload& workload,
                                      const std::vector<SourceInfo>& sources,
                                      const RuleOptions& options);

}  // namespace coffer::reloader
