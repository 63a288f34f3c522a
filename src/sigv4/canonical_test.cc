// Canonical request pieces, key derivation and signing known answers.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "sigv4/sigv4.h"
#include "sigv4/test_util.h"

namespace coffer::sigv4 {
namespace {

using testing::AmzMillis;

// Reference section 2.1: the canonical request rebuilt for a boto3 GetSecretValue capture
// (with a session token). The body hash is taken from the capture; the headers that botocore
// does not sign (User-Agent, Content-Length, ...) are present and must not leak in.
TEST(CanonicalRequest, ReproducesTheBoto3CaptureFromTheReference) {
  const HeaderList headers = {
      {"Host", "127.0.0.1:18765"},
      {"X-Amz-Target", "secretsmanager.GetSecretValue"},
      {"Content-Type", "application/x-amz-json-1.1"},
      {"User-Agent", "Boto3/1.26.27 Python/3.11.2 Linux/6.1.0 Botocore/1.29.27"},
      {"X-Amz-Date", "20261127T183456Z"},
      {"X-Amz-Security-Token", "SESSIONTOKEN"},
      {"Content-Length", "24"},
      {"Accept-Encoding", "identity"},
      {"amz-sdk-invocation-id", "0b8c7f1e-1111-2222-3333-444455556666"},
      {"amz-sdk-request", "attempt=1"},
  };
  const std::vector<std::string> signed_headers = {"content-type", "host", "x-amz-date",
                                                   "x-amz-security-token", "x-amz-target"};
  const std::string expected =
      "POST\n"
      "/\n"
      "\n"
      "content-type:application/x-amz-json-1.1\n"
      "host:127.0.0.1:18765\n"
      "x-amz-date:20261127T183456Z\n"
      "x-amz-security-token:SESSIONTOKEN\n"
      "x-amz-target:secretsmanager.GetSecretValue\n"
      "\n"
      "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
      "9492b69a4a8b36f54d7424bcde87f6a26597a5285e078555b9202c561910a07d";
  EXPECT_EQ(CanonicalRequest(RequestView{"POST", "/", &headers, "{}"}, signed_headers,
                             "9492b69a4a8b36f54d7424bcde87f6a26597a5285e078555b9202c561910a07d"),
            expected);
}

// A known answer produced by the real botocore 1.43.11 (SigV4Auth.add_auth with the clock fixed
// at 2026-11-27 18:34:56 UTC) for a request shaped like boto3's GetSecretValue.
TEST(SignRequest, MatchesBotocore) {
  HeaderList headers = {
      {"X-Amz-Target", "secretsmanager.GetSecretValue"},
      {"Content-Type", "application/x-amz-json-1.1"},
      {"User-Agent", "Boto3/1.26.27 Python/3.11.2 Linux/6.1 Botocore/1.29.27"},
      {"Host", "127.0.0.1:18765"},
  };
  SignRequest("POST", "/", headers, R"({"SecretId": "demo/one"})", "AKIDTEST",
              "coffer-test-secret-key/EXAMPLE", "us-east-1", "secretsmanager",
              AmzMillis("20261127T183456Z"));
  ASSERT_EQ(headers.size(), 6u);
  EXPECT_EQ(headers[4].first, "X-Amz-Date");
  EXPECT_EQ(headers[4].second, "20261127T183456Z");
  EXPECT_EQ(headers[5].first, "Authorization");
  EXPECT_EQ(headers[5].second,
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261127/us-east-1/secretsmanager/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=6a343a509284ada85872837c069a3b828bbedc43ce53ba6268af9db3da72a223");
}

TEST(SignRequest, ReplacesAnExistingDateAndAuthorization) {
  HeaderList headers = {
      {"Host", "example.com"}, {"x-amz-date", "20000101T000000Z"}, {"authorization", "stale"}};
  SignRequest("GET", "/", headers, "", "AKID", "secret", "us-east-1", "service",
              AmzMillis("20150830T123600Z"));
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[1].second, "20150830T123600Z");
  EXPECT_TRUE(headers[2].second.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20150830/"));
}

TEST(SignRequest, UsesXAmzContentSha256AsThePayloadHash) {
  // With the header, the body itself is not hashed into the signature (botocore does the same);
  // the verifier is what checks that the header matches the body.
  HeaderList a = {{"Host", "h"}, {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}};
  HeaderList b = a;
  SignRequest("POST", "/", a, "body one", "AKID", "s", "r", "svc", 0);
  SignRequest("POST", "/", b, "body two", "AKID", "s", "r", "svc", 0);
  EXPECT_EQ(a.back().second, b.back().second);
  EXPECT_NE(a.back().second.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            std::string::npos);
}

TEST(SigningKey, MatchesTheAwsDocumentationExample) {
  EXPECT_EQ(HexEncode(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                 "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(HexEncode(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                 "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(StringToSign, HasTheFourLines) {
  EXPECT_EQ(StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", ""),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CredentialScope, JoinsWithTheTerminator) {
  EXPECT_EQ(CredentialScope("20150830", "eu-west-1", "secretsmanager"),
            "20150830/eu-west-1/secretsmanager/aws4_request");
}

struct Pair {
  std::string in;
  std::string out;
};

class CanonicalUriTest : public ::testing::TestWithParam<Pair> {};
TEST_P(CanonicalUriTest, Encodes) { EXPECT_EQ(CanonicalUri(GetParam().in), GetParam().out); }
INSTANTIATE_TEST_SUITE_P(
    Cases, CanonicalUriTest,
    ::testing::Values(Pair{"", "/"}, Pair{"/", "/"}, Pair{"//", "/"}, Pair{"/a b", "/a%20b"},
                      // Already-encoded paths are encoded again (non-S3).
                      Pair{"/%E1%88%B4", "/%25E1%2588%25B4"}, Pair{"/a/./b/../c", "/a/c"},
                      Pair{"/../../a", "/a"}, Pair{"//a//b//", "/a/b/"},
                      Pair{"/~user/-._", "/~user/-._"}, Pair{"/a+b=c&d:e", "/a%2Bb%3Dc%26d%3Ae"},
                      Pair{"/\xff", "/%FF"}, Pair{"a/b", "a/b"},
                      // Fuzzer finding: "." normalised to "", an empty
                      // canonical URI. Empty is "/".
                      Pair{".", "/"}, Pair{"a/..", "/"}, Pair{"..", "/"}));

class CanonicalQueryTest : public ::testing::TestWithParam<Pair> {};
TEST_P(CanonicalQueryTest, SortsAndEncodes) {
  EXPECT_EQ(CanonicalQuery(GetParam().in), GetParam().out);
}
INSTANTIATE_TEST_SUITE_P(
    Cases, CanonicalQueryTest,
    ::testing::Values(Pair{"", ""}, Pair{"b=2&a=1", "a=1&b=2"}, Pair{"a", "a="}, Pair{"a=", "a="},
                      Pair{"a=%20", "a=%20"}, Pair{"a=+", "a=%2B"}, Pair{"a=%7e", "a=~"},
                      Pair{"a=%7E%41", "a=~A"}, Pair{"&&a=1&", "a=1"}, Pair{"a=b=c", "a=b%3Dc"},
                      Pair{"k=%zz&k=%4", "k=%254&k=%25zz"}, Pair{"a=2&a=1&A=3", "A=3&a=1&a=2"},
                      Pair{"x=%2f/", "x=%2F%2F"}));

TEST(CanonicalRequest, JoinsCollapsesAndKeepsOrderOfRepeatedHeaders) {
  const HeaderList headers = {{"Host", "h"},
                              {"X-Multi", "  b \t  c  "},
                              {"x-multi", "a"},
                              {"X-MULTI", ""},
                              {"X-Tab", "\tx\t\ty\t"}};
  EXPECT_EQ(CanonicalRequest(RequestView{"GET", "/p?q=1", &headers, ""},
                             {"host", "x-multi", "x-tab"}, "HASH"),
            "GET\n/p\nq=1\nhost:h\nx-multi:b c,a,\nx-tab:x y\n\nhost;x-multi;x-tab\nHASH");
}

TEST(CanonicalRequest, AbsentSignedHeaderHasAnEmptyValue) {
  const HeaderList headers = {{"Host", "h"}};
  EXPECT_EQ(CanonicalRequest(RequestView{"GET", "/", &headers, ""}, {"host", "x-gone"}, "H"),
            "GET\n/\n\nhost:h\nx-gone:\n\nhost;x-gone\nH");
  EXPECT_EQ(CanonicalRequest(RequestView{"GET", "/", nullptr, ""}, {"host"}, "H"),
            "GET\n/\n\nhost:\n\nhost\nH");
}

}  // namespace
}  // namespace coffer::sigv4
