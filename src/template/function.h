// Functions a template may call, and the registry that maps names to them.
#ifndef COFFER_TEMPLATE_FUNCTION_H_
#define COFFER_TEMPLATE_FUNCTION_H_

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/value.h"

namespace coffer::tmpl {

// A template function. In a pipeline the previous command's result is the last argument, as in
// Go. A function checks its own arity and argument kinds and returns kInvalidArgument with a
// message that names the function and the problem, never an argument's value: template data
// is secret. The executor prefixes the message with the template name and line.
using Function = std::function<Result<Value>(std::span<const Value> args)>;

// Name -> function. The executor looks names up here after its builtins (and, or, not, len,
// index, print, printf, println, eq, ne, lt, le, gt, ge, slice, html, js, urlquery, call is
// not supported); an entry here with a builtin's name replaces the builtin, as Go's Funcs does.
class FunctionMap {
 public:
  void Add(std::string name, Function fn) { fns_[std::move(name)] = std::move(fn); }
  const Function* Find(std::string_view name) const {
    auto it = fns_.find(name);
    return it == fns_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Function, std::less<>>& all() const { return fns_; }

 private:
  std::map<std::string, Function, std::less<>> fns_;
};

}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_FUNCTION_H_
