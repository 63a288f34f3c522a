// Verification of header-signed SigV4 requests (reference section 2.2).

#include <algorithm>
#include <cassert>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "sigv4/internal.h"
#include "sigv4/sigv4.h"

namespace coffer::sigv4 {

// Derived kSigning keys by (access key id, secret, date, region, service). The secret is part of
// the key so that a rotated secret never meets a stale derived key.
class SigningKeyCache {
 public:
  explicit SigningKeyCache(std::size_t capacity) : capacity_(capacity) {}

  std::string Get(std::string_view access_key_id, std::string_view secret, std::string_view date,
                  std::string_view region, std::string_view service) {
    if (capacity_ == 0) return SigningKey(secret, date, region, service);
    std::string key;
    key.reserve(access_key_id.size() + secret.size() + date.size() + region.size() +
                service.size() + 20);
    // Length-prefixed so that no two different tuples share a key.
    for (std::string_view part : {access_key_id, secret, date, region, service}) {
      key += std::to_string(part.size());
      key += ':';
      key.append(part);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return it->second;
    }
    std::string derived = SigningKey(secret, date, region, service);
    std::lock_guard<std::mutex> lock(mu_);
    // Keys are per day, so old entries are dead weight: clearing when full is simple and bounded.
    if (map_.size() >= capacity_) map_.clear();
    map_.emplace(std::move(key), derived);
    return derived;
  }

 private:
  const std::size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> map_;
};

namespace {

using internal::FindHeader;
using internal::ForMessage;
using internal::Trim;

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";

Status Incomplete(std::string message) {
  return Status(StatusCode::kIncompleteSignature, std::move(message));
}
Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidSignature, std::move(message));
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "5 min." for the skew messages, as AWS words it.
std::string SkewText(std::int64_t skew_ms) {
  if (skew_ms % 60000 == 0) return std::to_string(skew_ms / 60000) + " min.";
  if (skew_ms % 1000 == 0) return std::to_string(skew_ms / 1000) + " sec.";
  return std::to_string(skew_ms) + " ms.";
}

}  // namespace

Verifier::Verifier(const Clock* clock, CredentialSource* credentials, VerifierOptions options)
    : clock_(clock),
      credentials_(credentials),
      options_(options),
      key_cache_(std::make_shared<SigningKeyCache>(options.signing_key_cache_size)) {
  assert(clock_ != nullptr && credentials_ != nullptr);
}

