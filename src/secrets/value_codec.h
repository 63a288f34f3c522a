#pragma once

// How a secret version's value is sealed: the plaintext is one tag byte ('S' for SecretString,
// 'B' for SecretBinary) followed by the value bytes, sealed with the envelope under the
// associated data VersionAad(arn, version_id). `coffer keys rotate` rewraps with the same aad.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/envelope.h"
#include "secrets/types.h"

namespace coffer::secrets {

// The associated data bound into a version's ciphertext: "<arn>\n<version_id>".
std::string VersionAad(std::string_view arn, std::string_view version_id);

struct SealedValue {
  std::string ciphertext;
  std::uint32_t key_version = 0;
};

// `value` must hold exactly one of string/binary. kEncryptionFailure if sealing fails.
Result<SealedValue> SealValue(const crypto::Envelope& envelope, std::string_view arn,
                              std::string_view version_id, const SecretValue& value);
// kDecryptionFailure if the blob does not open or its plaintext is malformed.
Result<SecretValue> OpenValue(const crypto::Envelope& envelope, std::string_view arn,
                              std::string_view version_id, std::string_view ciphertext);
// Same kind and bytes; constant time in the contents.
bool SameValue(const SecretValue& a, const SecretValue& b);

}  // namespace coffer::secrets
