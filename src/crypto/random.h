#pragma once

// Cryptographically secure randomness (OpenSSL's DRBG). Never use <random> for anything secret.

#include <cstdint>
#include <string>
#include <string_view>

namespace coffer::crypto {

// `n` random bytes. Aborts if the DRBG fails: nothing secret may be made without it.
std::string RandomBytes(std::size_t n);
// A uniform integer in [0, bound). `bound` > 0.
std::uint64_t RandomUniform(std::uint64_t bound);
// `n` characters drawn uniformly from `alphabet` (non-empty).
std::string RandomString(std::size_t n, std::string_view alphabet);
// A random (version 4) UUID in canonical lowercase form.
std::string RandomUuid();

}  // namespace coffer::crypto
