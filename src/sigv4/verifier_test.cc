// Verifier: the full set of acceptance and rejection paths, with AWS's exact messages.

#include <atomic>
#include <string>
#include <thread>
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

constexpr char kKeyId[] = "AKIDCOFFERTEST";
constexpr char kSecret[] = "c0ffer/Test+Secret/Key/0123456789abcdefgh";
constexpr char kArn[] = "arn:aws:iam::000000000000:user/tester";
constexpr char kBody[] = R"({"SecretId": "demo/one"})";
constexpr char kSignatureMismatch[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

// A request as boto3 sends GetSecretValue: Host with the port, the JSON 1.1 content type and the
// target, signed; User-Agent and Content-Length present but not signed (urllib3 adds
// Content-Length after signing).
struct TestRequest {
  std::string method = "POST";
  std::string target = "/";
  HeaderList headers;
  std::string body = kBody;

  RequestView view() const { return RequestView{method, target, &headers, body}; }
  std::string* Header(std::string_view name) {
    for (auto& [n, v] : headers) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  void Remove(std::string_view name) {
    std::erase_if(headers, [&](const auto& h) { return h.first == name; });
  }
};

TestRequest Boto3Request(std::int64_t now_ms, std::string_view secret = kSecret,
                         std::string_view region = "us-east-1",
                         std::string_view service = "secretsmanager") {
  TestRequest r;
  r.headers = {{"Host", "127.0.0.1:18765"},
               {"X-Amz-Target", "secretsmanager.GetSecretValue"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"User-Agent", "Boto3/1.26.27 Python/3.11.2 Linux/6.1.0 Botocore/1.29.27"}};
  SignRequest(r.method, r.target, r.headers, r.body, kKeyId, secret, region, service, now_ms);
  r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
  return r;
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() : clock_(AmzMillis("20261127T183456Z")), verifier_(&clock_, &credentials_) {
    credentials_.Add(kKeyId, kSecret, kArn);
  }

  std::int64_t Now() const { return clock_.NowMillis(); }
  Status VerifyStatus(const TestRequest& r) { return verifier_.Verify(r.view()).status(); }

  FakeClock clock_;
  FakeCredentialSource credentials_;
  Verifier verifier_;
};

TEST_F(VerifierTest, AcceptsABoto3ShapedRequest) {
  TestRequest r = Boto3Request(Now());
  EXPECT_NE(r.Header("Authorization")
                ->find("SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="),
            std::string::npos);
  Result<VerifiedRequest> v = verifier_.Verify(r.view());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->access_key_id, kKeyId);
  EXPECT_EQ(v->principal_arn, kArn);
  EXPECT_EQ(v->region, "us-east-1");
  EXPECT_EQ(v->service, "secretsmanager");
}

TEST_F(VerifierTest, ReturnsAnyRegionAndServiceUnrestricted) {
  TestRequest r = Boto3Request(Now(), kSecret, "eu-central-1", "cloudtrail");
  Result<VerifiedRequest> v = verifier_.Verify(r.view());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->region, "eu-central-1");
  EXPECT_EQ(v->service, "cloudtrail");
}

TEST_F(VerifierTest, IgnoresChangesToUnsignedHeaders) {
  TestRequest r = Boto3Request(Now());
  *r.Header("User-Agent") = "something else";
  r.headers.emplace_back("amz-sdk-request", "attempt=2");
  EXPECT_TRUE(VerifyStatus(r).ok());
}

TEST_F(VerifierTest, AcceptsUppercaseSignatureHexAndNoSpacesAfterCommas) {
  TestRequest r = Boto3Request(Now());
  std::string& auth = *r.Header("Authorization");
  const std::size_t sig = auth.find("Signature=") + 10;
  for (std::size_t i = sig; i < auth.size(); ++i) {
    if (auth[i] >= 'a' && auth[i] <= 'f') auth[i] = static_cast<char>(auth[i] - 32);
  }
  for (std::size_t pos; (pos = auth.find(", ")) != std::string::npos;) auth.erase(pos + 1, 1);
  EXPECT_TRUE(VerifyStatus(r).ok()) << auth;
}

