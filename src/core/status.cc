#include "core/status.h"

namespace coffer {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "Ok";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kValidation: return "Validation";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kInvalidNextToken: return "InvalidNextToken";
    case StatusCode::kMalformedPolicy: return "MalformedPolicy";
    case StatusCode::kPublicPolicy: return "PublicPolicy";
    case StatusCode::kPreconditionNotMet: return "PreconditionNotMet";
    case StatusCode::kEncryptionFailure: return "EncryptionFailure";
    case StatusCode::kDecryptionFailure: return "DecryptionFailure";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kInvalidSignature: return "InvalidSignature";
    case StatusCode::kIncompleteSignature: return "IncompleteSignature";
    case StatusCode::kMissingAuthToken: return "MissingAuthToken";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kUnknownOperation: return "UnknownOperation";
    case StatusCode::kSerialization: return "Serialization";
    case StatusCode::kThrottled: return "Throttled";
    case StatusCode::kPayloadTooLarge: return "PayloadTooLarge";
    case StatusCode::kInvalidLookupAttributes: return "InvalidLookupAttributes";
    case StatusCode::kInvalidTimeRange: return "InvalidTimeRange";
    case StatusCode::kInvalidMaxResults: return "InvalidMaxResults";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kDataLoss: return "DataLoss";
    case StatusCode::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::WithContext(std::string_view what) const {
  if (ok()) return *this;
  std::string m(what);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace coffer
