// libFuzzer target for the IAM Query protocol's form parser and XML escaping
// (src/iam/query_protocol.h).
//
// Input: a request body. ParseForm must either succeed or fail with kSerialization or
// kPayloadTooLarge (never crash, never another code). When it succeeds:
//  - every name and value is valid UTF-8;
//  - percent-encoding every pair again (UrlEncodePolicy) and parsing that gives the same map;
//  - the member-list readers either succeed or fail with kValidation, and the typed readers with
//    kValidation only;
//  - XmlEscape of every value leaves no raw markup and no character XML 1.0 cannot carry.
//
// Build by hand (clang), all on one line:
//   clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -I src fuzz/iam_query_fuzz.cc
//   src/iam/query_protocol.cc src/core/status.cc src/core/strings.cc -o /tmp/iam_query_fuzz

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "iam/query_protocol.h"

namespace {

using namespace coffer;       // NOLINT(google-build-using-namespace): test code
using namespace coffer::iam;  // NOLINT(google-build-using-namespace)

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "iam_query_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void ExpectValidation(const Status& status, const char* what) {
  if (!status.ok() && status.code() != StatusCode::kValidation) Die(what, status.ToString());
}

void CheckEscaped(std::string_view value) {
  std::string escaped = XmlEscape(value);
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(escaped[i]);
    if (c == '<' || c == '>' || c == '"' || c == '\'') Die("raw markup after XmlEscape", "");
    if (c < 0x20 && c != '\t' && c != '\n') Die("control character after XmlEscape", "");
    if (c == '&') {
      std::size_t semi = escaped.find(';', i);
      if (semi == std::string::npos || semi - i > 5) Die("bare & after XmlEscape", "");
    }
  }
  if (IsValidUtf8(value) && !IsValidUtf8(escaped)) Die("XmlEscape broke UTF-8", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  FormLimits limits;
  limits.max_bytes = 64 * 1024;
  limits.max_params = 64;
  Result<FormParams> parsed = ParseForm(body, limits);
  if (!parsed.ok()) {
    StatusCode code = parsed.status().code();
    if (code != StatusCode::kSerialization && code != StatusCode::kPayloadTooLarge) {
      Die("ParseForm failed with an unexpected code", parsed.status().ToString());
    }
    return 0;
  }

  std::string again;
  for (const auto& [name, value] : parsed->values()) {
    if (name.empty()) Die("empty parameter name accepted", "");
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) Die("non-UTF-8 parameter accepted", name);
    if (!again.empty()) again += '&';
    again += UrlEncodePolicy(name) + "=" + UrlEncodePolicy(value);
    CheckEscaped(value);
  }
  FormLimits roomy;
  roomy.max_bytes = again.size() + 1;
  Result<FormParams> reparsed = ParseForm(again, roomy);
  if (!reparsed.ok()) Die("re-encoded form does not parse", reparsed.status().ToString());
  if (reparsed->values() != parsed->values()) Die("re-encoded form parses differently", "");

  ExpectValidation(parsed->StringList("TagKeys").status(), "StringList");
  ExpectValidation(parsed->StructList("Tags", {"Key", "Value"}).status(), "StructList");
  ExpectValidation(parsed->Bool("OnlyAttached", false).status(), "Bool");
  ExpectValidation(parsed->Int("MaxItems", "maxItems", 1, 1000).status(), "Int");
  ExpectValidation(parsed->Required("UserName", "userName").status(), "Required");
  return 0;
}
