#pragma once

// The AWS Query protocol as IAM speaks it: application/x-www-form-urlencoded request bodies in,
// XML documents out.
//
//  - ParseForm() decodes a form body into names and values: '&'-separated pairs, '+' as space,
//    %XX escapes; a malformed escape, a repeated name, a name or value that is not UTF-8, or more
//    than the limits allow is an error (kSerialization, rendered as InvalidQueryParameter;
//    kPayloadTooLarge over max_bytes).
//  - FormParams gives typed access to one request's parameters, including the Query protocol's
//    member lists ("Tags.member.1.Key", "TagKeys.member.1").
//  - XmlWriter builds the response: elements with escaped text, no attributes except the
//    namespace of the root.
//  - ErrorFor() maps a Status to IAM's error code and HTTP status; ErrorXml() renders the
//    <ErrorResponse> document.
//  - UrlEncodePolicy() percent-encodes a policy document the way IAM returns it (botocore
//    url-decodes every policyDocumentType member).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace coffer::iam {

inline constexpr std::string_view kXmlNamespace = "https://iam.amazonaws.com/doc/2010-05-08/";
inline constexpr std::string_view kApiVersion = "2010-05-08";

struct FormLimits {
  // Largest body accepted. Default: 1 MiB (a 128 KiB policy document percent-encoded is ~400 KiB).
  std::size_t max_bytes = 1 << 20;
  // Most parameters accepted. Default: 500 (50 tags take 100 plus a handful).
  std::size_t max_params = 500;
};

// One request's parameters, by name (names are case-sensitive, as AWS's are).
class FormParams {
 public:
  FormParams() = default;
  explicit FormParams(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  const std::map<std::string, std::string>& values() const { return values_; }
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }

  // The value, or nullopt if absent.
  std::optional<std::string> Get(std::string_view name) const;
  // kValidation ("Value null at '<member>' failed to satisfy constraint: Member must not be
  // null") when absent. `member` is the lower-camel name AWS's messages use ("userName").
  Result<std::string> Required(std::string_view name, std::string_view member) const;
  // "true"/"false" (any case); absent: `fallback`. Anything else is kValidation.
  Result<bool> Bool(std::string_view name, bool fallback) const;
  // A decimal integer in [min, max]; absent: nullopt. Else kValidation.
  Result<std::optional<std::int64_t>> Int(std::string_view name, std::string_view member,
                                          std::int64_t min, std::int64_t max) const;
  // "<name>.member.1", "<name>.member.2", ... up to the first gap. Indexes must start at 1 and
  // be contiguous: a parameter "<name>.member.N" beyond the gap is kValidation.
  Result<std::vector<std::string>> StringList(std::string_view name) const;
  // "<name>.member.N.<field>" for each field, N = 1.. as above. A missing field is "".
  Result<std::vector<std::map<std::string, std::string>>> StructList(
      std::string_view name, const std::vector<std::string>& fields) const;

 private:
  // The member indexes present under "<name>.member.", sorted; kValidation if not 1..N.
  Result<int> CountMembers(std::string_view name) const;

  std::map<std::string, std::string> values_;
};

// Decodes an application/x-www-form-urlencoded body. Empty pairs ("a=1&&b=2") are skipped; a
// pair without '=' is a name with an empty value.
Result<FormParams> ParseForm(std::string_view body, const FormLimits& limits = {});

// Percent-decoding with '+' as space. nullopt on a malformed escape.
std::optional<std::string> FormUrlDecode(std::string_view text);

// Encodes every byte except A-Z a-z 0-9 - _ . ~ as %XX (spaces as %20, never '+', so Python's
// urllib.parse.unquote gives back the original text).
std::string UrlEncodePolicy(std::string_view document);

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Escapes & < > " ' for XML text and attribute values. Characters XML 1.0 cannot carry (C0
// controls other than tab, LF and CR) become U+FFFD; CR is written as &#xD; so it survives
// parsing.
std::string XmlEscape(std::string_view text);

// Builds one XML document. Not a general XML library: the IAM responses only need nested
// elements with text.
class XmlWriter {
 public:
  // Starts the document with `<root xmlns="...">`.
  XmlWriter(std::string_view root, std::string_view xmlns);

  XmlWriter& Open(std::string_view name);
  XmlWriter& Close();  // closes the innermost open element
  // <name>escaped text</name>
  XmlWriter& Element(std::string_view name, std::string_view text);
  XmlWriter& Element(std::string_view name, std::int64_t value);
  XmlWriter& Bool(std::string_view name, bool value);
  // Closes everything still open and returns the document.
  std::string Finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

// IAM's wire error for a Status.
struct QueryError {
  int http_status = 500;
  std::string code;  // "NoSuchEntity", "AccessDenied", ...
  bool sender_fault = true;
};
QueryError ErrorFor(const Status& status);

// <ErrorResponse xmlns="..."><Error><Type>Sender|Receiver</Type><Code>..</Code>
// <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
std::string ErrorXml(const QueryError& error, std::string_view message,
                     std::string_view request_id);

}  // namespace coffer::iam
