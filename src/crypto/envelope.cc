#include "crypto/envelope.h"

#include <cstring>

#include <openssl/rand.h>

#include "crypto/internal/aes_gcm.h"
#include "crypto/wipe.h"

namespace coffer::crypto {
namespace {

using internal::AesGcm;
using internal::kAesGcmKeyBytes;
using internal::kAesGcmNonceBytes;
using internal::kAesGcmTagBytes;

// The byte layout (docs/design/encryption-at-rest.md, "Sealed value format v1"):
//   0  magic "CFE1"            4
//   4  master key version      4  big-endian, >= 1
//   8  wrap nonce             12
//  20  wrapped DEK            32
//  52  wrap tag               16
//  68  data nonce             12
//  80  ciphertext              n
//  80+n data tag              16
constexpr std::string_view kMagic("CFE1", 4);
constexpr std::size_t kVersionOffset = 4;
constexpr std::size_t kWrapNonceOffset = 8;
constexpr std::size_t kWrappedDekOffset = kWrapNonceOffset + kAesGcmNonceBytes;  // 20
constexpr std::size_t kWrapTagOffset = kWrappedDekOffset + kAesGcmKeyBytes;      // 52
constexpr std::size_t kDataNonceOffset = kWrapTagOffset + kAesGcmTagBytes;       // 68
constexpr std::size_t kCiphertextOffset = kDataNonceOffset + kAesGcmNonceBytes;  // 80
static_assert(kCiphertextOffset + kAesGcmTagBytes == kEnvelopeOverheadBytes);
// The part of the header the wrap layer authenticates: magic and key version.
constexpr std::size_t kWrapHeaderBytes = kWrapNonceOffset;

// Domain separation: the two layers never accept each other's associated data, and no other
// protocol that reuses a master key can be confused with this one. Fixed length, so
// domain || header || caller AAD is unambiguous.
constexpr std::string_view kWrapDomain("coffer envelope v1 dek-wrap\0", 28);
constexpr std::string_view kDataDomain("coffer envelope v1 value\0\0\0\0", 28);
static_assert(kWrapDomain.size() == kDataDomain.size());

Status DecryptionFailure(std::string message) {
  return Status(StatusCode::kDecryptionFailure, "cannot open sealed value: " + std::move(message));
}

Status EncryptionFailure(std::string message) {
  return Status(StatusCode::kEncryptionFailure, std::move(message));
}

void PutU32(char* p, std::uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

std::uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

Status FillRandom(char* p, std::size_t n) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(p), static_cast<int>(n)) != 1) {
    return EncryptionFailure("the random generator failed");
  }
  return Status::Ok();
}

// Views into a blob whose size and magic have been checked.
struct ParsedBlob {
  std::uint32_t version;
  std::string_view wrap_header;  // magic + version
  std::string_view wrap_nonce;
  std::string_view wrapped_dek;
  std::string_view wrap_tag;
  std::string_view data_part;  // data nonce .. data tag: what Rewrap copies verbatim
  std::string_view data_nonce;
  std::string_view ciphertext;
  std::string_view data_tag;
};

Result<ParsedBlob> Parse(std::string_view blob) {
  if (blob.size() < kEnvelopeOverheadBytes) {
    return DecryptionFailure("truncated (" + std::to_string(blob.size()) +
                             " bytes, the minimum is " + std::to_string(kEnvelopeOverheadBytes) +
                             ")");
  }
  if (blob.substr(0, kMagic.size()) != kMagic) {
    return DecryptionFailure("unknown format (bad magic)");
  }
  ParsedBlob p;
  p.version = GetU32(blob.data() + kVersionOffset);
  if (p.version == 0) return DecryptionFailure("master key version 0 is invalid");
  p.wrap_header = blob.substr(0, kWrapHeaderBytes);
  p.wrap_nonce = blob.substr(kWrapNonceOffset, kAesGcmNonceBytes);
  p.wrapped_dek = blob.substr(kWrappedDekOffset, kAesGcmKeyBytes);
  p.wrap_tag = blob.substr(kWrapTagOffset, kAesGcmTagBytes);
  p.data_part = blob.substr(kDataNonceOffset);
  p.data_nonce = blob.substr(kDataNonceOffset, kAesGcmNonceBytes);
  p.ciphertext = blob.substr(kCiphertextOffset, blob.size() - kEnvelopeOverheadBytes);
  p.data_tag = blob.substr(blob.size() - kAesGcmTagBytes);
  return p;
}

// Fetches a master key, checking its size. On error the status carries `code`.
Result<std::string> FetchKey(Keyring* keyring, std::uint32_t version, StatusCode code) {
  Result<std::string> key = keyring->Key(version);
  if (!key.ok()) return Status(code, key.status().message());
  if (key->size() != kMasterKeyBytes) {
    Wipe(*key);
    return Status(StatusCode::kInternal,
                  "master key version " + std::to_string(version) + " has the wrong length");
  }
  return key;
}

// Unwraps the DEK of `p` into `dek` (32 bytes, wiped by the caller).
Status UnwrapDek(AesGcm& gcm, Keyring* keyring, const ParsedBlob& p, std::string_view aad,
                 std::string& dek) {
  Result<std::string> kek = FetchKey(keyring, p.version, StatusCode::kDecryptionFailure);
  if (!kek.ok()) {
    if (kek.status().code() == StatusCode::kDecryptionFailure) {
      return DecryptionFailure(kek.status().message());
    }
    return kek.status();
  }
  WipeOnExit wipe_kek(*kek);
  Status s = gcm.Decrypt(*kek, p.wrap_nonce, {kWrapDomain, p.wrap_header, aad}, p.wrapped_dek,
                         p.wrap_tag, dek.data());
  if (!s.ok()) {
    return DecryptionFailure("the data key does not authenticate under master key version " +
                             std::to_string(p.version) +
                             " (tampered, or sealed for another context)");
  }
  return Status::Ok();
}

