// libFuzzer target: the SigV4 Authorization header parser, and the verifier fed the input as the
// Authorization header of an otherwise well-formed, botocore-shaped request. Also runs the URI
// and query canonicalisers over the input. Any crash, sanitizer report or broken invariant
// (unexpected status code, non-printable bytes in an error message, a malformed parse result)
// is a finding.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/status.h"
#include "sigv4/sigv4.h"

namespace {

using coffer::Result;
using coffer::Status;
using coffer::StatusCode;

constexpr char kKeyId[] = "AKIDFUZZ";
constexpr char kSecret[] = "fuzz/secret/key";
constexpr char kAmzDate[] = "20261127T183456Z";
constexpr char kBody[] = R"({"SecretId": "demo/one"})";

class FixedCredentials : public coffer::sigv4::CredentialSource {
 public:
  Result<coffer::sigv4::Credential> Lookup(const std::string& access_key_id) override {
    if (access_key_id != kKeyId) {
      return Status::Unauthenticated("The security token included in the request is invalid.");
    }
    return coffer::sigv4::Credential{kSecret, "arn:aws:iam::000000000000:user/fuzz"};
  }
};

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckMessage(const Status& status) {
  for (char c : status.message()) Check(c >= 0x20 && c < 0x7f);
  Check(status.message().size() < 8192);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  Result<coffer::sigv4::Authorization> auth = coffer::sigv4::ParseAuthorization(input);
  if (auth.ok()) {
    Check(!auth->access_key_id.empty() && auth->date.size() == 8 && !auth->region.empty() &&
          !auth->service.empty() && !auth->signed_headers.empty());
    Check(auth->signature.size() == 64 && IsLowerHex(auth->signature));
    for (const std::string& h : auth->signed_headers) Check(!h.empty());
  } else {
    Check(auth.status().code() == StatusCode::kIncompleteSignature);
    CheckMessage(auth.status());
  }

  static FixedCredentials credentials;
  static coffer::FakeClock clock(coffer::ParseAmzDate(kAmzDate).value());
  static const coffer::sigv4::Verifier verifier(&clock, &credentials);
  const coffer::sigv4::HeaderList headers = {
      {"Host", "127.0.0.1:7430"},
      {"X-Amz-Target", "secretsmanager.GetSecretValue"},
      {"Content-Type", "application/x-amz-json-1.1"},
      {"X-Amz-Date", kAmzDate},
      {"Authorization", input},
  };
  Result<coffer::sigv4::VerifiedRequest> verified =
      verifier.Verify(coffer::sigv4::RequestView{"POST", "/", &headers, kBody});
  if (verified.ok()) {
    Check(verified->access_key_id == kKeyId);
  } else {
    const StatusCode code = verified.status().code();
    Check(code == StatusCode::kMissingAuthToken || code == StatusCode::kIncompleteSignature ||
          code == StatusCode::kInvalidSignature || code == StatusCode::kUnauthenticated);
    CheckMessage(verified.status());
  }

  // The canonicalisers take raw request-target bytes too.
  const std::string uri = coffer::sigv4::CanonicalUri(input);
  Check(!uri.empty());
  (void)coffer::sigv4::CanonicalQuery(input);
  return 0;
}
