#include "controller/backends.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "operator/fake_provider.h"
#include "operator/store_ref.h"

namespace coffer::controller {
namespace {

const Clock* ClockOf(const BackendOptions& options) {
  return options.clock != nullptr ? options.clock : SystemClock::Get();
}

provider::SharedFetcher::Options FetcherOptions(const BackendOptions& options) {
  provider::SharedFetcher::Options o;
  o.max_age = std::max(options.share_window, options.value_retention);
  o.revalidate_for = options.revalidate_for;
  o.clock = ClockOf(options);
  return o;
}

// The namespace an aws store's credentials are read in when used from `es_namespace`: a
// SecretStore's own, the one named on a ClusterSecretStore's reference, or the ExternalSecret's
// (referent auth). Empty without secretRef auth, and for referent auth validated alone.
std::string CredentialsNamespace(const op::SecretStore& store, std::string_view es_namespace) {
  std::optional<op::CredentialRefs> refs = op::ResolveCredentialRefs(store, es_namespace);
  return refs ? refs->access_key_id.namespace_ : std::string();
}

// Whether an error says the backend rejected the credentials (as opposed to a secret it denies).
bool CredentialsRejected(const Status& status) {
  return status.code() == StatusCode::kUnauthenticated;
}

}  // namespace

std::string StoreIdentity(const op::SecretStore& store, std::string_view credentials_namespace) {
  std::string id(op::StoreKindName(store.kind));
  id.append("/").append(store.metadata.namespace_);
  id.append("/").append(store.metadata.name);
  id.append("/").append(store.metadata.uid);
  id.append("/").append(std::to_string(store.metadata.generation));
  id.append("/").append(credentials_namespace);
  return id;
}

Backends::Backends(kube::Client& client, BackendOptions options, provider::CallObserver observer)
    : client_(client),
      options_(std::move(options)),
      observer_(std::move(observer)),
      fetcher_(FetcherOptions(options_)) {}

Result<std::string> Backends::ReadSecretKey(const op::SecretKeySelector& ref) {
  const std::string where = "secret \"" + ref.namespace_ + "/" + ref.name + "\"";
  Result<kube::Json> secret = client_.Get(kube::SecretsRef(ref.namespace_, ref.name));
  if (!secret.ok()) {
    if (secret.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition("could not read credentials: " + where + " not found");
    }
    return secret.status().WithContext("could not read credentials from " + where);
  }
  const kube::Json* data = secret->contains("data") ? &(*secret)["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains(ref.key) ||
      !(*data)[ref.key].is_string()) {
    return Status::FailedPrecondition("could not read credentials: " + where + " has no key \"" +
                                      ref.key + "\"");
  }
  std::optional<std::string> value = Base64Decode((*data)[ref.key].get<std::string>());
  if (!value) {
    return Status::FailedPrecondition("could not read credentials: key \"" + ref.key + "\" of " +
                                      where + " is not base64");
  }
  // Trailing newlines come from `echo secret | base64` and are never part of an AWS key.
  while (!value->empty() && (value->back() == '\n' || value->back() == '\r')) value->pop_back();
  if (value->empty()) {
    return Status::FailedPrecondition("could not read credentials: key \"" + ref.key + "\" of " +
                                      where + " is empty");
  }
  return std::move(*value);
}

Result<std::shared_ptr<const provider::SecretsManagerClient>> Backends::BuildClient(
    const op::SecretStore& store, std::string_view es_namespace) {
  provider::SecretsManagerOptions sm;
  sm.region = store.aws.region;
  sm.endpoint = !store.aws.endpoint.empty() ? store.aws.endpoint : options_.default_endpoint;
  sm.timeout = options_.request_timeout;
  sm.clock = ClockOf(options_);

  provider::AwsCredentials credentials;
  if (std::optional<op::CredentialRefs> refs = op::ResolveCredentialRefs(store, es_namespace)) {
    COFFER_ASSIGN_OR_RETURN(credentials.access_key_id, ReadSecretKey(refs->access_key_id));
    COFFER_ASSIGN_OR_RETURN(credentials.secret_access_key, ReadSecretKey(refs->secret_access_key));
    if (refs->session_token) {
      COFFER_ASSIGN_OR_RETURN(credentials.session_token, ReadSecretKey(*refs->session_token));
    }
  } else {
    credentials = options_.env_credentials;
    if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
      return Status::FailedPrecondition(
          "no credentials: the store has no auth.secretRef and the operator has no "
          "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    }
  }
  return std::make_shared<const provider::SecretsManagerClient>(std::move(sm),
                                                                std::move(credentials));
}

Result<std::shared_ptr<provider::Provider>> Backends::Build(const op::SecretStore& store,
                                                            std::string_view es_namespace) {
  COFFER_ASSIGN_OR_RETURN(std::shared_ptr<const provider::SecretsManagerClient> client,
                          BuildClient(store, es_namespace));
  return std::shared_ptr<provider::Provider>(
      std::make_shared<provider::AwsProvider>(std::move(client), observer_));
}

Result<std::shared_ptr<const provider::SecretsManagerClient>> Backends::WriteClient(
    const op::SecretStore& store, std::string_view ns) {
  if (store.provider_type != op::ProviderType::kAws) {
    return Status::FailedPrecondition(std::string(op::StoreKindName(store.kind)) + " \"" +
                                      store.metadata.name +
                                      "\": only aws (Secrets Manager) stores can be pushed to");
  }
  return BuildClient(store, ns);
}

Result<std::shared_ptr<provider::Provider>> Backends::ProviderFor(const op::SecretStore& store,
                                                                  std::string_view es_namespace,
                                                                  std::string* id) {
  *id = StoreIdentity(store, CredentialsNamespace(store, es_namespace));
  const std::int64_t now = ClockOf(options_)->NowMillis();
  {
    std::lock_guard lock(mu_);
    auto it = providers_.find(*id);
    if (it != providers_.end() && now - it->second.built_ms < options_.provider_ttl.count()) {
      return it->second.provider;
    }
  }
  COFFER_ASSIGN_OR_RETURN(std::shared_ptr<provider::Provider> built, Build(store, es_namespace));
  std::lock_guard lock(mu_);
  providers_[*id] = CachedProvider{built, now};
  return built;
}

void Backends::Drop(const std::string& id) {
  std::lock_guard lock(mu_);
  providers_.erase(id);
}

void Backends::Forget(std::string_view store_uid) {
  std::lock_guard lock(mu_);
  const std::string needle = "/" + std::string(store_uid) + "/";
  for (auto it = providers_.begin(); it != providers_.end();) {
    it = it->first.find(needle) != std::string::npos ? providers_.erase(it) : std::next(it);
  }
  for (auto it = found_.begin(); it != found_.end();) {
    it = it->first.first.find(needle) != std::string::npos ? found_.erase(it) : std::next(it);
  }
}

op::FindOutcome Backends::Find(const std::string& id, provider::Provider& provider,
                               const op::FindQuery& query, std::int64_t not_before_ms,
                               bool* rejected) {
  const std::int64_t started = ClockOf(options_)->NowMillis();
  const auto cache_key = std::make_pair(id, query);
  {
    std::lock_guard lock(mu_);
    // Forget results too old to answer anyone (bounds the memory they hold).
    for (auto it = found_.begin(); it != found_.end();) {
      it = started - it->second.started_ms > options_.value_retention.count() ? found_.erase(it)
                                                                              : std::next(it);
    }
    auto it = found_.find(cache_key);
    if (it != found_.end() && it->second.started_ms >= not_before_ms) return it->second.outcome;
  }
  provider::FindQuery q;
  q.path = query.path;
  q.name_regexp = query.name_regexp;
  q.tags.assign(query.tags.begin(), query.tags.end());
  Result<std::vector<provider::FoundSecret>> found = provider.FindSecrets(q);
  op::FindOutcome outcome;
  if (!found.ok()) {
    *rejected = *rejected || CredentialsRejected(found.status());
    outcome.status = found.status();
    return outcome;
  }
  for (provider::FoundSecret& f : *found) {
    op::RemoteValue value;
    if (f.value.binary) {
      value = op::RemoteValue{std::move(*f.value.binary), true, f.value.version_id};
    } else {
      value = op::RemoteValue{f.value.string.value_or(std::string()), false, f.value.version_id};
    }
    outcome.secrets.push_back(op::FoundSecret{std::move(f.name), std::move(value)});
  }
  std::lock_guard lock(mu_);
  found_[cache_key] = FoundEntry{started, outcome};
  return outcome;
}

op::FetchResult Backends::Fetch(const op::ExternalSecret& es, const op::SecretStore& store,
                                std::int64_t not_before_ms) {
  const std::vector<op::FetchKey> keys = op::RequiredFetches(es);
  const std::vector<op::FindQuery> finds = op::RequiredFinds(es);
  if (store.provider_type == op::ProviderType::kFake) {
    op::FetchResult fake = op::FetchFromFake(store.fake, keys);
    for (const op::FindQuery& query : finds) {
      fake.found[query].status =
          Status::FailedPrecondition("dataFrom.find is not supported with the fake provider");
    }
    return fake;
  }

  op::FetchResult result;
  std::string id;
  Result<std::shared_ptr<provider::Provider>> provider =
      ProviderFor(store, es.metadata.namespace_, &id);
  if (!provider.ok()) {
    result.error = provider.status();
    return result;
  }
  bool rejected = false;
  for (const op::FetchKey& key : keys) {
    const op::VersionSelector version = op::ParseVersion(key.version);
    provider::RemoteKey remote;
    remote.key = store.aws.prefix + key.key;
    remote.version_id = version.version_id;
    remote.version_stage = version.version_stage;
    remote.metadata = key.metadata_policy == op::MetadataPolicy::kFetch;
    Result<provider::RemoteValue> value = fetcher_.Get(id, **provider, remote, not_before_ms);
    op::FetchOutcome outcome;
    if (!value.ok()) {
      rejected = rejected || CredentialsRejected(value.status());
      outcome.status = value.status();
    } else if (value->binary) {
      outcome.value = op::RemoteValue{std::move(*value->binary), true, value->version_id};
    } else {
      outcome.value =
          op::RemoteValue{value->string.value_or(std::string()), false, value->version_id};
    }
    result.values.emplace(key, std::move(outcome));
  }
  for (const op::FindQuery& query : finds) {
    result.found.emplace(query, Find(id, **provider, query, not_before_ms, &rejected));
  }
  // Rotated credentials: the next attempt reads the credentials Secret again.
  if (rejected) Drop(id);
  return result;
}

op::StoreValidationResult Backends::Validate(const op::SecretStore& store) {
  if (store.provider_type == op::ProviderType::kFake) return {op::StoreValidation::kValid, {}};
  const std::string credentials_namespace = CredentialsNamespace(store, "");
  if (credentials_namespace.empty() && op::ResolveCredentialRefs(store, "")) {
    // Referent authentication: the credentials are in each ExternalSecret's namespace.
    return {op::StoreValidation::kUnknown, {}};
  }
  // A fresh provider: validation is where rotated or fixed credentials are noticed.
  const std::string id = StoreIdentity(store, credentials_namespace);
  Result<std::shared_ptr<provider::Provider>> built = Build(store, "");
  if (!built.ok()) return {op::StoreValidation::kClientError, built.status()};
  Status checked = (*built)->Validate();
  if (!checked.ok()) {
    Drop(id);
    if (checked.code() == StatusCode::kInvalidArgument) {
      return {op::StoreValidation::kConfigError, checked};
    }
    return {op::StoreValidation::kFailed, checked};
  }
  std::lock_guard lock(mu_);
  providers_[id] = CachedProvider{*built, ClockOf(options_)->NowMillis()};
  return {op::StoreValidation::kValid, {}};
}

}  // namespace coffer::controller
