#pragma once

// Resolving an ExternalSecret's store, purely: does the referenced (Cluster)SecretStore exist and
// is it usable (ESO's flood gate: Ready must be True), and where do its credentials live.

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "operator/types.h"

namespace coffer::op {

// Checks that `store` (nullptr = not found) is the one `es` references and is usable. Errors are
// FailedPrecondition with ESO-like messages: `could not get SecretStore "x", SecretStore.external-
// secrets.io "x" not found`, a controller-class mismatch, `using cluster store "x" is not allowed
// from namespace "ns": denied` (a ClusterSecretStore's spec.conditions; `namespace_labels` are the
// labels of the ExternalSecret's Namespace, for namespaceSelector), `SecretStore "x" is not ready`.
// `controller_class` is the operator's class (ESO's --controller-class, default "default").
Status CheckStoreUsable(const ExternalSecret& es, const SecretStore* store,
                        const StringMap& namespace_labels = {},
                        std::string_view controller_class = "default");

// Whether a ClusterSecretStore's spec.conditions allow `ns` (no conditions: every namespace).
bool NamespaceAllowed(const SecretStore& store, std::string_view ns, const StringMap& ns_labels);

// Where an AWS store's static credentials are, resolved for an ExternalSecret in `es_namespace`.
struct CredentialRefs {
  SecretKeySelector access_key_id;      // namespace_ always resolved
  SecretKeySelector secret_access_key;  // namespace_ always resolved
  std::optional<SecretKeySelector> session_token;
};

// The credential Secrets of an aws store: a SecretStore reads them in its own namespace; a
// ClusterSecretStore in the namespace given on the reference, or (referent auth) in the
// ExternalSecret's namespace. nullopt when the store has no secretRef auth (the operator then uses
// its own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment).
std::optional<CredentialRefs> ResolveCredentialRefs(const SecretStore& store,
                                                    std::string_view es_namespace);

}  // namespace coffer::op
