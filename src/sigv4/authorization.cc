// Parsing of the `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header. Error texts follow what AWS answers (IncompleteSignatureException).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigv4/internal.h"
#include "sigv4/sigv4.h"

namespace coffer::sigv4 {
namespace {

using internal::ForMessage;
using internal::Trim;

Status Incomplete(std::string message) {
  return Status(StatusCode::kIncompleteSignature, std::move(message));
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

Status ParseCredential(std::string_view credential, Authorization& out) {
  std::vector<std::string_view> parts = Split(credential, '/');
  if (parts.size() != 5) {
    return Incomplete(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '" +
        ForMessage(credential) + "'");
  }
  if (parts[0].empty()) {
    return Incomplete("Credential must start with an access key id, got '" +
                      ForMessage(credential) + "'");
  }
  if (parts[1].size() != 8 || !AllDigits(parts[1])) {
    return Incomplete("Date in Credential scope must be in the format yyyyMMdd, got '" +
                      ForMessage(parts[1]) + "'");
  }
  if (parts[2].empty()) return Incomplete("Credential should be scoped to a valid region. ");
  if (parts[3].empty()) return Incomplete("Credential should be scoped to correct service. ");
  if (parts[4] != kScopeTerminator) {
    return Incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      ForMessage(parts[4]) + "'. ");
  }
  out.access_key_id = std::string(parts[0]);
  out.date = std::string(parts[1]);
  out.region = std::string(parts[2]);
  out.service = std::string(parts[3]);
  return Status::Ok();
}

Status ParseSignedHeaders(std::string_view list, Authorization& out) {
  for (std::string_view name : Split(list, ';')) {
    if (name.empty()) {
      return Incomplete("SignedHeaders contains an empty header name: '" + ForMessage(list) + "'");
    }
    out.signed_headers.push_back(internal::ToLower(name));
  }
  return Status::Ok();
}

Status ParseSignature(std::string_view signature, Authorization& out) {
  bool ok = signature.size() == 64;
  for (char c : signature) ok = ok && IsHex(c);
  if (!ok) {
    return Incomplete("Signature must be 64 hexadecimal characters, got '" +
                      ForMessage(signature, 80) + "'");
  }
  out.signature = internal::ToLower(signature);
  return Status::Ok();
}

}  // namespace

Result<Authorization> ParseAuthorization(std::string_view header) {
  const std::string_view h = Trim(header);
  std::size_t space = h.find_first_of(" \t");
  std::string_view algorithm = h.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view() : h.substr(space);
  if (!algorithm.empty() && algorithm != kAlgorithm) {
    return Incomplete("Unsupported AWS 'algorithm': '" + ForMessage(algorithm, 64) +
                      "'. The only supported algorithm is 'AWS4-HMAC-SHA256'.");
  }

  std::optional<std::string_view> credential, signed_headers, signature;
  for (std::string_view piece : Split(rest, ',')) {
    piece = Trim(piece);
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      return Incomplete("'" + ForMessage(piece) +
                        "' not a valid key=value pair (missing equal-sign) in Authorization "
                        "header: '" +
                        ForMessage(h) + "'");
    }
    std::string_view key = Trim(piece.substr(0, eq));
    std::string_view value = Trim(piece.substr(eq + 1));
    // The first occurrence wins; unknown keys are ignored, as AWS does.
    if (key == "Credential") {
      if (!credential) credential = value;
    } else if (key == "SignedHeaders") {
      if (!signed_headers) signed_headers = value;
    } else if (key == "Signature") {
      if (!signature) signature = value;
    }
  }

  std::string missing;
  if (!credential || credential->empty()) {
    missing += "Authorization header requires 'Credential' parameter. ";
  }
  if (!signature || signature->empty()) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (!signed_headers || signed_headers->empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!missing.empty()) return Incomplete(missing + "Authorization=" + ForMessage(h));

  Authorization auth;
  COFFER_RETURN_IF_ERROR(ParseCredential(*credential, auth));
  COFFER_RETURN_IF_ERROR(ParseSignedHeaders(*signed_headers, auth));
  COFFER_RETURN_IF_ERROR(ParseSignature(*signature, auth));
  return auth;
}

}  // namespace coffer::sigv4
