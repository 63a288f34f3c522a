#pragma once

// spec.target.template applied to the fetched data, as ESO's engine v2 does
// (ApplyTemplate + templating.Parser): precedence, highest first, is template.data, then
// templateFrom in order, then the provider's data (only with mergePolicy Merge, or when there is
// neither template.data nor templateFrom). template.metadata labels and annotations are
// templates too. Templates see the fetched data as a map of key -> string (`{{ .password }}`,
// `{{ index . "my-key" }}`) and run with missingkey=error. Pure: the controller reads the
// templateFrom ConfigMaps and Secrets first (TemplateSourcesOf) and passes them in.
//
// Error messages name the key, the template and the ConfigMap/Secret; they never contain a
// fetched value or a rendered output.

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "operator/types.h"
#include "operator/values.h"

namespace coffer::op {

// One ConfigMap or Secret a templateFrom entry reads. `status` is NotFound when it does not
// exist, another error when it could not be read.
struct TemplateSource {
  Status status;
  StringMap data;  // ConfigMap data, or Secret data decoded
};

// ConfigMaps and Secrets (in the ExternalSecret's namespace) by name.
struct TemplateSources {
  std::map<std::string, TemplateSource> config_maps;
  std::map<std::string, TemplateSource> secrets;
};

// Cluster-wide template settings (ESO's --template-left-delimiter / --template-right-delimiter).
struct TemplateOptions {
  std::string left_delim = "{{";   // Default: "{{"
  std::string right_delim = "}}";  // Default: "}}"
};

// What the template produced for the target Secret.
struct RenderedSecret {
  SecretData data;
  StringMap labels;       // template.metadata.labels, then templateFrom target Labels
  StringMap annotations;  // template.metadata.annotations, then templateFrom target Annotations
};

// The ConfigMap names and Secret names `es`'s templateFrom reads (each once, sorted).
struct TemplateSourceNames {
  std::vector<std::string> config_maps;
  std::vector<std::string> secrets;
};
TemplateSourceNames TemplateSourcesOf(const ExternalSecret& es);

// Renders es.target.template (which must be present) over `provider_data`.
Result<RenderedSecret> ApplyTemplate(const ExternalSecret& es, const SecretData& provider_data,
                                     const TemplateSources& sources,
                                     const TemplateOptions& options);

// Renders one template text against `data` as ESO would for key `name` (used by `coffer
// template render`, and by ApplyTemplate).
Result<std::string> RenderTemplate(std::string_view name, std::string_view text,
                                   const SecretData& data, const TemplateOptions& options);

}  // namespace coffer::op
