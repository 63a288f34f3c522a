#include "operator/store_ref.h"

#include "core/regexp.h"
#include "operator/store_status.h"

namespace coffer::op {
namespace {

// Go's regexp.MatchString, as ESO evaluates namespaceRegexes.
bool RegexMatches(const std::string& pattern, std::string_view text) {
  Result<Regexp> re = Regexp::Compile(pattern);
  return re.ok() && re->PartialMatch(text);  // an invalid pattern allows nothing
}

bool ConditionAllows(const NamespaceCondition& c, std::string_view ns, const StringMap& labels) {
  for (const std::string& n : c.namespaces) {
    if (n == ns) return true;
  }
  for (const std::string& r : c.namespace_regexes) {
    if (RegexMatches(r, ns)) return true;
  }
  return c.selector && SelectorMatches(*c.selector, labels);
}

}  // namespace

bool NamespaceAllowed(const SecretStore& store, std::string_view ns, const StringMap& ns_labels) {
  if (store.kind != StoreKind::kClusterSecretStore || store.namespace_conditions.empty()) {
    return true;
  }
  for (const NamespaceCondition& c : store.namespace_conditions) {
    if (ConditionAllows(c, ns, ns_labels)) return true;
  }
  return false;
}

Status CheckStoreUsable(const ExternalSecret& es, const SecretStore* store,
                        const StringMap& namespace_labels, std::string_view controller_class) {
  const std::string kind(StoreKindName(es.store_ref.kind));
  const std::string& name = es.store_ref.name;
  if (store == nullptr || store->kind != es.store_ref.kind || store->metadata.name != name ||
      (store->kind == StoreKind::kSecretStore &&
       store->metadata.namespace_ != es.metadata.namespace_)) {
    return Status::FailedPrecondition("could not get " + kind + " \"" + name + "\", " + kind +
                                      ".external-secrets.io \"" + name + "\" not found");
  }
  if (!store->controller.empty() && store->controller != controller_class) {
    return Status::FailedPrecondition(kind + " \"" + name + "\" belongs to controller class \"" +
                                      store->controller + "\", not \"" +
                                      std::string(controller_class) + "\"");
  }
  if (!NamespaceAllowed(*store, es.metadata.namespace_, namespace_labels)) {
    return Status::PermissionDenied("using cluster store \"" + name +
                                    "\" is not allowed from namespace \"" + es.metadata.namespace_ +
                                    "\": denied");
  }
  if (!StoreIsReady(store->conditions)) {
    return Status::FailedPrecondition(kind + " \"" + name + "\" is not ready");
  }
  return Status::Ok();
}

std::optional<CredentialRefs> ResolveCredentialRefs(const SecretStore& store,
                                                    std::string_view es_namespace) {
  if (store.provider_type != ProviderType::kAws || !store.aws.access_key_id_ref ||
      !store.aws.secret_access_key_ref) {
    return std::nullopt;
  }
  auto resolve = [&](SecretKeySelector ref) {
    if (store.kind == StoreKind::kSecretStore) {
      ref.namespace_ = store.metadata.namespace_;
    } else if (ref.namespace_.empty()) {
      ref.namespace_ = std::string(es_namespace);  // referent auth
    }
    return ref;
  };
  CredentialRefs refs{resolve(*store.aws.access_key_id_ref),
                      resolve(*store.aws.secret_access_key_ref), std::nullopt};
  if (store.aws.session_token_ref) refs.session_token = resolve(*store.aws.session_token_ref);
  return refs;
}

}  // namespace coffer::op
