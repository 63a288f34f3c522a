#pragma once

// The keyring's JSON form (key files and the COFFER_MASTER_KEY env var):
//
//   {"format": "coffer-keyring-v1", "active": 2,
//    "keys": [{"version": 1, "key": "<base64 of 32 bytes>", "created": "2024-05-01T10:00:00Z"},
//             {"version": 2, "key": "...", "created": "..."}]}
//
// Parsing is strict: unknown or duplicate fields, an unknown format, bad base64, a key that is not
// 32 bytes, duplicate versions, version 0 and an active version that is not listed are errors.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace coffer::crypto::internal {

inline constexpr std::string_view kKeyringFormat = "coffer-keyring-v1";

struct MasterKeyEntry {
  std::string key;      // raw kMasterKeyBytes bytes
  std::string created;  // ISO-8601 as written in the file; may be empty
};

// The versions of a keyring. Key bytes are wiped when the object is destroyed or assigned over.
class KeyringContents {
 public:
  KeyringContents() = default;
  KeyringContents(KeyringContents&& other) noexcept = default;
  KeyringContents& operator=(KeyringContents&& other) noexcept;
  KeyringContents(const KeyringContents&) = delete;
  KeyringContents& operator=(const KeyringContents&) = delete;
  ~KeyringContents() { WipeKeys(); }

  std::uint32_t active = 0;
  std::map<std::uint32_t, MasterKeyEntry> keys;

 private:
  void WipeKeys();
};

// `source` names where the text came from ("key file /x/keyring.json") for error messages, which
// never quote key material. kInvalidArgument on any problem.
Result<KeyringContents> ParseKeyringJson(std::string_view text, std::string_view source);

// The file text for `contents` (contains the keys in base64: wipe it after use).
std::string SerializeKeyringJson(const KeyringContents& contents);

}  // namespace coffer::crypto::internal
