#pragma once

// ESO's hashes, reproduced byte for byte so that coffer operator can adopt Secrets ESO wrote (and
// ESO coffer's) without a rewrite storm. ESO's esutils.ObjectHash(x) is
// hex(SHA3-224(fmt.Sprintf("%+v", x))); these functions build the same Go text and hash it.
// The hash is plain (unkeyed) like ESO's: it only detects edits, it authenticates nothing, and the
// annotation it lands in is readable by anyone who can read the Secret itself.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "operator/types.h"

namespace coffer::op {

// Lowercase hex SHA-3-224 of `data` (OpenSSL).
std::string Sha3_224Hex(std::string_view data);

// Go's %+v of a map[string][]byte: "map[a:[104 105] b:[120]]", keys sorted bytewise, "map[]" empty.
std::string GoFormatByteMap(const std::map<std::string, std::string>& data);

// Go's %+v of a map[string]string: "map[k:v k2:v2]".
std::string GoFormatStringMap(const StringMap& m);

// The value of the reconcile.external-secrets.io/data-hash annotation for Secret data.
std::string DataHash(const std::map<std::string, std::string>& data);

// ESO's HashMeta: hash of "{annotations:map[...] labels:map[...]}".
std::string MetaHash(const StringMap& labels, const StringMap& annotations);

// ESO's syncedResourceVersion for an object: "<metadata.generation>-<MetaHash>". Any change to the
// spec (generation), labels or annotations (the force-sync annotation) changes it.
std::string SyncedResourceVersionOf(const ObjectMeta& meta);

// The server-side-apply field manager ESO uses for an ExternalSecret:
// "externalsecrets.external-secrets.io/<name>", or ".../sha3/<sha3-224 of name>" over 63 chars.
std::string FieldManagerName(std::string_view es_name);

// The reconcile.external-secrets.io/created-by label value: sha3-224 of "<namespace>/<name>".
std::string CreatedByValue(std::string_view es_namespace, std::string_view es_name);

}  // namespace coffer::op
