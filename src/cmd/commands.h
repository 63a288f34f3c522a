#pragma once

// The `coffer` subcommands. main.cc builds the CLI11 tree and calls one of these; each returns
// the process exit code (0 ok, 1 runtime failure, 2 bad configuration).

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

// `coffer version`.
int RunVersion();

}  // namespace coffer::cmd
