// Go literal syntax for the template engine: numbers, quoted strings and characters, quoting,
// and the UTF-8 helpers they need (internal to the engine).
#ifndef COFFER_TEMPLATE_LITERAL_H_
#define COFFER_TEMPLATE_LITERAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/value.h"

namespace coffer::tmpl::internal {

struct Number {
  Value value;                 // an int (Go's int) or a double (float64)
  bool overflows_int = false;  // fits only in uint64: Go reports "<text> overflows int" on use
};

// A number constant as Go's template parser reads it: decimal, 0x/0o/0b/0-octal integers,
// underscores between digits, decimal and hexadecimal floats. Text with '.', 'e' or 'p' (and not
// a hex integer) is a float64, otherwise an int. Errors quote the constant (template text).
Result<Number> ParseNumber(std::string_view text);
// A character constant 'x' (with Go escapes): its code point as an int.
Result<Number> ParseCharConstant(std::string_view text);
// A "quoted" (Go escapes) or `raw` string constant, or nullopt when malformed.
std::optional<std::string> UnquoteString(std::string_view text);

// Go's strconv.Quote (ascii_only: QuoteToASCII).
std::string GoQuote(std::string_view s, bool ascii_only = false);
// Go's strconv.QuoteRune.
std::string GoQuoteRune(std::int64_t r, bool ascii_only = false);
// Whether Go's strconv.CanBackquote would accept `s`.
bool CanBackquote(std::string_view s);

// Decodes one UTF-8 sequence at s[i]; returns the code point (0xFFFD for invalid input) and sets
// `size` to the bytes consumed (1 for invalid input).
std::int32_t DecodeRune(std::string_view s, size_t i, size_t* size);
// Appends the UTF-8 encoding of `r` (0xFFFD for invalid code points).
void AppendRune(std::string& out, std::int64_t r);
// Approximates Go's unicode.IsPrint for a decoded code point.
bool IsPrintRune(std::int32_t r);

}  // namespace coffer::tmpl::internal

#endif  // COFFER_TEMPLATE_LITERAL_H_
