#include "operator/template_apply.h"

#include <set>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "template/eso_functions.h"
#include "template/template.h"

namespace coffer::op {
namespace {

tmpl::Value DataContext(const SecretData& data) {
  tmpl::Map m;
  for (const auto& [k, v] : data) m.emplace(k, tmpl::Value(v));
  return tmpl::Value(std::move(m));
}

// KeysAndValues: the rendered text is a YAML map of keys to scalar values.
Result<StringMap> ParseKeysAndValues(std::string_view key, const std::string& rendered) {
  const std::string what = "template at key " + std::string(key);
  YAML::Node root;
  try {
    root = YAML::Load(rendered);
  } catch (const YAML::Exception& e) {
    // e.mark says where; e.msg is yaml-cpp's description, which does not quote the input.
    return Status::InvalidArgument(what + " did not render YAML (line " +
                                   std::to_string(e.mark.line + 1) + "): " + e.msg);
  }
  StringMap out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) {
    return Status::InvalidArgument(what + " must render a YAML map of keys to values");
  }
  for (const auto& kv : root) {
    if (!kv.first.IsScalar() || !(kv.second.IsScalar() || kv.second.IsNull())) {
      return Status::InvalidArgument(what + " must render a YAML map of keys to string values");
    }
    out[kv.first.Scalar()] = kv.second.IsNull() ? std::string() : kv.second.Scalar();
  }
  return out;
}

class Renderer {
 public:
  Renderer(const SecretData& data, const TemplateOptions& options)
      : context_(DataContext(data)), options_(options) {}

  Result<std::string> Render(std::string_view name, std::string_view text) const {
    tmpl::ParseOptions po;
    po.left_delim = options_.left_delim;
    po.right_delim = options_.right_delim;
    po.missing_key_error = true;
    const std::string key(name);
    auto parsed = tmpl::Template::Parse(name, text, tmpl::EsoFunctions(), po);
    if (!parsed.ok()) {
      return Status::InvalidArgument("unable to parse template at key " + key + ": " +
                                     parsed.status().message());
    }
    auto out = parsed->Execute(context_);
    if (!out.ok()) {
      return Status::InvalidArgument("unable to execute template at key " + key + ": " +
                                     out.status().message());
    }
    return std::move(*out);
  }

 private:
  tmpl::Value context_;
  const TemplateOptions& options_;
};

StringMap& TargetMap(TemplateTarget target, RenderedSecret& out) {
  switch (target) {
    case TemplateTarget::kAnnotations:
      return out.annotations;
    case TemplateTarget::kLabels:
      return out.labels;
    case TemplateTarget::kData:
      break;
  }
  return out.data;
}

// Renders `text` for `key` in `scope` and stores the result(s) in `dest`.
Status RenderInto(const Renderer& r, const std::string& key, const std::string& text,
                  TemplateScope scope, StringMap& dest) {
  COFFER_ASSIGN_OR_RETURN(std::string rendered, r.Render(key, text));
  if (scope == TemplateScope::kValues) {
    dest[key] = std::move(rendered);
    return Status::Ok();
  }
  COFFER_ASSIGN_OR_RETURN(StringMap pairs, ParseKeysAndValues(key, rendered));
  for (auto& [k, v] : pairs) dest[k] = std::move(v);
  return Status::Ok();
}

Status MergeTemplateFrom(const Renderer& r, const TemplateFrom& tf, const TemplateSources& sources,
                         RenderedSecret& out) {
  StringMap& dest = TargetMap(tf.target, out);
  if (tf.source == TemplateFrom::Source::kLiteral) {
    // ESO names a literal template after its own text and always reads it as KeysAndValues.
    return RenderInto(r, tf.literal, tf.literal, TemplateScope::kKeysAndValues, dest);
  }
  const bool is_cm = tf.source == TemplateFrom::Source::kConfigMap;
  const std::string kind = is_cm ? "configmap" : "secret";
  const auto& objects = is_cm ? sources.config_maps : sources.secrets;
  auto it = objects.find(tf.name);
  if (it == objects.end()) {
    return Status::NotFound("error fetching templateFrom data: " + kind + " " + tf.name +
                            " was not read");
  }
  if (!it->second.status.ok()) {
    return Status(it->second.status.code(), "error fetching templateFrom data: " + kind + " " +
                                                tf.name + ": " + it->second.status.message());
  }
  for (const TemplateFromItem& item : tf.items) {
    auto value = it->second.data.find(item.key);
    if (value == it->second.data.end()) {
      return Status::NotFound("error in " + kind + " " + tf.name + ": missing key " + item.key);
    }
    COFFER_RETURN_IF_ERROR(RenderInto(r, item.key, value->second, item.scope, dest));
  }
  return Status::Ok();
}

}  // namespace

TemplateSourceNames TemplateSourcesOf(const ExternalSecret& es) {
  std::set<std::string> cms;
  std::set<std::string> secrets;
  for (const TemplateFrom& tf : es.target.template_from) {
    if (tf.source == TemplateFrom::Source::kConfigMap) cms.insert(tf.name);
    if (tf.source == TemplateFrom::Source::kSecret) secrets.insert(tf.name);
  }
  return TemplateSourceNames{{cms.begin(), cms.end()}, {secrets.begin(), secrets.end()}};
}

Result<std::string> RenderTemplate(std::string_view name, std::string_view text,
                                   const SecretData& data, const TemplateOptions& options) {
  return Renderer(data, options).Render(name, text);
}

Result<RenderedSecret> ApplyTemplate(const ExternalSecret& es, const SecretData& provider_data,
                                     const TemplateSources& sources,
                                     const TemplateOptions& options) {
  const Target& t = es.target;
  const Renderer r(provider_data, options);
  RenderedSecret out;
  const bool has_rendered_data = !t.template_data.empty() || !t.template_from.empty();
  if (t.template_merge_policy == TemplateMergePolicy::kMerge || !has_rendered_data) {
    out.data = provider_data;
  }
  for (const TemplateFrom& tf : t.template_from) {
    COFFER_RETURN_IF_ERROR(MergeTemplateFrom(r, tf, sources, out));
  }
  for (const auto& [key, text] : t.template_data) {
    COFFER_RETURN_IF_ERROR(RenderInto(r, key, text, TemplateScope::kValues, out.data));
  }
  for (const auto& [key, text] : t.template_labels) {
    COFFER_RETURN_IF_ERROR(RenderInto(r, key, text, TemplateScope::kValues, out.labels));
  }
  for (const auto& [key, text] : t.template_annotations) {
    COFFER_RETURN_IF_ERROR(RenderInto(r, key, text, TemplateScope::kValues, out.annotations));
  }
  return out;
}

}  // namespace coffer::op
