#pragma once

// AES-256-GCM over OpenSSL 3 EVP, for the envelope. Not a general-purpose AEAD API: nonces are
// always 96 bits, tags 128 bits, and the caller supplies buffers of the right size.

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>

#include <openssl/evp.h>

#include "core/status.h"

namespace coffer::crypto::internal {

inline constexpr std::size_t kAesGcmKeyBytes = 32;
inline constexpr std::size_t kAesGcmNonceBytes = 12;
inline constexpr std::size_t kAesGcmTagBytes = 16;
// EVP lengths are ints; nothing the envelope seals comes anywhere near this.
inline constexpr std::size_t kAesGcmMaxInputBytes = std::size_t{1} << 30;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// One EVP_CIPHER_CTX, reusable for several operations in a row (the envelope does two per call).
// Freeing the context wipes its key schedule. Not thread-safe; make one per operation or thread.
class AesGcm {
 public:
  AesGcm();

  // Encrypts `plaintext` into `out` (exactly plaintext.size() bytes) and writes the 16-byte tag
  // to `tag`. The associated data is the concatenation of `aad_parts`. `key` is 32 bytes and
  // `nonce` 12. kEncryptionFailure if OpenSSL fails.
  Status Encrypt(std::string_view key, std::string_view nonce,
                 std::initializer_list<std::string_view> aad_parts, std::string_view plaintext,
                 char* out, char* tag);

  // Decrypts `ciphertext` into `out` (exactly ciphertext.size() bytes) and checks `tag` (16
  // bytes). kDecryptionFailure if the tag does not verify; `out` is then wiped, since GCM writes
  // unauthenticated plaintext before it can check the tag.
  Status Decrypt(std::string_view key, std::string_view nonce,
                 std::initializer_list<std::string_view> aad_parts, std::string_view ciphertext,
                 std::string_view tag, char* out);

 private:
  CipherCtxPtr ctx_;
};

}  // namespace coffer::crypto::internal
