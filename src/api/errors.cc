#include "api/errors.h"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "crypto/random.h"

namespace coffer::api {
namespace {

constexpr AwsError kInternalServiceError{"InternalServiceError", 500, kInternalErrorMessage};

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

AwsError AwsErrorFor(StatusCode code, bool* found) {
  if (found != nullptr) *found = true;
  // Default messages are the model's documentation of each error shape.
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {"InvalidParameterException", 400, "The parameter name or value is invalid."};
    case StatusCode::kValidation:
      return {"ValidationException", 400, "The request failed validation."};
    case StatusCode::kFailedPrecondition:
      return {"InvalidRequestException", 400,
              "A parameter value is not valid for the current state of the resource."};
    case StatusCode::kNotFound:
      return {"ResourceNotFoundException", 400,
              "Secrets Manager can't find the resource that you asked for."};
    case StatusCode::kAlreadyExists:
      return {"ResourceExistsException", 400,
              "A resource with the ID you requested already exists."};
    case StatusCode::kResourceExhausted:
      return {"LimitExceededException", 400,
              "The request failed because it would exceed one of the Secrets Manager quotas."};
    case StatusCode::kInvalidNextToken:
      return {"InvalidNextTokenException", 400, "The NextToken value is invalid."};
    case StatusCode::kMalformedPolicy:
      return {"MalformedPolicyDocumentException", 400, "The resource policy has syntax errors."};
    case StatusCode::kPublicPolicy:
      return {"PublicPolicyException", 400,
              "The BlockPublicPolicy parameter is set to true, and the resource policy did not "
              "prevent broad access to the secret."};
    case StatusCode::kPreconditionNotMet:
      return {"PreconditionNotMetException", 400,
              "The request failed because you did not complete all the prerequisite steps."};
    case StatusCode::kEncryptionFailure:
      return {"EncryptionFailure", 400,
              "Secrets Manager can't encrypt the protected secret text."};
    case StatusCode::kDecryptionFailure:
      return {"DecryptionFailure", 400,
              "Secrets Manager can't decrypt the protected secret text."};
    case StatusCode::kUnauthenticated:
      return {"UnrecognizedClientException", 400,
              "The security token included in the request is invalid."};
    case StatusCode::kInvalidSignature:
      return {"InvalidSignatureException", 400,
              "The request signature we calculated does not match the signature you provided."};
    case StatusCode::kIncompleteSignature:
      return {"IncompleteSignatureException", 400, "The request signature is incomplete."};
    case StatusCode::kMissingAuthToken:
      return {"MissingAuthenticationTokenException", 403, "Missing Authentication Token"};
    case StatusCode::kPermissionDenied:
      return {"AccessDeniedException", 400,
              "You are not authorized to perform this operation."};
    case StatusCode::kUnknownOperation:
      return {"UnknownOperationException", 400, "The requested operation is not recognized."};
    case StatusCode::kSerialization:
      return {"SerializationException", 400, "The request body could not be deserialized."};
    case StatusCode::kThrottled:
      return {"ThrottlingException", 400, "Rate exceeded"};
    case StatusCode::kPayloadTooLarge:
      return {"RequestEntityTooLargeException", 413,
              "The request body is larger than the server accepts."};
    case StatusCode::kAborted:
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return kInternalServiceError;
    case StatusCode::kOk:
      break;
  }
  if (found != nullptr) *found = false;
  return kInternalServiceError;
}

std::string ClientMessage(const Status& status) {
  AwsError row = AwsErrorFor(status.code());
  if (row.http_status >= 500) return std::string(kInternalErrorMessage);
  if (status.message().empty()) return std::string(row.default_message);
  return status.message();
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
