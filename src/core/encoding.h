#pragma once

// Byte encodings used across the protocol: base64 (SecretBinary), hex (SigV4), and time formats.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coffer {

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding. Whitespace is not accepted. nullopt on any malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view bytes);  // lowercase
std::optional<std::string> HexDecode(std::string_view hex);

// "20150830T123600Z" <-> milliseconds since the epoch (UTC).
std::optional<std::int64_t> ParseAmzDate(std::string_view text);
std::string FormatAmzDate(std::int64_t millis);
// "2015-08-30T12:36:00Z" (ISO-8601, second precision, UTC).
std::string FormatIso8601(std::int64_t millis);
// "Sun, 30 Aug 2015 12:36:00 GMT" -> millis (the HTTP Date header, RFC 1123).
std::optional<std::int64_t> ParseHttpDate(std::string_view text);

// Midnight UTC of the day containing `millis`.
std::int64_t StartOfUtcDay(std::int64_t millis);

}  // namespace coffer
