// Canonical request, string to sign and key derivation (the signing half shared by the verifier
// and the signer).

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "sigv4/internal.h"
#include "sigv4/sigv4.h"

namespace coffer::sigv4 {
namespace {

using internal::IsSpace;

constexpr char kHexUpper[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Appends `s` percent-encoded: everything but RFC 3986 unreserved characters (and '/' when
// `keep_slash`) becomes %XX with uppercase hex.
void AppendEncoded(std::string& out, std::string_view s, bool keep_slash) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `s`. A '%' not followed by two hex digits is kept literally.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigit(s[i + 1]);
      int lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// botocore's remove_dot_segments: RFC 3986 5.2.4 plus removal of empty segments.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(start, slash - start);
    if (!seg.empty() && seg != ".") {
      if (seg == "..") {
        if (!segments.empty()) segments.pop_back();
      } else {
        segments.push_back(seg);
      }
    }
    start = slash + 1;
  }
  std::string out;
  out.reserve(path.size());
  if (path.front() == '/') out += '/';
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out += '/';
  // The spec: an empty absolute path is "/". (Only non-origin-form targets such as "." or "a/.."
  // get here; botocore would produce "" for them, which no client sends.)
  if (out.empty()) out = "/";
  return out;
}

// Appends one header value with whitespace runs collapsed to a single space and trimmed
// (Python's ' '.join(value.split())).
void AppendCollapsed(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool any = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = any;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    any = true;
    out += c;
  }
}

}  // namespace

namespace internal {

std::string ForMessage(std::string_view text, std::size_t max_bytes, bool keep_newlines) {
  std::string out;
  std::size_t n = std::min(text.size(), max_bytes);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c >= 0x20 && c < 0x7f) || (keep_newlines && c == '\n')) {
      out += static_cast<char>(c);
    } else {
      out += '?';
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

std::string HexSha256(std::string_view data) { return HexEncode(crypto::Sha256(data)); }

}  // namespace internal

std::string CanonicalUri(std::string_view path) {
  std::string normalized = NormalizePath(path);
  std::string out;
  out.reserve(normalized.size() + 8);
  AppendEncoded(out, normalized, /*keep_slash=*/true);
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string k, v;
    AppendEncoded(k, PercentDecode(key), /*keep_slash=*/false);
    AppendEncoded(v, PercentDecode(value), /*keep_slash=*/false);
    params.emplace_back(std::move(k), std::move(v));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += '&';
    out += params[i].first;
    out += '=';
    out += params[i].second;
  }
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string out;
  out.reserve(date.size() + region.size() + service.size() + kScopeTerminator.size() + 3);
  out.append(date).append("/").append(region).append("/").append(service).append("/");
  out.append(kScopeTerminator);
  return out;
}

std::string CanonicalRequest(const RequestView& req, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash) {
  std::string_view target = req.target;
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  std::string out;
  out.reserve(256 + target.size());
  out.append(req.method);
  out += '\n';
  out += CanonicalUri(path);
  out += '\n';
  out += CanonicalQuery(query);
  out += '\n';
  for (const std::string& name : signed_headers) {
    out += name;
    out += ':';
    bool first = true;
    if (req.headers != nullptr) {
      for (const auto& [header_name, value] : *req.headers) {
        if (!internal::EqualsLower(header_name, name)) continue;
        if (!first) out += ',';
        first = false;
        AppendCollapsed(out, value);
      }
    }
    out += '\n';
  }
  out += '\n';
  for (std::size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out += ';';
    out += signed_headers[i];
  }
  out += '\n';
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out;
  out.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 67);
  out.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out += internal::HexSha256(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k_secret = "AWS4";
  k_secret.append(secret);
  std::string k_date = crypto::HmacSha256(k_secret, date);
  std::string k_region = crypto::HmacSha256(k_date, region);
  std::string k_service = crypto::HmacSha256(k_region, service);
  return crypto::HmacSha256(k_service, kScopeTerminator);
}

}  // namespace coffer::sigv4
