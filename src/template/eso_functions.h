// The functions ExternalSecret templates (engine v2) call: ESO's own and the Sprig subset its
// documentation uses.
#ifndef COFFER_TEMPLATE_ESO_FUNCTIONS_H_
#define COFFER_TEMPLATE_ESO_FUNCTIONS_H_

#include "template/function.h"

namespace coffer::tmpl {

// Adds toString, upper, lower, b64enc, b64dec, fromJson, toJson, fromYaml, toYaml, trim,
// replace, default, quote, list, dict, join, split, htpasswd, filterPEM, filterCertChain,
// pkcs12key, pkcs12cert, pkcs12keyPass, pkcs12certPass (and the further Sprig helpers listed in
// eso_functions.cc) to `fns`. printf and index are the executor's builtins.
void AddEsoFunctions(FunctionMap& fns);

// The map every ExternalSecret template uses, built once.
const FunctionMap& EsoFunctions();

}  // namespace coffer::tmpl

#endif  // COFFER_TEMPLATE_ESO_FUNCTIONS_H_
