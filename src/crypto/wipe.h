#pragma once

// Wiping secret bytes from memory. OPENSSL_cleanse cannot be optimised away, unlike memset on a
// buffer that is about to die. Use it on anything that held key material or plaintext.

#include <string>

#include <openssl/crypto.h>

namespace coffer::crypto {

// Overwrites the string's bytes with zeros (its size is kept). Only the current buffer is wiped:
// bytes left behind by an earlier reallocation are out of reach, so reserve() secret buffers up
// front.
inline void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

// Wipes `s` when the scope ends, whichever way it ends.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { Wipe(s_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

}  // namespace coffer::crypto
