#include "reloader/workload.h"

namespace coffer::reloader {
namespace {

using nlohmann::json;

const json& Field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringOf(const json& object, const char* key) {
  const json& v = Field(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::map<std::string, std::string> StringMapOf(const json& object) {
  std::map<std::string, std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [k, v] : object.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

void AddRef(std::set<SourceRef>& refs, SourceKind kind, const json& selector) {
  const std::string name = StringOf(selector, "name");
  if (!name.empty()) refs.insert(SourceRef{kind, name});
}

// The sources a volume shows: secret.secretName, configMap.name, projected.sources[].
std::set<SourceRef> VolumeSources(const json& volume) {
  std::set<SourceRef> out;
  if (const json& s = Field(volume, "secret"); s.is_object()) {
    const std::string name = StringOf(s, "secretName");
    if (!name.empty()) out.insert(SourceRef{SourceKind::kSecret, name});
  }
  if (const json& c = Field(volume, "configMap"); c.is_object()) {
    AddRef(out, SourceKind::kConfigMap, c);
  }
  if (const json& sources = Field(Field(volume, "projected"), "sources"); sources.is_array()) {
    for (const json& source : sources) {
      AddRef(out, SourceKind::kSecret, Field(source, "secret"));
      AddRef(out, SourceKind::kConfigMap, Field(source, "configMap"));
    }
  }
  return out;
}

Container ParseContainer(const json& c, bool init,
                         const std::map<std::string, std::set<SourceRef>>& volumes) {
  Container out;
  out.name = StringOf(c, "name");
  out.init = init;
  if (const json& env = Field(c, "env"); env.is_array()) {
    for (const json& e : env) {
      const json& from = Field(e, "valueFrom");
      AddRef(out.env_refs, SourceKind::kSecret, Field(from, "secretKeyRef"));
      AddRef(out.env_refs, SourceKind::kConfigMap, Field(from, "configMapKeyRef"));
      const std::string name = StringOf(e, "name");
      if (name.rfind("STAKATER_", 0) == 0) out.stakater_env[name] = StringOf(e, "value");
    }
  }
  if (const json& env_from = Field(c, "envFrom"); env_from.is_array()) {
    for (const json& e : env_from) {
      AddRef(out.env_refs, SourceKind::kSecret, Field(e, "secretRef"));
      AddRef(out.env_refs, SourceKind::kConfigMap, Field(e, "configMapRef"));
    }
  }
  if (const json& mounts = Field(c, "volumeMounts"); mounts.is_array()) {
    for (const json& m : mounts) {
      auto it = volumes.find(StringOf(m, "name"));
      if (it != volumes.end()) out.mounted_refs.insert(it->second.begin(), it->second.end());
    }
  }
  return out;
}

}  // namespace

std::string SourceKey(const SourceRef& ref) {
  return (ref.kind == SourceKind::kSecret ? "secret/" : "configmap/") + ref.name;
}

Result<Workload> ParseWorkload(const json& object) {
  Workload w;
  w.kind = StringOf(object, "kind");
  if (w.kind != "Deployment" && w.kind != "StatefulSet" && w.kind != "DaemonSet") {
    return Status::InvalidArgument("reloader: \"" + w.kind +
                                   "\" is not a Deployment, StatefulSet or DaemonSet");
  }
  const json& metadata = Field(object, "metadata");
  w.name = StringOf(metadata, "name");
  if (w.name.empty()) return Status::InvalidArgument("reloader: workload without metadata.name");
  w.ns = StringOf(metadata, "namespace");
  w.resource_version = StringOf(metadata, "resourceVersion");
  w.annotations = StringMapOf(Field(metadata, "annotations"));
  const json& tmpl = Field(Field(object, "spec"), "template");
  w.template_annotations = StringMapOf(Field(Field(tmpl, "metadata"), "annotations"));
  const json& pod = Field(tmpl, "spec");
  std::map<std::string, std::set<SourceRef>> volumes;
  if (const json& list = Field(pod, "volumes"); list.is_array()) {
    for (const json& v : list) volumes[StringOf(v, "name")] = VolumeSources(v);
  }
  for (const auto& [list, init] :
       {std::pair{"containers", false}, std::pair{"initContainers", true}}) {
    if (const json& containers = Field(pod, list); containers.is_array()) {
      for (const json& c : containers) w.containers.push_back(ParseContainer(c, init, volumes));
    }
  }
  return w;
}

std::set<SourceRef> ReferencedSources(const Workload& workload) {
  std::set<SourceRef> out;
  for (const Container& c : workload.containers) {
    out.insert(c.env_refs.begin(), c.env_refs.end());
    out.insert(c.mounted_refs.begin(), c.mounted_refs.end());
  }
  return out;
}

}  // namespace coffer::reloader