TEST_F(VerifierTest, MissingAuthorizationIsMissingAuthToken) {
  TestRequest r = Boto3Request(Now());
  r.Remove("Authorization");
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kMissingAuthToken, "Missing Authentication Token"));
  r.headers.emplace_back("Authorization", "  ");
  EXPECT_EQ(VerifyStatus(r).code(), StatusCode::kMissingAuthToken);
  EXPECT_EQ(verifier_.Verify(RequestView{"POST", "/", nullptr, ""}).status().code(),
            StatusCode::kMissingAuthToken);
}

TEST_F(VerifierTest, MalformedAuthorizationIsIncompleteSignature) {
  TestRequest r = Boto3Request(Now());
  *r.Header("Authorization") = "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1";
  EXPECT_EQ(VerifyStatus(r).code(), StatusCode::kIncompleteSignature);
}

TEST_F(VerifierTest, AuthorizationHeaderNameIsCaseInsensitive) {
  TestRequest r = Boto3Request(Now());
  for (auto& [name, value] : r.headers) {
    if (name == "Authorization") name = "authorization";
  }
  EXPECT_TRUE(VerifyStatus(r).ok());
}

// The exact texts AWS sends (boto/botocore#3587, s12v/awsbeats#48).
TEST_F(VerifierTest, ExpiredSignatureHasAwsMessage) {
  TestRequest r = Boto3Request(AmzMillis("20251105T220858Z"));
  clock_.SetMillis(AmzMillis("20251106T132608Z"));
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kInvalidSignature,
                   "Signature expired: 20251105T220858Z is now earlier than 20251106T132108Z "
                   "(20251106T132608Z - 5 min.)"));
}

TEST_F(VerifierTest, FutureSignatureHasAwsMessage) {
  TestRequest r = Boto3Request(AmzMillis("20181017T093750Z"));
  clock_.SetMillis(AmzMillis("20181017T093139Z"));
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kInvalidSignature,
                   "Signature not yet current: 20181017T093750Z is still later than "
                   "20181017T093639Z (20181017T093139Z + 5 min.)"));
}

TEST_F(VerifierTest, SkewWindowIsFiveMinutesEitherWayInclusive) {
  const std::int64_t t = Now();
  TestRequest r = Boto3Request(t);
  constexpr std::int64_t kFiveMin = 5 * 60 * 1000;
  for (std::int64_t now : {t - kFiveMin, t - kFiveMin + 1000, t + kFiveMin - 1000, t + kFiveMin}) {
    clock_.SetMillis(now);
    EXPECT_TRUE(VerifyStatus(r).ok()) << now - t;
  }
  for (std::int64_t now : {t - kFiveMin - 1, t - kFiveMin - 1000, t + kFiveMin + 1,
                           t + kFiveMin + 1000, t + 86400000}) {
    clock_.SetMillis(now);
    EXPECT_EQ(VerifyStatus(r).code(), StatusCode::kInvalidSignature) << now - t;
  }
}

TEST_F(VerifierTest, ConfiguredSkewIsUsedInTheMessage) {
  Verifier strict(&clock_, &credentials_, VerifierOptions{.max_skew_ms = 60 * 1000});
  TestRequest r = Boto3Request(Now() - 2 * 60 * 1000);
  Status st = strict.Verify(r.view()).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidSignature);
  EXPECT_TRUE(st.message().ends_with("(20261127T183456Z - 1 min.)")) << st.message();
  EXPECT_TRUE(verifier_.Verify(r.view()).ok());
}

TEST_F(VerifierTest, WrongSecretIsSignatureMismatch) {
  TestRequest r = Boto3Request(Now(), "not-the-secret");
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kInvalidSignature, kSignatureMismatch));
}

TEST_F(VerifierTest, UnknownKeyIsUnrecognizedClient) {
  credentials_.Remove(kKeyId);
  TestRequest r = Boto3Request(Now());
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kUnauthenticated,
                                    "The security token included in the request is invalid."));
}