// Writes magic, `version`, `wrap_nonce` and `dek` wrapped under `kek` into blob[0, 68).
Status WrapDek(AesGcm& gcm, std::string_view kek, std::uint32_t version, std::string_view dek,
               std::string_view wrap_nonce, std::string_view aad, std::string& blob) {
  std::memcpy(blob.data(), kMagic.data(), kMagic.size());
  PutU32(blob.data() + kVersionOffset, version);
  std::memcpy(blob.data() + kWrapNonceOffset, wrap_nonce.data(), kAesGcmNonceBytes);
  const std::string_view header(blob.data(), kWrapHeaderBytes);
  const std::string_view nonce(blob.data() + kWrapNonceOffset, kAesGcmNonceBytes);
  return gcm.Encrypt(kek, nonce, {kWrapDomain, header, aad}, dek, blob.data() + kWrappedDekOffset,
                     blob.data() + kWrapTagOffset);
}

}  // namespace

Result<std::string> Envelope::Seal(std::string_view plaintext, std::string_view aad) const {
  if (plaintext.size() > internal::kAesGcmMaxInputBytes) {
    return EncryptionFailure("value too large to seal");
  }
  const std::uint32_t version = keyring_->ActiveVersion();
  COFFER_ASSIGN_OR_RETURN(std::string kek,
                          FetchKey(keyring_, version, StatusCode::kEncryptionFailure));
  WipeOnExit wipe_kek(kek);

  // DEK, wrap nonce and data nonce from one DRBG call (each call costs about a microsecond).
  std::string fresh(kAesGcmKeyBytes + 2 * kAesGcmNonceBytes, '\0');
  WipeOnExit wipe_fresh(fresh);
  COFFER_RETURN_IF_ERROR(FillRandom(fresh.data(), fresh.size()));
  const std::string_view dek = std::string_view(fresh).substr(0, kAesGcmKeyBytes);
  const std::string_view wrap_nonce =
      std::string_view(fresh).substr(kAesGcmKeyBytes, kAesGcmNonceBytes);

  std::string blob(kEnvelopeOverheadBytes + plaintext.size(), '\0');
  AesGcm gcm;
  COFFER_RETURN_IF_ERROR(WrapDek(gcm, kek, version, dek, wrap_nonce, aad, blob));
  std::memcpy(blob.data() + kDataNonceOffset, fresh.data() + kAesGcmKeyBytes + kAesGcmNonceBytes,
              kAesGcmNonceBytes);
  const std::string_view data_nonce(blob.data() + kDataNonceOffset, kAesGcmNonceBytes);
  COFFER_RETURN_IF_ERROR(gcm.Encrypt(dek, data_nonce, {kDataDomain, kMagic, aad}, plaintext,
                                     blob.data() + kCiphertextOffset,
                                     blob.data() + kCiphertextOffset + plaintext.size()));
  return blob;
}

Result<std::string> Envelope::Open(std::string_view blob, std::string_view aad) const {
  COFFER_ASSIGN_OR_RETURN(ParsedBlob p, Parse(blob));
  AesGcm gcm;
  std::string dek(kAesGcmKeyBytes, '\0');
  WipeOnExit wipe_dek(dek);
  COFFER_RETURN_IF_ERROR(UnwrapDek(gcm, keyring_, p, aad, dek));

  std::string plaintext(p.ciphertext.size(), '\0');
  Status s = gcm.Decrypt(dek, p.data_nonce, {kDataDomain, kMagic, aad}, p.ciphertext, p.data_tag,
                         plaintext.data());
  if (!s.ok()) {
    // Decrypt already wiped the unauthenticated plaintext.
    return DecryptionFailure(
        "the value does not authenticate (tampered, or sealed for another "
        "context)");
  }
  return plaintext;
}

Result<std::string> Envelope::Rewrap(std::string_view blob, std::string_view aad) const {
  COFFER_ASSIGN_OR_RETURN(ParsedBlob p, Parse(blob));
  AesGcm gcm;
  std::string dek(kAesGcmKeyBytes, '\0');
  WipeOnExit wipe_dek(dek);
  // Unwrapping first also proves the blob belongs to `aad` before anything is re-signed.
  COFFER_RETURN_IF_ERROR(UnwrapDek(gcm, keyring_, p, aad, dek));

  const std::uint32_t active = keyring_->ActiveVersion();
  if (active == p.version) return std::string(blob);

  COFFER_ASSIGN_OR_RETURN(std::string kek,
                          FetchKey(keyring_, active, StatusCode::kEncryptionFailure));
  WipeOnExit wipe_kek(kek);
  char wrap_nonce[kAesGcmNonceBytes];
  COFFER_RETURN_IF_ERROR(FillRandom(wrap_nonce, sizeof(wrap_nonce)));
  std::string out(blob.size(), '\0');
  COFFER_RETURN_IF_ERROR(
      WrapDek(gcm, kek, active, dek, std::string_view(wrap_nonce, sizeof(wrap_nonce)), aad, out));
  std::memcpy(out.data() + kDataNonceOffset, p.data_part.data(), p.data_part.size());
  return out;
}

Result<std::uint32_t> Envelope::KeyVersionOf(std::string_view blob) {
  COFFER_ASSIGN_OR_RETURN(ParsedBlob p, Parse(blob));
  return p.version;
}

}  // namespace coffer::crypto
