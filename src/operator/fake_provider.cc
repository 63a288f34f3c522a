#include "operator/fake_provider.h"

#include <nlohmann/json.hpp>

namespace coffer::op {
namespace {

const FakeProviderEntry* FindEntry(const FakeProvider& fake, const FetchKey& key) {
  for (const FakeProviderEntry& e : fake.data) {
    if (e.key == key.key && e.version == key.version) return &e;
  }
  return nullptr;
}

std::string EntryValue(const FakeProviderEntry& e) {
  if (e.value_map.empty()) return e.value;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [k, v] : e.value_map) m[k] = v;
  return m.dump();
}

}  // namespace

FetchResult FetchFromFake(const FakeProvider& fake, const std::vector<FetchKey>& keys) {
  FetchResult out;
  for (const FetchKey& key : keys) {
    const FakeProviderEntry* e = FindEntry(fake, key);
    if (e == nullptr) {
      out.values[key] = {Status::NotFound("Secret does not exist"), {}};
    } else if (key.metadata_policy == MetadataPolicy::kFetch) {
      out.values[key] = {Status::Ok(), RemoteValue{"{}", false, e->version}};
    } else {
      out.values[key] = {Status::Ok(), RemoteValue{EntryValue(*e), false, e->version}};
    }
  }
  return out;
}

}  // namespace coffer::op