TEST_F(VerifierTest, CredentialSourceErrorsPassThrough) {
  TestRequest r = Boto3Request(Now());
  credentials_.FailWith(Status::Unauthenticated(""));
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kUnauthenticated,
                                    "The security token included in the request is invalid."));
  credentials_.FailWith(Status::Unauthenticated("The access key is inactive."));
  EXPECT_EQ(VerifyStatus(r), Status::Unauthenticated("The access key is inactive."));
  credentials_.FailWith(Status::Unavailable("store is down"));
  EXPECT_EQ(VerifyStatus(r), Status::Unavailable("store is down"));
}

TEST_F(VerifierTest, TamperedBodyIsSignatureMismatch) {
  TestRequest r = Boto3Request(Now());
  r.body = R"({"SecretId": "demo/two"})";
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kInvalidSignature, kSignatureMismatch));
}

TEST_F(VerifierTest, TamperedSignedHeaderIsSignatureMismatch) {
  TestRequest r = Boto3Request(Now());
  *r.Header("X-Amz-Target") = "secretsmanager.DeleteSecret";
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kInvalidSignature, kSignatureMismatch));
  r = Boto3Request(Now());
  *r.Header("Host") = "127.0.0.1:18766";
  EXPECT_EQ(VerifyStatus(r).code(), StatusCode::kInvalidSignature);
}

TEST_F(VerifierTest, DuplicatedSignedHeaderIsSignatureMismatch) {
  TestRequest r = Boto3Request(Now());
  r.headers.emplace_back("X-Amz-Target", "secretsmanager.DeleteSecret");
  EXPECT_EQ(VerifyStatus(r).code(), StatusCode::kInvalidSignature);
}

TEST_F(VerifierTest, TamperedSignatureIsSignatureMismatch) {
  TestRequest r = Boto3Request(Now());
  std::string& auth = *r.Header("Authorization");
  auth.back() = auth.back() == '0' ? '1' : '0';
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kInvalidSignature, kSignatureMismatch));
}

TEST_F(VerifierTest, ContentSha256MatchingTheBodyIsAccepted) {
  TestRequest r;
  r.headers = {{"Host", "localhost:7430"},
               {"X-Amz-Content-SHA256", HexEncode(crypto::Sha256(r.body))},
               {"X-Amz-Target", "secretsmanager.GetSecretValue"}};
  SignRequest(r.method, r.target, r.headers, r.body, kKeyId, kSecret, "us-east-1", "secretsmanager",
              Now());
  EXPECT_TRUE(VerifyStatus(r).ok()) << VerifyStatus(r).ToString();
}

TEST_F(VerifierTest, ContentSha256NotMatchingTheBodyIsRejected) {
  TestRequest r;
  r.headers = {{"Host", "localhost:7430"},
               {"X-Amz-Content-SHA256", HexEncode(crypto::Sha256("other body"))}};
  // Signed consistently over the header value, so only the body check can catch it.
  SignRequest(r.method, r.target, r.headers, r.body, kKeyId, kSecret, "us-east-1", "secretsmanager",
              Now());
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kInvalidSignature,
                   "The provided 'x-amz-content-sha256' header does not match what was "
                   "computed."));
}

TEST_F(VerifierTest, UnsignedPayloadIsRejected) {
  for (const char* value : {"UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}) {
    TestRequest r;
    r.headers = {{"Host", "localhost:7430"}, {"X-Amz-Content-SHA256", value}};
    SignRequest(r.method, r.target, r.headers, r.body, kKeyId, kSecret, "us-east-1",
                "secretsmanager", Now());
    Status st = VerifyStatus(r);
    EXPECT_EQ(st.code(), StatusCode::kInvalidSignature) << value;
    EXPECT_NE(st.message().find("not supported"), std::string::npos) << st.message();
  }
}

TEST_F(VerifierTest, ContentSha256IsPartOfTheCanonicalRequest) {
  // Signed without the header, then the (correct) header is added: the payload-hash line now
  // differs in case only, which must still break the signature.
  TestRequest r = Boto3Request(Now());
  std::string upper = HexEncode(crypto::Sha256(r.body));
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  r.headers.emplace_back("X-Amz-Content-SHA256", upper);
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kInvalidSignature, kSignatureMismatch));
}

