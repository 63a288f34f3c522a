// Client-side signing, byte for byte as botocore's SigV4Auth.add_auth does it.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "sigv4/internal.h"
#include "sigv4/sigv4.h"

namespace coffer::sigv4 {
namespace {

// botocore.auth.SIGNED_HEADERS_BLACKLIST
constexpr std::string_view kUnsignedHeaders[] = {"connection",
                                                 "expect",
                                                 "keep-alive",
                                                 "proxy-authenticate",
                                                 "proxy-authorization",
                                                 "te",
                                                 "trailer",
                                                 "transfer-encoding",
                                                 "upgrade",
                                                 "user-agent",
                                                 "x-amzn-trace-id"};

bool IsSignable(std::string_view lower_name) {
  if (lower_name == "authorization") return false;
  return std::find(std::begin(kUnsignedHeaders), std::end(kUnsignedHeaders), lower_name) ==
         std::end(kUnsignedHeaders);
}

}  // namespace

void SignRequest(std::string_view method, std::string_view target, HeaderList& headers,
                 std::string_view body, std::string_view access_key_id, std::string_view secret,
                 std::string_view region, std::string_view service, std::int64_t now_ms) {
  std::erase_if(headers, [](const auto& h) {
    return internal::EqualsLower(h.first, "x-amz-date") ||
           internal::EqualsLower(h.first, "authorization");
  });
  const std::string amz_date = FormatAmzDate(now_ms);
  headers.emplace_back("X-Amz-Date", amz_date);

  std::vector<std::string> signed_headers;
  for (const auto& [name, value] : headers) {
    std::string lower = internal::ToLower(name);
    if (IsSignable(lower)) signed_headers.push_back(std::move(lower));
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()),
                       signed_headers.end());

  std::string payload_hash;
  if (const std::string* content_sha = internal::FindHeader(headers, "x-amz-content-sha256")) {
    payload_hash = std::string(internal::Trim(*content_sha));
  } else {
    payload_hash = internal::HexSha256(body);
  }

  const RequestView view{method, target, &headers, body};
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  const std::string string_to_sign =
      StringToSign(amz_date, scope, CanonicalRequest(view, signed_headers, payload_hash));
  const std::string signature =
      HexEncode(crypto::HmacSha256(SigningKey(secret, date, region, service), string_to_sign));

  std::string authorization(kAlgorithm);
  authorization.append(" Credential=").append(access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=");
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) authorization += ';';
    authorization += signed_headers[i];
  }
  authorization.append(", Signature=").append(signature);
  headers.emplace_back("Authorization", std::move(authorization));
}

}  // namespace coffer::sigv4
