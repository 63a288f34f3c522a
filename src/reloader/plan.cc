#include "reloader/plan.h"

#include <cctype>

namespace coffer::reloader {
namespace {

using nlohmann::json;

std::map<std::string, std::string> ReadRecord(const Workload& w) {
  std::map<std::string, std::string> out;
  auto it = w.annotations.find(std::string(kRecordAnnotation));
  if (it == w.annotations.end()) return out;
  json parsed = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return out;  // unreadable: as if never recorded
  for (const auto& [k, v] : parsed.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// Reloader's choice of container: the one that mounts it, else one with an env/envFrom reference,
// else (only an init container uses it, or a named reload without reference) the first regular
// container.
const Container* ContainerFor(const Workload& w, const SourceRef& ref) {
  const Container* first = nullptr;
  for (const Container& c : w.containers) {
    if (c.init) continue;
    if (!first) first = &c;
    if (c.mounted_refs.count(ref)) return &c;
  }
  for (const Container& c : w.containers) {
    if (!c.init && c.env_refs.count(ref)) return &c;
  }
  return first;
}

std::vector<std::string> ContainersUsing(const Workload& w, const SourceRef& ref) {
  std::vector<std::string> out;
  for (const Container& c : w.containers) {
    if (c.mounted_refs.count(ref) || c.env_refs.count(ref)) out.push_back(c.name);
  }
  return out;
}

}  // namespace

std::string EnvVarName(const SourceRef& ref) {
  std::string out = "STAKATER_";
  bool in_run = false;
  for (char c : ref.name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      in_run = false;
    } else if (!in_run) {
      out.push_back('_');
      in_run = true;
    }
  }
  out += ref.kind == SourceKind::kSecret ? "_SECRET" : "_CONFIGMAP";
  return out;
}

Plan PlanReload(const Workload& workload, const std::map<SourceRef, std::string>& hashes,
                const PlanOptions& options) {
  Plan plan;
  const std::map<std::string, std::string> record = ReadRecord(workload);
  std::map<std::string, std::string> next = record;
  bool added = false;
  for (const auto& [ref, hash] : hashes) {
    const std::string key = SourceKey(ref);
    auto it = record.find(key);
    if (it == record.end()) {
      added = true;
    } else if (it->second != hash) {
      plan.changed.push_back(ref);
    }
    next[key] = hash;
  }
  if (plan.changed.empty() && !added) return plan;  // kNone

  json record_json = json::object();
  for (const auto& [k, v] : next) record_json[k] = v;
  plan.patch = {
      {"metadata", {{"annotations", {{std::string(kRecordAnnotation), record_json.dump()}}}}}};
  if (plan.changed.empty()) {
    plan.action = Plan::kRecordOnly;
    return plan;
  }
  plan.action = Plan::kRollout;
  json& tmpl = plan.patch["spec"]["template"];
  if (options.strategy == Strategy::kEnvVars) {
    std::map<std::string, json> env_by_container;  // container name -> env entries
    std::vector<std::string> order;
    for (const SourceRef& ref : plan.changed) {
      const Container* c = ContainerFor(workload, ref);
      if (!c) continue;  // no regular container: nothing to set
      if (!env_by_container.count(c->name)) order.push_back(c->name);
      env_by_container[c->name].push_back(
          json{{"name", EnvVarName(ref)}, {"value", hashes.at(ref)}});
    }
    json containers = json::array();
    for (const std::string& name : order) {
      containers.push_back(json{{"name", name}, {"env", env_by_container[name]}});
    }
    tmpl["spec"]["containers"] = std::move(containers);
  } else {
    const SourceRef& last = plan.changed.back();
    json from = {{"type", last.kind == SourceKind::kSecret ? "SECRET" : "CONFIGMAP"},
                 {"name", last.name},
                 {"namespace", workload.ns},
                 {"hash", hashes.at(last)},
                 {"containerRefs", ContainersUsing(workload, last)},
                 {"observedAt", options.now_unix}};
    tmpl["metadata"]["annotations"] = {{std::string(kLastReloadedFrom), from.dump()},
                                       {std::string(kTemplateHashes), record_json.dump()}};
  }
  return plan;
}

}  // namespace coffer::reloader
