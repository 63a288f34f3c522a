#include "crypto/internal/aes_gcm.h"

#include <cassert>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>

namespace coffer::crypto::internal {
namespace {

// Fetched once: the implicit fetch behind EVP_aes_256_gcm() costs a provider lookup per init.
// Never freed; it lives as long as the process.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// The reason of the most recent OpenSSL error (never key material), and an empty error queue.
std::string DrainOpenSslErrors() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    reason = buf;
  }
  return reason.empty() ? "no OpenSSL error recorded" : reason;
}

Status Fail(StatusCode code, std::string_view what) {
  return Status(code, std::string(what) + " (" + DrainOpenSslErrors() + ")");
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

AesGcm::AesGcm() : ctx_(EVP_CIPHER_CTX_new()) {}

Status AesGcm::Encrypt(std::string_view key, std::string_view nonce,
                       std::initializer_list<std::string_view> aad_parts,
                       std::string_view plaintext, char* out, char* tag) {
  assert(key.size() == kAesGcmKeyBytes && nonce.size() == kAesGcmNonceBytes);
  constexpr StatusCode kCode = StatusCode::kEncryptionFailure;
  if (plaintext.size() > kAesGcmMaxInputBytes) {
    return Status(kCode, "AES-GCM: input too large");
  }
  if (ctx_ == nullptr || Aes256Gcm() == nullptr) {
    return Fail(kCode, "AES-GCM: cannot allocate a cipher context");
  }
  // The default GCM IV length is 12 bytes, which is the one we use.
  if (EVP_EncryptInit_ex2(ctx_.get(), Aes256Gcm(), U(key), U(nonce), nullptr) != 1) {
    return Fail(kCode, "AES-GCM: encrypt init failed");
  }
  int len = 0;
  for (std::string_view part : aad_parts) {
    if (part.empty()) continue;
    if (part.size() > kAesGcmMaxInputBytes) return Status(kCode, "AES-GCM: AAD too large");
    if (EVP_EncryptUpdate(ctx_.get(), nullptr, &len, U(part), static_cast<int>(part.size())) != 1) {
      return Fail(kCode, "AES-GCM: AAD update failed");
    }
  }
  auto* o = reinterpret_cast<unsigned char*>(out);
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx_.get(), o, &len, U(plaintext), static_cast<int>(plaintext.size())) !=
        1) {
      return Fail(kCode, "AES-GCM: encrypt update failed");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx_.get(), o + written, &len) != 1) {
    return Fail(kCode, "AES-GCM: encrypt final failed");
  }
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size()) {
    return Status(kCode, "AES-GCM: unexpected ciphertext length");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAesGcmTagBytes),
                          tag) != 1) {
    return Fail(kCode, "AES-GCM: cannot read the tag");
  }
  return Status::Ok();
}

Status AesGcm::Decrypt(std::string_view key, std::string_view nonce,
                       std::initializer_list<std::string_view> aad_parts,
                       std::string_view ciphertext, std::string_view tag, char* out) {
  assert(key.size() == kAesGcmKeyBytes && nonce.size() == kAesGcmNonceBytes);
  constexpr StatusCode kCode = StatusCode::kDecryptionFailure;
  if (tag.size() != kAesGcmTagBytes) return Status(kCode, "AES-GCM: bad tag length");
  if (ciphertext.size() > kAesGcmMaxInputBytes) {
    return Status(kCode, "AES-GCM: input too large");
  }
  if (ctx_ == nullptr || Aes256Gcm() == nullptr) {
    return Fail(kCode, "AES-GCM: cannot allocate a cipher context");
  }
  if (EVP_DecryptInit_ex2(ctx_.get(), Aes256Gcm(), U(key), U(nonce), nullptr) != 1) {
    return Fail(kCode, "AES-GCM: decrypt init failed");
  }
  int len = 0;
  for (std::string_view part : aad_parts) {
    if (part.empty()) continue;
    if (part.size() > kAesGcmMaxInputBytes) return Status(kCode, "AES-GCM: AAD too large");
    if (EVP_DecryptUpdate(ctx_.get(), nullptr, &len, U(part), static_cast<int>(part.size())) != 1) {
      return Fail(kCode, "AES-GCM: AAD update failed");
    }
  }
  auto* o = reinterpret_cast<unsigned char*>(out);
  int written = 0;
  auto wipe_and_fail = [&](std::string_view what, bool openssl_error) {
    if (!ciphertext.empty()) OPENSSL_cleanse(out, ciphertext.size());
    if (openssl_error) return Fail(kCode, what);
    ERR_clear_error();
    return Status(kCode, std::string(what));
  };
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx_.get(), o, &len, U(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      return wipe_and_fail("AES-GCM: decrypt update failed", true);
    }
    written = len;
  }
  // SET_TAG takes a non-const pointer but only reads it.
  if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAesGcmTagBytes),
                          const_cast<char*>(tag.data())) != 1) {
    return wipe_and_fail("AES-GCM: cannot set the tag", true);
  }
  if (EVP_DecryptFinal_ex(ctx_.get(), o + written, &len) != 1) {
    return wipe_and_fail("authentication failed", false);
  }
  written += len;
  if (static_cast<std::size_t>(written) != ciphertext.size()) {
    return wipe_and_fail("AES-GCM: unexpected plaintext length", false);
  }
  return Status::Ok();
}

}  // namespace coffer::crypto::internal
