// The builtin functions of Go's text/template (internal to the engine).
#ifndef COFFER_TEMPLATE_BUILTINS_H_
#define COFFER_TEMPLATE_BUILTINS_H_

#include <span>
#include <string_view>

#include "core/status.h"
#include "template/value.h"

namespace coffer::tmpl::internal {

using BuiltinFn = Result<Value> (*)(std::span<const Value> args);

struct Builtin {
  std::string_view name;
  int min_args;
  int max_args;  // -1: variadic
  BuiltinFn fn;  // nullptr for and/or, which the executor evaluates lazily
};

// The builtin named `name`, or nullptr. and, or, not, len, index, slice, print, printf, println,
// eq, ne, lt, le, gt, ge, html, js, urlquery.
const Builtin* FindBuiltin(std::string_view name);

// Go's eq / lt for two operands (errors name kinds only, never values).
Result<bool> BuiltinEq(const Value& a, const Value& b);
Result<bool> BuiltinLt(const Value& a, const Value& b);

}  // namespace coffer::tmpl::internal

#endif  // COFFER_TEMPLATE_BUILTINS_H_
