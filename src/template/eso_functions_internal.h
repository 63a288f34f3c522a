// Helpers shared by the files of the ESO function library (eso_functions*.cc). Not a public API.
#ifndef COFFER_TEMPLATE_ESO_FUNCTIONS_INTERNAL_H_
#define COFFER_TEMPLATE_ESO_FUNCTIONS_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/function.h"
#include "template/value.h"

namespace coffer::tmpl::eso_internal {

using Args = std::span<const Value>;

// kInvalidArgument "<fn>: <what>". `what` must never contain an argument's value.
Status FnError(std::string_view fn, std::string_view what);

// Checks min <= args.size() <= max ("wrong number of args: want 2, got 1").
Status CheckArity(std::string_view fn, Args args, std::size_t min, std::size_t max);

// Argument `i` (0-based) as text: strings and byte strings are accepted, anything else is an
// error naming the position and the kind (never the value), as Go's call does for a string
// parameter.
Result<std::string_view> StringArg(std::string_view fn, Args args, std::size_t i);
Result<std::int64_t> IntArg(std::string_view fn, Args args, std::size_t i);
Result<bool> BoolArg(std::string_view fn, Args args, std::size_t i);

// Go's fmt %v of a value (Sprig's toString): strings and bytes as is, nil as "<nil>", lists as
// "[a b]", maps as "map[k:v]", floats in Go's shortest 'g' form ("1.5", "1e+06").
std::string GoString(const Value& v);
// strconv.FormatFloat(f, 'g', -1, 64).
std::string GoFormatFloatG(double f);

// Standard base64 with padding, decoded as Go's base64.StdEncoding.DecodeString: \r and \n are
// ignored; on error `error_offset` is set to the offending input byte (a position, not data).
std::string Base64StdEncode(std::string_view bytes);
bool Base64StdDecode(std::string_view text, std::string* out, std::size_t* error_offset);

// Registers the crypto, PEM and PKCS#12 functions (eso_functions_crypto.cc).
void AddCryptoFunctions(FunctionMap& fns);

}  // namespace coffer::tmpl::eso_internal

#endif  // COFFER_TEMPLATE_ESO_FUNCTIONS_INTERNAL_H_
