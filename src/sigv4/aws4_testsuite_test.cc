// The official AWS SigV4 test suite (header-signed cases), stored under testdata/aws4_testsuite/.
// For every case: the canonical request, the string to sign and the Authorization header we
// produce match AWS's files byte for byte, and the verifier accepts AWS's signed request.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/hash.h"
#include "sigv4/sigv4.h"
#include "sigv4/test_util.h"

namespace coffer::sigv4 {
namespace {

using testing::AmzMillis;
using testing::FakeCredentialSource;
using testing::HttpMessage;
using testing::ParseHttpMessage;
using testing::ReadFileOrDie;

constexpr char kAccessKeyId[] = "AKIDEXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kRegion[] = "us-east-1";
constexpr char kService[] = "service";
constexpr char kAmzDate[] = "20150830T123600Z";

// Every case stored in testdata/aws4_testsuite/. get-header-value-multiline is left out: it
// relies on obsolete header line folding, which coffer's HTTP server rejects.
const std::vector<std::string>& Cases() {
  static const std::vector<std::string> kCases = {
      "get-header-key-duplicate",
      "get-header-value-order",
      "get-header-value-trim",
      "get-relative",
      "get-relative-relative",
      "get-slash",
      "get-slash-dot-slash",
      "get-slash-pointless-dot",
      "get-slashes",
      "get-space",
      "get-unreserved",
      "get-utf8",
      "get-vanilla",
      "get-vanilla-empty-query-key",
      "get-vanilla-query",
      "get-vanilla-query-order-key",
      "get-vanilla-query-order-key-case",
      "get-vanilla-query-order-value",
      "get-vanilla-query-unreserved",
      "get-vanilla-utf8-query",
      "post-header-key-case",
      "post-header-key-sort",
      "post-header-value-case",
      "post-sts-header-after",
      "post-sts-header-before",
      "post-vanilla",
      "post-vanilla-empty-query-value",
      "post-vanilla-query",
      "post-x-www-form-urlencoded",
      "post-x-www-form-urlencoded-parameters",
  };
  return kCases;
}

std::string CaseFile(const std::string& name, const std::string& ext) {
  return ReadFileOrDie("testdata/aws4_testsuite/" + name + "/" + name + "." + ext);
}

// The test files may or may not end with a newline; compare without it.
std::string Chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

const std::string* Find(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

class Aws4TestSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(Aws4TestSuite, CanonicalRequestAndStringToSignMatch) {
  const std::string& name = GetParam();
  const HttpMessage req = ParseHttpMessage(CaseFile(name, "req"));
  const std::string expected_creq = Chomp(CaseFile(name, "creq"));
  const std::string expected_sts = Chomp(CaseFile(name, "sts"));
  Result<Authorization> auth = ParseAuthorization(Chomp(CaseFile(name, "authz")));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->access_key_id, kAccessKeyId);
  EXPECT_EQ(auth->date, "20150830");
  EXPECT_EQ(auth->region, kRegion);
  EXPECT_EQ(auth->service, kService);

  RequestView view{req.method, req.target, &req.headers, req.body};
  const std::string creq =
      CanonicalRequest(view, auth->signed_headers, HexEncode(crypto::Sha256(req.body)));
  EXPECT_EQ(creq, expected_creq);
  const std::string scope = CredentialScope(auth->date, auth->region, auth->service);
  EXPECT_EQ(StringToSign(kAmzDate, scope, creq), expected_sts);
}

TEST_P(Aws4TestSuite, SignRequestProducesTheSuitesAuthorization) {
  const std::string& name = GetParam();
  HttpMessage req = ParseHttpMessage(CaseFile(name, "req"));
  SignRequest(req.method, req.target, req.headers, req.body, kAccessKeyId, kSecret, kRegion,
              kService, AmzMillis(kAmzDate));
  const std::string* authorization = Find(req.headers, "Authorization");
  ASSERT_NE(authorization, nullptr);
  EXPECT_EQ(*authorization, Chomp(CaseFile(name, "authz")));
  const std::string* date = Find(req.headers, "X-Amz-Date");
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(*date, kAmzDate);
}

TEST_P(Aws4TestSuite, VerifierAcceptsTheSignedRequest) {
  const std::string& name = GetParam();
  const HttpMessage sreq = ParseHttpMessage(CaseFile(name, "sreq"));
  FakeCredentialSource credentials;
  credentials.Add(kAccessKeyId, kSecret, "arn:aws:iam::000000000000:user/example");
  FakeClock clock(AmzMillis(kAmzDate));
  Verifier verifier(&clock, &credentials);

  Result<VerifiedRequest> verified =
      verifier.Verify(RequestView{sreq.method, sreq.target, &sreq.headers, sreq.body});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->access_key_id, kAccessKeyId);
  EXPECT_EQ(verified->principal_arn, "arn:aws:iam::000000000000:user/example");
  EXPECT_EQ(verified->region, kRegion);
  EXPECT_EQ(verified->service, kService);
}

TEST_P(Aws4TestSuite, VerifierRejectsTheSignedRequestWithAnotherSecret) {
  const std::string& name = GetParam();
  const HttpMessage sreq = ParseHttpMessage(CaseFile(name, "sreq"));
  FakeCredentialSource credentials;
  credentials.Add(kAccessKeyId, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
  FakeClock clock(AmzMillis(kAmzDate));
  Verifier verifier(&clock, &credentials);

  Result<VerifiedRequest> verified =
      verifier.Verify(RequestView{sreq.method, sreq.target, &sreq.headers, sreq.body});
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kInvalidSignature);
}

TEST_P(Aws4TestSuite, VerifierRejectsAChangedMethodOrTarget) {
  const std::string& name = GetParam();
  const HttpMessage sreq = ParseHttpMessage(CaseFile(name, "sreq"));
  FakeCredentialSource credentials;
  credentials.Add(kAccessKeyId, kSecret);
  FakeClock clock(AmzMillis(kAmzDate));
  Verifier verifier(&clock, &credentials);

  const std::string other_method = sreq.method == "GET" ? "POST" : "GET";
  EXPECT_EQ(verifier.Verify(RequestView{other_method, sreq.target, &sreq.headers, sreq.body})
                .status()
                .code(),
            StatusCode::kInvalidSignature);
  const std::string other_target = "/other" + sreq.target;
  EXPECT_EQ(verifier.Verify(RequestView{sreq.method, other_target, &sreq.headers, sreq.body})
                .status()
                .code(),
            StatusCode::kInvalidSignature);
}

INSTANTIATE_TEST_SUITE_P(Cases, Aws4TestSuite, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string id = info.param;
                           for (char& c : id) {
                             if (c == '-') c = '_';
                           }
                           return id;
                         });

}  // namespace
}  // namespace coffer::sigv4
