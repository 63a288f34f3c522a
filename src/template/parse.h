// The parse tree of a Go text/template and the parser that builds it (internal to the engine).
#ifndef COFFER_TEMPLATE_PARSE_H_
#define COFFER_TEMPLATE_PARSE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "template/function.h"
#include "template/value.h"

namespace coffer::tmpl {

namespace internal {

struct Pipe;

// An operand of a command.
struct Arg {
  enum class Type : std::uint8_t {
    kDot,         // .
    kNil,         // nil
    kConstant,    // true, false, a number, a string or a character constant
    kField,       // .A.B (fields)
    kVariable,    // $x or $x.A.B (name, fields)
    kIdentifier,  // a function name (name)
    kPipe,        // (pipeline), optionally followed by fields: (pipeline).A.B
  };
  Type type = Type::kDot;
  int pos = 0;
  int fields_pos = 0;  // where chained fields start (error locations for field access)
  std::string text;    // source text of a constant; the name of a variable or function
  Value constant;      // kConstant
  bool is_number = false;
  bool overflows_int = false;  // a number constant above INT64_MAX (an error when used)
  std::vector<std::string> fields;
  std::unique_ptr<Pipe> pipe;

  std::string String() const;
};

struct Command {
  int pos = 0;
  std::vector<Arg> args;
  std::string String() const;
};

struct Pipe {
  int pos = 0;
  int line = 0;
  bool is_assign = false;
  std::vector<std::string> decl;  // variable names, "$x"
  std::vector<Command> cmds;
  std::string String() const;
};

struct Node;
using NodeList = std::vector<std::unique_ptr<Node>>;

struct Node {
  enum class Type : std::uint8_t {
    kText,
    kAction,
    kIf,
    kRange,
    kWith,
    kTemplate,
    kBreak,
    kContinue,
  };
  Type type = Type::kText;
  int pos = 0;
  int line = 0;
  std::string text;            // kText: the text; kTemplate: the template's name
  std::unique_ptr<Pipe> pipe;  // kAction, kIf, kRange, kWith, kTemplate (optional)
  NodeList list;               // kIf, kRange, kWith: the body
  NodeList else_list;          // the else branch
  bool has_else = false;

  std::string String() const;  // Go's rendering, for error context
};

}  // namespace internal

// Every template of one Parse call: the main one and those from define/block.
struct ParsedTree {
  std::string parse_name;  // the name given to Parse (error locations use it)
  std::string text;        // the source, to turn byte offsets into line:column
  std::map<std::string, internal::NodeList, std::less<>> templates;
};

namespace internal {

// Parses `text` into a tree; every function name must be a builtin or in `funcs`.
Result<std::shared_ptr<ParsedTree>> ParseTree(std::string_view name, std::string_view text,
                                              const FunctionMap& funcs, std::string_view left_delim,
                                              std::string_view right_delim);

// Whether `name` is one of the executor's builtin functions.
bool IsBuiltinName(std::string_view name);

// Limits that keep a hostile template from exhausting the stack or memory.
inline constexpr int kMaxParseDepth = 200;

}  // namespace internal
}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_PARSE_H_
