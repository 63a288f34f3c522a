#include "api/error_table.h"

namespace coffer::api {
namespace {

constexpr AwsError kInternalServiceError{"InternalServiceError", 500, kInternalErrorMessage};

}  // namespace

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
    case StatusCode::kInvalidLookupAttributes:
      return {"InvalidLookupAttributesException", 400,
              "A lookup attribute is specified that is not valid."};
    case StatusCode::kInvalidTimeRange:
      return {"InvalidTimeRangeException", 400,
              "The start time occurs after the end time, or the time range is outside the range "
              "of possible values."};
    case StatusCode::kInvalidMaxResults:
      return {"InvalidMaxResultsException", 400, "The limit specified is not valid."};
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

}  // namespace coffer::api
