// Go's fmt for template values: Sprint, Sprintln, Sprintf and %v (internal to the engine).
#ifndef COFFER_TEMPLATE_FORMAT_H_
#define COFFER_TEMPLATE_FORMAT_H_

#include <span>
#include <string>
#include <string_view>

#include "template/value.h"

namespace coffer::tmpl::internal {

// fmt.Sprint: operands' %v, with a space between two operands when neither is a string.
std::string Sprint(std::span<const Value> args);
// fmt.Sprintln: operands' %v separated by spaces, then a newline.
std::string Sprintln(std::span<const Value> args);
// fmt.Sprintf with Go's verbs, flags, width, precision, argument indexes and its %!verb(...)
// notes for mismatches.
std::string Sprintf(std::string_view format, std::span<const Value> args);
// Appends `v` as Go's %v prints the Go value it models.
void AppendValue(std::string& out, const Value& v);
// Go's name for the type of `v` ("int", "float64", "[]interface {}", ...).
const char* GoTypeName(const Value& v);

}  // namespace coffer::tmpl::internal

#endif  // COFFER_TEMPLATE_FORMAT_H_
