#pragma once

// SHA-256 and HMAC-SHA256 over OpenSSL 3. Outputs are raw 32-byte strings; HexEncode for text.

#include <string>
#include <string_view>

namespace coffer::crypto {

inline constexpr std::size_t kSha256Bytes = 32;

std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace coffer::crypto
