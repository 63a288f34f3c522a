#include "secrets/page_token.h"

#include <charconv>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "secrets/messages.h"

namespace coffer::secrets {
namespace {

Status InvalidToken() {
  return Status(StatusCode::kInvalidNextToken, std::string(msg::kInvalidNextToken));
}

}  // namespace

std::string QueryFingerprint(std::string_view query) {
  return HexEncode(crypto::Sha256(query).substr(0, 8));
}

std::string EncodePageToken(std::size_t offset, std::string_view fingerprint) {
  return Base64Encode(std::to_string(offset) + ":" + std::string(fingerprint));
}

Result<std::size_t> DecodePageToken(std::string_view token, std::string_view fingerprint) {
  auto text = Base64Decode(token);
  if (!text) return InvalidToken();
  const auto colon = text->find(':');
  if (colon == std::string::npos || std::string_view(*text).substr(colon + 1) != fingerprint) {
    return InvalidToken();
  }
  std::size_t offset = 0;
  const char* begin = text->data();
  const char* end = begin + colon;
  auto [ptr, ec] = std::from_chars(begin, end, offset);
  if (ec != std::errc() || ptr != end || colon == 0) return InvalidToken();
  return offset;
}

}  // namespace coffer::secrets
