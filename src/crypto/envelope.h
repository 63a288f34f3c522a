#pragma once

// Envelope encryption. Every sealed value gets a fresh 256-bit data key (DEK); the value is
// encrypted with AES-256-GCM under the DEK, and the DEK is wrapped (AES-256-GCM) under the active
// master key (KEK). Both layers bind `aad` (for secret versions: ARN and version id), so a blob
// moved to another row fails to open. The byte layout is in docs/design/encryption-at-rest.md.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace coffer::crypto {

inline constexpr std::size_t kMasterKeyBytes = 32;
// A sealed value is exactly this many bytes longer than its plaintext (header, wrapped DEK, tags).
inline constexpr std::size_t kEnvelopeOverheadBytes = 96;

// A set of master-key versions, one of them active for new wraps.
//
// Sources:
//  - a key file (JSON, mode 0600 or stricter; anything looser is refused);
//  - an env var holding the same JSON, or one base64 key (then it is version 1).
// Thread-safe. Key bytes are wiped from memory when dropped.
//
// Errors of the factories: kFailedPrecondition for a key file that is not a regular file or whose
// mode grants any group/other permission; kInvalidArgument for malformed content (bad JSON,
// unknown format, bad base64, wrong key length, duplicate versions, active version missing);
// kUnavailable for I/O errors. Messages name the file but never contain key bytes.
class Keyring {
 public:
  virtual ~Keyring() = default;
  virtual std::uint32_t ActiveVersion() const = 0;
  // The raw 32-byte key of `version`; kDecryptionFailure when unknown (after one reload attempt).
  virtual Result<std::string> Key(std::uint32_t version) = 0;
  // Re-reads the source if it changed (a key file rewritten by `coffer keys rotate`).
  virtual Status Reload() = 0;
};

// Opens the key file, creating it with a fresh random key (version 1, mode 0600) when
// `create_if_missing` and it does not exist. A symlink is followed; its target must be a regular
// file of mode 0600 or stricter. The keyring re-reads the file when Reload() sees its inode, size
// or mtime change, and Key() of an unknown version reloads once before failing.
Result<std::unique_ptr<Keyring>> OpenFileKeyring(const std::string& path, bool create_if_missing);
// Parses the env var's value (JSON keyring or a single base64 key).
Result<std::unique_ptr<Keyring>> KeyringFromText(std::string_view text);
// Adds a new random version to the key file and makes it active (atomic rename, fsync).
// Returns the new version. Concurrent rotations of the same file are serialised with flock() on
// "<path>.lock".
Result<std::uint32_t> RotateFileKeyring(const std::string& path);

// Seals and opens values. Stateless apart from the keyring pointer (not owned, must outlive the
// Envelope), so one instance may be shared by all threads.
class Envelope {
 public:
  explicit Envelope(Keyring* keyring) : keyring_(keyring) {}

  // Seals `plaintext` under a fresh DEK wrapped by the active master key. The result is
  // plaintext.size() + kEnvelopeOverheadBytes long. kEncryptionFailure if the active key is
  // missing or OpenSSL fails.
  Result<std::string> Seal(std::string_view plaintext, std::string_view aad) const;
  // kDecryptionFailure if the blob is malformed, truncated, tampered with, bound to other `aad`,
  // or wrapped with a master-key version the keyring does not have. The message never contains
  // key or plaintext bytes.
  Result<std::string> Open(std::string_view blob, std::string_view aad) const;
  // Unwraps the DEK (checking the blob belongs to `aad`) and wraps it again under the active
  // master key. The value part (data nonce, ciphertext, tag) is copied byte for byte, so this is
  // cheap and never decrypts the value. A blob already under the active version comes back
  // unchanged. Errors as Open(); kEncryptionFailure if the new wrap fails.
  Result<std::string> Rewrap(std::string_view blob, std::string_view aad) const;
  // The master-key version a blob's DEK is wrapped with (header only, nothing is verified).
  // kDecryptionFailure if the blob is too short or not in this format.
  static Result<std::uint32_t> KeyVersionOf(std::string_view blob);

 private:
  Keyring* keyring_;
};

}  // namespace coffer::crypto
