#include "api/errors.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

namespace coffer::api {
namespace {

std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(RequestIdTest, CanonicalVersion4UuidsThatDoNotRepeat) {
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewRequestId();
    ASSERT_TRUE(std::regex_match(id, uuid4)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
}

TEST(RequestIdTest, ThreadsDrawDifferentIds) {
  std::set<std::string> seen;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 1000; ++i) mine.push_back(NewRequestId());
      std::lock_guard<std::mutex> lock(mu);
      for (auto& id : mine) seen.insert(std::move(id));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 4000u);
}

TEST(ErrorsTest, EveryStatusCodeHasARow) {
  // The enumerators are contiguous from kOk to kInternal (core/status.h); a new code appended
  // after kInternal must move this bound, and then needs its row.
  for (int c = static_cast<int>(StatusCode::kOk) + 1; c <= static_cast<int>(StatusCode::kInternal);
       ++c) {
    auto code = static_cast<StatusCode>(c);
    bool found = false;
    AwsError row = AwsErrorFor(code, &found);
    EXPECT_TRUE(found) << StatusCodeName(code);
    EXPECT_FALSE(row.type.empty()) << StatusCodeName(code);
    EXPECT_FALSE(row.default_message.empty()) << StatusCodeName(code);
    EXPECT_TRUE(std::set<int>({400, 403, 413, 500}).count(row.http_status))
        << StatusCodeName(code) << " " << row.http_status;
    EXPECT_NE(StatusCodeName(code), "Unknown") << c;
  }
  // One past the last enumerator is not a code: the status name table says so too.
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(static_cast<int>(StatusCode::kInternal) + 1)),
            "Unknown");
}

TEST(ErrorsTest, RowsMatchAws) {
  struct Case {
    StatusCode code;
    std::string_view type;
    int http;
  };
  const Case cases[] = {
      {StatusCode::kInvalidArgument, "InvalidParameterException", 400},
      {StatusCode::kValidation, "ValidationException", 400},
      {StatusCode::kFailedPrecondition, "InvalidRequestException", 400},
      {StatusCode::kNotFound, "ResourceNotFoundException", 400},
      {StatusCode::kAlreadyExists, "ResourceExistsException", 400},
      {StatusCode::kResourceExhausted, "LimitExceededException", 400},
      {StatusCode::kInvalidNextToken, "InvalidNextTokenException", 400},
      {StatusCode::kMalformedPolicy, "MalformedPolicyDocumentException", 400},
      {StatusCode::kPublicPolicy, "PublicPolicyException", 400},
      {StatusCode::kPreconditionNotMet, "PreconditionNotMetException", 400},
      {StatusCode::kEncryptionFailure, "EncryptionFailure", 400},
      {StatusCode::kDecryptionFailure, "DecryptionFailure", 400},
      {StatusCode::kUnauthenticated, "UnrecognizedClientException", 400},
      {StatusCode::kInvalidSignature, "InvalidSignatureException", 400},
      {StatusCode::kIncompleteSignature, "IncompleteSignatureException", 400},
      {StatusCode::kMissingAuthToken, "MissingAuthenticationTokenException", 403},
      {StatusCode::kPermissionDenied, "AccessDeniedException", 400},
      {StatusCode::kUnknownOperation, "UnknownOperationException", 400},
      {StatusCode::kSerialization, "SerializationException", 400},
      {StatusCode::kThrottled, "ThrottlingException", 400},
      {StatusCode::kPayloadTooLarge, "RequestEntityTooLargeException", 413},
      {StatusCode::kAborted, "InternalServiceError", 500},
      {StatusCode::kUnavailable, "InternalServiceError", 500},
      {StatusCode::kDataLoss, "InternalServiceError", 500},
      {StatusCode::kInternal, "InternalServiceError", 500},
  };
  for (const auto& c : cases) {
    AwsError row = AwsErrorFor(c.code);
    EXPECT_EQ(row.type, c.type) << StatusCodeName(c.code);
    EXPECT_EQ(row.http_status, c.http) << StatusCodeName(c.code);
  }
}

TEST(ErrorsTest, ErrorResponseHasAwsShape) {
  http::Response r = ErrorResponse(
      Status::NotFound("Secrets Manager can't find the specified secret."), "req-1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(HeaderOf(r, "x-amzn-RequestId"), "req-1");
  EXPECT_EQ(r.body,
            R"({"Message":"Secrets Manager can't find the specified secret.",)"
            R"("__type":"ResourceNotFoundException"})");
}

TEST(ErrorsTest, ServerErrorsNeverLeakDetails) {
  for (StatusCode code : {StatusCode::kInternal, StatusCode::kAborted, StatusCode::kDataLoss,
                          StatusCode::kUnavailable}) {
    http::Response r = ErrorResponse(Status(code, "sqlite: disk I/O error at /var/lib/x"), "id");
    EXPECT_EQ(r.status, 500);
    auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["__type"], "InternalServiceError");
    EXPECT_EQ(body["Message"], "An error occurred on the server side.");
    EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
  }
}

TEST(ErrorsTest, EmptyMessageGetsTheDefault) {
  http::Response r = ErrorResponse(Status(StatusCode::kThrottled, ""), "id");
  EXPECT_EQ(nlohmann::json::parse(r.body)["Message"], "Rate exceeded");
}

TEST(ErrorsTest, StatusOverrideKeepsTheType) {
  http::Response r = ErrorResponse(Status(StatusCode::kUnknownOperation, "no"), "id", 405);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(nlohmann::json::parse(r.body)["__type"], "UnknownOperationException");
}

TEST(ErrorsTest, InvalidUtf8InMessageDoesNotThrow) {
  http::Response r = ErrorResponse(Status::InvalidArgument("bad \xff\xfe name"), "id");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(nlohmann::json::accept(r.body));
}

TEST(ErrorsTest, PayloadTooLargeIs413) {
  http::Response r = ErrorResponse(Status(StatusCode::kPayloadTooLarge, ""), "id");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(nlohmann::json::parse(r.body)["Message"],
            "The request body is larger than the server accepts.");
}

}  // namespace
}  // namespace coffer::api