Result<VerifiedRequest> Verifier::Verify(const RequestView& req) const {
  static const HeaderList kNoHeaders;
  const HeaderList& headers = req.headers != nullptr ? *req.headers : kNoHeaders;

  // 1. The Authorization header.
  const std::string* auth_header = FindHeader(headers, "authorization");
  if (auth_header == nullptr || Trim(*auth_header).empty()) {
    return Status(StatusCode::kMissingAuthToken, "Missing Authentication Token");
  }
  COFFER_ASSIGN_OR_RETURN(Authorization auth, ParseAuthorization(*auth_header));

  // 2. Host must be signed.
  if (!Contains(auth.signed_headers, "host")) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // 3. The request time: X-Amz-Date, else Date. Whichever is used must be signed.
  std::string amz_date;
  std::int64_t request_ms = 0;
  if (const std::string* x_amz_date = FindHeader(headers, "x-amz-date")) {
    std::string_view value = Trim(*x_amz_date);
    std::optional<std::int64_t> ms = ParseAmzDate(value);
    if (!ms) {
      return Incomplete("Date must be in ISO-8601 'basic format'. Got '" + ForMessage(value, 64) +
                        "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
    if (!Contains(auth.signed_headers, "x-amz-date")) {
      return Incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    amz_date = std::string(value);
    request_ms = *ms;
  } else if (const std::string* date = FindHeader(headers, "date")) {
    std::string_view value = Trim(*date);
    std::optional<std::int64_t> ms = ParseHttpDate(value);
    if (!ms) {
      return Incomplete(
          "Date must be in RFC 1123 format, e.g. 'Sun, 30 Aug 2015 12:36:00 GMT'. "
          "Got '" +
          ForMessage(value, 64) + "'.");
    }
    if (!Contains(auth.signed_headers, "date")) {
      return Incomplete("'Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    request_ms = *ms;
    amz_date = FormatAmzDate(request_ms);
  } else {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=" +
        ForMessage(Trim(*auth_header)));
  }

  // 4. The scope date is the request's day.
  std::string_view request_day = std::string_view(amz_date).substr(0, 8);
  if (auth.date != request_day) {
    return Invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        "from HTTP: '" +
        auth.date + "' != '" + std::string(request_day) + "', from '" + amz_date + "'.");
  }

  // 5. The clock window.
  const std::int64_t now_ms = clock_->NowMillis();
  const std::int64_t skew = options_.max_skew_ms;
  if (request_ms < now_ms - skew) {
    return Invalid("Signature expired: " + amz_date + " is now earlier than " +
                   FormatAmzDate(now_ms - skew) + " (" + FormatAmzDate(now_ms) + " - " +
                   SkewText(skew) + ")");
  }
  if (request_ms > now_ms + skew) {
    return Invalid("Signature not yet current: " + amz_date + " is still later than " +
                   FormatAmzDate(now_ms + skew) + " (" + FormatAmzDate(now_ms) + " + " +
                   SkewText(skew) + ")");
  }

  // 6. Every signed header must be there.
  for (const std::string& name : auth.signed_headers) {
    if (FindHeader(headers, name) == nullptr) {
      return Incomplete("Header '" + ForMessage(name, 128) +
                        "' is listed in SignedHeaders but is not present in the request.");
    }
  }

  // 7. The payload hash: X-Amz-Content-SHA256 when sent (and then it must be the body's hash).
  std::string body_hash = internal::HexSha256(req.body);
  std::string_view payload_hash = body_hash;
  if (const std::string* content_sha = FindHeader(headers, "x-amz-content-sha256")) {
    payload_hash = Trim(*content_sha);
    if (payload_hash == "UNSIGNED-PAYLOAD" || payload_hash.starts_with("STREAMING-")) {
      return Invalid("X-Amz-Content-SHA256 '" + ForMessage(payload_hash, 64) +
                     "' is not supported: the payload must be signed.");
    }
    if (internal::ToLower(payload_hash) != body_hash) {
      return Invalid(
          "The provided 'x-amz-content-sha256' header does not match what was "
          "computed.");
    }
  }

  // 8. The credential.
  Result<Credential> credential = credentials_->Lookup(auth.access_key_id);
  if (!credential.ok()) {
    const Status& st = credential.status();
    if (st.code() == StatusCode::kUnauthenticated && st.message().empty()) {
      return Status::Unauthenticated(std::string(kInvalidToken));
    }
    return st;
  }

  // 9. Recompute and compare in constant time.
  const std::string scope = CredentialScope(auth.date, auth.region, auth.service);
  const std::string canonical = CanonicalRequest(req, auth.signed_headers, payload_hash);
  const std::string string_to_sign = StringToSign(amz_date, scope, canonical);
  const std::string key = key_cache_->Get(auth.access_key_id, credential->secret_access_key,
                                          auth.date, auth.region, auth.service);
  const std::string expected = HexEncode(crypto::HmacSha256(key, string_to_sign));
  if (!crypto::ConstantTimeEquals(expected, auth.signature)) {
    std::string message(kSignatureMismatch);
    if (options_.canonical_request_in_errors) {
      message += "\n\nThe Canonical String for this request should have been\n'";
      message += ForMessage(canonical, 4096, /*keep_newlines=*/true);
      message += "'\n\nThe String-to-Sign should have been\n'";
      message += ForMessage(string_to_sign, 1024, /*keep_newlines=*/true);
      message += "'\n";
    }
    return Invalid(std::move(message));
  }

  VerifiedRequest verified;
  verified.access_key_id = std::move(auth.access_key_id);
  verified.principal_arn = std::move(credential->principal_arn);
  verified.region = std::move(auth.region);
  verified.service = std::move(auth.service);
  return verified;
}

}  // namespace coffer::sigv4
