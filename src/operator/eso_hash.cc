#include "operator/eso_hash.h"

#include <memory>

#include <openssl/evp.h>

#include "core/encoding.h"

namespace coffer::op {

std::string Sha3_224Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure or a missing algorithm; SHA3-224 is in OpenSSL 3's
  // default provider, so a failure is an environment invariant, not input-dependent.
  const int ok = EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha3_224(), nullptr);
  if (ok != 1) return std::string();
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string GoFormatByteMap(const std::map<std::string, std::string>& data) {
  std::string out = "map[";
  bool first_entry = true;
  for (const auto& [k, v] : data) {
    if (!first_entry) out += ' ';
    first_entry = false;
    out += k;
    out += ":[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ' ';
      out += std::to_string(static_cast<unsigned char>(v[i]));
    }
    out += ']';
  }
  return out + "]";
}

std::string GoFormatStringMap(const StringMap& m) {
  std::string out = "map[";
  bool first_entry = true;
  for (const auto& [k, v] : m) {
    if (!first_entry) out += ' ';
    first_entry = false;
    out += k + ":" + v;
  }
  return out + "]";
}

std::string DataHash(const std::map<std::string, std::string>& data) {
  return Sha3_224Hex(GoFormatByteMap(data));
}

std::string MetaHash(const StringMap& labels, const StringMap& annotations) {
  return Sha3_224Hex("{annotations:" + GoFormatStringMap(annotations) +
                     " labels:" + GoFormatStringMap(labels) + "}");
}

std::string SyncedResourceVersionOf(const ObjectMeta& meta) {
  return std::to_string(meta.generation) + "-" + MetaHash(meta.labels, meta.annotations);
}

std::string FieldManagerName(std::string_view es_name) {
  std::string name = "externalsecrets.external-secrets.io/" + std::string(es_name);
  if (name.size() > 63) name = "externalsecrets.external-secrets.io/sha3/" + Sha3_224Hex(es_name);
  return name;
}

std::string CreatedByValue(std::string_view es_namespace, std::string_view es_name) {
  return Sha3_224Hex(std::string(es_namespace) + "/" + std::string(es_name));
}

}  // namespace coffer::op