// Signs by hand with only Date (no X-Amz-Date), as a client may when it sets Date itself.
TestRequest DateSignedRequest(std::int64_t now_ms, const std::vector<std::string>& signed_headers) {
  TestRequest r;
  r.headers = {{"Host", "localhost"}, {"Date", "Fri, 27 Nov 2026 18:34:56 GMT"}};
  const std::string amz_date = FormatAmzDate(ParseHttpDate(r.headers[1].second).value());
  const std::string scope = CredentialScope(amz_date.substr(0, 8), "us-east-1", "secretsmanager");
  const std::string sts =
      StringToSign(amz_date, scope,
                   CanonicalRequest(r.view(), signed_headers, HexEncode(crypto::Sha256(r.body))));
  const std::string sig = HexEncode(crypto::HmacSha256(
      SigningKey(kSecret, amz_date.substr(0, 8), "us-east-1", "secretsmanager"), sts));
  std::string list;
  for (const auto& h : signed_headers) list += (list.empty() ? "" : ";") + h;
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                              "/" + scope + ", SignedHeaders=" + list +
                                              ", Signature=" + sig);
  return r;
}

TEST_F(VerifierTest, DateHeaderIsTheFallbackForXAmzDate) {
  TestRequest r = DateSignedRequest(Now(), {"date", "host"});
  EXPECT_TRUE(VerifyStatus(r).ok()) << VerifyStatus(r).ToString();
  clock_.AdvanceMillis(6 * 60 * 1000);
  EXPECT_EQ(VerifyStatus(r).message(),
            "Signature expired: 20261127T183456Z is now earlier than 20261127T183556Z "
            "(20261127T184056Z - 5 min.)");
}

TEST_F(VerifierTest, TheDateHeaderUsedMustBeSigned) {
  TestRequest r = DateSignedRequest(Now(), {"host"});
  EXPECT_EQ(VerifyStatus(r), Status(StatusCode::kIncompleteSignature,
                                    "'Date' must be a 'SignedHeader' in the AWS Authorization."));

  TestRequest x = Boto3Request(Now());
  std::string& auth = *x.Header("Authorization");
  auth.replace(auth.find(";x-amz-date"), 11, "");
  EXPECT_EQ(VerifyStatus(x),
            Status(StatusCode::kIncompleteSignature,
                   "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."));
}

TEST_F(VerifierTest, NoDateHeaderAtAll) {
  TestRequest r = Boto3Request(Now());
  r.Remove("X-Amz-Date");
  Status st = VerifyStatus(r);
  EXPECT_EQ(st.code(), StatusCode::kIncompleteSignature);
  EXPECT_TRUE(st.message().starts_with(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
      "Authorization=AWS4-HMAC-SHA256 Credential=AKIDCOFFERTEST/"))
      << st.message();
}

TEST_F(VerifierTest, MalformedDates) {
  TestRequest r = Boto3Request(Now());
  *r.Header("X-Amz-Date") = "2026-11-27T18:34:56Z";
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kIncompleteSignature,
                   "Date must be in ISO-8601 'basic format'. Got '2026-11-27T18:34:56Z'. See "
                   "http://en.wikipedia.org/wiki/ISO_8601"));
  TestRequest d = DateSignedRequest(Now(), {"date", "host"});
  *d.Header("Date") = "yesterday";
  EXPECT_EQ(VerifyStatus(d).code(), StatusCode::kIncompleteSignature);
}

TEST_F(VerifierTest, ScopeDateMustBeTheRequestDay) {
  TestRequest r = Boto3Request(Now());
  std::string& auth = *r.Header("Authorization");
  auth.replace(auth.find("/20261127/"), 10, "/20261126/");
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kInvalidSignature,
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '20261126' != '20261127', from '20261127T183456Z'."));
}

TEST_F(VerifierTest, HostMustBeSigned) {
  TestRequest r;
  r.headers = {{"Host", "h"}, {"X-Amz-Date", FormatAmzDate(Now())}};
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                              "/20261127/us-east-1/secretsmanager/aws4_request, "
                                              "SignedHeaders=x-amz-date, Signature=" +
                                              std::string(64, '0'));
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kIncompleteSignature,
                   "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."));
}

