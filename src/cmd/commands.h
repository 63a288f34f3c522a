#pragma once

// The `coffer` subcommands. main.cc builds the CLI11 tree and calls one of these; each returns
// the process exit code (0 ok, 1 runtime failure, 2 bad configuration).

#include <string>
#include <vector>

#include "config/server_config.h"

namespace coffer::cmd {

// `coffer server`: serves until SIGTERM/SIGINT, then drains and exits 0.
int RunServer(const config::RawValues& flags);

// `coffer keys rotate`: adds a master-key version to the key file and rewraps every data key.
int RunKeysRotate(const config::RawValues& flags);

// `coffer audit verify`: checks the audit trail's hash chain and signed digests; exit 0 when it
// is intact, 1 with the first bad record, 2 for bad configuration.
int RunAuditVerify(const config::RawValues& flags);

// `coffer operator`: the External Secrets Operator-compatible controller; runs until
// SIGTERM/SIGINT (or lost leadership), then exits 0.
int RunOperator(const config::RawValues& flags);

// `coffer reloader`: the reloader alone (the operator's options; `coffer operator --reloader`
// runs it inside the operator); runs until SIGTERM/SIGINT (or lost leadership), then exits 0.
int RunReloader(const config::RawValues& flags);

// `coffer template render`'s arguments (ESO's `esoctl template` flags).
struct TemplateRenderArgs {
  std::string templated_object;            // --source-templated-object: an ExternalSecret
  std::string secret_data_file;            // --source-secret-data-file: key -> base64, or a Secret
  std::vector<std::string> template_from;  // --template-from: ConfigMap/Secret manifests
  std::string left_delimiter = "{{";       // --left-delimiter
  std::string right_delimiter = "}}";      // --right-delimiter
  std::string output;                      // --output: a file (mode 0600); default stdout
};

// `coffer template render`: renders an ExternalSecret's template offline and prints the Secret
// the operator would write (exit 0), or the error (exit 1; 2 for unreadable input files).
int RunTemplateRender(const TemplateRenderArgs& args);

// `coffer version`.
int RunVersion();

}  // namespace coffer::cmd
