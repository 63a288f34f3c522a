// `coffer audit verify`: checks the tamper-evident audit trail of a data dir (read-only, so it is
// safe while a server appends to it). See docs/design/audit-trail.md.

#include <cstdio>
#include <sys/stat.h>

#include "audit/files.h"
#include "audit/verify.h"
#include "cmd/commands.h"
#include "cmd/common.h"
#include "crypto/envelope.h"

namespace coffer::cmd {

int RunAuditVerify(const config::RawValues& flags) {
  auto env = config::ProcessEnvironment();
  auto cfg = config::LoadServerConfig(flags, env, /*require_data_dir=*/true);
  if (!cfg.ok()) {
    std::fprintf(stderr, "coffer audit verify: %s\n", cfg.status().message().c_str());
    return 2;
  }
  SetUpLogging(cfg->log_level);

  const std::string dir = audit::AuditDir(cfg->data_dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "coffer audit verify: no audit trail at %s (is --data-dir right?)\n",
                 dir.c_str());
    return 2;
  }

  // The same key sources as the server, but never creating a key file: a missing key is an error.
  Result<std::unique_ptr<crypto::Keyring>> keyring =
      !cfg->master_key.empty()
          ? crypto::KeyringFromText(cfg->master_key)
          : crypto::OpenFileKeyring(cfg->MasterKeyFile(), /*create_if_missing=*/false);
  if (!keyring.ok()) {
    std::fprintf(stderr,
                 "coffer audit verify: cannot open the master key (needed to check the digests' "
                 "signatures): %s\n",
                 keyring.status().ToString().c_str());
    return 2;
  }

  audit::VerifyReport report = audit::Verify(dir, keyring->get());
  for (const std::string& warning : report.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  if (!report.ok) {
    std::printf("audit trail FAILED verification: %s\n", report.error.c_str());
    return 1;
  }
  std::printf("audit trail OK: %llu records in %llu segments, last sealed seq %llu\n",
              static_cast<unsigned long long>(report.records),
              static_cast<unsigned long long>(report.segments),
              static_cast<unsigned long long>(report.last_sealed_seq));
  return 0;
}

}  // namespace coffer::cmd
