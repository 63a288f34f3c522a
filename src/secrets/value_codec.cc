#include "secrets/value_codec.h"

#include "crypto/hash.h"
#include "crypto/wipe.h"

namespace coffer::secrets {
namespace {

constexpr char kStringTag = 'S';
constexpr char kBinaryTag = 'B';

}  // namespace

std::string VersionAad(std::string_view arn, std::string_view version_id) {
  std::string aad;
  aad.reserve(arn.size() + 1 + version_id.size());
  aad.append(arn).append("\n").append(version_id);
  return aad;
}

Result<SealedValue> SealValue(const crypto::Envelope& envelope, std::string_view arn,
                              std::string_view version_id, const SecretValue& value) {
  const bool is_string = value.string.has_value();
  const std::string& bytes = is_string ? *value.string : *value.binary;
  std::string plaintext;
  plaintext.reserve(bytes.size() + 1);
  plaintext.push_back(is_string ? kStringTag : kBinaryTag);
  plaintext.append(bytes);
  auto sealed = envelope.Seal(plaintext, VersionAad(arn, version_id));
  crypto::Wipe(plaintext);
  if (!sealed.ok()) {
    return Status(StatusCode::kEncryptionFailure,
                  "Secrets Manager can't encrypt the secret value: " + sealed.status().message());
  }
  auto key_version = crypto::Envelope::KeyVersionOf(*sealed);
  if (!key_version.ok()) return key_version.status();
  return SealedValue{std::move(*sealed), *key_version};
}

Result<SecretValue> OpenValue(const crypto::Envelope& envelope, std::string_view arn,
                              std::string_view version_id, std::string_view ciphertext) {
  auto opened = envelope.Open(ciphertext, VersionAad(arn, version_id));
  if (!opened.ok()) {
    return Status(
        StatusCode::kDecryptionFailure,
        "Secrets Manager can't decrypt the protected secret text: " + opened.status().message());
  }
  std::string& plaintext = *opened;
  if (plaintext.empty() || (plaintext[0] != kStringTag && plaintext[0] != kBinaryTag)) {
    crypto::Wipe(plaintext);
    return Status(StatusCode::kDecryptionFailure, "The stored secret value is malformed.");
  }
  SecretValue value;
  (plaintext[0] == kStringTag ? value.string : value.binary) = plaintext.substr(1);
  crypto::Wipe(plaintext);
  return value;
}

bool SameValue(const SecretValue& a, const SecretValue& b) {
  if (a.string.has_value() != b.string.has_value()) return false;
  if (a.binary.has_value() != b.binary.has_value()) return false;
  if (a.string) return crypto::ConstantTimeEquals(*a.string, *b.string);
  if (a.binary) return crypto::ConstantTimeEquals(*a.binary, *b.binary);
  return true;
}

}  // namespace coffer::secrets
