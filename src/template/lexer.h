// Lexer for Go text/template syntax: text, actions between delimiters, trim markers and comments.
#ifndef COFFER_TEMPLATE_LEXER_H_
#define COFFER_TEMPLATE_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::tmpl {

enum class TokenType : std::uint8_t {
  kText,        // literal text outside actions (already trimmed by trim markers)
  kLeftDelim,   // start of an action
  kRightDelim,  // end of an action
  kIdentifier,  // a function name or keyword: if, range, end, true, nil, ...
  kField,       // .Name (text keeps the leading dot)
  kDot,         // .
  kVariable,    // $ or $name
  kString,      // "quoted" (text keeps the quotes and escapes)
  kRawString,   // `raw` (text keeps the backquotes)
  kChar,        // 'c' (text keeps the quotes)
  kNumber,      // numeric literal, validated by the parser
  kPipe,        // |
  kLeftParen,   // (
  kRightParen,  // )
  kDeclare,     // :=
  kAssign,      // =
  kComma,       // ,
  kPunct,       // any other printable ASCII character (a parse error where it appears, as in Go)
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int line = 1;
  // Byte offset of the token in the input (for error columns).
  int pos = 0;
  // Whether white space separates this token from the previous one inside an action.
  bool space_before = false;
};

// Splits `input` into tokens. Errors read "template: <name>:<line>: <what>" and quote only
// template text, never data.
Result<std::vector<Token>> Lex(std::string_view name, std::string_view input,
                               std::string_view left_delim, std::string_view right_delim);

}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_LEXER_H_
