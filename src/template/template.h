// Template: a parsed Go text/template, executed against a Value.
#ifndef COFFER_TEMPLATE_TEMPLATE_H_
#define COFFER_TEMPLATE_TEMPLATE_H_

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/function.h"
#include "template/value.h"

namespace coffer::tmpl {

struct ParseOptions {
  std::string left_delim = "{{";   // empty means the default
  std::string right_delim = "}}";  // empty means the default
  // Go's Option("missingkey=error"): reading a missing map key is an error. When false, a
  // missing key yields nil and prints "<no value>", as Go's default does (ESO uses that for
  // rewrite transforms).
  bool missing_key_error = true;
};

struct ParsedTree;  // defined in the implementation

class Template {
 public:
  // Parses `text`. `funcs` must outlive the Template; every function name used in `text` must
  // be a builtin or in `funcs` (checked at parse time, as in Go). Errors read
  // "template: <name>:<line>: <what>" and quote template text only, never data.
  static Result<Template> Parse(std::string_view name, std::string_view text,
                                const FunctionMap& funcs, const ParseOptions& options = {});

  // Executes the main template (or, with `define`d templates, the named one via ExecuteNamed)
  // against `data` as dot. Errors read "template: <name>:<line>:<col>?: executing ...: <what>"
  // and never contain values from `data` or function results.
  Result<std::string> Execute(const Value& data) const;
  Result<std::string> ExecuteNamed(std::string_view name, const Value& data) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::shared_ptr<const ParsedTree> tree_;
  const FunctionMap* funcs_ = nullptr;
  ParseOptions options_;
};

}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_TEMPLATE_H_
