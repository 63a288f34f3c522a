// Table-driven tests of ParseAuthorization: well-formed headers in the shapes clients send, and
// every malformation with AWS's IncompleteSignatureException wording.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sigv4/sigv4.h"

namespace coffer::sigv4 {
namespace {

constexpr char kSig[] = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
constexpr char kCred[] = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

struct GoodCase {
  std::string name;
  std::string header;
  std::vector<std::string> signed_headers;
};

class ParseAuthorizationGood : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParseAuthorizationGood, Parses) {
  Result<Authorization> auth = ParseAuthorization(GetParam().header);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth->date, "20150830");
  EXPECT_EQ(auth->region, "us-east-1");
  EXPECT_EQ(auth->service, "service");
  EXPECT_EQ(auth->signed_headers, GetParam().signed_headers);
  EXPECT_EQ(auth->signature, kSig);
}

const std::string kStd = std::string("AWS4-HMAC-SHA256 Credential=") + kCred;

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseAuthorizationGood,
    ::testing::Values(GoodCase{"botocore",
                               kStd + ", SignedHeaders=host;x-amz-date, Signature=" + kSig,
                               {"host", "x-amz-date"}},
                      GoodCase{"no_spaces",
                               kStd + ",SignedHeaders=host;x-amz-date,Signature=" + kSig,
                               {"host", "x-amz-date"}},
                      GoodCase{"extra_spaces_and_tabs",
                               "  AWS4-HMAC-SHA256   Credential=" + std::string(kCred) +
                                   " ,\tSignedHeaders=host;x-amz-date ,  Signature=" + kSig + "  ",
                               {"host", "x-amz-date"}},
                      GoodCase{"parameters_in_other_order",
                               std::string("AWS4-HMAC-SHA256 Signature=") + kSig +
                                   ", SignedHeaders=host;x-amz-date, Credential=" + kCred,
                               {"host", "x-amz-date"}},
                      GoodCase{
                          "uppercase_hex_and_header_names",
                          kStd + ", SignedHeaders=Host;X-Amz-Date, Signature=" +
                              "5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
                          {"host", "x-amz-date"}},
                      GoodCase{"empty_pieces_ignored",
                               kStd + ",, SignedHeaders=host, Signature=" + kSig + ",",
                               {"host"}},
                      GoodCase{"unknown_parameter_ignored",
                               kStd + ", SignedHeaders=host, Foo=bar, Signature=" + kSig,
                               {"host"}},
                      GoodCase{"dotnet_sdk_headers",
                               kStd +
                                   ", SignedHeaders=content-type;host;user-agent;x-amz-api-version;"
                                   "x-amz-content-sha256;x-amz-date;x-amz-target, Signature=" +
                                   kSig,
                               {"content-type", "host", "user-agent", "x-amz-api-version",
                                "x-amz-content-sha256", "x-amz-date", "x-amz-target"}}),
    [](const auto& info) { return info.param.name; });

struct BadCase {
  std::string name;
  std::string header;
  std::string message;  // exact
};

class ParseAuthorizationBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseAuthorizationBad, IsIncompleteSignature) {
  Result<Authorization> auth = ParseAuthorization(GetParam().header);
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.status().code(), StatusCode::kIncompleteSignature);
  EXPECT_EQ(auth.status().message(), GetParam().message);
}

