#pragma once

// Offline rendering of an ExternalSecret's template, for `coffer template render` (ESO's `esoctl
// template`): the manifests a user has on disk in, the Secret the operator would write out,
// without a cluster or a store.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "operator/template_apply.h"

namespace coffer::op {

// Every document of a YAML (or JSON) stream as JSON, typed as the apiserver would type it: plain
// scalars that read as booleans, integers, floats or null become those, quoted ones stay strings.
// Errors name the line, never quote the text (a manifest may hold secret data).
Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text);

// JSON -> block-style YAML (maps with sorted keys, strings quoted where YAML would misread them).
std::string JsonToYaml(const nlohmann::json& value);

// Reads secret data the way `esoctl template --source-secret-data-file` does: either a YAML map of
// key -> base64 value, or a whole Secret manifest (data base64, stringData plain).
Result<SecretData> ParseSecretDataDocument(const nlohmann::json& document);

// Adds a ConfigMap or Secret manifest to `sources` under its metadata.name.
Status AddTemplateSourceDocument(const nlohmann::json& document, TemplateSources& sources);

// Renders `external_secret` (an ExternalSecret manifest) over `data`. Without
// spec.target.template the data is copied unchanged, as the operator does. Returns the
// Secret manifest (apiVersion, kind, metadata name/namespace/labels/annotations, type, data in
// base64).
Result<nlohmann::json> RenderExternalSecret(const nlohmann::json& external_secret,
                                            const SecretData& data, const TemplateSources& sources,
                                            const TemplateOptions& options);

}  // namespace coffer::op
