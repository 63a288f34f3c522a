#pragma once

// From fetched remote secret values to the data map of a Kubernetes Secret, as ESO's AWS Secrets
// Manager provider computes it: property paths into JSON values, dataFrom.extract, decoding
// strategies and key-name conversion. Every function here is pure.
//
// Error messages name the ExternalSecret field, the remote key and the property; they NEVER contain
// any part of a secret value (not even a JSON parser's "last read" excerpt).

#include <compare>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "operator/types.h"

namespace coffer::op {

// Secret data: key -> raw bytes (not base64).
using SecretData = std::map<std::string, std::string>;

// One value read from the backend: SecretString, or SecretBinary (raw bytes, `binary` = true).
// With metadataPolicy Fetch, `bytes` is the JSON object of the secret's tags.
struct RemoteValue {
  std::string bytes;
  bool binary = false;
  std::string version_id;
};

// How remoteRef.version selects a version in GetSecretValue.
struct VersionSelector {
  std::string version_id;     // set for "uuid/<id>"
  std::string version_stage;  // otherwise; "AWSCURRENT" when the version is empty
};

// "uuid/<id>" -> VersionId <id>; "" -> VersionStage AWSCURRENT; anything else -> that stage.
VersionSelector ParseVersion(std::string_view version);

// The identity of one backend read. ExternalSecrets (and entries) with equal keys share one call.
struct FetchKey {
  std::string key;
  std::string version;
  MetadataPolicy metadata_policy = MetadataPolicy::kNone;
  auto operator<=>(const FetchKey&) const = default;
};

// The FetchKey for a remoteRef / extract.
FetchKey FetchKeyOf(const RemoteRef& ref);

// Every distinct backend read `es` needs, in first-use order (dataFrom first, then data, the order
// ESO processes them). dataFrom[].find entries are not reads of one key: see RequiredFinds.
std::vector<FetchKey> RequiredFetches(const ExternalSecret& es);

// Every distinct dataFrom[].find query of `es`, in order.
std::vector<FindQuery> RequiredFinds(const ExternalSecret& es);

// The outcome of one read: OK with a value, NotFound when the remote secret does not exist (or is
// marked for deletion), or another error (backend down, access denied, ...).
struct FetchOutcome {
  Status status;
  RemoteValue value;
};

// One remote secret a find selected: its full name and current (AWSCURRENT) value.
struct FoundSecret {
  std::string name;
  RemoteValue value;
};

// The outcome of one find query: the selected secrets (possibly none), or an error.
struct FindOutcome {
  Status status;
  std::vector<FoundSecret> secrets;
};

// Everything fetched for one reconcile. `error` is set when nothing could be fetched at all (store
// missing or not ready, credentials unreadable); then `values` and `found` are ignored.
struct FetchResult {
  Status error;
  std::map<FetchKey, FetchOutcome> values;
  std::map<FindQuery, FindOutcome> found;
};

// gjson-style lookup of `property` in the JSON `document`: dot-separated path ("a.b.c"), "\." for a
// literal dot, array indices ("list.1.name"), "#" for an array's length; a top-level key equal to
// the whole property wins (ESO escapes dots when such a key exists). A string leaf yields its text,
// null yields "", other leaves their compact JSON text (numbers as gjson prints them). NotFound
// "key <property> does not exist in secret <remote_key>" when absent or the document is not JSON.
Result<std::string> ExtractProperty(std::string_view document, std::string_view property,
                                    std::string_view remote_key);

// Every top-level key of a JSON object: strings unwrapped, null as "", other values as compact
// JSON text. InvalidArgument if the document is not a JSON object.
Result<SecretData> ExtractAll(std::string_view document, std::string_view remote_key);

// Applies a decoding strategy. Base64 = standard alphabet, Base64URL = URL alphabet (both padded,
// as Go's encodings); Auto tries standard, then URL, else keeps the bytes; None keeps them.
// `secret_key` names the target key in the error message.
Result<std::string> DecodeValue(std::string_view value, DecodingStrategy strategy,
                                std::string_view secret_key);

// Converts a remote key name into a valid Secret key: characters outside [-._a-zA-Z0-9] become "_"
// (Default) or "_UXXXX_" with the code point in hex (Unicode).
std::string ConvertKey(std::string_view key, ConversionStrategy strategy);

// The value of one data[] entry from its fetched remote value: property, then decoding.
Result<std::string> ComputeDataValue(const DataItem& item, const RemoteValue& value);

// Whether `key` is a valid Secret key (Kubernetes' IsConfigMapKey): 1 to 253 of [-._a-zA-Z0-9],
// not "." or "..", not starting with "..". InvalidArgument naming the key (a key, never a value).
Status ValidateSecretKey(std::string_view key);

// dataFrom[].rewrite: the rewrites in order over every key. regexp: Go's ReplaceAllString of
// source by target; transform: the Go template with `.value` = the key (ESO's functions, missing
// keys print "<no value>"). Later keys win when two keys rewrite to the same name.
Result<SecretData> ApplyRewrites(SecretData data, const std::vector<Rewrite>& rewrites);

// The keys of one dataFrom[].extract: property (if any), then every top-level key; then the
// rewrites, or the key conversion when there are none (ESO's order); then key validation and
// decoding.
Result<SecretData> ComputeExtract(const RemoteRef& ref, const RemoteValue& value,
                                  const std::vector<Rewrite>& rewrites = {});

// The keys of one dataFrom[].find: each found secret's full name -> its value; then the rewrites,
// or the conversion when there are none; then key validation and decoding.
Result<SecretData> ComputeFind(const FindSpec& find, const std::vector<Rewrite>& rewrites,
                               const std::vector<FoundSecret>& found);

// The Secret data of an ExternalSecret and which entries were missing remotely.
struct BuiltData {
  SecretData data;
  // secretKeys of data[] entries whose remote secret was NotFound (deletionPolicy Delete/Merge
  // skip them; the Merge policy removes them from the target).
  std::vector<std::string> missing_secret_keys;
  // remote keys that were NotFound (for messages).
  std::vector<std::string> missing_remote_keys;
};

// Builds the Secret data: dataFrom in order (later entries override), then data[]. A NotFound
// remote secret is an error under deletionPolicy Retain and skipped under Delete and Merge. Any
// other fetch error is returned with the entry and remote key as context.
Result<BuiltData> BuildSecretData(const ExternalSecret& es, const FetchResult& fetched);

}  // namespace coffer::op