const std::string kAllMissing =
    "Authorization header requires 'Credential' parameter. Authorization header requires "
    "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. ";

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseAuthorizationBad,
    ::testing::Values(
        BadCase{"empty", "", kAllMissing + "Authorization="},
        BadCase{"algorithm_only", "AWS4-HMAC-SHA256",
                kAllMissing + "Authorization=AWS4-HMAC-SHA256"},
        BadCase{"credential_only", kStd,
                "Authorization header requires 'Signature' parameter. Authorization header "
                "requires 'SignedHeaders' parameter. Authorization=" +
                    kStd},
        BadCase{"no_signature", kStd + ", SignedHeaders=host",
                "Authorization header requires 'Signature' parameter. Authorization=" + kStd +
                    ", SignedHeaders=host"},
        BadCase{"empty_signed_headers", kStd + ", SignedHeaders=, Signature=" + kSig,
                "Authorization header requires 'SignedHeaders' parameter. Authorization=" + kStd +
                    ", SignedHeaders=, Signature=" + kSig},
        BadCase{"no_credential",
                std::string("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=") + kSig,
                "Authorization header requires 'Credential' parameter. "
                "Authorization=AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" +
                    std::string(kSig)},
        BadCase{
            "missing_equal_sign",
            std::string("AWS4-HMAC-SHA256 ") + kCred + ", SignedHeaders=host, Signature=" + kSig,
            std::string("'") + kCred +
                "' not a valid key=value pair (missing equal-sign) in Authorization header: "
                "'AWS4-HMAC-SHA256 " +
                kCred + ", SignedHeaders=host, Signature=" + kSig + "'"},
        BadCase{"other_algorithm",
                std::string("AWS4-HMAC-SHA512 Credential=") + kCred + ", SignedHeaders=host",
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. The only supported algorithm is "
                "'AWS4-HMAC-SHA256'."},
        BadCase{"bearer_token", "Bearer abc.def",
                "Unsupported AWS 'algorithm': 'Bearer'. The only supported algorithm is "
                "'AWS4-HMAC-SHA256'."},
        BadCase{"sigv2", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
                "Unsupported AWS 'algorithm': 'AWS'. The only supported algorithm is "
                "'AWS4-HMAC-SHA256'."},
        BadCase{"credential_four_parts",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, SignedHeaders=host, "
                "Signature=" +
                    std::string(kSig),
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                "keyid/date/region/service/term, got 'AKID/20150830/us-east-1/service'"},
        BadCase{"credential_six_parts",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request/x, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                "keyid/date/region/service/term, got "
                "'AKID/20150830/us-east-1/service/aws4_request/x'"},
        BadCase{"bad_terminator",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_requests, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Credential should be scoped with a valid terminator: 'aws4_request', not "
                "'aws4_requests'. "},
        BadCase{"empty_key_id",
                "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Credential must start with an access key id, got "
                "'/20150830/us-east-1/service/aws4_request'"},
        BadCase{"short_date",
                "AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/service/aws4_request, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Date in Credential scope must be in the format yyyyMMdd, got '2015083'"},
        BadCase{"non_digit_date",
                "AWS4-HMAC-SHA256 Credential=AKID/2015083x/us-east-1/service/aws4_request, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Date in Credential scope must be in the format yyyyMMdd, got '2015083x'"},
        BadCase{"empty_region",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830//service/aws4_request, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Credential should be scoped to a valid region. "},
        BadCase{"empty_service",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1//aws4_request, "
                "SignedHeaders=host, Signature=" +
                    std::string(kSig),
                "Credential should be scoped to correct service. "},
        BadCase{"short_signature", kStd + ", SignedHeaders=host, Signature=abc123",
                "Signature must be 64 hexadecimal characters, got 'abc123'"},
        BadCase{"non_hex_signature",
                kStd + ", SignedHeaders=host, Signature=" +
                    "zfa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                "Signature must be 64 hexadecimal characters, got "
                "'zfa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'"},
        BadCase{"empty_signed_header_name",
                kStd + ", SignedHeaders=host;;x-amz-date, Signature=" + kSig,
                "SignedHeaders contains an empty header name: 'host;;x-amz-date'"},
        BadCase{"garbage_bytes_are_not_echoed_raw",
                std::string("AWS4-HMAC-SHA256 \x01\xff\xfe\0zz", 23),
                "'????zz' not a valid key=value pair (missing equal-sign) in Authorization "
                "header: 'AWS4-HMAC-SHA256 ????zz'"}),
    [](const auto& info) { return info.param.name; });

TEST(ParseAuthorization, LongGarbageGivesABoundedMessage) {
  std::string header = "AWS4-HMAC-SHA256 " + std::string(100000, 'x');
  Result<Authorization> auth = ParseAuthorization(header);
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.status().code(), StatusCode::kIncompleteSignature);
  EXPECT_LT(auth.status().message().size(), 1200u);
  EXPECT_NE(auth.status().message().find("..."), std::string::npos);
}

TEST(ParseAuthorization, MessagesAreAlwaysPrintableAscii) {
  std::string header =
      "AWS4-HMAC-SHA256 Credential=\xc3\x28/20150830/\xe2\x82/s/aws4_request, "
      "SignedHeaders=h\xf0, Signature=\x80";
  Result<Authorization> auth = ParseAuthorization(header);
  ASSERT_FALSE(auth.ok());
  for (char c : auth.status().message()) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

}  // namespace
}  // namespace coffer::sigv4
