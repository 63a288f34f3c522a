#include "api/errors.h"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "crypto/random.h"

namespace coffer::api {
namespace {


// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by an odd constant, so each
// thread's sequence has period 2^64, and a bijective output mix. Seeded once per thread from the
// CSPRNG, so threads (and processes) start at unrelated points of the cycle. Fast, not
// cryptographic: fine for request ids, which only need to be unique.
class RequestIdGenerator {
 public:
  RequestIdGenerator() {
    const std::string seed = crypto::RandomBytes(sizeof(state_));
    std::memcpy(&state_, seed.data(), sizeof(state_));
  }
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_ = 0;
};

}  // namespace

std::string NewRequestId() {
  thread_local RequestIdGenerator generator;
  unsigned char b[16];
  const std::uint64_t hi = generator.Next();
  const std::uint64_t lo = generator.Next();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // keep the '-'
    out[pos++] = kHex[b[i] >> 4];
    out[pos++] = kHex[b[i] & 0x0f];
  }
  return out;
}

http::Response ErrorResponse(const Status& status, std::string_view request_id,
                             int http_status_override) {
  AwsError row = AwsErrorFor(status.code());
  nlohmann::json body = {{"__type", row.type}, {"Message", ClientMessage(status)}};
  http::Response response;
  response.status = http_status_override != 0 ? http_status_override : row.http_status;
  response.headers.emplace_back("Content-Type", kJsonContentType);
  response.headers.emplace_back(kRequestIdHeader, request_id);
  // `replace`: a message that quotes client input must never make the error path throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace coffer::api
