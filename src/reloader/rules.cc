#include "reloader/rules.h"

#include <string_view>

#include "core/regexp.h"
#include "core/strings.h"

namespace coffer::reloader {
namespace {

using Annotations = std::map<std::string, std::string>;

std::string_view Get(const Annotations& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? std::string_view() : std::string_view(it->second);
}

// The non-empty items of a comma list.
std::vector<std::string_view> CommaList(std::string_view list) {
  std::vector<std::string_view> out;
  for (std::string_view item : SplitAndTrim(list)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Reloader reads the workload's metadata annotations, or the pod template's when the metadata
// carries none of the keys that select sources.
const Annotations& EffectiveAnnotations(const Workload& w, const RuleOptions& o) {
  for (const std::string* key :
       {&o.auto_annotation, &o.secret_auto_annotation, &o.configmap_auto_annotation,
        &o.secret_reload_annotation, &o.configmap_reload_annotation, &o.search_annotation}) {
    if (w.annotations.count(*key)) return w.annotations;
  }
  return w.template_annotations;
}

// Each entry an anchored regular expression (Reloader: ^entry$); invalid entries match nothing.
bool NamedIn(std::string_view list, const std::string& name) {
  for (std::string_view entry : CommaList(list)) {
    Result<Regexp> re = Regexp::Compile("^(?:" + std::string(entry) + ")$");
    if (re.ok() && re->PartialMatch(name)) return true;
  }
  return false;
}

bool Decide(const Workload& workload, const std::set<SourceRef>& referenced,
            const SourceInfo& source, const RuleOptions& options);

}  // namespace

bool ShouldReload(const Workload& workload, const SourceInfo& source, const RuleOptions& options) {
  return Decide(workload, ReferencedSources(workload), source, options);
}

Candidates CandidateSources(const Workload& workload, const RuleOptions& options) {
  Candidates out;
  out.refs = ReferencedSources(workload);
  const Annotations& a = EffectiveAnnotations(workload, options);
  out.all_secrets = !CommaList(Get(a, options.secret_reload_annotation)).empty();
  out.all_configmaps = !CommaList(Get(a, options.configmap_reload_annotation)).empty();
  return out;
}

std::vector<SourceRef> WatchedSources(const Workload& workload,
                                      const std::vector<SourceInfo>& sources,
                                      const RuleOptions& options) {
  const std::set<SourceRef> referenced = ReferencedSources(workload);
  std::vector<SourceRef> out;
  for (const SourceInfo& s : sources) {
    if (Decide(workload, referenced, s, options)) out.push_back(s.ref);
  }
  return out;
}

namespace {

bool Decide(const Workload& workload, const std::set<SourceRef>& referenced,
            const SourceInfo& source, const RuleOptions& options) {
  if (Get(source.annotations, options.ignore_annotation) == "true") return false;
  const bool secret = source.ref.kind == SourceKind::kSecret;
  const Annotations& a = EffectiveAnnotations(workload, options);
  for (std::string_view excluded : CommaList(Get(
           a, secret ? options.secret_exclude_annotation : options.configmap_exclude_annotation))) {
    if (excluded == source.ref.name) return false;
  }
  if (NamedIn(
          Get(a, secret ? options.secret_reload_annotation : options.configmap_reload_annotation),
          source.ref.name)) {
    return true;
  }
  const bool used = referenced.count(source.ref) > 0;
  if (!used) return false;
  const std::string_view auto_value = Get(a, options.auto_annotation);
  const std::string_view typed_auto =
      Get(a, secret ? options.secret_auto_annotation : options.configmap_auto_annotation);
  if (auto_value == "true" || typed_auto == "true") return true;
  if (Get(a, options.search_annotation) == "true") {
    return Get(source.annotations, options.match_annotation) == "true";
  }
  return options.auto_reload_all && auto_value != "false" && typed_auto != "false";
}

}  // namespace

}  // namespace coffer::reloader