TEST_F(VerifierTest, EverySignedHeaderMustBePresent) {
  TestRequest r = Boto3Request(Now());
  r.Remove("X-Amz-Target");
  EXPECT_EQ(VerifyStatus(r),
            Status(StatusCode::kIncompleteSignature,
                   "Header 'x-amz-target' is listed in SignedHeaders but is not present in the "
                   "request."));
}

TEST_F(VerifierTest, CanonicalHintIsOptIn) {
  TestRequest r = Boto3Request(Now(), "wrong");
  EXPECT_EQ(VerifyStatus(r).message(), kSignatureMismatch);
  Verifier verbose(&clock_, &credentials_, VerifierOptions{.canonical_request_in_errors = true});
  const std::string message = verbose.Verify(r.view()).status().message();
  EXPECT_TRUE(message.starts_with(kSignatureMismatch));
  EXPECT_NE(message.find("\n\nThe Canonical String for this request should have been\n'POST\n/\n\n"
                         "content-type:application/x-amz-json-1.1\nhost:127.0.0.1:18765\n"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"
                         "20261127T183456Z\n20261127/us-east-1/secretsmanager/aws4_request\n"),
            std::string::npos);
  EXPECT_EQ(message.find(kSecret), std::string::npos);
}

TEST_F(VerifierTest, ErrorsNeverContainTheSecret) {
  std::vector<TestRequest> requests;
  requests.push_back(Boto3Request(Now(), "wrong"));
  requests.push_back(Boto3Request(Now() - 3600 * 1000));
  requests.push_back(Boto3Request(Now()));
  requests.back().body = "tampered";
  Verifier verbose(&clock_, &credentials_, VerifierOptions{.canonical_request_in_errors = true});
  for (const TestRequest& r : requests) {
    for (const Verifier* v : {&verifier_, &verbose}) {
      Status st = v->Verify(r.view()).status();
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.message().find(kSecret), std::string::npos);
    }
  }
}

TEST_F(VerifierTest, RotatedSecretIsNotServedFromTheKeyCache) {
  TestRequest old_signed = Boto3Request(Now());
  ASSERT_TRUE(VerifyStatus(old_signed).ok());
  ASSERT_TRUE(VerifyStatus(old_signed).ok());  // now cached
  credentials_.Add(kKeyId, "the-new-secret", kArn);
  EXPECT_EQ(VerifyStatus(old_signed).code(), StatusCode::kInvalidSignature);
  EXPECT_TRUE(VerifyStatus(Boto3Request(Now(), "the-new-secret")).ok());
}

TEST_F(VerifierTest, WorksWithTheCacheDisabledAndWhenTheCacheOverflows) {
  Verifier uncached(&clock_, &credentials_, VerifierOptions{.signing_key_cache_size = 0});
  Verifier tiny(&clock_, &credentials_, VerifierOptions{.signing_key_cache_size = 2});
  for (const char* region : {"r1", "r2", "r3", "r4", "r1", "r2", "r3", "r4"}) {
    TestRequest r = Boto3Request(Now(), kSecret, region);
    EXPECT_TRUE(uncached.Verify(r.view()).ok()) << region;
    EXPECT_TRUE(tiny.Verify(r.view()).ok()) << region;
  }
}

TEST_F(VerifierTest, CopiesShareTheCacheAndVerifyConcurrently) {
  const Verifier copy = verifier_;
  std::vector<TestRequest> requests;
  for (const char* region : {"us-east-1", "eu-west-1", "ap-south-1", "us-west-2"}) {
    requests.push_back(Boto3Request(Now(), kSecret, region));
  }
  requests.push_back(Boto3Request(Now(), "wrong"));
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Verifier& v = t % 2 == 0 ? verifier_ : copy;
      for (int i = 0; i < 250; ++i) {
        for (std::size_t k = 0; k < requests.size(); ++k) {
          bool ok = v.Verify(requests[k].view()).ok();
          if (ok != (k + 1 < requests.size())) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace coffer::sigv4
